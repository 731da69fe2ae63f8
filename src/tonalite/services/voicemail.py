"""Voicemail messages: deposited by the call core, read, played and deleted from the panel and the API.

A message's audio is `<data dir>/voicemail/<box id>/<message id>.wav`. A deposit creates the row first (not
yet complete, so nobody lists it) and records into that file; `complete` then stores the duration, or deletes
a message shorter than MIN_MESSAGE_MS. If the node dies during a deposit, `recover_deposits` (run at start-up)
completes each unfinished message from what its file holds: the part already recorded is never lost.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVarTuple

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from tonalite.clock import Clock
from tonalite.media.g711 import SAMPLE_RATE
from tonalite.media.wav import WavError, read_wav, write_wav
from tonalite.services.errors import NotFound
from tonalite.services.lines import owned_line
from tonalite.services.principal import Principal
from tonalite.store.database import Database
from tonalite.store.models import (
    Account,
    BillingGroup,
    GreetingType,
    Language,
    Line,
    MessageFolder,
    VoicemailBox,
    VoicemailMessage,
)

_Row = TypeVarTuple("_Row")

MIN_MESSAGE_MS = 1000
"""A message with less audio than this (a caller who hung up at the beep) is discarded."""
GREETING_SOUNDS = {
    GreetingType.FULL: "full_greeting_sound_id",
    GreetingType.SHORT: "short_greeting_sound_id",
    GreetingType.TEMPORARY: "temporary_greeting_sound_id",
}
"""The greeting types the owner records, and the box's column naming each one's sound."""


@dataclass(frozen=True, slots=True)
class DepositBox:
    """What taking a message for a line needs to know of its box, and the language its callers hear."""

    box_id: int
    language: Language
    do_not_record: bool
    max_message_seconds: int
    greeting_type: GreetingType
    greeting: Path | None
    """The selected greeting's recording (services.voicemail_greetings), None for the default greeting."""


@dataclass(frozen=True, slots=True)
class Deposit:
    """A message being recorded: the call core records into `path`, then calls `complete`."""

    message_id: int
    box_id: int
    path: Path


class BoxCounts(NamedTuple):
    """A line's complete messages by folder: what message waiting indication tells the line's phone."""

    number: str
    new: int
    saved: int


def _no_one_told(line_id: int) -> None:
    """The default change hook: nobody watches the boxes (the CLI, the tests of the service alone)."""


