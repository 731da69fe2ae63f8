"""Writes that need not hold up a call or a REGISTER: gathered on the loop, written in a worker thread.

A `WriteBehind` takes what has accumulated (`take`) and hands it to `write` off the loop. Flushes never
overlap, so the database sees the batches in the order they were made; a flush cancelled mid-write (at
shutdown) leaves its write to finish first at the next flush.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

Batch = TypeVar("Batch")


class WriteBehind(Generic[Batch]):
    def __init__(self, take: Callable[[], Batch | None], write: Callable[[Batch], None]) -> None:
        self._take = take
        self._write = write
        self._flushing = asyncio.Lock()
        self._writing: asyncio.Future[None] | None = None

    async def flush(self) -> None:
        async with self._flushing:
            await self._finish_write()
            batch = self._take()
            if batch is not None:
                self._writing = asyncio.ensure_future(asyncio.to_thread(self._write, batch))
                await self._finish_write()

    async def _finish_write(self) -> None:
        """Wait for the write under way, even if this flush is cancelled; a failed write raises here, and the
        scheduler logs it."""
        writing = self._writing
        if writing is None:
            return
        try:
            await asyncio.shield(writing)
        finally:
            if writing.done():
                self._writing = None
