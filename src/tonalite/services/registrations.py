"""Where each line's one device is registered: stored so that it survives a restart, with its history.

The registrar calls `save` for every accepted REGISTER and `remove` for an unregistration; the scheduler
calls `expire`. A REGISTER from another device than the bound one replaces it, and the replacement is kept
in the line's registration history for diagnostics ("another phone took over my line").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tonalite.clock import Clock
from tonalite.config import Transport
from tonalite.services.lines import owned_line
from tonalite.services.principal import Principal
from tonalite.store.database import Database
from tonalite.store.models import Registration, RegistrationEvent, RegistrationEventKind

MAX_HISTORY = 50


@dataclass(frozen=True, slots=True)
class Binding:
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

    def same_device(self, other: Binding) -> bool:
        """RFC 3261 §10.3: a refresh carries the same Call-ID; a new Call-ID is another device (or a reboot)."""
        return self.call_id == other.call_id and self.contact == other.contact


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

    def save(self, binding: Binding) -> Binding | None:
        """Store the line's binding; returns the binding of another device it replaced, if any."""
        with self._db.session() as session:
            row = session.scalar(select(Registration).where(Registration.line_id == binding.line_id))
            previous = _binding(row) if row else None
            replaced = previous if previous and previous.expires_at > binding.registered_at else None
            if row is None:
                row = Registration(line_id=binding.line_id)
                session.add(row)
            for name in Binding.__dataclass_fields__:
                if name != "line_id":
                    setattr(row, name, getattr(binding, name))
            if replaced is not None and replaced.same_device(binding):
                row.registered_at = replaced.registered_at
                return None
            if replaced is not None:
                self._record(session, replaced, RegistrationEventKind.REPLACED)
            self._record(session, binding, RegistrationEventKind.REGISTERED)
            return replaced

    def remove(self, line_id: int) -> Binding | None:
        with self._db.session() as session:
            row = session.scalar(select(Registration).where(Registration.line_id == line_id))
            if row is None:
                return None
            removed = _binding(row)
            session.delete(row)
            self._record(session, removed, RegistrationEventKind.UNREGISTERED)
            return removed

    def expire(self) -> list[Binding]:
        """Remove every binding past its expiry; returns them."""
        with self._db.session() as session:
            rows = list(session.scalars(select(Registration).where(Registration.expires_at <= self._clock.wall())))
            for row in rows:
                self._record(session, _binding(row), RegistrationEventKind.EXPIRED)
                session.delete(row)
            return [_binding(row) for row in rows]

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

    def _record(self, session: Session, binding: Binding, kind: RegistrationEventKind) -> None:
        """Add to the line's history, keeping its newest MAX_HISTORY events."""
        session.add(
            RegistrationEvent(
                line_id=binding.line_id,
                kind=kind,
                contact=binding.contact[:512],
                source=binding.source[:80],
                user_agent=binding.user_agent[:255],
                occurred_at=self._clock.wall(),
            )
        )
        session.flush()
        keep = (
            select(RegistrationEvent.id)
            .where(RegistrationEvent.line_id == binding.line_id)
            .order_by(RegistrationEvent.id.desc())
            .limit(MAX_HISTORY)
        )
        session.execute(
            delete(RegistrationEvent).where(
                RegistrationEvent.line_id == binding.line_id, RegistrationEvent.id.not_in(keep.scalar_subquery())
            )
        )
