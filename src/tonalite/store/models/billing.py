"""Billing groups and the numbers they hold: lines, alias numbers, abbreviated numbers, sounds."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tonalite.store.models.base import Base, enum_column, utcnow

if TYPE_CHECKING:
    from tonalite.store.models.accounts import Account
    from tonalite.store.models.lines import Line


class BillingGroup(Base):
    """Groups lines, alias numbers, abbreviated numbers and portability requests; the unit of the bill."""

    __tablename__ = "billing_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship(back_populates="billing_groups")
    lines: Mapped[list[Line]] = relationship(
        back_populates="billing_group", order_by="Line.number", cascade="all, delete-orphan", passive_deletes=True
    )
    alias_numbers: Mapped[list[AliasNumber]] = relationship(
        back_populates="billing_group",
        order_by="AliasNumber.number",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class NumberStatus(StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    ASSIGNED = "assigned"
    PORTING_IN = "porting_in"
    PORTED_OUT = "ported_out"


class PlatformNumber(Base):
    """The operator's number inventory: every E.164 number the platform holds, assigned or not."""

    __tablename__ = "platform_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[NumberStatus] = mapped_column(enum_column(NumberStatus), default=NumberStatus.AVAILABLE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeatureType(StrEnum):
    """What an alias number does with its calls (the reference API's featureType)."""

    NONE = "none"
    REDIRECT = "redirect"
    CALL_QUEUE = "callQueue"
    IVR = "ivr"
    CONFERENCE = "conference"
    CONTACT_CENTER = "contactCenterSolution"


class AliasNumber(Base):
    """A number with no device; its feature decides where calls go."""

    __tablename__ = "alias_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    billing_group_id: Mapped[int] = mapped_column(ForeignKey("billing_groups.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    feature_type: Mapped[FeatureType] = mapped_column(enum_column(FeatureType), default=FeatureType.NONE)
    redirect_destination: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    billing_group: Mapped[BillingGroup] = relationship(back_populates="alias_numbers")


class AbbreviatedNumber(Base):
    """A short number: per billing group (7xx[x]) when line_id is empty, per line (2xx[x]) otherwise.

    The unique constraint holds the lines' lists only (no two NULL line_ids are equal in SQL): the partial index
    holds the billing group's. Together they serve the call core's lookup, line then group (services/
    abbreviated_numbers.py), with one index probe each.
    """

    __tablename__ = "abbreviated_numbers"
    __table_args__ = (
        UniqueConstraint("billing_group_id", "line_id", "short_number"),
        Index(
            "uq_abbreviated_numbers_group_short_number",
            "billing_group_id",
            "short_number",
            unique=True,
            sqlite_where=text("line_id IS NULL"),
            postgresql_where=text("line_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    billing_group_id: Mapped[int] = mapped_column(ForeignKey("billing_groups.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("lines.id", ondelete="CASCADE"), index=True)
    short_number: Mapped[str] = mapped_column(String(4))
    destination_number: Mapped[str] = mapped_column(String(16))
    surname: Mapped[str] = mapped_column(String(100), default="")
    name: Mapped[str] = mapped_column(String(100), default="")


class SoundKind(StrEnum):
    GREETING = "greeting"
    HOLD_MUSIC = "hold_music"
    ANNOUNCEMENT = "announcement"


class Sound(Base):
    """An uploaded sound, converted to 8 kHz mono WAV and stored under the data directory by id."""

    __tablename__ = "sounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    billing_group_id: Mapped[int] = mapped_column(ForeignKey("billing_groups.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SoundKind] = mapped_column(enum_column(SoundKind))
    duration_ms: Mapped[int] = mapped_column(default=0)
    size_bytes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
