"""Abbreviated numbers ("numéros abrégés"): short numbers a line dials in place of a whole number.

A billing group's list holds 3- or 4-digit numbers starting with 7, which every line of the group can dial; a
line's own list holds 3- or 4-digit numbers starting with 2. Destinations are stored in E.164; one typed without
a country code is in the account's country. The owner lists, adds, edits, deletes and clears a list, and imports
and exports it as CSV, one number a row: `7890,0033123456789,Smith,John` (short number, destination, surname,
name). The call core resolves what a line dialled, without an account: the line's list first, then the group's.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, fields

from sqlalchemy import ColumnElement, Select, bindparam, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tonalite.services.billing_groups import owned_group
from tonalite.services.errors import Conflict, InputTooLarge, InvalidInput, NotFound, UnsupportedFormat
from tonalite.services.lines import owned_line
from tonalite.services.numbering import parse_number
from tonalite.services.principal import Principal
from tonalite.services.validation import check_text
from tonalite.store.database import Database, DriverStatement
from tonalite.store.models import AbbreviatedNumber

GROUP_FIRST_DIGIT = "7"
LINE_FIRST_DIGIT = "2"
SHORT_LENGTHS = (3, 4)
NAME_MAX_LENGTH = 100
MAX_IMPORT_BYTES = 256 * 1024
MAX_IMPORT_ROWS = 2000
"""More rows than either list can hold (1,100 short numbers), so that a whole list fits in one file."""
THREE_DIGIT_ADVICE = "abbreviated.three_digit_advice"
SHORT_FIELD = "abbreviated_number"
"""The short number's field, as the API names it."""

_RESOLVE = (
    select(AbbreviatedNumber.destination_number)
    .where(
        AbbreviatedNumber.billing_group_id == bindparam("group"),
        AbbreviatedNumber.short_number == bindparam("short"),
        or_(AbbreviatedNumber.line_id == bindparam("line"), AbbreviatedNumber.line_id.is_(None)),
    )
    .order_by(AbbreviatedNumber.line_id.is_(None))
)
"""At most two rows, the line's first: one probe of each unique index (SQLite: MULTI-INDEX OR; PostgreSQL:
BitmapOr), so no index of its own is needed."""


@dataclass(frozen=True, slots=True)
class AbbreviatedList:
    """Which list: a billing group's (no line number) or one of its lines'."""

    group_id: int
    line_number: str | None = None

    @property
    def first_digit(self) -> str:
        return GROUP_FIRST_DIGIT if self.line_number is None else LINE_FIRST_DIGIT


@dataclass(frozen=True, slots=True)
class AbbreviatedEntry:
    """One abbreviated number as typed (a form, a JSON body, a CSV row), or as checked and normalised."""

    short_number: str
    destination_number: str
    surname: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int
    """The row's line in the file, from 1."""
    error: InvalidInput


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: int
    updated: int
    unchanged: int
    rejected: tuple[RejectedRow, ...]


def advice(short_number: str) -> str | None:
    """The message id of the advice given when a number is saved: a phone that dialled 3 digits waits a few
    seconds for a fourth before it calls, so 4 digits are recommended."""
    return THREE_DIGIT_ADVICE if len(short_number) == min(SHORT_LENGTHS) else None


def is_short_number(dialled: str) -> bool:
    """Whether `dialled` can be an abbreviated number of some list (3 or 4 digits starting with 2 or 7)."""
    return (
        len(dialled) in SHORT_LENGTHS
        and dialled.isascii()
        and dialled.isdigit()
        and dialled[0] in (GROUP_FIRST_DIGIT, LINE_FIRST_DIGIT)
    )


