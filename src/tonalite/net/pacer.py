"""One media tick for every stream: every 20 ms each stream sends its next frame.

Deadlines are `start + n * period`, not "one period after the last tick": a tick that runs late does not
push the following ones back, so a stream keeps its 50 packets a second on average whatever the loop's
jitter, and a late tick is followed by an early one. When the loop has fallen more than `max_catch_up`
periods behind (the whole process paused), the missed ticks are skipped rather than sent as a burst, and
counted in `skipped`; `frames` then tells the streams how much time their tick stands for, so that they keep
their RTP clocks and jitter buffers in step with it. The tick runs only while a stream is attached: an idle
node has no 20 ms wake-up.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

PERIOD_S = 0.020
MAX_CATCH_UP = 3


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Loop(Protocol):
    """What the pacer needs of an asyncio loop (a test gives a manual one)."""

    def time(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], None], /) -> TimerHandle: ...


class Pacer:
    def __init__(self, loop: Loop, period: float = PERIOD_S, max_catch_up: int = MAX_CATCH_UP) -> None:
        if period <= 0 or max_catch_up < 0:
            raise ValueError("the period must be positive and the catch-up not negative")
        self._loop = loop
        self.period = period
        self.max_catch_up = max_catch_up
        self._streams: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count(1)
        self._handle: TimerHandle | None = None
        self._start = 0.0
        self._tick = 0
        self._frames = 1
        self.skipped = 0

    def add(self, on_tick: Callable[[], None]) -> int:
        """Call `on_tick` at every tick from the next one on; returns the id that `remove` takes."""
        stream_id = next(self._ids)
        self._streams[stream_id] = on_tick
        if self._handle is None:
            self._start = self._loop.time()
            self._tick = 0
            self._schedule()
        return stream_id

    def remove(self, stream_id: int) -> None:
        self._streams.pop(stream_id, None)
        if not self._streams and self._handle is not None:
            self._handle.cancel()
            self._handle = None

    @property
    def streams(self) -> int:
        return len(self._streams)

    @property
    def frames(self) -> int:
        """The periods the tick being run stands for, for the streams to read on their tick: 1, or 1 + the
        ticks skipped just before it (a stream attached meanwhile is told the same)."""
        return self._frames

    def _schedule(self) -> None:
        self._tick += 1
        self._handle = self._loop.call_at(self._start + self._tick * self.period, self._run)

    def _run(self) -> None:
        behind = int((self._loop.time() - self._start) / self.period) - self._tick
        self._frames = 1
        if behind > self.max_catch_up:
            self.skipped += behind
            self._tick += behind
            self._frames += behind
        for on_tick in list(self._streams.values()):
            try:
                on_tick()
            except Exception:
                log.exception("a media stream failed on its tick")
        if self._streams:
            self._schedule()
        else:
            self._handle = None
