"""The email each of a voicemail box's recipients gets for a new message, in the account's language, with the
message attached in the box's audio format when the recipient asked for it; sent through the outbox, which
keeps it in the account's service-email archive."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import select

from tonalite.i18n import format_length, format_moment, translate
from tonalite.services.audio_files import AudioConversionError, encode_mp3
from tonalite.services.numbering import format_national
from tonalite.services.outbox import Attachment, Outbox
from tonalite.services.voicemail import VoicemailService
from tonalite.store.database import Database
from tonalite.store.models import (
    Account,
    AudioFormat,
    BillingGroup,
    Language,
    Line,
    Notification,
    VoicemailBox,
    VoicemailMessage,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Notice:
    account_id: int
    language: Language
    line_number: str
    message: VoicemailMessage
    audio_format: AudioFormat
    recipients: tuple[tuple[str, bool], ...]


class VoicemailNotices:
    def __init__(self, db: Database, outbox: Outbox, voicemail: VoicemailService) -> None:
        self._db = db
        self._outbox = outbox
        self._voicemail = voicemail

    async def new_message(self, message_id: int) -> list[Notification]:
        """Send the notices of a stored message; returns what the archive recorded (none without recipients)."""
        notice = await asyncio.to_thread(self._notice, message_id)
        if notice is None or not notice.recipients:
            return []
        subject, body = self._text(notice)
        attachment = None
        if any(attach for _, attach in notice.recipients):
            attachment = await self._attachment(notice)
        sent = []
        for email, attach in notice.recipients:
            attachments = (attachment,) if attach and attachment is not None else ()
            sent.append(await self._outbox.send(notice.account_id, email, subject, body, attachments))
        return sent

    def _notice(self, message_id: int) -> _Notice | None:
        with self._db.session() as session:
            found = session.execute(
                select(VoicemailMessage, VoicemailBox, Line.number, Account.id, Account.language)
                .join(VoicemailBox, VoicemailMessage.box_id == VoicemailBox.id)
                .join(Line, VoicemailBox.line_id == Line.id)
                .join(BillingGroup, Line.billing_group_id == BillingGroup.id)
                .join(Account, BillingGroup.account_id == Account.id)
                .where(VoicemailMessage.id == message_id, VoicemailMessage.complete.is_(True))
            ).one_or_none()
            if found is None:
                return None
            message, box, number, account_id, language = found
            recipients = tuple((recipient.email, recipient.attach_audio) for recipient in box.recipients)
            return _Notice(account_id, language, number, message, box.audio_format, recipients)

    @staticmethod
    def _text(notice: _Notice) -> tuple[str, str]:
        language, message = notice.language, notice.message
        caller = format_national(message.caller) if message.caller else translate(language, "notice.unknown_caller")
        subject = translate(language, "notice.voicemail.subject", caller=caller)
        body = translate(
            language,
            "notice.voicemail.body",
            line=format_national(notice.line_number),
            caller=caller,
            received=format_moment(language, message.received_at),
            length=format_length(message.duration_ms),
        )
        return subject, body

    async def _attachment(self, notice: _Notice) -> Attachment | None:
        """The message's audio; MP3 when the box asks for it, WAV if the conversion fails (logged)."""
        message = notice.message
        path = self._voicemail.audio_path(message.box_id, message.id)
        if notice.audio_format == AudioFormat.MP3:
            try:
                return Attachment(f"message-{message.id}.mp3", "audio/mpeg", await encode_mp3(path))
            except AudioConversionError as error:
                log.warning("voicemail message %d attached as WAV: %s", message.id, error)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as error:
            log.warning("voicemail message %d has no audio to attach: %s", message.id, error)
            return None
        return Attachment(f"message-{message.id}.wav", "audio/wav", data)
