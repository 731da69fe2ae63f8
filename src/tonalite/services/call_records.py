"""One record per call, written when the call ends: in batches, by the call core's recorder."""

from __future__ import annotations

from sqlalchemy import insert

from tonalite.calls.call import Call
from tonalite.store.database import Database
from tonalite.store.models import CallRecord


class CallRecordService:
    def __init__(self, db: Database, node: str) -> None:
        self._db = db
        self._node = node

    def add_all(self, calls: list[Call]) -> None:
        with self._db.session() as session:
            session.execute(insert(CallRecord), [self._row(call) for call in calls])

    def _row(self, call: Call) -> dict[str, object]:
        return dict(
            call_id=call.id,
            billing_group_id=call.billing_group_id,
            caller_line_id=call.caller_line.line_id if call.caller_line else None,
            callee_line_id=call.callee_line.line_id if call.callee_line else None,
            direction=call.direction,
            caller=call.caller_number,
            callee=call.callee_number,
            started_at=call.started_at,
            answered_at=call.answered_at,
            ended_at=call.ended_at,
            duration_s=call.duration_s,
            result=call.result,
            sip_code=call.sip_code,
            node=self._node,
        )
