"""The media tick on a manual loop: deadlines from the start time, skipped ticks after a pause, no idle tick."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tonalite.net.pacer import Pacer


@dataclass
class _Handle:
    when: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class ManualLoop:
    now: float = 100.0
    scheduled: list[_Handle] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], None], /) -> _Handle:
        handle = _Handle(when, callback)
        self.scheduled.append(handle)
        return handle

    def pending(self) -> list[_Handle]:
        return [handle for handle in self.scheduled if not handle.cancelled]

    def run_next(self, late_by: float = 0.0) -> float:
        """Run the next pending callback, `late_by` seconds after its deadline; returns its deadline."""
        handle = min(self.pending(), key=lambda pending: pending.when)
        self.scheduled.remove(handle)
        self.now = max(self.now, handle.when + late_by)
        handle.callback()
        return handle.when


def test_deadlines_follow_the_start_time_whatever_the_lateness() -> None:
    loop = ManualLoop()
    pacer = Pacer(loop)
    ticks: list[float] = []
    pacer.add(lambda: ticks.append(loop.now))
    deadlines = [loop.run_next(late_by=0.007 if index % 2 else 0.0) for index in range(10)]
    assert deadlines == pytest.approx([100.0 + 0.020 * n for n in range(1, 11)])
    assert len(ticks) == 10
    assert pacer.skipped == 0


def test_a_pause_skips_the_missed_ticks_instead_of_a_burst() -> None:
    loop = ManualLoop()
    pacer = Pacer(loop, max_catch_up=3)
    ticks: list[float] = []
    pacer.add(lambda: ticks.append(loop.now))
    loop.run_next()
    loop.run_next(late_by=0.5)  # the process stopped for half a second: 25 periods
    assert pacer.skipped == 25
    assert len(ticks) == 2
    next_deadline = loop.pending()[0].when
    assert next_deadline > loop.now
    assert next_deadline == pytest.approx(100.0 + 0.020 * 28)


def test_every_stream_is_told_the_periods_its_tick_stands_for() -> None:
    loop = ManualLoop()
    pacer = Pacer(loop, max_catch_up=3, phases=1)
    first: list[int] = []
    second: list[int] = []
    pacer.add(lambda: first.append(pacer.frames))
    pacer.add(lambda: second.append(pacer.frames))
    loop.run_next()
    loop.run_next(late_by=0.5)  # 25 ticks skipped: this one stands for 26 periods
    loop.run_next()
    loop.run_next(late_by=0.045)  # caught up: each of the ticks due stands for one
    assert first == second == [1, 26, 1, 1]


def test_a_short_delay_is_caught_up_with_ticks_due_at_once() -> None:
    loop = ManualLoop()
    pacer = Pacer(loop, max_catch_up=3)
    pacer.add(lambda: None)
    loop.run_next(late_by=0.045)  # two periods late: caught up, not skipped
    assert pacer.skipped == 0
    assert loop.pending()[0].when <= loop.now


def test_no_tick_runs_without_a_stream() -> None:
    loop = ManualLoop()
    pacer = Pacer(loop)
    first = pacer.add(lambda: None)
    second = pacer.add(lambda: None)
    assert len(loop.pending()) == 1
    pacer.remove(first)
    assert len(loop.pending()) == 1
    pacer.remove(second)
    assert loop.pending() == []
    assert pacer.streams == 0


def test_a_failing_stream_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    loop = ManualLoop()
    pacer = Pacer(loop, phases=1)
    ticks: list[int] = []

    def broken() -> None:
        raise RuntimeError("boom")

    pacer.add(broken)
    pacer.add(lambda: ticks.append(1))
    loop.run_next()
    loop.run_next()
    assert ticks == [1, 1]
    assert "failed on its tick" in caplog.text


def test_a_stream_removed_during_a_tick_gets_no_later_tick() -> None:
    loop = ManualLoop()
    pacer = Pacer(loop, phases=1)
    ticks: list[str] = []
    ids: dict[str, int] = {}

    def first() -> None:
        ticks.append("first")
        pacer.remove(ids["second"])

    ids["first"] = pacer.add(first)
    ids["second"] = pacer.add(lambda: ticks.append("second"))
    loop.run_next()
    loop.run_next()
    assert ticks.count("first") == 2
    assert ticks.count("second") <= 1


def test_streams_take_turns_a_fraction_of_the_period_apart() -> None:
    """Eight streams over four phases: two a turn, each ticked once a period, the turns 5 ms apart."""
    loop = ManualLoop()
    pacer = Pacer(loop, phases=4)
    ticks: dict[int, list[float]] = {}
    for stream in range(8):
        ticks[stream] = []
        pacer.add(lambda stream=stream: ticks[stream].append(loop.now))  # type: ignore[misc]
    deadlines = [loop.run_next() for _ in range(8)]
    assert deadlines == pytest.approx([100.0 + 0.005 * n for n in range(1, 9)])
    for stream, times in ticks.items():
        assert len(times) == 2, stream
        assert times[1] - times[0] == pytest.approx(0.020)
    assert sorted(round((times[0] - 100.0) / 0.005) for times in ticks.values()) == [1, 1, 2, 2, 3, 3, 4, 4]


def test_a_turn_without_streams_wakes_nobody() -> None:
    loop = ManualLoop()
    pacer = Pacer(loop, phases=4)
    pacer.add(lambda: None)
    deadlines = [loop.run_next() for _ in range(3)]
    assert deadlines == pytest.approx([100.020, 100.040, 100.060])


def test_after_a_stall_each_phase_is_told_the_periods_since_its_last_turn() -> None:
    loop = ManualLoop()
    pacer = Pacer(loop, max_catch_up=3, phases=2)
    told: dict[str, list[int]] = {"first": [], "second": []}
    pacer.add(lambda: told["first"].append(pacer.frames))
    pacer.add(lambda: told["second"].append(pacer.frames))
    loop.run_next()  # the first phase's turn at 10 ms, then the second's at 20 ms
    loop.run_next()
    loop.run_next(late_by=0.5)  # half a second stopped: 50 turns missed
    loop.run_next()
    loop.run_next()
    assert pacer.skipped == 25
    assert told["first"][:2] == [1, 26] and told["second"][:2] == [1, 26]
    assert told["first"][2:] + told["second"][2:] == [1]


async def test_on_the_asyncio_loop_ticks_arrive_until_removed() -> None:
    """The real loop satisfies the pacer's Loop protocol: ten ticks come, then none once removed."""
    loop = asyncio.get_running_loop()
    pacer = Pacer(loop, period=0.001)
    ten = asyncio.Event()
    count = 0

    def tick() -> None:
        nonlocal count
        count += 1
        if count == 10:
            ten.set()

    stream = pacer.add(tick)
    await asyncio.wait_for(ten.wait(), timeout=5)
    pacer.remove(stream)
    assert pacer.streams == 0
