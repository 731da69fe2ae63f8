"""Number portability requests: the numbers, the steps they go through and the documents attached."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tonalite.store.models.base import Base, enum_column, utcnow


class PortabilityStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class PortabilityRequest(Base):
    __tablename__ = "portability_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    billing_group_id: Mapped[int] = mapped_column(ForeignKey("billing_groups.id", ondelete="CASCADE"), index=True)
    status: Mapped[PortabilityStatus] = mapped_column(enum_column(PortabilityStatus), default=PortabilityStatus.DRAFT)
    donor_operator: Mapped[str] = mapped_column(String(100), default="")
    rio_code: Mapped[str] = mapped_column(String(12), default="")
    holder_name: Mapped[str] = mapped_column(String(200), default="")
    holder_address: Mapped[str] = mapped_column(Text, default="")
    desired_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PortabilityNumber(Base):
    __tablename__ = "portability_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("portability_requests.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(16))


class StepStatus(StrEnum):
    TODO = "todo"
    DOING = "doing"
    DONE = "done"
    FAILED = "failed"


class PortabilityStep(Base):
    __tablename__ = "portability_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("portability_requests.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(64))
    status: Mapped[StepStatus] = mapped_column(enum_column(StepStatus), default=StepStatus.TODO)
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PortabilityDocument(Base):
    """A document (mandate, bill) attached to a request; the file lives under the data directory by id."""

    __tablename__ = "portability_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("portability_requests.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
