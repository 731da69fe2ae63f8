"""Timers of the call core on the asyncio loop; after each one, what it produced is sent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class LoopTimers:
    def __init__(self, after_each: Callable[[], None]) -> None:
        self._after_each = after_each

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(delay, self._run, callback)

    def _run(self, callback: Callable[[], None]) -> None:
        try:
            callback()
        finally:
            self._after_each()
