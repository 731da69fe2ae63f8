"""The call records of ended calls, kept until the next batch write (calls/write_behind.py)."""

from __future__ import annotations

from tonalite.calls.call import Call
from tonalite.calls.write_behind import WriteBehind
from tonalite.services.call_records import CallRecordService


class CallRecorder:
    def __init__(self, call_records: CallRecordService) -> None:
        self._ended: list[Call] = []
        self._writer = WriteBehind(self._take, call_records.add_all)

    def record(self, call: Call) -> None:
        self._ended.append(call)

    async def flush(self) -> None:
        await self._writer.flush()

    def _take(self) -> list[Call] | None:
        ended, self._ended = self._ended, []
        return ended or None
