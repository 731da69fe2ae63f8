"""What a dialled string means for a caller: another line of the platform, an outside number, or nothing.

Pure decisions over the line directory; the call core carries them out. Star codes, voicemail (123),
abbreviated numbers and alias numbers join here in their own issues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tonalite.services.errors import InvalidInput
from tonalite.services.line_directory import LineDirectory, SipLine
from tonalite.services.numbering import parse_number

_VISUAL_SEPARATORS = re.compile(r"[\s.\-()/]")


@dataclass(frozen=True, slots=True)
class ToLine:
    line: SipLine


@dataclass(frozen=True, slots=True)
class ToOutside:
    number: str


@dataclass(frozen=True, slots=True)
class Unassigned:
    """Nobody holds the number, or what was dialled is no number at all: 404."""

    dialled: str


Decision = ToLine | ToOutside | Unassigned


def normalise_dialled(dialled: str, country: str = "FR") -> str | None:
    """E.164 for `0999001234`, `09 99 00 12 34`, `+33999001234` or `0033999001234`; None if not a number."""
    cleaned = _VISUAL_SEPARATORS.sub("", dialled)
    if not cleaned or not cleaned.lstrip("+").isdigit() or not cleaned.isascii():
        return None
    try:
        return parse_number(cleaned, country)
    except InvalidInput:
        return None


class DialPlan:
    def __init__(self, lines: LineDirectory) -> None:
        self._lines = lines

    def route(self, dialled: str, caller: SipLine) -> Decision:
        number = normalise_dialled(dialled)
        if number is None:
            return Unassigned(dialled)
        line = self._lines.by_number(number)
        if line is not None:
            return ToLine(line)
        if self._lines.platform_holds(number):
            return Unassigned(number)
        return ToOutside(number)
