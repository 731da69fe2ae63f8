"""Time as an injected dependency, so that timers and expiry are testable without sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds, for timers and deadlines."""

    def wall(self) -> datetime:
        """Timezone-aware UTC wall-clock time, for what is stored and shown."""


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when a test advances it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._monotonic = 0.0
        self._wall = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> float:
        return self._monotonic

    def wall(self) -> datetime:
        return self._wall + timedelta(seconds=self._monotonic)

    def advance(self, seconds: float) -> None:
        self._monotonic += seconds
