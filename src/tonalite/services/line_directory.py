"""What SIP needs to know about lines, read fast: by SIP username (registrar) and by number (routing)."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Integer, bindparam, cast, select

from tonalite.redaction import repr_without
from tonalite.store.database import Database, DriverStatement
from tonalite.store.models import Line, LineOptions, PlatformNumber


class SipLine(NamedTuple):
    """A line as SIP sees it, read for every REGISTER and call: a named tuple, built from the row at a fraction
    of a frozen dataclass's cost. The HA1s stay out of the repr."""

    line_id: int
    billing_group_id: int
    number: str
    username: str
    realm: str
    display_name: str
    simultaneous_calls: int
    ha1_md5: str
    ha1_sha256: str

    def __repr__(self) -> str:
        return repr_without(self, {"ha1_md5", "ha1_sha256"})


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


_BY_USERNAME = select(*_COLUMNS).where(Line.sip_username == bindparam("key"))
_BY_NUMBER = select(*_COLUMNS).where(Line.number == bindparam("key"))
_HELD = select(PlatformNumber.id).where(PlatformNumber.number == bindparam("key"))
_NO_REPLY_DELAY = select(LineOptions.forward_no_reply_delay).where(LineOptions.line_id == bindparam("key"))
_RESTRICTED = select(cast(LineOptions.identification_restriction, Integer)).where(  # 0 or 1: no bool processor
    LineOptions.line_id == bindparam("key")
)
DEFAULT_NO_REPLY_DELAY_S = 20


class LineDirectory:
    """Reads straight from the database, without a cache: a password reset in the panel takes effect at the
    phone's next REGISTER, on every node.

    These lookups run for every REGISTER and every call, on the event loop: each is compiled once and run on
    the thread's own connection (store/database.py), without SQLAlchemy's work per execution.
    """

    def __init__(self, db: Database) -> None:
        self._connections = db.thread_connections
        dialect = db.engine.dialect
        self._by_username = DriverStatement.compile(_BY_USERNAME, dialect, ["key"])
        self._by_number = DriverStatement.compile(_BY_NUMBER, dialect, ["key"])
        self._held = DriverStatement.compile(_HELD, dialect, ["key"])
        self._no_reply_delay = DriverStatement.compile(_NO_REPLY_DELAY, dialect, ["key"])
        self._restricted = DriverStatement.compile(_RESTRICTED, dialect, ["key"])

    def by_username(self, username: str) -> SipLine | None:
        return self._line(self._by_username, username)

    def by_number(self, number: str) -> SipLine | None:
        return self._line(self._by_number, number)

    def platform_holds(self, number: str) -> bool:
        """Whether the number is in the operator's inventory (a line's, an alias number's, or a free one)."""
        return self._connections.first(self._held, (number,)) is not None

    def no_reply_delay(self, line_id: int) -> int:
        """How long, in seconds, the line's phone rings before its call goes elsewhere (its voicemail)."""
        row = self._connections.first(self._no_reply_delay, (line_id,))
        return int(row[0]) if row is not None else DEFAULT_NO_REPLY_DELAY_S

    def identification_restricted(self, line_id: int) -> bool:
        """Whether the line hides its number from the people it calls (CLIR)."""
        row = self._connections.first(self._restricted, (line_id,))
        return row is not None and bool(row[0])

    def _line(self, statement: DriverStatement, key: str) -> SipLine | None:
        row = self._connections.first(statement, (key,))
        return SipLine._make(row) if row is not None else None
