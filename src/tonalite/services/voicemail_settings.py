"""A voicemail box's settings, as its owner changes them: validated together, applied all or none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tonalite.services.errors import InvalidInput
from tonalite.services.principal import Principal
from tonalite.services.secrets import hash_password
from tonalite.services.validation import check_email
from tonalite.services.voicemail import GREETING_SOUNDS, owned_box, recorded_greeting
from tonalite.store.database import Database
from tonalite.store.models import AudioFormat, GreetingType, VoicemailBox, VoicemailRecipient

MESSAGE_SECONDS_RANGE = (10, 600)
MAX_RECIPIENTS = 10
EDITABLE = frozenset({"active", "greeting_type", "do_not_record", "audio_format", "max_message_seconds", "recipients"})
PIN_FIELD = "pin"


@dataclass(frozen=True, slots=True)
class Recipient:
    email: str
    attach_audio: bool


@dataclass(frozen=True, slots=True)
class VoicemailSettings:
    active: bool
    greeting_type: GreetingType
    do_not_record: bool
    audio_format: AudioFormat
    max_message_seconds: int
    recipients: tuple[Recipient, ...]
    pin_set: bool
    greetings: tuple[GreetingType, ...]
    """The greeting types the owner has a recording for (the default one is always there)."""


class VoicemailSettingsService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, principal: Principal, group_id: int, number: str) -> VoicemailSettings:
        with self._db.session() as session:
            return _settings(owned_box(session, principal, group_id, number))

    def update(self, principal: Principal, group_id: int, number: str, changes: Mapping[str, Any]) -> VoicemailSettings:
        """Apply `changes` (snake_case names; `pin` is write-only) all together, or none if one is invalid."""
        unknown = set(changes) - EDITABLE - {PIN_FIELD}
        if unknown:
            raise InvalidInput("error.value_invalid", sorted(unknown)[0])
        with self._db.session() as session:
            box = owned_box(session, principal, group_id, number)
            for name, value in changes.items():
                if name == PIN_FIELD:
                    box.pin_hash = hash_password(checked_pin(value))
                elif name == "recipients":
                    box.recipients = [
                        VoicemailRecipient(email=recipient.email, attach_audio=recipient.attach_audio)
                        for recipient in _checked_recipients(value)
                    ]
                elif name == "max_message_seconds":
                    box.max_message_seconds = _checked_seconds(value)
                else:
                    setattr(box, name, value)
            if box.greeting_type in GREETING_SOUNDS and recorded_greeting(box, box.greeting_type) is None:
                raise InvalidInput("error.greeting_missing", "greeting_type")
            session.flush()
            return _settings(box)


def _settings(box: VoicemailBox) -> VoicemailSettings:
    return VoicemailSettings(
        active=box.active,
        greeting_type=box.greeting_type,
        do_not_record=box.do_not_record,
        audio_format=box.audio_format,
        max_message_seconds=box.max_message_seconds,
        recipients=tuple(Recipient(r.email, r.attach_audio) for r in box.recipients),
        pin_set=bool(box.pin_hash),
        greetings=(GreetingType.DEFAULT, *(kind for kind in GREETING_SOUNDS if recorded_greeting(box, kind))),
    )


def checked_pin(value: Any) -> str:
    """A box's PIN: four digits (InvalidInput otherwise), from the panel, the API or the 123 menu."""
    if not isinstance(value, str) or len(value) != 4 or not (value.isascii() and value.isdigit()):
        raise InvalidInput("error.pin_invalid", PIN_FIELD)
    return value


def _checked_seconds(value: Any) -> int:
    low, high = MESSAGE_SECONDS_RANGE
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput("error.message_length_range", "max_message_seconds", min=low, max=high)
    return value


def _checked_recipients(value: Sequence[Recipient]) -> list[Recipient]:
    if len(value) > MAX_RECIPIENTS:
        raise InvalidInput("error.recipients_too_many", "recipients", max=MAX_RECIPIENTS)
    checked = [Recipient(check_email(r.email, "recipients"), r.attach_audio) for r in value]
    if len({r.email.lower() for r in checked}) != len(checked):
        raise InvalidInput("error.recipient_repeated", "recipients")
    return checked
