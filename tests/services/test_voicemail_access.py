"""A box as its owner consults it by phone, on both backends: opened from the line or with its number and PIN,
messages in listening order with their audio, saved and deleted with the change reported, the PIN changed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.customers import ALICE_LINE, BOB_LINE, open_account
from tests.conftest import deposit_tone_message
from tonalite.app import Platform
from tonalite.clock import ManualClock
from tonalite.i18n import CUSTOMER_TIME_ZONE
from tonalite.services.errors import InvalidInput
from tonalite.services.voicemail_access import OpenedBox, VoicemailAccess
from tonalite.store.models import Account, Language, MessageFolder, VoicemailBox

CALLER = "+33999005555"


@pytest.fixture
def changes() -> list[int]:
    return []


@pytest.fixture
def access(platform: Platform, changes: list[int]) -> VoicemailAccess:
    platform.services.voicemail.on_change = changes.append
    return VoicemailAccess(platform.db, platform.services.voicemail)


def _line_id(platform: Platform, number: str) -> int:
    return next(line.id for line in platform.services.lines.list_all() if line.number == number)


def _alice_box(platform: Platform, access: VoicemailAccess) -> OpenedBox:
    open_account(platform, "alice", ALICE_LINE)
    box = access.box(_line_id(platform, ALICE_LINE))
    assert box is not None
    return box


def test_the_owner_opens_the_box_from_the_line_even_when_it_is_off(platform: Platform, access: VoicemailAccess) -> None:
    box = _alice_box(platform, access)
    assert (box.line_id, box.language, box.time_zone) == (
        _line_id(platform, ALICE_LINE),
        Language.FR,
        CUSTOMER_TIME_ZONE,
    )
    with platform.db.session() as session:
        session.query(VoicemailBox).filter_by(id=box.box_id).one().active = False
    assert access.box(box.line_id) == box
    assert access.box(box.line_id + 100) is None


def test_the_language_is_the_account_one_or_the_default(platform: Platform, access: VoicemailAccess) -> None:
    bob = open_account(platform, "bob", BOB_LINE)
    with platform.db.session() as session:
        session.get_one(Account, bob.principal.account_id).language = Language.EN
    bob_line = _line_id(platform, BOB_LINE)
    assert access.language(bob_line) == Language.EN
    assert access.language(None) == Language.FR
    assert access.language(bob_line + 100) == Language.FR
    box = access.box(bob_line)
    assert box is not None and box.language == Language.EN


def test_messages_new_then_saved_oldest_first_with_their_audio(
    platform: Platform, access: VoicemailAccess, clock: ManualClock
) -> None:
    box = _alice_box(platform, access)
    ids = []
    for _ in range(4):
        ids.append(deposit_tone_message(platform, ALICE_LINE, CALLER, 1.2))
        clock.advance(60)
    unfinished = platform.services.voicemail.start_deposit(box.line_id, CALLER)  # being recorded: not listed
    assert unfinished is not None
    access.save(box, ids[0])
    access.save(box, ids[2])
    listed = access.messages(box)
    assert [(message.message_id, message.folder) for message in listed] == [
        (ids[1], MessageFolder.NEW),
        (ids[3], MessageFolder.NEW),
        (ids[0], MessageFolder.SAVED),
        (ids[2], MessageFolder.SAVED),
    ]
    assert all(
        message.path == platform.services.voicemail.audio_path(box.box_id, message.message_id) for message in listed
    )
    assert all(message.path.exists() and message.caller == CALLER for message in listed)
    assert listed[0].received_at == ManualClock().wall() + timedelta(seconds=60)


def test_saving_reports_the_change_once(platform: Platform, access: VoicemailAccess, changes: list[int]) -> None:
    box = _alice_box(platform, access)
    message_id = deposit_tone_message(platform, ALICE_LINE, CALLER, 1.2)
    changes.clear()  # the deposit's own
    access.save(box, message_id)
    access.save(box, message_id)  # already saved: no change
    assert changes == [box.line_id]
    (message,) = access.messages(box)
    assert message.folder == MessageFolder.SAVED


def test_deleting_removes_the_row_then_the_file(
    platform: Platform, access: VoicemailAccess, changes: list[int]
) -> None:
    box = _alice_box(platform, access)
    kept = deposit_tone_message(platform, ALICE_LINE, CALLER, 1.2)
    deleted = deposit_tone_message(platform, ALICE_LINE, CALLER, 1.2)
    path = platform.services.voicemail.audio_path(box.box_id, deleted)
    changes.clear()  # the deposits' own
    access.delete(box, deleted)
    assert not path.exists()
    assert [message.message_id for message in access.messages(box)] == [kept]
    access.delete(box, deleted)  # gone already
    assert changes == [box.line_id]


def test_another_box_messages_are_out_of_reach(platform: Platform, access: VoicemailAccess, changes: list[int]) -> None:
    alice_box = _alice_box(platform, access)
    open_account(platform, "bob", BOB_LINE)
    bob_message = deposit_tone_message(platform, BOB_LINE, CALLER, 1.2)
    changes.clear()  # the deposit's own
    access.save(alice_box, bob_message)
    access.delete(alice_box, bob_message)
    bob_box = access.box(_line_id(platform, BOB_LINE))
    assert bob_box is not None
    (message,) = access.messages(bob_box)
    assert (message.message_id, message.folder) == (bob_message, MessageFolder.NEW)
    assert message.path.exists()
    assert changes == []


def test_the_pin_opens_the_box_from_another_phone(platform: Platform, access: VoicemailAccess) -> None:
    box = _alice_box(platform, access)
    open_account(platform, "bob", BOB_LINE)
    assert access.unlock(ALICE_LINE, "") is None  # no PIN set: never opens remotely
    access.change_pin(box, "2468")
    assert access.unlock(ALICE_LINE, "2468") == box
    assert access.unlock(ALICE_LINE, "2469") is None
    assert access.unlock(BOB_LINE, "2468") is None  # Bob's box has no PIN
    assert access.unlock("+33999009999", "2468") is None  # nobody's line
    assert access.unlock("", "2468") is None


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "", "\uff11\uff12\uff13\uff14"])  # the last: full-width digits
def test_a_pin_is_four_digits(platform: Platform, access: VoicemailAccess, pin: str) -> None:
    box = _alice_box(platform, access)
    access.change_pin(box, "1357")
    with pytest.raises(InvalidInput):
        access.change_pin(box, pin)
    assert access.unlock(ALICE_LINE, "1357") == box
