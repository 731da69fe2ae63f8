"""The cyclic garbage collector runs from the scheduler, and what survives a young collection is frozen."""

from __future__ import annotations

import asyncio
import gc
import warnings
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tonalite.collector import GROWTH_CHECK_EVERY_S, YOUNG_EVERY_S, schedule_collections
from tonalite.scheduler import Scheduler


class _Node:
    """Something that ends up in a reference cycle, which only the cyclic collector can free."""

    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> tuple[_Node, weakref.ref[_Node]]:
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    return first, weakref.ref(first)


@pytest.fixture
def scheduler() -> Iterator[Scheduler]:
    """A scheduler, after the garbage earlier tests left is gone (collecting it here could otherwise raise
    their warnings, e.g. a coroutine never awaited, inside this test); the collector as it was afterwards."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()
    scheduler = Scheduler()
    try:
        yield scheduler
    finally:
        gc.unfreeze()
        gc.enable()


def test_young_collections_are_scheduled_and_free_cycles(scheduler: Scheduler) -> None:
    schedule_collections(scheduler)
    assert not gc.isenabled(), "allocation counts no longer start collections"
    assert [job.every_s for job in scheduler.jobs] == [YOUNG_EVERY_S, GROWTH_CHECK_EVERY_S]

    node, watched = _cycle()
    del node
    for _ in range(2000):  # allocations that would have started a collection before
        _Node()
    assert watched() is not None, "nothing collected the cycle by itself"
    _run_job(scheduler, 0)
    assert watched() is None, "the young collection freed it"


def test_survivors_are_frozen_and_a_full_collection_comes_once_they_grew(scheduler: Scheduler) -> None:
    growth = schedule_collections(scheduler)
    baseline = growth.after_last_full
    assert gc.get_freeze_count() == baseline > 0, "start-up's objects are frozen"

    node, watched = _cycle()
    _run_job(scheduler, 0)
    assert gc.get_freeze_count() > baseline, "the young collection froze the live cycle"
    del node  # garbage now, but frozen: no young collection sees it
    _run_job(scheduler, 0)
    assert watched() is not None

    assert not growth.collect_if_grown(), "not grown enough for a full collection"
    assert watched() is not None
    kept = [[index] for index in range(int(baseline * 0.6))]  # lists: objects the collector tracks
    _run_job(scheduler, 0)
    _run_job(scheduler, 1)
    assert watched() is None, "the full collection freed the frozen cycle"
    assert growth.after_last_full >= baseline + len(kept), "the new baseline counts what lives on"


def test_frozen_objects_are_freed_by_reference_counting(scheduler: Scheduler) -> None:
    schedule_collections(scheduler)
    kept = [_Node() for _ in range(1000)]
    _run_job(scheduler, 0)
    frozen = gc.get_freeze_count()
    del kept
    assert gc.get_freeze_count() <= frozen - 1000, "dropped objects leave the frozen set with no collection"


def _run_job(scheduler: Scheduler, index: int) -> None:
    """Run one job to its end on a loop of its own, in a thread: the panel tests' browser may hold this
    thread's loop for the whole session."""

    async def job() -> None:
        await scheduler.jobs[index].run()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, job()).result(timeout=10)
