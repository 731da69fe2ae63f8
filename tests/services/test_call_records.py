"""Call records are written in batches with the driver's executemany: the rows are the ORM's, to the byte."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select, text

from tests.api.customers import open_account
from tonalite.app import Platform
from tonalite.calls.call import Call
from tonalite.store.models import CallDirection, CallRecord, CallResult

PARIS = timezone(timedelta(hours=1))
STARTED = datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=PARIS)


def _stored(platform: Platform) -> list[tuple[object, ...]]:
    """The rows as the driver returns them (on SQLite, the text the datetimes are stored as), without ids."""
    columns = ", ".join(column.name for column in CallRecord.__table__.columns if column.name != "id")
    with platform.db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(f"SELECT {columns} FROM call_records ORDER BY id"))]


def _calls(platform: Platform) -> list[Call]:
    open_account(platform, "alice", "+33999001234")
    open_account(platform, "bob", "+33999002222")
    alice = platform.services.line_directory.by_number("+33999001234")
    bob = platform.services.line_directory.by_number("+33999002222")
    answered = Call("+33999001234", "+33999002222", STARTED, caller_line=alice, callee_line=bob, id="answered")
    answered.answer(STARTED + timedelta(seconds=2))
    answered.end(STARTED + timedelta(seconds=62), CallResult.ANSWERED, None)
    busy = Call("+33612345678", "+33999002222", STARTED, callee_line=bob, direction=CallDirection.INCOMING)
    busy.end(STARTED + timedelta(seconds=1), CallResult.BUSY, 486)
    unended = Call("+33999001234", "0612", STARTED, caller_line=alice, direction=CallDirection.OUTGOING)
    return [answered, busy, unended]


def _record(call: Call, node: str) -> CallRecord:
    """What the ORM would write for the call (the service wrote these before it used executemany)."""
    return CallRecord(
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
        node=node,
    )


def test_records_are_stored_as_the_orm_stores_them(platform: Platform) -> None:
    calls = _calls(platform)
    platform.services.call_records.add_all(calls)
    written = _stored(platform)
    with platform.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM call_records"))
    with platform.db.session() as session:
        session.add_all([_record(call, platform.settings.node_name) for call in calls])
    assert written == _stored(platform)
    assert len(written) == 3


def test_records_read_back_in_utc(platform: Platform) -> None:
    calls = _calls(platform)
    platform.services.call_records.add_all(calls)
    with platform.db.session() as session:
        records = {record.call_id: record for record in session.scalars(select(CallRecord))}
    answered = records["answered"]
    assert answered.started_at == STARTED and answered.started_at.tzinfo == UTC
    assert (answered.duration_s, answered.result, answered.sip_code) == (60, CallResult.ANSWERED, None)
    assert records[calls[1].id].caller_line_id is None and records[calls[1].id].result == CallResult.BUSY
    assert records[calls[2].id].ended_at is None and records[calls[2].id].result is None
