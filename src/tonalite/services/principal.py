"""Who is asking: every tenant-scoped service call takes one."""

from __future__ import annotations

from dataclasses import dataclass

from tonalite.store.models import Language


@dataclass(frozen=True, slots=True)
class Principal:
    account_id: int
    login: str
    language: Language
    country: str
