"""Screen lists: what is stored for what is typed, the check the call core makes, the bounds, and tenancy."""

from __future__ import annotations

import pytest

from tests.api.customers import ALICE_LINE, BOB_LINE, Customer, open_account
from tonalite.app import Platform
from tonalite.services.errors import Conflict, InvalidInput, NotFound
from tonalite.services.line_directory import ScreenEntry
from tonalite.services.screen_lists import MAX_ENTRIES_PER_LIST, screen_value, screened
from tonalite.store.models import ScreenDirection, ScreenListKind

IN, OUT = ScreenDirection.INCOMING, ScreenDirection.OUTGOING
WHITE, BLACK = ScreenListKind.WHITELIST, ScreenListKind.BLACKLIST


@pytest.fixture
def alice(platform: Platform) -> Customer:
    return open_account(platform, "alice", ALICE_LINE)


@pytest.mark.parametrize(
    ("typed", "is_prefix", "stored"),
    [
        ("09 99 00 12 34", False, "+33999001234"),
        ("+44 20 7946 0000", False, "+442079460000"),
        ("0033999001234", False, "+33999001234"),
        ("0899", True, "+33899"),
        ("08.99", True, "+33899"),
        ("+3389", True, "+3389"),
        ("003389", True, "+3389"),
        ("+44", True, "+44"),
    ],
)
def test_entries_are_stored_in_e164_form(typed: str, is_prefix: bool, stored: str) -> None:
    assert screen_value(typed, is_prefix, "FR") == stored


@pytest.mark.parametrize(
    ("typed", "is_prefix", "message"),
    [
        ("0899", False, "error.number_invalid"),
        ("", True, "error.screen_prefix_invalid"),
        ("+", True, "error.screen_prefix_invalid"),
        ("899", True, "error.screen_prefix_invalid"),
        ("+33a", True, "error.screen_prefix_invalid"),
        ("+" + "1" * 16, True, "error.screen_prefix_invalid"),
    ],
)
def test_invalid_entries_are_refused(typed: str, is_prefix: bool, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        screen_value(typed, is_prefix, "FR")
    assert (refused.value.message_id, refused.value.field) == (message, "number")


def _entry(kind: ScreenListKind, number: str, is_prefix: bool = False, direction: ScreenDirection = IN) -> ScreenEntry:
    return ScreenEntry(direction, kind, number, is_prefix)


CALLER = "+33999005555"


@pytest.mark.parametrize(
    ("entries", "number", "refused"),
    [
        ([], CALLER, False),
        ([], None, False),
        ([_entry(BLACK, CALLER)], CALLER, True),
        ([_entry(BLACK, CALLER)], "+33999005556", False),
        ([_entry(BLACK, CALLER)], None, False),
        ([_entry(BLACK, "+33899", True)], "+33899123456", True),
        ([_entry(BLACK, "+33899", True)], "+33999001234", False),
        ([_entry(BLACK, "+33899")], "+33899123456", False),  # a full number matches only itself
        ([_entry(WHITE, CALLER)], CALLER, False),
        ([_entry(WHITE, CALLER)], "+33999005556", True),
        ([_entry(WHITE, CALLER)], None, True),
        ([_entry(WHITE, CALLER)], "", True),
        ([_entry(WHITE, "+339", True)], "+33999005556", False),
        ([_entry(WHITE, "+339", True), _entry(BLACK, CALLER)], CALLER, True),  # on both: refused
        ([_entry(BLACK, CALLER, direction=OUT)], CALLER, False),  # another direction's list
        ([_entry(WHITE, "+44", True, direction=OUT)], CALLER, False),
    ],
)
def test_screened(entries: list[ScreenEntry], number: str | None, refused: bool) -> None:
    assert screened(entries, number, IN) is refused


def test_entries_are_added_listed_and_read_by_the_call_core(platform: Platform, alice: Customer) -> None:
    screen = platform.services.screen_lists
    principal, group = alice.principal, alice.group
    blocked = screen.add(principal, group, ALICE_LINE, IN, BLACK, "0899", True)
    screen.add(principal, group, ALICE_LINE, IN, WHITE, "09 99 00 55 55", False)
    screen.add(principal, group, ALICE_LINE, OUT, BLACK, "+44", True)
    listed = screen.list(principal, group, ALICE_LINE)
    assert [(entry.direction, entry.kind, entry.number, entry.is_prefix) for entry in listed] == [
        (IN, BLACK, "+33899", True),
        (IN, WHITE, "+33999005555", False),
        (OUT, BLACK, "+44", True),
    ]
    line_id = listed[0].line_id
    entries = platform.services.line_directory.screen_entries
    incoming = tuple(entry for entry in entries(line_id) if entry.direction == IN)
    assert set(incoming) == {ScreenEntry(IN, BLACK, "+33899", True), ScreenEntry(IN, WHITE, "+33999005555", False)}
    assert not screened(incoming, "+33999005555", IN)
    assert screened(incoming, "+33999001111", IN)
    assert not screened(incoming, "+44", OUT)  # the outgoing list is another one
    assert screened(entries(line_id), "+442079460000", OUT)

    screen.delete(principal, group, ALICE_LINE, blocked.id)
    assert set(entries(line_id)) == {
        ScreenEntry(IN, WHITE, "+33999005555", False),
        ScreenEntry(OUT, BLACK, "+44", True),
    }
    screen.clear(principal, group, ALICE_LINE, IN, WHITE)
    assert entries(line_id) == (ScreenEntry(OUT, BLACK, "+44", True),)
    assert len(screen.list(principal, group, ALICE_LINE)) == 1


def test_a_list_holds_a_value_once_and_a_bounded_number_of_them(platform: Platform, alice: Customer) -> None:
    screen = platform.services.screen_lists
    principal, group = alice.principal, alice.group
    screen.add(principal, group, ALICE_LINE, IN, BLACK, "0999005555", False)
    with pytest.raises(Conflict):
        screen.add(principal, group, ALICE_LINE, IN, BLACK, "+33999005555", False)
    screen.add(principal, group, ALICE_LINE, IN, WHITE, "+33999005555", False)  # another list may hold it
    for index in range(1, MAX_ENTRIES_PER_LIST):
        screen.add(principal, group, ALICE_LINE, IN, BLACK, f"+331990{index:05d}", False)
    with pytest.raises(InvalidInput) as full:
        screen.add(principal, group, ALICE_LINE, IN, BLACK, "+44", True)
    assert full.value.message_id == "error.screen_list_full"
    assert len(screen.list(principal, group, ALICE_LINE)) == MAX_ENTRIES_PER_LIST + 1


def test_another_account_neither_sees_nor_changes_the_lists(platform: Platform, alice: Customer) -> None:
    bob = open_account(platform, "bob", BOB_LINE)
    screen = platform.services.screen_lists
    entry = screen.add(alice.principal, alice.group, ALICE_LINE, IN, BLACK, "+44", True)
    attempts = [
        lambda: screen.list(bob.principal, alice.group, ALICE_LINE),
        lambda: screen.list(bob.principal, bob.group, ALICE_LINE),
        lambda: screen.add(bob.principal, alice.group, ALICE_LINE, IN, BLACK, "+49", True),
        lambda: screen.delete(bob.principal, alice.group, ALICE_LINE, entry.id),
        lambda: screen.delete(bob.principal, bob.group, BOB_LINE, entry.id),
        lambda: screen.clear(bob.principal, alice.group, ALICE_LINE, IN, BLACK),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            attempt()
    assert [each.id for each in screen.list(alice.principal, alice.group, ALICE_LINE)] == [entry.id]
