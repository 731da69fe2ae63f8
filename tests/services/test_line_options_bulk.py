"""The same option changes on several lines at once: all of them or none, each change recorded on its line."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.api.customers import ALICE_LINE, BOB_LINE, Customer, open_account
from tonalite.app import Platform
from tonalite.services.errors import InvalidInput, NotFound
from tonalite.services.line_options import MAX_LINES_AT_ONCE
from tonalite.store.models import ChangeOrigin, ForwardNature, LineOptionChange

SECOND_LINE = "+33999001235"
FORWARD = {"forward_unconditional": True, "forward_unconditional_number": "01 99 00 00 01"}


@pytest.fixture
def alice(platform: Platform) -> Customer:
    customer = open_account(platform, "alice", ALICE_LINE)
    platform.services.lines.create(customer.group, SECOND_LINE, "Atelier")
    return customer


def _recorded(platform: Platform) -> list[tuple[int, str, str, ChangeOrigin]]:
    with platform.db.session() as session:
        changes = session.scalars(select(LineOptionChange).order_by(LineOptionChange.id))
        return [(change.line_id, change.field, change.new_value, change.origin) for change in changes]


def test_changes_are_made_on_every_line_and_recorded_on_each(platform: Platform, alice: Customer) -> None:
    options = platform.services.line_options
    updated = options.update_many(
        alice.principal, alice.group, [ALICE_LINE, "09 99 00 12 35", ALICE_LINE], FORWARD, ChangeOrigin.PANEL
    )
    assert sorted(updated) == [ALICE_LINE, SECOND_LINE]
    for number in (ALICE_LINE, SECOND_LINE):
        stored = options.get(alice.principal, alice.group, number)
        assert (stored.forward_unconditional, stored.forward_unconditional_number) == (True, "+33199000001")
    recorded = _recorded(platform)
    assert len(recorded) == 4 and {origin for *_, origin in recorded} == {ChangeOrigin.PANEL}
    assert len({line_id for line_id, *_ in recorded}) == 2
    history = options.history(alice.principal, alice.group, SECOND_LINE)
    assert {(change.field, change.origin) for change in history} == {
        ("forward_unconditional", ChangeOrigin.PANEL),
        ("forward_unconditional_number", ChangeOrigin.PANEL),
    }


def test_one_invalid_line_changes_none(platform: Platform, alice: Customer) -> None:
    options = platform.services.line_options
    options.update(alice.principal, alice.group, SECOND_LINE, {"forward_busy_nature": "voicemail"}, ChangeOrigin.API)
    before = _recorded(platform)
    with pytest.raises(InvalidInput) as refused:
        # the first line has no busy forward number: turning its forward on is invalid there, not on the second
        options.update_many(
            alice.principal, alice.group, [SECOND_LINE, ALICE_LINE], {"forward_busy": True}, ChangeOrigin.API
        )
    assert refused.value.field == "forward_busy_number"
    assert _recorded(platform) == before
    assert not options.get(alice.principal, alice.group, SECOND_LINE).forward_busy
    assert options.get(alice.principal, alice.group, SECOND_LINE).forward_busy_nature == ForwardNature.VOICEMAIL


def test_a_line_of_another_account_changes_none(platform: Platform, alice: Customer) -> None:
    open_account(platform, "bob", BOB_LINE)
    options = platform.services.line_options
    with pytest.raises(NotFound):
        options.update_many(alice.principal, alice.group, [ALICE_LINE, BOB_LINE], FORWARD, ChangeOrigin.API)
    assert _recorded(platform) == []


def test_the_number_of_lines_is_bounded(platform: Platform, alice: Customer) -> None:
    options = platform.services.line_options
    for numbers in ([], [ALICE_LINE] * (MAX_LINES_AT_ONCE + 1)):
        with pytest.raises(InvalidInput) as refused:
            options.update_many(alice.principal, alice.group, numbers, FORWARD, ChangeOrigin.API)
        assert refused.value.message_id == "error.lines_count"
