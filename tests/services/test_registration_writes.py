"""The location service's batches are written with the driver's executemany: the rows are the ORM's, to the
byte, and a binding stored again replaces every column of the one before."""

from __future__ import annotations

from datetime import timedelta, timezone

from sqlalchemy import text

from tests.api.customers import open_account
from tonalite.app import Platform
from tonalite.clock import ManualClock
from tonalite.services.registrations import Binding, RecordedEvent, RegistrationChanges
from tonalite.sip.transport import Transport
from tonalite.store.models import Registration, RegistrationEvent, RegistrationEventKind

PARIS = timezone(timedelta(hours=1))


def _stored(platform: Platform, model: type[Registration] | type[RegistrationEvent]) -> list[tuple[object, ...]]:
    """The rows as the driver returns them (on SQLite, the text the datetimes are stored as), without ids."""
    columns = ", ".join(column.name for column in model.__table__.columns if column.name != "id")
    with platform.db.engine.connect() as connection:
        query = text(f"SELECT {columns} FROM {model.__tablename__} ORDER BY id")
        return [tuple(row) for row in connection.execute(query)]


def _binding(
    line_id: int, clock: ManualClock, call_id: str, host: str = "192.0.2.10", user_agent: str = "Desk phone 1.0"
) -> Binding:
    now = clock.wall().astimezone(PARIS)
    return Binding(
        line_id=line_id,
        contact=f"<sip:0033999001234@{host}:5062;transport=tcp>",
        call_id=call_id,
        cseq=7,
        source_host=host,
        source_port=5062,
        transport=Transport.TCP,
        user_agent=user_agent,
        registered_at=now,
        expires_at=now + timedelta(seconds=600),
        node="node-a",
    )


def _lines(platform: Platform) -> tuple[int, int]:
    open_account(platform, "alice", "+33999001234")
    open_account(platform, "bob", "+33999002222")
    alice = platform.services.line_directory.by_number("+33999001234")
    bob = platform.services.line_directory.by_number("+33999002222")
    assert alice is not None and bob is not None
    return alice.line_id, bob.line_id


def _changes(alice: int, bob: int, clock: ManualClock) -> RegistrationChanges:
    first, second = _binding(alice, clock, "call-1"), _binding(bob, clock, "call-2", host="2001:db8::5")
    replaced = _binding(bob, clock, "call-0", host="2001:db8::" + "5" * 600, user_agent="x" * 300)
    events = [
        RecordedEvent(alice, RegistrationEventKind.REGISTERED, first, first.registered_at),
        RecordedEvent(bob, RegistrationEventKind.REPLACED, replaced, second.registered_at),
        RecordedEvent(bob, RegistrationEventKind.REGISTERED, second, second.registered_at),
    ]
    return RegistrationChanges(bound={alice: first, bob: second}, events=events)


def _orm_rows(changes: RegistrationChanges) -> list[Registration | RegistrationEvent]:
    """What the ORM would write for the batch (the service wrote these before it used executemany)."""
    bindings: list[Registration | RegistrationEvent] = [
        Registration(**{name: getattr(b, name) for name in Binding._fields}) for b in changes.bound.values()
    ]
    events = [
        RegistrationEvent(
            line_id=event.line_id,
            kind=event.kind,
            contact=event.binding.contact[:512],
            source=event.binding.source[:80],
            user_agent=event.binding.user_agent[:255],
            occurred_at=event.occurred_at,
        )
        for event in changes.events
    ]
    return bindings + events


def test_bindings_and_history_are_stored_as_the_orm_stores_them(platform: Platform, clock: ManualClock) -> None:
    alice, bob = _lines(platform)
    changes = _changes(alice, bob, clock)
    platform.services.registrations.apply(changes)
    written = _stored(platform, Registration), _stored(platform, RegistrationEvent)
    with platform.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM registrations"))
        connection.execute(text("DELETE FROM registration_events"))
    with platform.db.session() as session:
        session.add_all(_orm_rows(changes))
    assert written == (_stored(platform, Registration), _stored(platform, RegistrationEvent))
    assert [row[3] for row in written[1]] == [
        "tcp:192.0.2.10:5062",
        ("tcp:[2001:db8::" + "5" * 600)[:80],
        "tcp:[2001:db8::5]:5062",
    ]


def test_a_binding_stored_again_replaces_every_column(platform: Platform, clock: ManualClock) -> None:
    alice, bob = _lines(platform)
    registrations = platform.services.registrations
    registrations.apply(_changes(alice, bob, clock))
    clock.advance(60)
    other = _binding(alice, clock, "call-9", host="198.51.100.7", user_agent="Softphone 2.0")._replace(
        cseq=8,
        source_port=5070,
        transport=Transport.UDP,
        node="node-b",
    )
    registrations.apply(RegistrationChanges(bound={alice: other}, removed={bob}))
    assert registrations.all_current() == [other]
