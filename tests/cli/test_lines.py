"""`tonalite line create | list | password-reset`."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Tonalite
from tests.cli.support import assert_one_error, database_rows, field_blocks
from tonalite.app import Platform
from tonalite.sip.auth import DigestAlgorithm, digest_ha1


@pytest.fixture
def group(platform: Platform) -> int:
    account = platform.services.accounts.create("acme", "secret-password", "ACME SA", "contact@acme.test")
    return platform.services.billing_groups.create(account.id, "Siège").id


def _password_is(platform: Platform, number: str, password: str) -> bool:
    [line] = [line for line in platform.services.lines.list_all() if line.number == number]
    return line.ha1_md5 == digest_ha1(DigestAlgorithm.MD5, line.sip_username, line.sip_realm, password)


def test_line_create_prints_the_credentials_once_stored_as_hashes(
    tonalite: Tonalite, platform: Platform, group: int
) -> None:
    result = tonalite("line", "create", "--billing-group", str(group), "--number", "+33199002001", "--name", "Accueil")

    assert result.exit_code == 0, result.stderr
    [shown] = field_blocks(result.stdout)
    assert shown["number"] == "01 99 00 20 01"
    assert shown["SIP username"] == "0033199002001"
    assert shown["SIP domain"] == "localhost"
    assert _password_is(platform, "+33199002001", shown["SIP password"])
    [line] = platform.services.lines.list_all()
    assert (line.display_name, line.billing_group_id, line.simultaneous_calls) == ("Accueil", group, 2)


def test_line_create_without_a_number_takes_the_first_available(
    tonalite: Tonalite, platform: Platform, group: int
) -> None:
    assert tonalite("number", "add", "01 99 00 20 09", "01 99 00 20 05").exit_code == 0

    result = tonalite("line", "create", "--billing-group", str(group), "--simultaneous-calls", "4")

    assert result.exit_code == 0, result.stderr
    assert field_blocks(result.stdout)[0]["number"] == "01 99 00 20 05"
    [line] = platform.services.lines.list_all()
    assert (line.number, line.simultaneous_calls) == ("+33199002005", 4)


@pytest.mark.parametrize(
    ("extra", "status", "fragment"),
    [
        (["--number", "abc"], 2, "“abc” is not a valid phone number"),
        ([], 2, "No number is available"),
        (["--simultaneous-calls", "0"], 2, "simultaneous_calls"),
    ],
)
def test_line_create_refuses_bad_input_and_writes_nothing(
    tonalite: Tonalite, sqlite_url: str, group: int, extra: list[str], status: int, fragment: str
) -> None:
    before = database_rows(sqlite_url)
    assert_one_error(tonalite("line", "create", "--billing-group", str(group), *extra), status, fragment)
    assert database_rows(sqlite_url) == before


def test_line_create_in_an_unknown_billing_group(tonalite: Tonalite, sqlite_url: str, group: int) -> None:
    before = database_rows(sqlite_url)
    assert_one_error(
        tonalite("line", "create", "--billing-group", "999", "--number", "0199002001"), 1, "unknown billing group 999"
    )
    assert database_rows(sqlite_url) == before


def test_line_list_shows_every_line_or_one_billing_group(tonalite: Tonalite, platform: Platform, group: int) -> None:
    acme = platform.services.accounts.find_by_login("acme")
    assert acme is not None
    other = platform.services.billing_groups.create(acme.id, "Agence").id
    platform.services.lines.create(group, "+33199002002", "Direction")
    platform.services.lines.create(other, "+33199002001", "Accueil")

    every = tonalite("line", "list")
    assert every.exit_code == 0, every.stderr
    assert every.stdout.splitlines() == [
        "NUMBER          SIP USERNAME   NAME       BILLING GROUP",
        f"01 99 00 20 01  0033199002001  Accueil    {other}",
        f"01 99 00 20 02  0033199002002  Direction  {group}",
    ]
    one = tonalite("line", "list", "--billing-group", str(group))
    assert one.stdout.splitlines()[1:] == [f"01 99 00 20 02  0033199002002  Direction  {group}"]
    assert_one_error(tonalite("line", "list", "--billing-group", "999"), 1, "unknown billing group 999")


def test_password_reset_prints_a_new_password_that_replaces_the_old(
    tonalite: Tonalite, platform: Platform, group: int
) -> None:
    _, old = platform.services.lines.create(group, "+33199002001")

    result = tonalite("line", "password-reset", "01 99 00 20 01")

    assert result.exit_code == 0, result.stderr
    [shown] = field_blocks(result.stdout)
    assert (shown["number"], shown["SIP username"]) == ("01 99 00 20 01", "0033199002001")
    assert shown["SIP password"] != old.password
    assert _password_is(platform, "+33199002001", shown["SIP password"])
    assert not _password_is(platform, "+33199002001", old.password)


@pytest.mark.parametrize(
    ("number", "status", "fragment"),
    [("01 99 00 20 99", 1, "unknown line 01 99 00 20 99"), ("abc", 2, "“abc” is not a valid phone number")],
)
def test_password_reset_of_no_line_changes_nothing(
    tonalite: Tonalite, sqlite_url: str, platform: Platform, group: int, number: str, status: int, fragment: str
) -> None:
    platform.services.lines.create(group, "+33199002001")
    before = database_rows(sqlite_url)
    assert_one_error(tonalite("line", "password-reset", number), status, fragment)
    assert database_rows(sqlite_url) == before
