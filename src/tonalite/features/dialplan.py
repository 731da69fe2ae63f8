"""What a dialled string means: for a line's caller, another line of the platform, an outside number and the
trunk that carries it, or nothing; for a call coming in from a trunk, the line that holds the number.

Pure decisions over the line directory and the trunks; the call core carries them out. Star codes, voicemail
(123), abbreviated numbers and alias numbers join here in their own issues.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from tonalite.services.errors import InvalidInput
from tonalite.services.line_directory import LineDirectory, SipLine
from tonalite.services.numbering import parse_number
from tonalite.services.trunks import CarrierTrunk, TrunkService

_VISUAL_SEPARATORS = re.compile(r"[\s.\-()/]")


@dataclass(frozen=True, slots=True)
class ToLine:
    """A line of the platform, whose phone rings `no_reply_s` seconds before the call goes to its voicemail."""

    line: SipLine
    no_reply_s: int


@dataclass(frozen=True, slots=True)
class ToOwnVoicemail:
    """123 from a line: its own voicemail's menu, without a PIN."""

    line: SipLine


@dataclass(frozen=True, slots=True)
class ToVoicemailAccess:
    """The voicemail access number: any box's menu, opened with its line's number and PIN."""


@dataclass(frozen=True, slots=True)
class ToOutside:
    """A number off the platform, and the trunk that carries it out."""

    number: str
    trunk: CarrierTrunk


@dataclass(frozen=True, slots=True)
class NoRoute:
    """A number off the platform that no trunk serves: the call fails (404, as RFC 3398 maps ISUP cause 3,
    "no route to destination"). Not 503: nothing is out of order, and a phone would try its other servers."""

    number: str


@dataclass(frozen=True, slots=True)
class Unassigned:
    """Nobody holds the number, or what was dialled is no number at all: 404."""

    dialled: str


Decision = ToLine | ToOwnVoicemail | ToVoicemailAccess | ToOutside | NoRoute | Unassigned
VOICEMAIL_SHORT_NUMBER = "123"


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


class DialPlan:
    def __init__(self, lines: LineDirectory, trunks: TrunkService, voicemail_access_number: str = "") -> None:
        self._lines = lines
        self._trunks = trunks
        self._voicemail_access_number = voicemail_access_number

    def route(self, dialled: str, caller: SipLine) -> Decision:
        if dialled == VOICEMAIL_SHORT_NUMBER:
            return ToOwnVoicemail(caller)
        number = normalise_dialled(dialled)
        if number is None:
            return Unassigned(dialled)
        if number == self._voicemail_access_number:
            return ToVoicemailAccess()
        line = self._lines.by_number(number)
        if line is not None:
            return self._to_line(line)
        if self._lines.platform_holds(number):
            return Unassigned(number)
        trunk = self._trunks.for_number(number)
        return ToOutside(number, trunk) if trunk is not None else NoRoute(number)

    def route_incoming(self, dialled: str) -> ToLine | ToVoicemailAccess | Unassigned:
        """A call from a trunk reaches a line of the platform, the voicemail access, or nothing: never another
        trunk (the platform is no transit network). The carrier may write the number in E.164, without its +,
        or national."""
        number = normalise_dialled(dialled)
        if number is not None and number == self._voicemail_access_number:
            return ToVoicemailAccess()
        line = self._lines.by_number(number) if number is not None else None
        return self._to_line(line) if line is not None else Unassigned(number or dialled)

    def _to_line(self, line: SipLine) -> ToLine:
        return ToLine(line, self._lines.no_reply_delay(line.line_id))
