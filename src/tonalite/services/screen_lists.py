"""A line's screen lists: numbers and prefixes its calls are let through or refused by, incoming and outgoing.

Every entry is stored in E.164 form, as callers and dialled numbers reach the call core: a full number is parsed
as any other (`09 99 00 12 34` -> `+33999001234`); a prefix is `+` and 1 to 15 digits, typed in international
form (`+3389`, `003389`) or in national form, whose trunk prefix 0 becomes the account country's calling code
(`0899` -> `+33899`, which every French number starting 0899 matches once in E.164).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from phonenumbers import country_code_for_region
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tonalite.services.errors import Conflict, InvalidInput, NotFound
from tonalite.services.line_directory import ScreenEntry
from tonalite.services.lines import owned_line
from tonalite.services.numbering import parse_number
from tonalite.services.principal import Principal
from tonalite.store.database import Database
from tonalite.store.models import ScreenDirection, ScreenListEntry, ScreenListKind

MAX_ENTRIES_PER_LIST = 100
PREFIX_DIGITS = re.compile(r"[0-9]{1,15}")
_SEPARATORS = re.compile(r"[\s.\-]")


def screened(entries: Iterable[ScreenEntry], number: str | None, direction: ScreenDirection) -> bool:
    """Whether a call of `direction` with the other party's E.164 `number` (None or empty: anonymous) is refused.

    A whitelist with entries lets only its numbers through, so an anonymous caller too is refused; a blacklist
    refuses its numbers; a number on both is refused.
    """
    other = number or ""
    whitelist = whitelisted = blacklisted = False
    for entry in entries:
        if entry.direction != direction:
            continue
        matches = bool(other) and (other.startswith(entry.number) if entry.is_prefix else other == entry.number)
        if entry.kind == ScreenListKind.WHITELIST:
            whitelist, whitelisted = True, whitelisted or matches
        else:
            blacklisted = blacklisted or matches
    return blacklisted or (whitelist and not whitelisted)


def screen_value(text: str, is_prefix: bool, country: str) -> str:
    """The E.164 form an entry is stored in (see the module's documentation)."""
    if not is_prefix:
        return parse_number(text, country, field="number")
    cleaned = _SEPARATORS.sub("", text)
    if cleaned.startswith("+"):
        digits = cleaned[1:]
    elif cleaned.startswith("00"):
        digits = cleaned[2:]
    elif cleaned.startswith("0"):
        digits = f"{country_code_for_region(country)}{cleaned[1:]}"
    else:
        digits = ""
    if PREFIX_DIGITS.fullmatch(digits) is None:
        raise InvalidInput("error.screen_prefix_invalid", "number", value=text.strip()[:20])
    return "+" + digits


class ScreenListService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def list(self, principal: Principal, group_id: int, number: str) -> list[ScreenListEntry]:
        with self._db.session() as session:
            line = owned_line(session, principal, group_id, number)
            return list(
                session.scalars(
                    select(ScreenListEntry)
                    .where(ScreenListEntry.line_id == line.id)
                    .order_by(ScreenListEntry.direction, ScreenListEntry.kind, ScreenListEntry.number)
                )
            )

    def add(
        self,
        principal: Principal,
        group_id: int,
        number: str,
        direction: ScreenDirection,
        kind: ScreenListKind,
        value: str,
        is_prefix: bool,
    ) -> ScreenListEntry:
        """One more entry on a list of `MAX_ENTRIES_PER_LIST` at most; a list holds a value once."""
        stored = screen_value(value, is_prefix, principal.country)
        with self._db.session() as session:
            line = owned_line(session, principal, group_id, number)
            held = set(_list(session, line.id, direction, kind))
            if stored in held:
                raise Conflict("error.screen_entry_repeated", "number")
            if len(held) >= MAX_ENTRIES_PER_LIST:
                raise InvalidInput("error.screen_list_full", "number", max=MAX_ENTRIES_PER_LIST)
            entry = ScreenListEntry(line_id=line.id, direction=direction, kind=kind, number=stored, is_prefix=is_prefix)
            session.add(entry)
        return entry

    def delete(self, principal: Principal, group_id: int, number: str, entry_id: int) -> None:
        with self._db.session() as session:
            line = owned_line(session, principal, group_id, number)
            entry = session.get(ScreenListEntry, entry_id)
            if entry is None or entry.line_id != line.id:
                raise NotFound()
            session.delete(entry)

    def clear(
        self, principal: Principal, group_id: int, number: str, direction: ScreenDirection, kind: ScreenListKind
    ) -> None:
        with self._db.session() as session:
            line = owned_line(session, principal, group_id, number)
            session.execute(
                delete(ScreenListEntry).where(
                    ScreenListEntry.line_id == line.id,
                    ScreenListEntry.direction == direction,
                    ScreenListEntry.kind == kind,
                )
            )


def _list(session: Session, line_id: int, direction: ScreenDirection, kind: ScreenListKind) -> list[str]:
    """The numbers and prefixes on one of the line's lists."""
    return list(
        session.scalars(
            select(ScreenListEntry.number).where(
                ScreenListEntry.line_id == line_id,
                ScreenListEntry.direction == direction,
                ScreenListEntry.kind == kind,
            )
        )
    )
