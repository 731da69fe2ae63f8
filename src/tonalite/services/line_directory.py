"""What SIP needs to know about lines, read fast: by SIP username (registrar) and by number (routing)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from tonalite.store.database import Database
from tonalite.store.models import Line


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


class LineDirectory:
    def __init__(self, db: Database) -> None:
        self._db = db

    def by_username(self, username: str) -> SipLine | None:
        with self._db.engine.connect() as connection:
            row = connection.execute(select(*_COLUMNS).where(Line.sip_username == username)).first()
        return SipLine(*row) if row else None

    def by_number(self, number: str) -> SipLine | None:
        with self._db.engine.connect() as connection:
            row = connection.execute(select(*_COLUMNS).where(Line.number == number)).first()
        return SipLine(*row) if row else None
