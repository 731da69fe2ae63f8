"""Voicemail messages on both backends: a deposit kept or discarded by its length, a deposit cut short by a
stopped node kept at start-up, the owner's folders, deletion, and no access from another account."""

from __future__ import annotations

import wave
from functools import partial

import numpy as np
import pytest

from tests.api.customers import ALICE_LINE, BOB_LINE, Customer, open_account
from tonalite.app import Platform
from tonalite.clock import ManualClock
from tonalite.media.wav import WavRecorder, write_wav
from tonalite.services.errors import NotFound
from tonalite.services.voicemail import VoicemailService
from tonalite.store.models import MessageFolder, VoicemailBox


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * 8000)) / 8000
    return (8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)


def _alice(platform: Platform) -> tuple[Customer, int]:
    customer = open_account(platform, "alice", ALICE_LINE)
    line = platform.services.lines.get(customer.principal, customer.group, ALICE_LINE)
    return customer, line.id


def test_a_deposit_is_listed_with_its_caller_and_length(platform: Platform, clock: ManualClock) -> None:
    customer, line_id = _alice(platform)
    voicemail = platform.services.voicemail
    deposit = voicemail.start_deposit(line_id, "+33999005555")
    assert deposit is not None
    assert voicemail.messages(customer.principal, customer.group, ALICE_LINE) == []  # not until complete
    write_wav(deposit.path, _tone(2.5))
    stored = voicemail.complete(deposit)
    assert stored is not None
    (message,) = voicemail.messages(customer.principal, customer.group, ALICE_LINE)
    assert (message.id, message.caller, message.duration_ms, message.folder) == (
        deposit.message_id,
        "+33999005555",
        2500,
        MessageFolder.NEW,
    )
    assert message.received_at == clock.wall()
    assert message.size_bytes == deposit.path.stat().st_size


def test_a_message_under_a_second_is_discarded(platform: Platform) -> None:
    customer, line_id = _alice(platform)
    voicemail = platform.services.voicemail
    deposit = voicemail.start_deposit(line_id, "+33999005555")
    assert deposit is not None
    write_wav(deposit.path, _tone(0.8))
    assert voicemail.complete(deposit) is None
    assert not deposit.path.exists()
    assert voicemail.messages(customer.principal, customer.group, ALICE_LINE) == []


def test_a_deposit_cut_short_by_a_stop_is_kept_at_start_up(platform: Platform, clock: ManualClock) -> None:
    customer, line_id = _alice(platform)
    deposit = platform.services.voicemail.start_deposit(line_id, "")
    assert deposit is not None
    recorder = WavRecorder(deposit.path)
    recorder.append(_tone(1.5))  # the node dies here: never closed, never completed
    restarted = VoicemailService(platform.db, clock, deposit.path.parents[2])
    assert restarted.recover_deposits() == 1
    (message,) = restarted.messages(customer.principal, customer.group, ALICE_LINE)
    assert message.duration_ms == 1500
    with wave.open(str(deposit.path), "rb") as recovered:  # its header declares the audio, for every reader
        assert recovered.getnframes() == 12000
    assert restarted.recover_deposits() == 0


def test_folders_read_and_delete(platform: Platform, clock: ManualClock) -> None:
    customer, line_id = _alice(platform)
    voicemail = platform.services.voicemail
    ids = []
    for caller in ("+33999000001", "+33999000002", "+33999000003"):
        deposit = voicemail.start_deposit(line_id, caller)
        assert deposit is not None
        write_wav(deposit.path, _tone(1.2))
        assert voicemail.complete(deposit) is not None
        ids.append(deposit.message_id)
        clock.advance(60)
    voicemail.move(customer.principal, customer.group, ALICE_LINE, ids[2], MessageFolder.SAVED)
    listed = voicemail.messages(customer.principal, customer.group, ALICE_LINE)
    assert [message.id for message in listed] == [ids[1], ids[0], ids[2]]  # new ones, newest first, then saved
    assert listed[2].folder == MessageFolder.SAVED
    path = voicemail.audio_path(listed[0].box_id, ids[1])
    voicemail.delete(customer.principal, customer.group, ALICE_LINE, ids[1])
    assert not path.exists()
    assert [message.id for message in voicemail.messages(customer.principal, customer.group, ALICE_LINE)] == [
        ids[0],
        ids[2],
    ]
    with pytest.raises(NotFound):
        voicemail.delete(customer.principal, customer.group, ALICE_LINE, ids[1])


def test_another_account_sees_nothing(platform: Platform) -> None:
    alice, line_id = _alice(platform)
    bob = open_account(platform, "bob", BOB_LINE)
    voicemail = platform.services.voicemail
    deposit = voicemail.start_deposit(line_id, "+33999005555")
    assert deposit is not None
    write_wav(deposit.path, _tone(1.5))
    voicemail.complete(deposit)
    with pytest.raises(NotFound):
        voicemail.messages(bob.principal, alice.group, ALICE_LINE)
    for action in (voicemail.message, voicemail.delete, partial(voicemail.move, folder=MessageFolder.SAVED)):
        with pytest.raises(NotFound):
            action(bob.principal, alice.group, ALICE_LINE, deposit.message_id)
        with pytest.raises(NotFound):  # Bob's own line, Alice's message id
            action(bob.principal, bob.group, BOB_LINE, deposit.message_id)
    assert deposit.path.exists()


def test_no_deposit_when_the_box_is_off(platform: Platform) -> None:
    _, line_id = _alice(platform)
    with platform.db.session() as session:
        box = session.query(VoicemailBox).filter_by(line_id=line_id).one()
        box.active = False
    assert platform.services.voicemail.start_deposit(line_id, "+33999005555") is None
