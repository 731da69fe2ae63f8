"""SIP lines, their call options, their registered device and the history of both."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tonalite.sip.transport import Transport
from tonalite.store.models.base import Base, enum_column, utcnow

if TYPE_CHECKING:
    from tonalite.store.models.billing import BillingGroup
    from tonalite.store.models.voicemail import VoicemailBox


class Line(Base):
    """A SIP line: one number, SIP credentials stored only as digest hashes, one registered device."""

    __tablename__ = "lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    billing_group_id: Mapped[int] = mapped_column(ForeignKey("billing_groups.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    sip_username: Mapped[str] = mapped_column(String(64), unique=True)
    sip_realm: Mapped[str] = mapped_column(String(255))
    ha1_md5: Mapped[str] = mapped_column(String(32))
    ha1_sha256: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    plan: Mapped[str] = mapped_column(String(50), default="standard")
    simultaneous_calls: Mapped[int] = mapped_column(default=2)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    billing_group: Mapped[BillingGroup] = relationship(back_populates="lines")
    options: Mapped[LineOptions] = relationship(
        back_populates="line", uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )
    voicemail_box: Mapped[VoicemailBox | None] = relationship(
        back_populates="line", uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )


class ForwardNature(StrEnum):
    NUMBER = "number"
    VOICEMAIL = "voicemail"
    LINE = "line"


class LineOptions(Base):
    """How a line's calls are handled; fields follow the reference API's names."""

    __tablename__ = "line_options"

    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), primary_key=True)
    forward_unconditional: Mapped[bool] = mapped_column(default=False)
    forward_unconditional_number: Mapped[str] = mapped_column(String(20), default="")
    forward_unconditional_nature: Mapped[ForwardNature] = mapped_column(
        enum_column(ForwardNature), default=ForwardNature.NUMBER
    )
    forward_no_reply: Mapped[bool] = mapped_column(default=False)
    forward_no_reply_number: Mapped[str] = mapped_column(String(20), default="")
    forward_no_reply_nature: Mapped[ForwardNature] = mapped_column(
        enum_column(ForwardNature), default=ForwardNature.NUMBER
    )
    forward_no_reply_delay: Mapped[int] = mapped_column(default=20)
    forward_busy: Mapped[bool] = mapped_column(default=False)
    forward_busy_number: Mapped[str] = mapped_column(String(20), default="")
    forward_busy_nature: Mapped[ForwardNature] = mapped_column(enum_column(ForwardNature), default=ForwardNature.NUMBER)
    forward_backup: Mapped[bool] = mapped_column(default=False)
    forward_backup_number: Mapped[str] = mapped_column(String(20), default="")
    forward_backup_nature: Mapped[ForwardNature] = mapped_column(
        enum_column(ForwardNature), default=ForwardNature.NUMBER
    )
    do_not_disturb: Mapped[bool] = mapped_column(default=False)
    absent_subscriber: Mapped[bool] = mapped_column(default=False)
    anonymous_call_rejection: Mapped[bool] = mapped_column(default=False)
    identification_restriction: Mapped[bool] = mapped_column(default=False)
    display_number: Mapped[str] = mapped_column(String(16), default="")
    call_waiting: Mapped[bool] = mapped_column(default=True)
    lock_out_call: Mapped[bool] = mapped_column(default=False)
    lock_out_call_pin_hash: Mapped[str] = mapped_column(String(255), default="")

    line: Mapped[Line] = relationship(back_populates="options")


class ChangeOrigin(StrEnum):
    PANEL = "panel"
    API = "api"
    PHONE = "phone"
    OPERATOR = "operator"


class LineOptionChange(Base):
    """One change of one option, with where it came from: the answer to "who set this forward?"."""

    __tablename__ = "line_option_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str] = mapped_column(String(100))
    new_value: Mapped[str] = mapped_column(String(100))
    origin: Mapped[ChangeOrigin] = mapped_column(enum_column(ChangeOrigin))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScreenDirection(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class ScreenListKind(StrEnum):
    WHITELIST = "whitelist"
    BLACKLIST = "blacklist"


class ScreenListEntry(Base):
    """A number or prefix on a line's incoming or outgoing white or black list."""

    __tablename__ = "screen_list_entries"
    __table_args__ = (UniqueConstraint("line_id", "direction", "kind", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    direction: Mapped[ScreenDirection] = mapped_column(enum_column(ScreenDirection))
    kind: Mapped[ScreenListKind] = mapped_column(enum_column(ScreenListKind))
    number: Mapped[str] = mapped_column(String(20))
    is_prefix: Mapped[bool] = mapped_column(default=False)


class Registration(Base):
    """The one device bound to a line (RFC 3261 §10); it survives a restart and is expired by the scheduler."""

    __tablename__ = "registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), unique=True)
    contact: Mapped[str] = mapped_column(String(512))
    call_id: Mapped[str] = mapped_column(String(255))
    cseq: Mapped[int]
    source_host: Mapped[str] = mapped_column(String(64))
    source_port: Mapped[int]
    transport: Mapped[Transport] = mapped_column(enum_column(Transport, 3))
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    node: Mapped[str] = mapped_column(String(64), default="")
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class RegistrationEventKind(StrEnum):
    REGISTERED = "registered"
    REPLACED = "replaced"
    UNREGISTERED = "unregistered"
    EXPIRED = "expired"


class RegistrationEvent(Base):
    """The registration history of a line, for diagnostics ("another phone took over my line")."""

    __tablename__ = "registration_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RegistrationEventKind] = mapped_column(enum_column(RegistrationEventKind))
    contact: Mapped[str] = mapped_column(String(512), default="")
    source: Mapped[str] = mapped_column(String(80), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
