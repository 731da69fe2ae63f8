"""What a dialled string means: for a line's caller, another line of the platform, an outside number and the
trunk that carries it, or nothing; for a call coming in from a trunk, the line that holds the number.

Pure decisions over the line directory and the trunks; the call core carries them out. A line's own voicemail
(123), the voicemail access number, star codes and abbreviated numbers are here; alias numbers join in their
own issue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from tonalite.features.dialled import VOICEMAIL_SHORT_NUMBER, normalise_dialled
from tonalite.features.feature_codes import (
    AnsweredCode,
    CancelForwards,
    FeatureCode,
    MalformedCode,
    Presentation,
    PresentedCall,
    parse_feature_code,
)
from tonalite.services.line_directory import LineDirectory, SipLine
from tonalite.services.trunks import CarrierTrunk, TrunkService


@dataclass(frozen=True, slots=True)
class ToLine:
    """A line of the platform, whose phone rings `no_reply_s` seconds before the call goes to its voicemail."""

    line: SipLine
    no_reply_s: int
    presentation: Presentation | None = None
    """The caller's number shown or hidden for this call only (3652/3651), else as the caller's line says."""


@dataclass(frozen=True, slots=True)
class ToOwnVoicemail:
    """123 from a line: its own voicemail's menu, without a PIN."""

    line: SipLine


@dataclass(frozen=True, slots=True)
class ToVoicemailAccess:
    """The voicemail access number: any box's menu, opened with its line's number and PIN."""


@dataclass(frozen=True, slots=True)
class ToFeatureCode:
    """A star code (or a malformed one) dialled from a line: the node answers and applies it to the line."""

    code: AnsweredCode


@dataclass(frozen=True, slots=True)
class ToOutside:
    """A number off the platform, and the trunk that carries it out."""

    number: str
    trunk: CarrierTrunk
    presentation: Presentation | None = None


@dataclass(frozen=True, slots=True)
class NoRoute:
    """A number off the platform that no trunk serves: the call fails (404, as RFC 3398 maps ISUP cause 3,
    "no route to destination"). Not 503: nothing is out of order, and a phone would try its other servers."""

    number: str


@dataclass(frozen=True, slots=True)
class Unassigned:
    """Nobody holds the number, or what was dialled is no number at all: 404."""

    dialled: str


Decision = ToLine | ToOwnVoicemail | ToVoicemailAccess | ToFeatureCode | ToOutside | NoRoute | Unassigned


class AbbreviatedNumbers(Protocol):
    """The short numbers a line may dial (services.abbreviated_numbers.AbbreviatedNumberService)."""

    def resolve(self, line_id: int, billing_group_id: int, dialled: str) -> str | None: ...


class DialPlan:
    def __init__(
        self,
        lines: LineDirectory,
        trunks: TrunkService,
        voicemail_access_number: str = "",
        abbreviated_numbers: AbbreviatedNumbers | None = None,
    ) -> None:
        self._lines = lines
        self._trunks = trunks
        self._voicemail_access_number = voicemail_access_number
        self._abbreviated_numbers = abbreviated_numbers

    def route(self, dialled: str, caller: SipLine) -> Decision:
        """Where a line's call goes; a call to a number is presented as the caller's line says (CLIR), unless
        the caller chose for this call (3651/3652)."""
        decision = self._route(dialled, caller)
        if isinstance(decision, ToLine | ToOutside) and decision.presentation is None:
            restricted = self._lines.identification_restricted(caller.line_id)
            return replace(decision, presentation=Presentation.HIDDEN if restricted else Presentation.SHOWN)
        return decision

    def _route(self, dialled: str, caller: SipLine) -> Decision:
        if dialled == VOICEMAIL_SHORT_NUMBER:
            return ToOwnVoicemail(caller)
        code = parse_feature_code(dialled)
        if isinstance(code, FeatureCode | CancelForwards | MalformedCode):
            return ToFeatureCode(code)
        if isinstance(code, PresentedCall):
            return _presented(self._route(code.dialled, caller), code.presentation)
        if self._abbreviated_numbers is not None:  # the line's short numbers, then its group's
            dialled = self._abbreviated_numbers.resolve(caller.line_id, caller.billing_group_id, dialled) or dialled
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


def _presented(decision: Decision, presentation: Presentation) -> Decision:
    """A call dialled after 3651/3652 goes where the number alone goes, presented as asked; a prefix in front
    of anything but a call (a star code, 123) means nothing, and is unassigned."""
    if isinstance(decision, ToLine | ToOutside):
        return replace(decision, presentation=presentation)
    if isinstance(decision, NoRoute | Unassigned):
        return decision
    return Unassigned("")
