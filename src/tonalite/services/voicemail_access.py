"""A voicemail box as its owner consults it by phone (the 123 menu): the call core's side, no principal.

The owner opens the box from the line's own phone, or from any other with the line's number and the box's PIN.
Either way the box is open whether or not it takes messages. Every change to a box's messages (saved, deleted)
is reported to the voicemail service's `on_change` with the line's id, once committed, from the thread that
made it: message waiting lamps follow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tonalite.i18n import CUSTOMER_TIME_ZONE, DEFAULT_LANGUAGE
from tonalite.services.secrets import generate_token, hash_password, verify_password
from tonalite.services.voicemail import VoicemailService, box_and_language, of_account
from tonalite.services.voicemail_settings import checked_pin
from tonalite.store.database import Database
from tonalite.store.models import (
    Account,
    Language,
    Line,
    MessageFolder,
    VoicemailBox,
    VoicemailMessage,
)


@dataclass(frozen=True, slots=True)
class OpenedBox:
    """A box opened by its owner, and how to speak to them: the account's language and time zone (accounts
    have none of their own yet: the customers' one, Europe/Paris)."""

    line_id: int
    box_id: int
    language: Language
    time_zone: tzinfo


@dataclass(frozen=True, slots=True)
class BoxMessage:
    message_id: int
    caller: str
    received_at: datetime
    folder: MessageFolder
    path: Path


class VoicemailAccess:
    def __init__(self, db: Database, voicemail: VoicemailService) -> None:
        self._db = db
        self._voicemail = voicemail
        self._decoy_pin_hash = hash_password(generate_token())
        """Checked against when there is no PIN to check, so that a wrong number takes as long as a wrong PIN."""

    def language(self, line_id: int | None) -> Language:
        """The language of the line's account; the default one for a caller off the platform."""
        if line_id is None:
            return DEFAULT_LANGUAGE
        with self._db.session() as session:
            found = session.scalar(of_account(select(Account.language)).where(Line.id == line_id))
        return found or DEFAULT_LANGUAGE

    def box(self, line_id: int) -> OpenedBox | None:
        """The line's box, for its owner calling from the line itself."""
        with self._db.session() as session:
            found = box_and_language(session, Line.id == line_id)
        return _opened(*found) if found is not None else None

    def unlock(self, number: str, pin: str) -> OpenedBox | None:
        """The box of the line holding `number` (E.164) when `pin` is its PIN; None for a wrong PIN, a number
        with no box, or a box with no PIN (it cannot be opened from another phone)."""
        with self._db.session() as session:
            found = box_and_language(session, Line.number == number)
        pin_hash = found[0].pin_hash if found is not None else ""
        matches = verify_password(pin, pin_hash or self._decoy_pin_hash)
        if found is None or not pin_hash or not matches:
            return None
        return _opened(*found)

    def messages(self, box: OpenedBox) -> list[BoxMessage]:
        """The box's complete messages in listening order: new ones, then saved ones, oldest first in each."""
        with self._db.session() as session:
            found = session.scalars(
                select(VoicemailMessage)
                .where(VoicemailMessage.box_id == box.box_id, VoicemailMessage.complete.is_(True))
                .order_by(VoicemailMessage.received_at, VoicemailMessage.id)
            )
            listed = [
                BoxMessage(
                    message.id,
                    message.caller,
                    message.received_at,
                    message.folder,
                    self._voicemail.audio_path(box.box_id, message.id),
                )
                for message in found
            ]
        return sorted(listed, key=lambda message: message.folder != MessageFolder.NEW)

    def save(self, box: OpenedBox, message_id: int) -> None:
        """Move a message to the saved folder (nothing when it is there already, or gone)."""
        with self._db.session() as session:
            message = _message(session, box, message_id)
            if message is None or message.folder == MessageFolder.SAVED:
                return
            message.folder = MessageFolder.SAVED
        self._voicemail.on_change(box.line_id)

    def delete(self, box: OpenedBox, message_id: int) -> None:
        """Delete a message and its audio; the file goes once the row is gone, so a failure keeps both."""
        with self._db.session() as session:
            message = _message(session, box, message_id)
            if message is None:
                return
            session.delete(message)
        self._voicemail.audio_path(box.box_id, message_id).unlink(missing_ok=True)
        self._voicemail.on_change(box.line_id)

    def change_pin(self, box: OpenedBox, pin: str) -> None:
        """Set the box's PIN: four digits, else InvalidInput."""
        pin_hash = hash_password(checked_pin(pin))
        with self._db.session() as session:
            found = session.get(VoicemailBox, box.box_id)
            if found is not None:
                found.pin_hash = pin_hash


def _opened(box: VoicemailBox, language: Language) -> OpenedBox:
    return OpenedBox(box.line_id, box.id, language, CUSTOMER_TIME_ZONE)


def _message(session: Session, box: OpenedBox, message_id: int) -> VoicemailMessage | None:
    message = session.get(VoicemailMessage, message_id)
    if message is None or message.box_id != box.box_id or not message.complete:
        return None
    return message
