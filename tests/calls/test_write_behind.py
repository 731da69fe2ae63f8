"""Batches written off the loop keep their order, even when a flush is cancelled mid-write."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

from tonalite.calls.write_behind import WriteBehind


def _run(main: Coroutine[Any, Any, None]) -> None:
    """In a thread of its own: Playwright's sync API may hold this thread's event loop."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(main)
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    worker = threading.Thread(target=target)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive()
    if errors:
        raise errors[0]


def test_batches_are_written_in_order_and_empty_ones_not_at_all() -> None:
    pending: list[int] = []
    written: list[list[int]] = []

    def take() -> list[int] | None:
        batch = list(pending)
        pending.clear()
        return batch or None

    async def main() -> None:
        writer = WriteBehind(take, written.append)
        await writer.flush()
        pending.extend([1, 2])
        await writer.flush()
        pending.append(3)
        await writer.flush()

    _run(main())
    assert written == [[1, 2], [3]]


def test_a_cancelled_flush_finishes_its_write_before_the_next_one() -> None:
    started, release = threading.Event(), threading.Event()
    written: list[str] = []
    batches = iter(["first", "second"])

    def write(batch: str) -> None:
        if batch == "first":
            started.set()
            release.wait(timeout=5)
        written.append(batch)

    async def main() -> None:
        writer = WriteBehind(lambda: next(batches, None), write)
        first = asyncio.ensure_future(writer.flush())
        assert await asyncio.to_thread(started.wait, 5)  # the first write is under way in its thread
        first.cancel()
        release.set()
        await writer.flush()

    _run(main())
    assert written == ["first", "second"]
