"""What message waiting reads of the voicemail service, on both backends: a box's counts by folder, and the
change hook called, with the line, after each committed change of them (and only then)."""

from __future__ import annotations

import numpy as np

from tests.api.customers import ALICE_LINE, open_account
from tests.conftest import deposit_tone_message
from tonalite.app import Platform
from tonalite.clock import ManualClock
from tonalite.media.wav import WavRecorder
from tonalite.services.voicemail import BoxCounts, VoicemailService
from tonalite.store.models import MessageFolder


def test_every_change_of_the_counts_is_reported_once_committed(platform: Platform) -> None:
    customer = open_account(platform, "alice", ALICE_LINE)
    line_id = platform.services.lines.get(customer.principal, customer.group, ALICE_LINE).id
    voicemail = platform.services.voicemail
    changes: list[BoxCounts | None] = []
    voicemail.on_change = lambda changed: changes.append(voicemail.counts(changed))
    assert voicemail.counts(line_id) == BoxCounts(ALICE_LINE, 0, 0)

    message = deposit_tone_message(platform, ALICE_LINE, "+33999005555", 2.0)
    deposit_tone_message(platform, ALICE_LINE, "+33999005555", 1.5)
    voicemail.move(customer.principal, customer.group, ALICE_LINE, message, MessageFolder.SAVED)
    voicemail.move(customer.principal, customer.group, ALICE_LINE, message, MessageFolder.SAVED)  # no change
    voicemail.delete(customer.principal, customer.group, ALICE_LINE, message)
    assert changes == [BoxCounts(ALICE_LINE, n, s) for n, s in ((1, 0), (2, 0), (1, 1), (1, 0))]


def test_a_discarded_deposit_changes_nothing_and_a_recovered_one_is_reported(
    platform: Platform, clock: ManualClock
) -> None:
    customer = open_account(platform, "alice", ALICE_LINE)
    line_id = platform.services.lines.get(customer.principal, customer.group, ALICE_LINE).id
    changed: list[int] = []
    voicemail = platform.services.voicemail
    voicemail.on_change = changed.append
    too_short = voicemail.start_deposit(line_id, "")
    assert too_short is not None
    assert voicemail.complete(too_short) is None
    assert changed == []
    cut_short = voicemail.start_deposit(line_id, "")
    assert cut_short is not None
    WavRecorder(cut_short.path).append(np.zeros(12000, dtype=np.int16))  # 1.5 s, then the node stops
    restarted = VoicemailService(platform.db, clock, cut_short.path.parents[2], on_change=changed.append)
    assert restarted.recover_deposits() == 1
    assert changed == [line_id]


def test_a_line_nobody_has_has_no_counts(platform: Platform) -> None:
    assert platform.services.voicemail.counts(10**6) is None
