"""What SIP needs to know about lines, read fast: by SIP username (registrar) and by number (routing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, select

from tonalite.store.database import Database
from tonalite.store.models import Line, PlatformNumber


@dataclass(frozen=True, slots=True)
class SipLine:
    line_id: int
    billing_group_id: int
    number: str
    username: str
    realm: str
    display_name: str
    simultaneous_calls: int
    ha1_md5: str = field(repr=False)
    ha1_sha256: str = field(repr=False)


_COLUMNS = (
    Line.id,
    Line.billing_group_id,
    Line.number,
    Line.sip_username,
    Line.sip_realm,
    Line.display_name,
    Line.simultaneous_calls,
    Line.ha1_md5,
    Line.ha1_sha256,
)


# Built once: SQLAlchemy memoises a statement's cache key on the object, and these run for every REGISTER
# and every call, on the event loop.
_BY_USERNAME = select(*_COLUMNS).where(Line.sip_username == bindparam("key"))
_BY_NUMBER = select(*_COLUMNS).where(Line.number == bindparam("key"))
_HELD = select(PlatformNumber.id).where(PlatformNumber.number == bindparam("key"))


class LineDirectory:
    """Reads straight from the database, without a cache: a password reset in the panel takes effect at the
    phone's next REGISTER, on every node."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def by_username(self, username: str) -> SipLine | None:
        return self._one(_BY_USERNAME, username)

    def by_number(self, number: str) -> SipLine | None:
        return self._one(_BY_NUMBER, number)

    def platform_holds(self, number: str) -> bool:
        """Whether the number is in the operator's inventory (a line's, an alias number's, or a free one)."""
        with self._db.engine.connect() as connection:
            return connection.execute(_HELD, {"key": number}).first() is not None

    def _one(self, statement: Select[*tuple[Any, ...]], key: str) -> SipLine | None:
        with self._db.engine.connect() as connection:
            row = connection.execute(statement, {"key": key}).first()
        return SipLine(*row) if row else None