class VoicemailService:
    """`on_change` is called with the line id after each change of a box's counts (a message stored, moved,
    deleted), once it is committed, from whichever thread made it."""

    def __init__(
        self, db: Database, clock: Clock, data_dir: Path, on_change: Callable[[int], None] = _no_one_told
    ) -> None:
        self._db = db
        self._clock = clock
        self._root = data_dir / "voicemail"
        self._data_dir = data_dir
        self.on_change = on_change

    def audio_path(self, box_id: int, message_id: int) -> Path:
        return self._root / str(box_id) / f"{message_id}.wav"

    # The call core's side: no principal, the box is the called line's.

    def deposit_box(self, line_id: int) -> DepositBox | None:
        """The line's box when it takes messages (active), None otherwise."""
        with self._db.session() as session:
            found = box_and_language(session, Line.id == line_id)
            if found is None or not found[0].active:
                return None
            box, language = found
            sound_id = recorded_greeting(box, box.greeting_type)
            greeting = None if sound_id is None else sound_path(self._data_dir, sound_id)
            return DepositBox(box.id, language, box.do_not_record, box.max_message_seconds, box.greeting_type, greeting)

    def start_deposit(self, line_id: int, caller: str) -> Deposit | None:
        """A new message for the line's box, None when the line has no active box."""
        with self._db.session() as session:
            box = session.scalar(select(VoicemailBox).where(VoicemailBox.line_id == line_id))
            if box is None or not box.active:
                return None
            message = VoicemailMessage(box_id=box.id, caller=caller[:32], received_at=self._clock.wall())
            session.add(message)
            session.flush()
            deposit = Deposit(message.id, box.id, self.audio_path(box.id, message.id))
        deposit.path.parent.mkdir(parents=True, exist_ok=True)
        return deposit

    def complete(self, deposit: Deposit) -> VoicemailMessage | None:
        """Store the recorded message, or discard it when it holds less than MIN_MESSAGE_MS of audio (or no
        readable audio); returns the stored message."""
        with self._db.session() as session:
            message = session.get(VoicemailMessage, deposit.message_id)
            if message is None:
                return None
            stored = self._finish(session, message, deposit.path)
            line_id = _line_of(session, message.box_id)
        if stored is not None:
            self.on_change(line_id)
        return stored

    def recover_deposits(self) -> int:
        """Complete the deposits a stopped node left unfinished; returns how many were kept."""
        kept: list[VoicemailMessage] = []
        with self._db.session() as session:
            for message in session.scalars(select(VoicemailMessage).where(VoicemailMessage.complete.is_(False))):
                path = self.audio_path(message.box_id, message.id)
                _complete_header(path)
                if self._finish(session, message, path) is not None:
                    kept.append(message)
            changed = {_line_of(session, box_id) for box_id in {message.box_id for message in kept}}
        for line_id in changed:
            self.on_change(line_id)
        return len(kept)

    def _finish(self, session: Session, message: VoicemailMessage, path: Path) -> VoicemailMessage | None:
        duration_ms = _duration_ms(path)
        if duration_ms < MIN_MESSAGE_MS:
            session.delete(message)
            path.unlink(missing_ok=True)
            return None
        message.duration_ms = duration_ms
        message.size_bytes = path.stat().st_size
        message.complete = True
        return message

    # The owner's side, through the panel and the API.

    def messages(self, principal: Principal, group_id: int, number: str) -> list[VoicemailMessage]:
        """The line's complete messages: new ones first, then saved ones, newest first in each."""
        with self._db.session() as session:
            box_id = owned_box(session, principal, group_id, number).id
            found = session.scalars(
                select(VoicemailMessage)
                .where(VoicemailMessage.box_id == box_id, VoicemailMessage.complete.is_(True))
                .order_by(VoicemailMessage.received_at.desc(), VoicemailMessage.id.desc())
            )
            return sorted(found, key=lambda message: message.folder != MessageFolder.NEW)

    def message(self, principal: Principal, group_id: int, number: str, message_id: int) -> VoicemailMessage:
        with self._db.session() as session:
            return self._owned_message(session, principal, group_id, number, message_id)

    def move(
        self, principal: Principal, group_id: int, number: str, message_id: int, folder: MessageFolder
    ) -> VoicemailMessage:
        """Put a message in a folder: saved once listened to (read), or back to new."""
        with self._db.session() as session:
            message = self._owned_message(session, principal, group_id, number, message_id)
            moved = message.folder != folder
            message.folder = folder
            line_id = _line_of(session, message.box_id)
        if moved:
            self.on_change(line_id)
        return message

    def delete(self, principal: Principal, group_id: int, number: str, message_id: int) -> None:
        """Delete a message and its audio; the file goes once the row is gone, so a failure keeps both."""
        with self._db.session() as session:
            message = self._owned_message(session, principal, group_id, number, message_id)
            path = self.audio_path(message.box_id, message.id)
            line_id = _line_of(session, message.box_id)
            session.delete(message)
        path.unlink(missing_ok=True)
        self.on_change(line_id)

    def counts(self, line_id: int) -> BoxCounts | None:
        """The line's complete messages by folder (0/0 for a line without a box); None for no such line."""
        with self._db.session() as session:
            number = session.scalar(select(Line.number).where(Line.id == line_id))
            if number is None:
                return None
            found = session.execute(
                select(VoicemailMessage.folder, func.count())
                .join(VoicemailBox, VoicemailMessage.box_id == VoicemailBox.id)
                .where(VoicemailBox.line_id == line_id, VoicemailMessage.complete.is_(True))
                .group_by(VoicemailMessage.folder)
            )
            by_folder = {folder: count for folder, count in found}
        return BoxCounts(number, by_folder.get(MessageFolder.NEW, 0), by_folder.get(MessageFolder.SAVED, 0))

    def _owned_message(
        self, session: Session, principal: Principal, group_id: int, number: str, message_id: int
    ) -> VoicemailMessage:
        box_id = owned_box(session, principal, group_id, number).id
        message = session.get(VoicemailMessage, message_id)
        if message is None or message.box_id != box_id or not message.complete:
            raise NotFound()
        return message


def of_account(query: Select[*_Row]) -> Select[*_Row]:
    """`query` over a line and its account."""
    return (
        query.select_from(Line)
        .join(BillingGroup, Line.billing_group_id == BillingGroup.id)
        .join(Account, BillingGroup.account_id == Account.id)
    )


def box_and_language(session: Session, line: ColumnElement[bool]) -> tuple[VoicemailBox, Language] | None:
    """The box of the line matching `line`, and its account's language (what its callers and owner hear)."""
    query = of_account(select(VoicemailBox, Account.language)).join(VoicemailBox, VoicemailBox.line_id == Line.id)
    found = session.execute(query.where(line)).one_or_none()
    return (found[0], found[1]) if found is not None else None


def owned_box(session: Session, principal: Principal, group_id: int, number: str) -> VoicemailBox:
    """The voicemail box of a line of the principal's account; NotFound for anyone else's."""
    line = owned_line(session, principal, group_id, number)
    box = session.scalar(select(VoicemailBox).where(VoicemailBox.line_id == line.id))
    if box is None:
        raise NotFound()
    return box


def recorded_greeting(box: VoicemailBox, kind: GreetingType) -> int | None:
    """The id of the box's sound for a greeting type; None for the default greeting or one not recorded."""
    column = GREETING_SOUNDS.get(kind)
    return None if column is None else getattr(box, column)


def sound_path(data_dir: Path, sound_id: int) -> Path:
    """Where an uploaded or recorded sound's 8 kHz WAV file lives."""
    return data_dir / "sounds" / f"{sound_id}.wav"


def _line_of(session: Session, box_id: int) -> int:
    return session.execute(select(VoicemailBox.line_id).where(VoicemailBox.id == box_id)).scalar_one()


def _complete_header(path: Path) -> None:
    """A recording the node did not close still declares no audio in its header (what was appended is all
    there): rewrite it whole, atomically, so that every reader (a browser, sox for MP3) sees all of it."""
    with contextlib.suppress(OSError, WavError):
        write_wav(path, read_wav(path))


def _duration_ms(path: Path) -> int:
    """The audio a message file holds, in ms; 0 when there is none or it cannot be read."""
    with contextlib.suppress(OSError, WavError):
        return len(read_wav(path)) * 1000 // SAMPLE_RATE
    return 0
