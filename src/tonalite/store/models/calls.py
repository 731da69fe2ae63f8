"""One record per call, written by the call core."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tonalite.store.models.base import Base, enum_column


class CallDirection(StrEnum):
    INTERNAL = "internal"
    OUTGOING = "outgoing"
    INCOMING = "incoming"


class CallResult(StrEnum):
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CANCELLED = "cancelled"
    UNREACHABLE = "unreachable"
    REJECTED = "rejected"
    FAILED = "failed"
    VOICEMAIL = "voicemail"


class CallRecord(Base):
    __tablename__ = "call_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(255), index=True)
    billing_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_groups.id", ondelete="SET NULL"), index=True
    )
    caller_line_id: Mapped[int | None] = mapped_column(ForeignKey("lines.id", ondelete="SET NULL"), index=True)
    callee_line_id: Mapped[int | None] = mapped_column(ForeignKey("lines.id", ondelete="SET NULL"), index=True)
    direction: Mapped[CallDirection] = mapped_column(enum_column(CallDirection))
    caller: Mapped[str] = mapped_column(String(32))
    callee: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    duration_s: Mapped[int] = mapped_column(default=0)
    result: Mapped[CallResult | None] = mapped_column(enum_column(CallResult))
    sip_code: Mapped[int | None]
    node: Mapped[str] = mapped_column(String(64), default="")
