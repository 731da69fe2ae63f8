"""Where each line's one device is registered, as stored: it survives a restart, with its history.

The SIP node's location service (calls/location.py) decides and remembers bindings in memory and writes
them here in batches (`apply`); the panel and the API read them here. The history keeps, per line, what
happened ("another phone took over my line") for diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Dialect, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tonalite.clock import Clock
from tonalite.services.lines import owned_line
from tonalite.services.principal import Principal
from tonalite.sip.transport import Transport
from tonalite.store.database import Database, DriverStatement
from tonalite.store.models import Registration, RegistrationEvent, RegistrationEventKind

MAX_HISTORY = 50


class Binding(NamedTuple):
    """A line's registered device. Named tuples (this and RecordedEvent): the registrar makes them for every
    REGISTER, and a frozen dataclass of eleven fields costs four times as much to build."""

    line_id: int
    contact: str
    call_id: str
    cseq: int
    source_host: str
    source_port: int
    transport: Transport
    user_agent: str
    registered_at: datetime
    expires_at: datetime
    node: str = ""

    @property
    def source(self) -> str:
        host = f"[{self.source_host}]" if ":" in self.source_host else self.source_host
        return f"{self.transport.value}:{host}:{self.source_port}"

    def refreshed_by(self, other: Binding) -> bool:
        """RFC 3261 §10.2.4: a refresh carries the same Call-ID (and contact); a new Call-ID is a new
        registration, of the same device restarted or of another one."""
        return self.call_id == other.call_id and self.contact == other.contact


class RecordedEvent(NamedTuple):
    line_id: int
    kind: RegistrationEventKind
    binding: Binding
    occurred_at: datetime

    def values(self) -> tuple[object, ...]:
        """The history row, in the order of _EVENT_COLUMNS."""
        binding = self.binding
        return (
            self.line_id,
            self.kind,
            binding.contact[:512],
            binding.source[:80],
            binding.user_agent[:255],
            self.occurred_at,
        )


@dataclass(slots=True)
class RegistrationChanges:
    """What the location service changed since its last flush: bindings to store or delete, and history."""

    bound: dict[int, Binding] = field(default_factory=dict)
    removed: set[int] = field(default_factory=set)
    events: list[RecordedEvent] = field(default_factory=list)

    @classmethod
    def binding(cls, binding: Binding) -> RegistrationChanges:
        """A batch that stores one binding, as the operator's tools and the tests write one."""
        return cls(bound={binding.line_id: binding})

    @property
    def empty(self) -> bool:
        return not (self.bound or self.removed or self.events)


_BINDING_COLUMNS = (
    "line_id",
    "contact",
    "call_id",
    "cseq",
    "source_host",
    "source_port",
    "transport",
    "user_agent",
    "node",
    "registered_at",
    "expires_at",
)
_EVENT_COLUMNS = ("line_id", "kind", "contact", "source", "user_agent", "occurred_at")


def _binding_values(binding: Binding) -> tuple[object, ...]:
    """The registration row, in the order of _BINDING_COLUMNS (the table's)."""
    return (
        binding.line_id,
        binding.contact,
        binding.call_id,
        binding.cseq,
        binding.source_host,
        binding.source_port,
        binding.transport,
        binding.user_agent,
        binding.node,
        binding.registered_at,
        binding.expires_at,
    )


def _store_binding(dialect: Dialect) -> DriverStatement:
    """INSERT … ON CONFLICT (line_id) DO UPDATE, in the dialect's words (SQLite and PostgreSQL both have it)."""
    upsert = (postgresql_insert if dialect.name == "postgresql" else sqlite_insert)(Registration)
    statement = upsert.on_conflict_do_update(
        index_elements=[Registration.line_id],
        set_={name: upsert.excluded[name] for name in _BINDING_COLUMNS if name != "line_id"},
    )
    return DriverStatement.compile(statement, dialect, _BINDING_COLUMNS)


def _binding(row: Registration) -> Binding:
    return Binding(
        line_id=row.line_id,
        contact=row.contact,
        call_id=row.call_id,
        cseq=row.cseq,
        source_host=row.source_host,
        source_port=row.source_port,
        transport=row.transport,
        user_agent=row.user_agent,
        registered_at=row.registered_at,
        expires_at=row.expires_at,
        node=row.node,
    )


class RegistrationService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._store_binding = _store_binding(db.engine.dialect)
        self._add_event = DriverStatement.compile(insert(RegistrationEvent), db.engine.dialect, _EVENT_COLUMNS)

    def current(self, line_id: int) -> Binding | None:
        with self._db.session() as session:
            row = session.scalar(
                select(Registration).where(
                    Registration.line_id == line_id, Registration.expires_at > self._clock.wall()
                )
            )
            return _binding(row) if row else None

    def all_current(self) -> list[Binding]:
        with self._db.session() as session:
            rows = session.scalars(select(Registration).where(Registration.expires_at > self._clock.wall()))
            return [_binding(row) for row in rows]

    def apply(self, changes: RegistrationChanges) -> None:
        """Write a batch of the location service's changes in one transaction: a DELETE, and an executemany
        each for the bindings and the history, with no ORM and no SQLAlchemy work per row (the batch writer's
        thread holds the GIL the SIP loop needs)."""
        if changes.empty:
            return
        with self._db.engine.begin() as connection:
            if changes.removed:
                connection.execute(delete(Registration).where(Registration.line_id.in_(changes.removed)))
            self._store_binding.execute_many(connection, map(_binding_values, changes.bound.values()))
            self._add_event.execute_many(connection, map(RecordedEvent.values, changes.events))

    def trim_history(self) -> None:
        """Keep each line's newest MAX_HISTORY registration events (run by the scheduler, not per event)."""
        with self._db.session() as session:
            ranked = select(
                RegistrationEvent.id,
                func.row_number()
                .over(partition_by=RegistrationEvent.line_id, order_by=RegistrationEvent.id.desc())
                .label("rank"),
            ).subquery()
            stale = select(ranked.c.id).where(ranked.c.rank > MAX_HISTORY)
            session.execute(delete(RegistrationEvent).where(RegistrationEvent.id.in_(stale)))

    def for_line(self, principal: Principal, group_id: int, number: str) -> Binding | None:
        """The live registration of a line of the caller's account, for the panel and the API."""
        with self._db.session() as session:
            line = owned_line(session, principal, group_id, number)
        return self.current(line.id)

    def history(self, principal: Principal, group_id: int, number: str) -> list[RegistrationEvent]:
        with self._db.session() as session:
            line = owned_line(session, principal, group_id, number)
            return list(
                session.scalars(
                    select(RegistrationEvent)
                    .where(RegistrationEvent.line_id == line.id)
                    .order_by(RegistrationEvent.occurred_at.desc(), RegistrationEvent.id.desc())
                    .limit(MAX_HISTORY)
                )
            )
