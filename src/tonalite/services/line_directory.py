"""What SIP needs to know about lines, read fast: by SIP username (registrar) and by number (routing)."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Integer, String, bindparam, cast, func, select

from tonalite.redaction import repr_without
from tonalite.store.database import Database, DriverStatement
from tonalite.store.models import (
    BillingGroup,
    ForwardNature,
    Line,
    LineOptions,
    PlatformNumber,
    ScreenDirection,
    ScreenListEntry,
    ScreenListKind,
    VoicemailBox,
)


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


class LineSettings(NamedTuple):
    """What the call core reads of a line's options and voicemail for each call it makes or takes, in one
    lookup: the LineOptions columns under their own names (features.call_options.CallOptions.of reads them),
    and whether its voicemail box is on."""

    forward_unconditional: bool = False
    forward_unconditional_number: str = ""
    forward_unconditional_nature: ForwardNature = ForwardNature.NUMBER
    forward_no_reply: bool = False
    forward_no_reply_number: str = ""
    forward_no_reply_nature: ForwardNature = ForwardNature.NUMBER
    forward_no_reply_delay: int = 20
    forward_busy: bool = False
    forward_busy_number: str = ""
    forward_busy_nature: ForwardNature = ForwardNature.NUMBER
    forward_backup: bool = False
    forward_backup_number: str = ""
    forward_backup_nature: ForwardNature = ForwardNature.NUMBER
    do_not_disturb: bool = False
    absent_subscriber: bool = False
    identification_restriction: bool = False
    anonymous_call_rejection: bool = False
    call_waiting: bool = True
    lock_out_call: bool = False
    display_number: str = ""
    voicemail_on: bool = False
    screen_entries: int = 0
    """How many entries its screen lists hold: they are read (screen_entries) only when there are some."""


class ScreenEntry(NamedTuple):
    """A screen list's entry as the call core reads it."""

    direction: ScreenDirection
    kind: ScreenListKind
    number: str
    is_prefix: bool


_FLAGS = {"forward_unconditional", "forward_no_reply", "forward_busy", "forward_backup", "do_not_disturb"} | {
    "absent_subscriber",
    "identification_restriction",
    "anonymous_call_rejection",
    "call_waiting",
    "lock_out_call",
}
_NATURES = {"forward_unconditional_nature", "forward_no_reply_nature", "forward_busy_nature", "forward_backup_nature"}


def _settings_column(name: str) -> Any:
    """A LineOptions column as the driver returns it without SQLAlchemy's result processing: booleans as 0 or
    1, natures as their text."""
    column = getattr(LineOptions, name)
    if name in _FLAGS:
        return cast(column, Integer)
    if name in _NATURES:
        return cast(column, String)
    return column


_SETTINGS = (
    select(
        *(_settings_column(name) for name in LineSettings._fields[:-2]),
        cast(VoicemailBox.active, Integer),
        select(func.count())
        .select_from(ScreenListEntry)
        .where(ScreenListEntry.line_id == LineOptions.line_id)
        .scalar_subquery(),
    )
    .select_from(LineOptions)
    .outerjoin(VoicemailBox, VoicemailBox.line_id == LineOptions.line_id)
    .where(LineOptions.line_id == bindparam("key"))
)
_SCREEN = select(
    cast(ScreenListEntry.direction, String),
    cast(ScreenListEntry.kind, String),
    ScreenListEntry.number,
    cast(ScreenListEntry.is_prefix, Integer),
).where(ScreenListEntry.line_id == bindparam("key"))


_SAME_ACCOUNT = (
    select(BillingGroup.id)
    .where(BillingGroup.id == bindparam("group"))
    .where(
        BillingGroup.account_id
        == select(BillingGroup.account_id).where(BillingGroup.id == bindparam("other")).scalar_subquery()
    )
)


_BY_USERNAME = select(*_COLUMNS).where(Line.sip_username == bindparam("key"))
_BY_NUMBER = select(*_COLUMNS).where(Line.number == bindparam("key"))
_HELD = select(PlatformNumber.id).where(PlatformNumber.number == bindparam("key"))


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
        self._settings = DriverStatement.compile(_SETTINGS, dialect, ["key"])
        self._screen = DriverStatement.compile(_SCREEN, dialect, ["key"])
        self._same_account = DriverStatement.compile(_SAME_ACCOUNT, dialect, ["group", "other"])

    def by_username(self, username: str) -> SipLine | None:
        return self._line(self._by_username, username)

    def by_number(self, number: str) -> SipLine | None:
        return self._line(self._by_number, number)

    def platform_holds(self, number: str) -> bool:
        """Whether the number is in the operator's inventory (a line's, an alias number's, or a free one)."""
        return self._connections.first(self._held, (number,)) is not None

    def settings(self, line_id: int) -> LineSettings:
        """The line's call options and whether its voicemail is on; the defaults for a line without options."""
        row = self._connections.first(self._settings, (line_id,))
        if row is None:
            return LineSettings()
        values: list[Any] = [
            bool(value) if name in _FLAGS else ForwardNature(value) if name in _NATURES else value
            for name, value in zip(LineSettings._fields, row, strict=True)
        ]
        values[-2:] = [bool(row[-2]), int(row[-1])]
        return LineSettings._make(values)

    def same_account(self, one: SipLine, other: SipLine) -> bool:
        """Whether two lines belong to one account (in any of its billing groups)."""
        if one.billing_group_id == other.billing_group_id:
            return True
        return self._connections.first(self._same_account, (one.billing_group_id, other.billing_group_id)) is not None

    def screen_entries(self, line_id: int) -> tuple[ScreenEntry, ...]:
        """The line's screen lists, both directions (features.screening.screened reads them)."""
        rows = self._connections.all(self._screen, (line_id,))
        return tuple(
            ScreenEntry(ScreenDirection(direction), ScreenListKind(kind), number, bool(is_prefix))
            for direction, kind, number, is_prefix in rows
        )

    def _line(self, statement: DriverStatement, key: str) -> SipLine | None:
        row = self._connections.first(statement, (key,))
        return SipLine._make(row) if row is not None else None
