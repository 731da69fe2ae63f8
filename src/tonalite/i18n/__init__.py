"""French (default) and English text for the panel, errors, notices and prompts.

The catalogues are flat TOML tables keyed by message id; a message may hold `{name}` placeholders.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from tonalite.store.models import Language

DEFAULT_LANGUAGE = Language.FR
CUSTOMER_TIME_ZONE = ZoneInfo("Europe/Paris")
"""Customers are French companies; a per-account time zone can come when the first customer needs one."""
_MOMENT_FORMATS = {Language.FR: "%d/%m/%Y %H:%M:%S", Language.EN: "%Y-%m-%d %H:%M:%S"}
_CATALOGUE_DIR = Path(__file__).parent


@cache
def catalogue(language: Language) -> dict[str, str]:
    with (_CATALOGUE_DIR / f"{language.value}.toml").open("rb") as handle:
        return _flatten(tomllib.load(handle))


def _flatten(table: dict[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def translate(language: Language, key: str, **params: object) -> str:
    """The message in `language`, else in French, else the key itself (a missing id stays visible)."""
    text = catalogue(language).get(key) or catalogue(DEFAULT_LANGUAGE).get(key) or key
    return text.format(**params) if params else text


def parse_language(value: str | None) -> Language | None:
    try:
        return Language(value) if value else None
    except ValueError:
        return None


def format_moment(language: Language, value: datetime) -> str:
    """A stored UTC time as customers read it: local time, in their language's order, with the zone."""
    local = value.astimezone(CUSTOMER_TIME_ZONE)
    return f"{local.strftime(_MOMENT_FORMATS[language])} ({local.tzname()})"


def format_length(milliseconds: int) -> str:
    """A length as m:ss (`2:05`), rounded to the second."""
    seconds = round(milliseconds / 1000)
    return f"{seconds // 60}:{seconds % 60:02d}"
