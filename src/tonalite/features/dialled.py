"""What a caller dialled, as the dial plan reads it: a phone number in any usual form, normalised to E.164."""

from __future__ import annotations

import functools
import re

from tonalite.services.errors import InvalidInput
from tonalite.services.numbering import parse_number

_VISUAL_SEPARATORS = re.compile(r"[\s.\-()/]")
VOICEMAIL_SHORT_NUMBER = "123"
"""Dialled from a line, its own voicemail."""
EMERGENCY_NUMBERS = frozenset({"15", "17", "18", "112", "114", "115", "119", "191", "196", "197"})
"""The French emergency numbers: dialled as they are, carried by the trunk, never barred by a line's lock."""


def normalise_dialled(dialled: str, country: str = "FR") -> str | None:
    """E.164 for `0999001234`, `09 99 00 12 34`, `+33999001234` or `0033999001234`; None if not a number.

    Every call parses what was dialled, and phones dial the same numbers over and over: short strings (any
    number is) are parsed once, longer ones are never kept, so that what a peer sends cannot fill the memory."""
    if len(dialled) <= _CACHED_DIALLED_LENGTH:
        return _cached_normalise(dialled, country)
    return _normalise(dialled, country)


_CACHED_DIALLED_LENGTH = 64


@functools.lru_cache(maxsize=4096)
def _cached_normalise(dialled: str, country: str) -> str | None:
    return _normalise(dialled, country)


def _normalise(dialled: str, country: str) -> str | None:
    cleaned = _VISUAL_SEPARATORS.sub("", dialled)
    if not cleaned or not cleaned.lstrip("+").isdigit() or not cleaned.isascii():
        return None
    try:
        return parse_number(cleaned, country)
    except InvalidInput:
        return None
