"""Periodic housekeeping on the platform's loop: expiring registrations today, purges later."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every_s: float
    run: Callable[[], object]


@dataclass
class Scheduler:
    jobs: list[Job] = field(default_factory=list)

    def every(self, seconds: float, name: str, run: Callable[[], object]) -> None:
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
                job.run()
            except Exception:
                log.exception("scheduled job %s failed", job.name)
            await asyncio.sleep(job.every_s)
