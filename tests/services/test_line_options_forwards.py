"""Where a forward may go: a forward to a line, or to a line's voicemail, names a line of the forwarding line's own
account (any of its billing groups), and a forward to a line never names the line itself; a forward to a number
goes anywhere. The same rule holds for the panel, the API and the phone's star codes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from tests.api.customers import ALICE_LINE, BOB_LINE, Customer, open_account
from tonalite.app import Platform
from tonalite.services.errors import InvalidInput
from tonalite.store.models import ChangeOrigin, ForwardNature, Language, Line, LineOptionChange, LineOptions

SAME_GROUP = "+33999001235"
OTHER_GROUP = "+33999001236"
OUTSIDE = "+33199000001"


@pytest.fixture
def alice(platform: Platform) -> Customer:
    """Alice's account: her line and a second one in the billing group "Siège", a third in "Atelier"; Bob's
    account holds BOB_LINE."""
    customer = open_account(platform, "alice", ALICE_LINE)
    services = platform.services
    services.lines.create(customer.group, SAME_GROUP, "Bureau")
    workshop = services.billing_groups.create(customer.principal.account_id, "Atelier").id
    services.lines.create(workshop, OTHER_GROUP, "Atelier")
    open_account(platform, "bob", BOB_LINE)
    return customer


def _busy(nature: str, number: str) -> dict[str, Any]:
    return {"forward_busy": True, "forward_busy_nature": nature, "forward_busy_number": number}


@pytest.mark.parametrize(
    ("nature", "number", "stored_number"),
    [
        ("line", SAME_GROUP, SAME_GROUP),
        ("line", "09 99 00 12 36", OTHER_GROUP),  # another billing group of the same account, in national form
        ("voicemail", "", ""),  # the line's own box
        ("voicemail", ALICE_LINE, ALICE_LINE),  # its own box, by number
        ("voicemail", SAME_GROUP, SAME_GROUP),
        ("voicemail", OTHER_GROUP, OTHER_GROUP),
        ("number", OUTSIDE, OUTSIDE),
        ("number", BOB_LINE, BOB_LINE),  # an ordinary call to a number, whoever holds it
    ],
)
def test_a_forward_within_the_account_is_accepted(
    platform: Platform, alice: Customer, nature: str, number: str, stored_number: str
) -> None:
    options = platform.services.line_options
    stored = options.update(alice.principal, alice.group, ALICE_LINE, _busy(nature, number), ChangeOrigin.API)
    assert (stored.forward_busy, stored.forward_busy_nature, stored.forward_busy_number) == (
        True,
        ForwardNature(nature),
        stored_number,
    )


@pytest.mark.parametrize(
    ("nature", "number", "message_id"),
    [
        ("line", BOB_LINE, "error.forward_line_not_in_account"),
        ("line", OUTSIDE, "error.forward_line_not_in_account"),  # a number, but no line of the platform
        ("line", ALICE_LINE, "error.forward_line_itself"),
        ("line", "09 99 00 12 34", "error.forward_line_itself"),
        ("voicemail", BOB_LINE, "error.forward_line_not_in_account"),
        ("voicemail", OUTSIDE, "error.forward_line_not_in_account"),
    ],
)
@pytest.mark.parametrize("origin", [ChangeOrigin.API, ChangeOrigin.PANEL])
def test_a_forward_out_of_the_account_is_refused_and_nothing_changes(
    platform: Platform, alice: Customer, nature: str, number: str, message_id: str, origin: ChangeOrigin
) -> None:
    options = platform.services.line_options
    with pytest.raises(InvalidInput) as refused:
        options.update(alice.principal, alice.group, ALICE_LINE, _busy(nature, number), origin)
    assert (refused.value.message_id, refused.value.field) == (message_id, "forward_busy_number")
    stored = options.get(alice.principal, alice.group, ALICE_LINE)
    assert (stored.forward_busy, stored.forward_busy_nature, stored.forward_busy_number) == (
        False,
        ForwardNature.NUMBER,
        "",
    )
    assert options.history(alice.principal, alice.group, ALICE_LINE) == []


def test_the_message_names_the_number_in_french_and_in_english(platform: Platform, alice: Customer) -> None:
    with pytest.raises(InvalidInput) as refused:
        platform.services.line_options.update(
            alice.principal, alice.group, ALICE_LINE, _busy("line", BOB_LINE), ChangeOrigin.API
        )
    french, english = refused.value.message(Language.FR), refused.value.message(Language.EN)
    assert BOB_LINE in french and "compte" in french
    assert BOB_LINE in english and "account" in english
    assert french != english


def test_changing_the_nature_alone_checks_the_number_already_set(platform: Platform, alice: Customer) -> None:
    """A forward to Bob's line as a number is an ordinary call; calling it a line of the account is not."""
    options = platform.services.line_options
    options.update(alice.principal, alice.group, ALICE_LINE, _busy("number", BOB_LINE), ChangeOrigin.API)
    with pytest.raises(InvalidInput) as refused:
        options.update(alice.principal, alice.group, ALICE_LINE, {"forward_busy_nature": "line"}, ChangeOrigin.API)
    assert refused.value.message_id == "error.forward_line_not_in_account"
    with pytest.raises(InvalidInput):
        options.update(alice.principal, alice.group, ALICE_LINE, {"forward_busy_nature": "voicemail"}, ChangeOrigin.API)
    assert options.get(alice.principal, alice.group, ALICE_LINE).forward_busy_nature == ForwardNature.NUMBER
    options.update(alice.principal, alice.group, ALICE_LINE, {"forward_busy_number": SAME_GROUP}, ChangeOrigin.API)
    stored = options.update(alice.principal, alice.group, ALICE_LINE, {"forward_busy_nature": "line"}, ChangeOrigin.API)
    assert (stored.forward_busy_nature, stored.forward_busy_number) == (ForwardNature.LINE, SAME_GROUP)


