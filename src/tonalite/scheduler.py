"""Periodic housekeeping on the platform's loop: registrations written, expired and trimmed; purges later.

A job is a coroutine function: one that touches the database awaits `asyncio.to_thread`, so that the
loop (and SIP) never waits on a disk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every_s: float
    run: Callable[[], Awaitable[None]]


@dataclass
class Scheduler:
    jobs: list[Job] = field(default_factory=list)

    def every(self, seconds: float, name: str, run: Callable[[], Awaitable[None]]) -> None:
        self.jobs.append(Job(name, seconds, run))

    async def run_forever(self) -> None:
        async with asyncio.TaskGroup() as group:
            for job in self.jobs:
                group.create_task(self._repeat(job))

    @staticmethod
    async def _repeat(job: Job) -> None:
        """Run the job at once, then every `every_s` seconds; a failing run is logged and the job goes on."""
        while True:
            try:
                await job.run()
            except Exception:
                log.exception("scheduled job %s failed", job.name)
            await asyncio.sleep(job.every_s)
