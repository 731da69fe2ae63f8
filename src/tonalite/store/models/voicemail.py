"""Voicemail boxes, who their notices go to, and the messages they hold."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tonalite.store.models.base import Base, enum_column, utcnow

if TYPE_CHECKING:
    from tonalite.store.models.lines import Line


class GreetingType(StrEnum):
    DEFAULT = "default"
    FULL = "full"
    SHORT = "short"
    TEMPORARY = "temporary"


class AudioFormat(StrEnum):
    WAV = "wav"
    MP3 = "mp3"


class VoicemailBox(Base):
    """A line's voicemail ("répondeur"), active by default."""

    __tablename__ = "voicemail_boxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    pin_hash: Mapped[str] = mapped_column(String(255), default="")
    greeting_type: Mapped[GreetingType] = mapped_column(enum_column(GreetingType), default=GreetingType.DEFAULT)
    full_greeting_sound_id: Mapped[int | None] = mapped_column(ForeignKey("sounds.id", ondelete="SET NULL"))
    short_greeting_sound_id: Mapped[int | None] = mapped_column(ForeignKey("sounds.id", ondelete="SET NULL"))
    temporary_greeting_sound_id: Mapped[int | None] = mapped_column(ForeignKey("sounds.id", ondelete="SET NULL"))
    do_not_record: Mapped[bool] = mapped_column(default=False)
    audio_format: Mapped[AudioFormat] = mapped_column(enum_column(AudioFormat, 4), default=AudioFormat.WAV)
    max_message_seconds: Mapped[int] = mapped_column(default=180)

    line: Mapped[Line] = relationship(back_populates="voicemail_box")
    recipients: Mapped[list[VoicemailRecipient]] = relationship(back_populates="box", cascade="all, delete-orphan")


class VoicemailRecipient(Base):
    __tablename__ = "voicemail_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    box_id: Mapped[int] = mapped_column(ForeignKey("voicemail_boxes.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    attach_audio: Mapped[bool] = mapped_column(default=True)

    box: Mapped[VoicemailBox] = relationship(back_populates="recipients")


class MessageFolder(StrEnum):
    NEW = "new"
    SAVED = "saved"


class VoicemailMessage(Base):
    """A deposited message; its audio lives under the data directory, named by id."""

    __tablename__ = "voicemail_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    box_id: Mapped[int] = mapped_column(ForeignKey("voicemail_boxes.id", ondelete="CASCADE"), index=True)
    folder: Mapped[MessageFolder] = mapped_column(enum_column(MessageFolder, 8), default=MessageFolder.NEW)
    caller: Mapped[str] = mapped_column(String(32), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int] = mapped_column(default=0)
    size_bytes: Mapped[int] = mapped_column(default=0)
    complete: Mapped[bool] = mapped_column(default=False)
