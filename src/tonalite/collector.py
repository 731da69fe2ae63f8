"""Python's cyclic garbage collector run on a clock instead of on allocation counts.

SIP allocates a few hundred objects per message and keeps tens of thousands of finished transactions alive
for their Timer J/K (32 s over UDP). Triggered by allocation counts (700 by default), the collector ran
about a hundred times a second under load, each time walking whatever had survived since the last run —
the messages, transactions and calls still in progress — for ~15 % of the process's CPU. Once a second,
only what has lived longer than a second is walked, and most of a message's objects are gone by then
(freed by reference counting, which this does not change). Older generations are walked less often still.

"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable

from tonalite.scheduler import Scheduler

YOUNG_EVERY_S = 1.0
MIDDLE_EVERY_S = 10.0
FULL_EVERY_S = 300.0


def schedule_collections(scheduler: Scheduler) -> None:
    """Stop the allocation-triggered collections and run the three generations from `scheduler`."""
    gc.disable()
    for seconds, generation in ((YOUNG_EVERY_S, 0), (MIDDLE_EVERY_S, 1), (FULL_EVERY_S, 2)):
        scheduler.every(seconds, f"collect garbage (generation {generation})", _collector(generation))


def _collector(generation: int) -> Callable[[], Awaitable[None]]:
    async def collect() -> None:
        gc.collect(generation)

    return collect
