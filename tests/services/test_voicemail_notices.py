"""The notice of a new voicemail message, through a real SMTP server (aiosmtpd) on 127.0.0.1: one email per
recipient in the account's language, the audio attached as WAV or MP3 when asked, every email archived with
how its sending went, and a relay that is down recorded as a failure, not raised."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.api.customers import ALICE_LINE, Customer, open_account
from tests.conftest import deposit_tone_message
from tonalite.app import Platform
from tonalite.clock import ManualClock
from tonalite.services.outbox import Outbox, SmtpRelay
from tonalite.services.voicemail_notices import VoicemailNotices
from tonalite.services.voicemail_settings import Recipient
from tonalite.store.models import Account, AudioFormat, Language, Notification, NotificationStatus, VoicemailMessage


class _Inbox:
    def __init__(self) -> None:
        self.received: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(parsed)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def _notices(platform: Platform, clock: ManualClock, port: int) -> VoicemailNotices:
    relay = SmtpRelay("127.0.0.1", port, "", "", False, "Tonalite <noreply@tonalite.test>")
    return VoicemailNotices(platform.db, Outbox(platform.db, clock, relay), platform.services.voicemail)


def _message(platform: Platform, caller: str = "+33999005555") -> tuple[int, Path]:
    message_id = deposit_tone_message(platform, ALICE_LINE, caller, 2.0)
    with platform.db.session() as session:
        box_id = session.get_one(VoicemailMessage, message_id).box_id
    return message_id, platform.services.voicemail.audio_path(box_id, message_id)


def _recipients(platform: Platform, customer: Customer, audio_format: AudioFormat = AudioFormat.WAV) -> None:
    platform.services.voicemail_settings.update(
        customer.principal,
        customer.group,
        ALICE_LINE,
        {
            "recipients": [Recipient("alice@example.com", True), Recipient("desk@example.com", False)],
            "audio_format": audio_format,
        },
    )


def _archive(platform: Platform) -> list[Notification]:
    with platform.db.session() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


async def test_each_recipient_gets_the_notice_and_the_wav_when_asked(
    platform: Platform, clock: ManualClock, smtp: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp
    alice = open_account(platform, "alice", ALICE_LINE)
    _recipients(platform, alice)
    message_id, audio = _message(platform)
    sent = await _notices(platform, clock, port).new_message(message_id)
    assert [notification.status for notification in sent] == [NotificationStatus.SENT] * 2
    by_recipient = {str(received["To"]): received for received in inbox.received}
    assert set(by_recipient) == {"alice@example.com", "desk@example.com"}
    with_audio = by_recipient["alice@example.com"]
    assert with_audio["Subject"] == "Nouveau message vocal de 09 99 00 55 55"
    body = with_audio.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "répondeur de votre ligne 09 99 00 12 34" in text
    assert "Durée : 0:02" in text
    (attachment,) = list(with_audio.iter_attachments())
    assert attachment.get_content_type() == "audio/wav"
    assert attachment.get_filename() == f"message-{message_id}.wav"
    assert attachment.get_content() == audio.read_bytes()
    assert list(by_recipient["desk@example.com"].iter_attachments()) == []
    archived = _archive(platform)
    assert [(row.recipient, row.status, row.account_id) for row in archived] == [
        ("alice@example.com", NotificationStatus.SENT, alice.principal.account_id),
        ("desk@example.com", NotificationStatus.SENT, alice.principal.account_id),
    ]
    assert all(row.sent_at is not None for row in archived)
    assert archived[0].body == text.replace("\r\n", "\n")  # the archive keeps what was read (CRLF on the wire)


async def test_the_audio_is_attached_as_mp3_when_the_box_asks(
    platform: Platform, clock: ManualClock, smtp: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp
    alice = open_account(platform, "alice", ALICE_LINE)
    _recipients(platform, alice, AudioFormat.MP3)
    message_id, _ = _message(platform)
    await _notices(platform, clock, port).new_message(message_id)
    (with_audio,) = [received for received in inbox.received if received["To"] == "alice@example.com"]
    (attachment,) = list(with_audio.iter_attachments())
    assert attachment.get_content_type() == "audio/mpeg"
    data = attachment.get_content()
    assert data[:3] == b"ID3" or data[0] == 0xFF  # an ID3 tag or an MPEG frame sync
    assert len(data) > 1000


async def test_english_accounts_get_english_notices_and_withheld_callers_are_named(
    platform: Platform, clock: ManualClock, smtp: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp
    alice = open_account(platform, "alice", ALICE_LINE)
    with platform.db.session() as session:
        account = session.get(Account, alice.principal.account_id)
        assert account is not None
        account.language = Language.EN
    _recipients(platform, alice)
    message_id, _ = _message(platform, caller="")
    await _notices(platform, clock, port).new_message(message_id)
    assert {str(received["Subject"]) for received in inbox.received} == {"New voicemail message from a withheld number"}


async def test_a_relay_that_is_down_is_recorded_as_a_failure(platform: Platform, clock: ManualClock) -> None:
    alice = open_account(platform, "alice", ALICE_LINE)
    _recipients(platform, alice)
    message_id, _ = _message(platform)
    sent = await _notices(platform, clock, _free_port()).new_message(message_id)
    assert [notification.status for notification in sent] == [NotificationStatus.FAILED] * 2
    assert all(row.error and row.sent_at is None for row in _archive(platform))


async def test_a_box_without_recipients_sends_nothing(
    platform: Platform, clock: ManualClock, smtp: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp
    open_account(platform, "alice", ALICE_LINE)
    message_id, _ = _message(platform)
    assert await _notices(platform, clock, port).new_message(message_id) == []
    assert inbox.received == [] and _archive(platform) == []
