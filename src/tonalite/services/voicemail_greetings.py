"""A voicemail box's own greetings: uploaded from the panel or the API, or recorded on the phone (123 menu).

What a caller hears before the beep, by the box's greeting type:
- `default`: "Bonjour, vous êtes bien sur la messagerie du" + the line's number spoken + "Laissez votre message
  après le bip…" (built in, nothing to record);
- `full`: the owner's recording alone, then the beep;
- `short`: the owner's recording (their name) in place of the spoken number, inside the default sentences;
- `temporary`: the owner's temporary recording alone, then the beep: an absence greeting, which overrides the
  others while it is the selected type (selecting another type again ends it; the recording is kept).
In greeting-only mode (do_not_record) the beep and the recording are left out: `full` and `temporary` play the
recording and the call ends; `short` and `default` end with "Ce correspondant ne prend pas de message". A
recording that cannot be played when a call comes falls back to the default greeting.

An upload is WAV, MP3 or Ogg Vorbis (any rate, channel count and sample size) of at most MAX_UPLOAD_BYTES and
from 1 s to 3 min of audio (GREETING_MS); it is converted with sox to 8 kHz mono 16-bit. Each greeting is a
Sound row (kind GREETING, in the line's billing group) whose file is `<data dir>/sounds/<sound id>.wav`, written
atomically before the row is committed. Replacing a greeting deletes the old row in the same transaction as the
new one is stored, and its file once that is committed: a failure at any step leaves the old greeting playing.
Deleting the selected greeting brings the box back to the default one.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tonalite.media.g711 import SAMPLE_RATE
from tonalite.media.wav import WavError, read_wav, write_wav
from tonalite.services.audio_files import UnreadableAudio, decode_to_telephony, sniff_format
from tonalite.services.errors import InputTooLarge, InvalidInput, NotFound, UnsupportedFormat
from tonalite.services.principal import Principal
from tonalite.services.voicemail import GREETING_SOUNDS, owned_box, recorded_greeting, sound_path
from tonalite.store.database import Database
from tonalite.store.models import GreetingType, Line, Sound, SoundKind, VoicemailBox

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
GREETING_MS = (1000, 180_000)
"""The shortest and the longest greeting: a name takes a second, an announcement should not keep callers
waiting for more than three minutes."""
_SNIFF_BYTES = 12


@dataclass(frozen=True, slots=True)
class Greeting:
    kind: GreetingType
    sound_id: int
    duration_ms: int
    created_at: datetime


class VoicemailGreetingService:
    def __init__(self, db: Database, data_dir: Path) -> None:
        self._db = db
        self._data_dir = data_dir

    # The owner's side, through the panel and the API.

    def greetings(self, principal: Principal, group_id: int, number: str) -> dict[GreetingType, Greeting]:
        """The line's recorded greetings, by type (the default greeting is not among them)."""
        with self._db.session() as session:
            box = owned_box(session, principal, group_id, number)
            recorded = {kind: recorded_greeting(box, kind) for kind in GREETING_SOUNDS}
            sounds = {
                sound.id: sound for sound in session.scalars(select(Sound).where(Sound.id.in_(recorded.values())))
            }
            return {
                kind: Greeting(kind, sound.id, sound.duration_ms, sound.created_at)
                for kind, sound_id in recorded.items()
                if sound_id is not None and (sound := sounds.get(sound_id)) is not None
            }

    def audio_path(self, principal: Principal, group_id: int, number: str, kind: GreetingType) -> Path:
        """The greeting's 8 kHz WAV file; NotFound when the line has no such greeting."""
        with self._db.session() as session:
            sound_id = recorded_greeting(owned_box(session, principal, group_id, number), kind)
        if sound_id is None:
            raise NotFound()
        return sound_path(self._data_dir, sound_id)

    def upload(
        self, principal: Principal, group_id: int, number: str, kind: GreetingType, upload: BinaryIO
    ) -> Greeting:
        """Make the uploaded audio the line's greeting of `kind` (the greeting type selected is left as it is).

        InvalidInput (InputTooLarge, UnsupportedFormat) for anything but 1 s to 3 min of readable WAV, MP3 or
        Ogg audio of at most MAX_UPLOAD_BYTES, changing nothing; AudioConversionError when sox cannot run.
        Blocking (sox, files): run it in a worker thread from the event loop.
        """
        if kind not in GREETING_SOUNDS:
            raise NotFound()
        with self._db.session() as session:
            owned_box(session, principal, group_id, number)  # another account's line: NotFound before any work
        samples = self._decode(upload)
        with self._db.session() as session:
            return self._keep(session, owned_box(session, principal, group_id, number), kind, samples, selected=False)

    def delete(self, principal: Principal, group_id: int, number: str, kind: GreetingType) -> None:
        """Delete the line's greeting of `kind`, if there is one; the default greeting plays instead if it was
        the selected one."""
        with self._db.session() as session:
            box = owned_box(session, principal, group_id, number)
            sound_id = recorded_greeting(box, kind)
            if sound_id is None:
                return
            setattr(box, GREETING_SOUNDS[kind], None)
            if box.greeting_type == kind:
                box.greeting_type = GreetingType.DEFAULT
            session.execute(delete(Sound).where(Sound.id == sound_id))
        sound_path(self._data_dir, sound_id).unlink(missing_ok=True)

    # The call core's side (the 123 menu): no principal, the box is the calling line's.

    def keep_recording(self, line_id: int, kind: GreetingType, recorded: Path) -> bool:
        """Make a greeting just recorded on the phone (8 kHz mono WAV) the box's greeting of `kind`, and select
        that type; False, changing nothing, when it holds less than a second of audio or cannot be read. The
        recorded file is left where it is, for the caller to remove. Past 3 min, the rest is left out."""
        if kind not in GREETING_SOUNDS:
            raise ValueError(f"the {kind.value} greeting is built in, not recorded")
        try:
            samples = read_wav(recorded)
        except (OSError, WavError):
            return False
        if len(samples) * 1000 < GREETING_MS[0] * SAMPLE_RATE:
            return False
        with self._db.session() as session:
            box = session.scalar(select(VoicemailBox).where(VoicemailBox.line_id == line_id))
            if box is None:
                return False
            self._keep(session, box, kind, samples[: GREETING_MS[1] * SAMPLE_RATE // 1000], selected=True)
        return True

    def _decode(self, upload: BinaryIO) -> npt.NDArray[np.int16]:
        data = upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise InputTooLarge("error.greeting_too_large", "file", max=MAX_UPLOAD_BYTES // (1024 * 1024))
        audio_format = sniff_format(data[:_SNIFF_BYTES])
        if audio_format is None:
            raise UnsupportedFormat("error.greeting_not_audio", "file")
        shortest, longest = GREETING_MS
        directory = self._data_dir / "sounds"
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".upload.", suffix=".tmp") as source:
            source.write(data)
            source.flush()
            try:
                samples = decode_to_telephony(Path(source.name), audio_format, longest / 1000 + 1)
            except UnreadableAudio:
                raise InvalidInput("error.greeting_unreadable", "file") from None
        if len(samples) == 0:
            raise InvalidInput("error.greeting_unreadable", "file")
        if not shortest * SAMPLE_RATE <= len(samples) * 1000 <= longest * SAMPLE_RATE:
            raise InvalidInput("error.greeting_length", "file", min=shortest // 1000, max=longest // 1000)
        return samples

    def _keep(
        self, session: Session, box: VoicemailBox, kind: GreetingType, samples: npt.NDArray[np.int16], *, selected: bool
    ) -> Greeting:
        """Store the samples as the box's greeting of `kind` (and make it the selected type if `selected`), commit,
        then delete the file of the greeting it replaced."""
        session.refresh(box, with_for_update=True)  # two uploads at once: one replaces the other, none is lost
        group_id = session.scalars(select(Line.billing_group_id).where(Line.id == box.line_id)).one()
        sound = Sound(
            billing_group_id=group_id,
            name=f"{kind.value} greeting",
            kind=SoundKind.GREETING,
            duration_ms=len(samples) * 1000 // SAMPLE_RATE,
        )
        session.add(sound)
        session.flush()
        replaced = recorded_greeting(box, kind)
        setattr(box, GREETING_SOUNDS[kind], sound.id)
        if selected:
            box.greeting_type = kind
        if replaced is not None:
            session.execute(delete(Sound).where(Sound.id == replaced))
        path = sound_path(self._data_dir, sound.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_wav(path, samples)
            sound.size_bytes = path.stat().st_size
            session.commit()
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if replaced is not None:
            sound_path(self._data_dir, replaced).unlink(missing_ok=True)
        return Greeting(kind, sound.id, sound.duration_ms, sound.created_at)
