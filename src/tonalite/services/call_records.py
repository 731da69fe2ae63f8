"""One record per call, written when the call ends: in batches, by the call core's recorder."""

from __future__ import annotations

from sqlalchemy import insert

from tonalite.calls.call import Call
from tonalite.store.database import Database, DriverStatement
from tonalite.store.models import CallRecord

_COLUMNS = (
    "call_id",
    "billing_group_id",
    "caller_line_id",
    "callee_line_id",
    "direction",
    "caller",
    "callee",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_s",
    "result",
    "sip_code",
    "node",
)


class CallRecordService:
    def __init__(self, db: Database, node: str) -> None:
        self._db = db
        self._node = node
        self._insert = DriverStatement.compile(insert(CallRecord), db.engine.dialect, _COLUMNS)

    def add_all(self, calls: list[Call]) -> None:
        """One executemany, with no ORM and no SQLAlchemy work per row (it runs in the recorder's thread,
        which holds the GIL the SIP loop needs)."""
        with self._db.engine.begin() as connection:
            self._insert.execute_many(connection, map(self._values, calls))

    def _values(self, call: Call) -> tuple[object, ...]:
        """The call's record, in the order of _COLUMNS (the table's)."""
        caller, callee = call.caller_line, call.callee_line
        return (
            call.id,
            call.billing_group_id,
            caller.line_id if caller else None,
            callee.line_id if callee else None,
            call.direction,
            call.caller_number,
            call.callee_number,
            call.started_at,
            call.answered_at,
            call.ended_at,
            call.duration_s,
            call.result,
            call.sip_code,
            self._node,
        )