def test_every_forward_is_checked(platform: Platform, alice: Customer) -> None:
    options = platform.services.line_options
    for forward in ("forward_unconditional", "forward_no_reply", "forward_busy", "forward_backup"):
        changes = {forward: True, f"{forward}_nature": "line", f"{forward}_number": BOB_LINE}
        with pytest.raises(InvalidInput) as refused:
            options.update(alice.principal, alice.group, ALICE_LINE, changes, ChangeOrigin.API)
        assert refused.value.field == f"{forward}_number"


def test_an_inactive_forward_to_a_line_is_checked_too(platform: Platform, alice: Customer) -> None:
    options = platform.services.line_options
    changes = {"forward_backup_nature": "line", "forward_backup_number": BOB_LINE}
    with pytest.raises(InvalidInput):
        options.update(alice.principal, alice.group, ALICE_LINE, changes, ChangeOrigin.API)
    cleared = options.update(
        alice.principal, alice.group, ALICE_LINE, {"forward_backup_nature": "line"}, ChangeOrigin.API
    )
    assert (cleared.forward_backup, cleared.forward_backup_number) == (False, "")


def test_the_same_forward_on_several_lines_is_refused_on_the_line_it_names(platform: Platform, alice: Customer) -> None:
    options = platform.services.line_options
    with pytest.raises(InvalidInput) as refused:
        options.update_many(
            alice.principal, alice.group, [ALICE_LINE, SAME_GROUP], _busy("line", SAME_GROUP), ChangeOrigin.PANEL
        )
    assert refused.value.message_id == "error.forward_line_itself"
    assert not options.get(alice.principal, alice.group, ALICE_LINE).forward_busy
    updated = options.update_many(
        alice.principal, alice.group, [ALICE_LINE, SAME_GROUP], _busy("voicemail", OTHER_GROUP), ChangeOrigin.PANEL
    )
    assert {number: stored.forward_busy_number for number, stored in updated.items()} == {
        ALICE_LINE: OTHER_GROUP,
        SAME_GROUP: OTHER_GROUP,
    }


def _line_id(platform: Platform, number: str) -> int:
    line = platform.services.line_directory.by_number(number)
    assert line is not None
    return line.line_id


def test_the_phone_is_held_to_the_same_rule(platform: Platform, alice: Customer) -> None:
    options = platform.services.line_options
    line_id = _line_id(platform, ALICE_LINE)
    for changes in (_busy(ForwardNature.LINE, BOB_LINE), _busy(ForwardNature.VOICEMAIL, BOB_LINE)):
        with pytest.raises(InvalidInput) as refused:
            options.update_from_phone(line_id, changes)
        assert refused.value.message_id == "error.forward_line_not_in_account"
    # what star codes set: *21*NUM# a number (anyone's), *21*123# the line's own voicemail
    assert options.update_from_phone(line_id, _busy(ForwardNature.NUMBER, BOB_LINE)).forward_busy_number == BOB_LINE
    assert options.update_from_phone(line_id, _busy(ForwardNature.VOICEMAIL, "")).forward_busy_nature == (
        ForwardNature.VOICEMAIL
    )
    assert options.update_from_phone(line_id, _busy(ForwardNature.LINE, OTHER_GROUP)).forward_busy_number == (
        OTHER_GROUP
    )


def test_a_forward_left_pointing_out_of_the_account_can_be_turned_off_not_on(
    platform: Platform, alice: Customer
) -> None:
    """A line forwarded to a colleague's line that has since left the account (a stored destination that no
    longer holds): *21# may turn the forward off, never back on."""
    line_id = _line_id(platform, ALICE_LINE)
    with platform.db.session() as session:
        session.execute(
            update(LineOptions)
            .where(LineOptions.line_id == line_id)
            .values(forward_busy=True, forward_busy_nature=ForwardNature.LINE, forward_busy_number=BOB_LINE)
        )
    options = platform.services.line_options
    assert not options.update_from_phone(line_id, {"forward_busy": False}).forward_busy
    with pytest.raises(InvalidInput) as refused:
        options.update_from_phone(line_id, {"forward_busy": True})
    assert refused.value.message_id == "error.forward_line_not_in_account"
    assert options.update_from_phone(line_id, {"do_not_disturb": True}).do_not_disturb  # unrelated changes pass
    with platform.db.session() as session:
        origins = {change.origin for change in session.query(LineOptionChange)}
        assert session.query(Line).count() == 4
    assert origins == {ChangeOrigin.PHONE}
