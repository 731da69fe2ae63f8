"""The cyclic garbage collector runs from the scheduler, not on allocation counts."""

from __future__ import annotations

import asyncio
import gc
import warnings
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tonalite.collector import FULL_EVERY_S, MIDDLE_EVERY_S, YOUNG_EVERY_S, schedule_collections
from tonalite.scheduler import Scheduler


class _Node:
    """Something that ends up in a reference cycle, which only the cyclic collector can free."""

    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def scheduler() -> Iterator[Scheduler]:
    """A scheduler, after the garbage earlier tests left is gone (collecting it here could otherwise raise
    their warnings, e.g. a coroutine never awaited, inside this test)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()
    scheduler = Scheduler()
    try:
        yield scheduler
    finally:
        gc.enable()


def test_collections_are_scheduled_and_free_cycles(scheduler: Scheduler) -> None:
    schedule_collections(scheduler)
    assert not gc.isenabled(), "allocation counts no longer start collections"
    assert [job.every_s for job in scheduler.jobs] == [YOUNG_EVERY_S, MIDDLE_EVERY_S, FULL_EVERY_S]

    first, second = _Node(), _Node()
    first.other, second.other = second, first
    watched = weakref.ref(first)
    del first, second
    for _ in range(2000):  # allocations that would have started a collection before
        _Node()
    assert watched() is not None, "nothing collected the cycle by itself"
    _run_job(scheduler, 0)
    assert watched() is None, "the young generation's job freed it"


def _run_job(scheduler: Scheduler, index: int) -> None:
    """Run one job to its end on a loop of its own, in a thread: the panel tests' browser may hold this
    thread's loop for the whole session."""

    async def job() -> None:
        await scheduler.jobs[index].run()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, job()).result(timeout=10)
