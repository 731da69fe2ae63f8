"""Customers, operator users, and the credentials they sign in with."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tonalite.store.models.base import Base, enum_column, utcnow

if TYPE_CHECKING:
    from tonalite.store.models.billing import BillingGroup


class Language(StrEnum):
    FR = "fr"
    EN = "en"


class Account(Base):
    """A customer company: signs into the panel and owns billing groups."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    company_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    mobile_number: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[Language] = mapped_column(enum_column(Language, 2), default=Language.FR)
    country: Mapped[str] = mapped_column(String(2), default="FR")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    billing_groups: Mapped[list[BillingGroup]] = relationship(
        back_populates="account", cascade="all, delete-orphan", passive_deletes=True
    )


class OperatorUser(Base):
    """Someone who runs the platform: number inventory, portability processing, trunks."""

    __tablename__ = "operator_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token for the REST API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    operator_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("operator_users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class PanelSession(Base):
    """A control-panel sign-in; the cookie holds a random token whose SHA-256 is stored here."""

    __tablename__ = "panel_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
