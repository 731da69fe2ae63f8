"""Python's cyclic garbage collector run on a clock, and what outlives a collection set aside for good.

SIP allocates a few hundred objects per message and keeps tens of thousands of finished transactions and
calls alive for their timers (Timer J, K, L: 32 s over UDP). CPython's generations walk each of those
again and again before it dies: triggered by allocation counts (700 by default), collections ran about a
hundred times a second under load, for ~15 % of the process's CPU; run on a clock, each middle-generation
collection still walked ten seconds' worth of them, stopping everything for ~370 ms at 2,400
registrations/s (long enough for retransmissions to start). Yet what survives is almost never garbage a
collection could free: reference counting frees it when its timer drops it, frozen or not.

So every YOUNG_EVERY_S the youngest objects are collected (the cycles made since the last run are freed)
and the survivors are frozen (`gc.freeze`): no collection walks them again, each object is walked once.
Cycles that become garbage only after being frozen (rare: the SIP and call paths make none) wait for a
full collection, run when the frozen objects have grown by half since the last one, as CPython runs its
oldest generation when it has grown by a quarter: its cost stays proportional to what was allocated.

What is kept by the hundred thousand (answers kept for retransmissions, nonce counts) is best kept as flat
tuples of plain values (str, bytes, numbers): a collection stops tracking such a tuple at its first pass,
and no full collection walks it again. A named tuple, an object, or a tuple holding another tuple (untracked
only at a later pass, after the survivors are frozen) stays walked for as long as it lives.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tonalite.scheduler import Scheduler

YOUNG_EVERY_S = 1.0
GROWTH_CHECK_EVERY_S = 10.0
FULL_GROWTH = 1.5
"""A full collection when the frozen objects are this many times as many as after the last one."""


@dataclass
class FrozenGrowth:
    """The number of frozen objects right after the last full collection."""

    after_last_full: int = 0

    def collect_all(self) -> None:
        """A full collection of everything, frozen included, then everything that survived frozen."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.after_last_full = gc.get_freeze_count()

    def collect_if_grown(self) -> bool:
        """A full collection if the frozen objects grew past FULL_GROWTH times the last baseline; whether it ran.
        Counting them walks a list (a few ms for a million), hence not every second."""
        if gc.get_freeze_count() <= FULL_GROWTH * self.after_last_full:
            return False
        self.collect_all()
        return True


def collect_young() -> None:
    """Free the cycles among the objects made since the last run, and freeze what is left of them."""
    gc.collect(0)
    gc.freeze()


def schedule_collections(scheduler: Scheduler) -> FrozenGrowth:
    """Stop the allocation-triggered collections, collect and freeze what start-up built, and run the young
    collections and the growth checks from `scheduler`."""
    gc.disable()
    growth = FrozenGrowth()
    growth.collect_all()
    scheduler.every(YOUNG_EVERY_S, "collect young garbage", _job(collect_young))
    scheduler.every(GROWTH_CHECK_EVERY_S, "collect all garbage once frozen objects grew", _job(growth.collect_if_grown))
    return growth


def _job(run: Callable[[], object]) -> Callable[[], Awaitable[None]]:
    async def job() -> None:
        run()

    return job
