"""`tonalite number add`: to the inventory, or as alias numbers of a billing group; all or nothing."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Tonalite
from tests.cli.support import assert_one_error, database_rows
from tonalite.app import Platform
from tonalite.store.models import NumberStatus


@pytest.fixture
def group(platform: Platform) -> int:
    account = platform.services.accounts.create("acme", "secret-password", "ACME SA", "contact@acme.test")
    return platform.services.billing_groups.create(account.id, "Siège").id


def test_number_add_fills_the_inventory_and_says_what_was_there(tonalite: Tonalite, platform: Platform) -> None:
    first = tonalite("number", "add", "01 99 00 20 01", "+33199002002", "0199002001")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.splitlines() == [
        "01 99 00 20 01  added to the inventory",
        "01 99 00 20 02  added to the inventory",
    ]

    second = tonalite("number", "add", "0199002002", "0199002003")
    assert second.stdout.splitlines() == [
        "01 99 00 20 02  already in the inventory",
        "01 99 00 20 03  added to the inventory",
    ]
    assert [(row.number, row.status) for row in platform.services.numbers.list_inventory()] == [
        ("+33199002001", NumberStatus.AVAILABLE),
        ("+33199002002", NumberStatus.AVAILABLE),
        ("+33199002003", NumberStatus.AVAILABLE),
    ]


@pytest.mark.parametrize("numbers", [["12"], ["0199002001", "12"]])
def test_a_malformed_number_adds_nothing(tonalite: Tonalite, sqlite_url: str, numbers: list[str]) -> None:
    before = database_rows(sqlite_url)
    assert_one_error(tonalite("number", "add", *numbers), 2, "“12” is not a valid phone number")
    assert database_rows(sqlite_url) == before


def test_number_add_creates_alias_numbers(tonalite: Tonalite, platform: Platform, group: int) -> None:
    alias_of = ["--alias-of-billing-group", str(group)]
    first = tonalite("number", "add", "0999003001", *alias_of, "--description", "Standard")
    assert first.stdout == f"09 99 00 30 01  added as an alias number of billing group {group}\n"

    second = tonalite("number", "add", "+33999003001", "09 99 00 30 02", *alias_of)
    assert second.exit_code == 0, second.stderr
    assert second.stdout.splitlines() == [
        f"09 99 00 30 01  already an alias number of billing group {group}",
        f"09 99 00 30 02  added as an alias number of billing group {group}",
    ]
    standard, support = (platform.services.numbers.find_alias(n) for n in ("+33999003001", "+33999003002"))
    assert standard is not None and support is not None
    assert (standard.billing_group_id, standard.description) == (group, "Standard")
    assert (support.billing_group_id, support.description) == (group, "")


@pytest.mark.parametrize(
    ("args", "status", "fragment"),
    [
        (["0999003001", "0199002001", "--alias-of-billing-group", "{group}"], 1, "+33199002001 is already assigned"),
        (["0999003001", "--alias-of-billing-group", "999"], 1, "unknown billing group 999"),
        (["0999003001", "--description", "Standard"], 2, "--alias-of-billing-group"),
        (["0999003001", "--alias-of-billing-group", "{group}", "--description", "x" * 201], 2, "200"),
    ],
)
def test_alias_numbers_are_all_added_or_none(
    tonalite: Tonalite,
    sqlite_url: str,
    platform: Platform,
    group: int,
    args: list[str],
    status: int,
    fragment: str,
) -> None:
    platform.services.lines.create(group, "+33199002001")
    before = database_rows(sqlite_url)
    assert_one_error(tonalite("number", "add", *(arg.format(group=group) for arg in args)), status, fragment)
    assert database_rows(sqlite_url) == before
