"""Carrier trunks: the way to and from the public network."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from tonalite.sip.transport import Transport
from tonalite.store.models.base import Base, enum_column, utcnow


class Trunk(Base):
    __tablename__ = "trunks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(default=5060)
    transport: Mapped[Transport] = mapped_column(enum_column(Transport, 3), default=Transport.UDP)
    auth_username: Mapped[str] = mapped_column(String(64), default="")
    auth_password: Mapped[str] = mapped_column(String(128), default="")
    source_addresses: Mapped[list[str]] = mapped_column(JSON, default=list)
    prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
