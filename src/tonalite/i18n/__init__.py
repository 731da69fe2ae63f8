"""French (default) and English text for the panel, errors, notices and prompts.

The catalogues are flat TOML tables keyed by message id; a message may hold `{name}` placeholders.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from tonalite.store.models import Language

DEFAULT_LANGUAGE = Language.FR
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