class AbbreviatedNumberService:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._connections = db.thread_connections
        self._resolve = DriverStatement.compile(_RESOLVE, db.engine.dialect, ["group", "short", "line"])

    def resolve(self, line_id: int, billing_group_id: int, dialled: str) -> str | None:
        """The E.164 destination of a short number dialled from a line: the line's own, else its group's; None
        if neither list defines it. For the call core, on the event loop: one indexed query, none at all for a
        string that cannot be a short number."""
        if not is_short_number(dialled):
            return None
        row = self._connections.first(self._resolve, (billing_group_id, dialled, line_id))
        return str(row[0]) if row is not None else None

    def list(self, principal: Principal, where: AbbreviatedList) -> list[AbbreviatedNumber]:
        """Ordered by short number."""
        with self._db.session() as session:
            return _stored(session, principal, where)

    def get(self, principal: Principal, where: AbbreviatedList, short_number: str) -> AbbreviatedNumber:
        with self._db.session() as session:
            return _found(session, principal, where, short_number)

    def add(self, principal: Principal, where: AbbreviatedList, entry: AbbreviatedEntry) -> AbbreviatedNumber:
        """Conflict if the list holds the short number already, or someone added it meanwhile (the unique index
        refuses the second of two adds at once)."""
        try:
            with self._db.session() as session:
                group_id, line_id = _owner(session, principal, where)
                checked = _checked(entry, where, principal.country)
                if _in_list_of(session, group_id, line_id, checked.short_number) is not None:
                    raise _taken(checked.short_number)
                stored = AbbreviatedNumber(billing_group_id=group_id, line_id=line_id, **asdict(checked))
                session.add(stored)
        except IntegrityError:
            raise _taken(entry.short_number.strip()) from None
        return stored

    def update(self, principal: Principal, where: AbbreviatedList, entry: AbbreviatedEntry) -> AbbreviatedNumber:
        """Change the destination and names of the list's number `entry.short_number` (NotFound if none)."""
        with self._db.session() as session:
            stored = _found(session, principal, where, entry.short_number)
            for name, value in asdict(_checked(entry, where, principal.country)).items():
                setattr(stored, name, value)
            return stored

    def delete(self, principal: Principal, where: AbbreviatedList, short_number: str) -> None:
        with self._db.session() as session:
            session.delete(_found(session, principal, where, short_number))

    def clear(self, principal: Principal, where: AbbreviatedList) -> int:
        """Delete every number of the list; returns how many there were."""
        with self._db.session() as session:
            scope = _scope(*_owner(session, principal, where))
            return len(session.scalars(delete(AbbreviatedNumber).where(*scope).returning(AbbreviatedNumber.id)).all())

    def import_csv(self, principal: Principal, where: AbbreviatedList, data: bytes) -> ImportReport:
        """Add the file's numbers to the list, and update those it holds already (so that an exported file,
        edited, can be imported back). Every row is checked: the good ones are saved together, the others
        reported with their line and reason and left out whole; a short number repeated in the file is reported
        at its second row. A file over the size or row limits, or not CSV text, changes nothing."""
        try:
            return self._import(principal, where, data)
        except IntegrityError:  # a number added to the list between the read and the write: nothing is saved
            raise Conflict("error.abbreviated.import_conflict", "file") from None

    def _import(self, principal: Principal, where: AbbreviatedList, data: bytes) -> ImportReport:
        with self._db.session() as session:
            group_id, line_id = _owner(session, principal, where)
            good, rejected = _checked_rows(_csv_rows(data), where, principal.country)
            stored = {row.short_number: row for row in session.scalars(_in_list(group_id, line_id))}
            added = updated = 0
            for entry in good:
                columns = asdict(entry)
                existing = stored.get(entry.short_number)
                if existing is None:
                    session.add(AbbreviatedNumber(billing_group_id=group_id, line_id=line_id, **columns))
                    added += 1
                elif any(getattr(existing, name) != value for name, value in columns.items()):
                    for name, value in columns.items():
                        setattr(existing, name, value)
                    updated += 1
        return ImportReport(added, updated, len(good) - added - updated, rejected)

    def export_csv(self, principal: Principal, where: AbbreviatedList) -> str:
        """The list in the import's format, ordered by short number; destinations as 00 and the E.164 digits, and
        a name a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or carriage return first) written
        after a `'`, which the spreadsheet shows as text and the import takes off again."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for row in self.list(principal, where):
            destination = "00" + row.destination_number.removeprefix("+")
            writer.writerow([row.short_number, destination, _inert(row.surname), _inert(row.name)])
        return buffer.getvalue()


def _taken(short_number: str) -> Conflict:
    return Conflict("error.abbreviated.short_number_taken", SHORT_FIELD, short=short_number)


def _owner(session: Session, principal: Principal, where: AbbreviatedList) -> tuple[int, int | None]:
    """The list's billing group and line ids, if the caller's account owns them; NotFound otherwise."""
    if where.line_number is None:
        return owned_group(session, principal, where.group_id).id, None
    return where.group_id, owned_line(session, principal, where.group_id, where.line_number).id


def _scope(group_id: int, line_id: int | None) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    line = AbbreviatedNumber.line_id.is_(None) if line_id is None else AbbreviatedNumber.line_id == line_id
    return AbbreviatedNumber.billing_group_id == group_id, line


def _in_list(group_id: int, line_id: int | None) -> Select[AbbreviatedNumber]:
    return select(AbbreviatedNumber).where(*_scope(group_id, line_id)).order_by(AbbreviatedNumber.short_number)


def _in_list_of(session: Session, group_id: int, line_id: int | None, short_number: str) -> AbbreviatedNumber | None:
    return session.scalar(_in_list(group_id, line_id).where(AbbreviatedNumber.short_number == short_number))


def _stored(session: Session, principal: Principal, where: AbbreviatedList) -> list[AbbreviatedNumber]:
    return list(session.scalars(_in_list(*_owner(session, principal, where))))


def _found(session: Session, principal: Principal, where: AbbreviatedList, short_number: str) -> AbbreviatedNumber:
    found = _in_list_of(session, *_owner(session, principal, where), short_number)
    if found is None:
        raise NotFound()
    return found


def _checked(entry: AbbreviatedEntry, where: AbbreviatedList, country: str) -> AbbreviatedEntry:
    """The entry normalised (E.164 destination, names trimmed), or InvalidInput naming the first bad field."""
    short = entry.short_number.strip()
    if not (is_short_number(short) and short.startswith(where.first_digit)):
        raise InvalidInput("error.abbreviated.short_number_invalid", SHORT_FIELD, first=where.first_digit)
    if not entry.destination_number.strip():
        raise InvalidInput("error.abbreviated.destination_required", "destination_number")
    return AbbreviatedEntry(
        short,
        parse_number(entry.destination_number, country, field="destination_number"),
        check_text(entry.surname, NAME_MAX_LENGTH, "surname"),
        check_text(entry.name, NAME_MAX_LENGTH, "name"),
    )


def _checked_rows(
    rows: list[tuple[int, list[str]]], where: AbbreviatedList, country: str
) -> tuple[list[AbbreviatedEntry], tuple[RejectedRow, ...]]:
    """The good rows, checked, and the others with their reasons; a short number's second row is bad."""
    good: list[AbbreviatedEntry] = []
    first_seen: dict[str, int] = {}
    rejected: list[RejectedRow] = []
    for line, cells in rows:
        try:
            if not 2 <= len(cells) <= len(fields(AbbreviatedEntry)):
                raise InvalidInput("error.abbreviated.import_columns")
            entry = _checked(AbbreviatedEntry(*cells[:2], *(_restored(cell) for cell in cells[2:])), where, country)
            if entry.short_number in first_seen:
                short = entry.short_number
                raise InvalidInput(
                    "error.abbreviated.import_repeated", SHORT_FIELD, short=short, line=first_seen[short]
                )
        except InvalidInput as error:
            rejected.append(RejectedRow(line, error))
            continue
        good.append(entry)
        first_seen[entry.short_number] = line
    return good, tuple(rejected)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads a cell as a formula from (CSV injection): exported names are written inert."""


def _inert(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _restored(cell: str) -> str:
    """A name as `_inert` wrote it, back as it was."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def _csv_rows(data: bytes) -> list[tuple[int, list[str]]]:
    """The file's non-blank rows, each with the line it starts on and its cells trimmed. Text in UTF-8 (with or
    without a byte-order mark) or, failing that, in Windows-1252 as French spreadsheets save it; cells separated
    by commas, or by semicolons when the first row's short number is followed by one."""
    if len(data) > MAX_IMPORT_BYTES:
        raise InputTooLarge("error.abbreviated.import_too_large", "file", max=MAX_IMPORT_BYTES // 1024)
    text = _decoded(data)
    first_row = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first_row.lstrip(' "0123456789').startswith(";") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((start, [cell.strip() for cell in cells]))
            start = reader.line_num + 1
    except csv.Error:
        raise InvalidInput("error.abbreviated.import_unreadable", "file", line=start) from None
    if not rows:
        raise InvalidInput("error.abbreviated.import_empty", "file")
    if len(rows) > MAX_IMPORT_ROWS:
        raise InputTooLarge("error.abbreviated.import_too_many_rows", "file", max=MAX_IMPORT_ROWS)
    return rows


def _decoded(data: bytes) -> str:
    if b"\x00" not in data:
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise UnsupportedFormat("error.abbreviated.import_not_text", "file")
