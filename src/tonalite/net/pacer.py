"""One media tick for every stream: every 20 ms each stream sends its next frame; the streams take turns in
phases a fraction of the period apart, so that the packets of hundreds of streams do not all leave at once.

Deadlines are `start + n * turn`, not "one turn after the last": a tick that runs late does not
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
PHASES = 4


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Loop(Protocol):
    """What the pacer needs of an asyncio loop (a test gives a manual one)."""

    def time(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], None], /) -> TimerHandle: ...


class Pacer:
    """`phases`: the streams are spread over this many turns a fraction of a period apart, each stream in the
    turn with the fewest when it is added: a turn sends its share of the packets, so that with hundreds of
    streams the last packet of a turn leaves soon after the first, and the loop reads what came in between
    turns. A turn without streams wakes nobody."""

    def __init__(
        self, loop: Loop, period: float = PERIOD_S, max_catch_up: int = MAX_CATCH_UP, phases: int = PHASES
    ) -> None:
        if period <= 0 or max_catch_up < 0 or phases < 1:
            raise ValueError("the period must be positive, the catch-up not negative, and one phase at least")
        self._loop = loop
        self.period = period
        self.max_catch_up = max_catch_up
        self._turn_length = period / phases
        self._phases: list[dict[int, Callable[[], None]]] = [{} for _ in range(phases)]
        self._phase_of: dict[int, int] = {}
        self._last_turn: list[int | None] = [None] * phases
        """The turn each phase last ran at: its streams' next tick stands for the periods since."""
        self._ids = itertools.count(1)
        self._handle: TimerHandle | None = None
        self._start = 0.0
        self._turn = 0
        self._ran = 0
        """The turn that ran last; `_turn` is the one scheduled."""
        self._frames = 1
        self.skipped = 0

    def add(self, on_tick: Callable[[], None]) -> int:
        """Call `on_tick` once a period from its phase's next turn on; returns the id that `remove` takes."""
        stream_id = next(self._ids)
        phase = min(range(len(self._phases)), key=lambda index: len(self._phases[index]))
        woken = not self._phases[phase]
        if woken:
            self._last_turn[phase] = None
        self._phases[phase][stream_id] = on_tick
        self._phase_of[stream_id] = phase
        if self._handle is None:
            self._start = self._loop.time()
            self._ran = 0
            self._schedule_at(self._next_busy_turn(1))
        elif woken:  # its turn may come before the one scheduled
            turn = self._ran + 1 + (phase - self._ran - 1) % len(self._phases)
            if turn < self._turn:
                self._handle.cancel()
                self._schedule_at(turn)
        return stream_id

    def remove(self, stream_id: int) -> None:
        phase = self._phase_of.pop(stream_id, None)
        if phase is not None:
            del self._phases[phase][stream_id]
        if not self._phase_of and self._handle is not None:
            self._handle.cancel()
            self._handle = None

    @property
    def streams(self) -> int:
        return len(self._phase_of)

    @property
    def frames(self) -> int:
        """The periods the tick being run stands for, for the streams to read on their tick: 1, or 1 + the
        ticks skipped just before it (a stream attached meanwhile is told the same)."""
        return self._frames

    def _schedule_at(self, turn: int) -> None:
        self._turn = turn
        self._handle = self._loop.call_at(self._start + turn * self._turn_length, self._run)

    def _next_busy_turn(self, turn: int) -> int:
        """The first turn from `turn` on whose phase has streams (there is one: the pacer runs only then)."""
        count = len(self._phases)
        return next(turn + offset for offset in range(count) if self._phases[(turn + offset) % count])

    def _run(self) -> None:
        count = len(self._phases)
        behind = int((self._loop.time() - self._start) / self._turn_length) - self._turn
        if behind > self.max_catch_up * count:
            self.skipped += behind // count
            self._turn = self._next_busy_turn(self._turn + behind)
        phase = self._turn % count
        last = self._last_turn[phase]
        self._frames = 1 if last is None else max(1, (self._turn - last) // count)
        self._last_turn[phase] = self._ran = self._turn
        for on_tick in list(self._phases[phase].values()):
            try:
                on_tick()
            except Exception:
                log.exception("a media stream failed on its tick")
        if self._phase_of:
            self._schedule_at(self._next_busy_turn(self._turn + 1))
        else:
            self._handle = None
