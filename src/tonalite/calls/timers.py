"""The loop timers the call core schedules its callbacks on (net.loop_timers.LoopTimers on a running node)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Timers(Protocol):
    """Schedules a callback on the platform's loop; the I/O layer sends what the callback produced."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle: ...
