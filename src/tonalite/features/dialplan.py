"""What a dialled string means: for a line's caller, another line of the platform, an outside number and the
trunk that carries it, or nothing; for a call coming in from a trunk, the line that holds the number.

Pure decisions over the line directory and the trunks; the call core carries them out. A line's own voicemail
(123), the voicemail access number, star codes, abbreviated numbers, emergency numbers and the caller's outgoing
barring (its lock, its outgoing screen list) are here; what a called line's options make of a call is
features.forwarding's, read here (`at_line`). Alias numbers join in their own issue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import NamedTuple, Protocol

from tonalite.features import forwarding
from tonalite.features.call_options import CallOptions
from tonalite.features.dialled import EMERGENCY_NUMBERS, VOICEMAIL_SHORT_NUMBER, normalise_dialled
from tonalite.features.feature_codes import (
    AnsweredCode,
    CancelForwards,
    FeatureCode,
    MalformedCode,
    Presentation,
    PresentedCall,
    parse_feature_code,
)
from tonalite.features.forwarding import Callee, Situation, route_to_line, situation_on_arrival
from tonalite.services.line_directory import LineDirectory, LineSettings, SipLine
from tonalite.services.screen_lists import screened
from tonalite.services.trunks import CarrierTrunk, TrunkService
from tonalite.store.models import ScreenDirection


@dataclass(frozen=True, slots=True)
class ToLine:
    """A line of the platform; its options decide what then happens (`DialPlan.at_line`)."""

    line: SipLine
    presentation: Presentation | None = None
    """The caller's number shown or hidden for this call only (3652/3651), else as the caller's line says."""
    display_number: str = ""
    """The number the caller's line presents instead of its own (displayNumber); empty: its own."""
    outgoing: bool = False
    """A forward to a line of another account: an outgoing call of the forwarding line, as one off the platform."""


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
    display_number: str = ""


@dataclass(frozen=True, slots=True)
class NoRoute:
    """A number off the platform that no trunk serves: the call fails (404, as RFC 3398 maps ISUP cause 3,
    "no route to destination"). Not 503: nothing is out of order, and a phone would try its other servers."""

    number: str


@dataclass(frozen=True, slots=True)
class Unassigned:
    """Nobody holds the number, or what was dialled is no number at all: 404."""

    dialled: str


class BarReason(StrEnum):
    LOCKED = "locked"
    """The line's outgoing calls are locked (lockOutCall), emergency numbers excepted."""
    SCREENED = "screened"
    """The line's outgoing screen list refuses the number."""


@dataclass(frozen=True, slots=True)
class Barred:
    """The caller's line may not make this call: 403."""

    number: str
    reason: BarReason


Decision = ToLine | ToOwnVoicemail | ToVoicemailAccess | ToFeatureCode | ToOutside | NoRoute | Unassigned | Barred
Forwarded = ToLine | ToOutside | NoRoute | Unassigned | Barred
"""Where a forward to a number goes: a line, or an outgoing call of the forwarding line."""


class Arrival(NamedTuple):
    """What the call core knows of a called line as a call arrives."""

    registered: bool
    calls_in_progress: int


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
        """Where a line's call goes. A call to a number is presented as the caller's line says (CLIR), unless the
        caller chose for this call (3651/3652), with the line's display number if it has one; a locked line
        calls emergency numbers only (star codes and its voicemail still answer: `#33*PIN#` unlocks it)."""
        settings = self._lines.settings(caller.line_id)
        decision = self._route(dialled, caller)
        if isinstance(decision, ToOutside | NoRoute) and decision.number in EMERGENCY_NUMBERS:
            return self._presented_as(decision, settings) if isinstance(decision, ToOutside) else decision
        if settings.lock_out_call and isinstance(decision, ToLine | ToOutside | NoRoute | Unassigned):
            return Barred(_number_of(decision), BarReason.LOCKED)
        if isinstance(decision, ToLine | ToOutside):
            if settings.screen_entries and self._screens_out(caller, decision):
                return Barred(_number_of(decision), BarReason.SCREENED)
            return self._presented_as(decision, settings)
        return decision

    def route_forward(self, number: str, line: SipLine) -> Forwarded:
        """Where a forward of `line` to `number` goes: to another line of its account, or out of the account (a
        trunk, or another account's line) as an outgoing call of `line`, which its lock and its outgoing screen
        list may bar."""
        decision = self._to_number(number)
        if isinstance(decision, ToLine):
            if self._lines.same_account(line, decision.line):
                return decision
            decision = replace(decision, outgoing=True)
        if not isinstance(decision, ToLine | ToOutside):
            return decision
        settings = self._lines.settings(line.line_id)
        if settings.lock_out_call:
            return Barred(number, BarReason.LOCKED)
        if settings.screen_entries and self._screens_out(line, decision):
            return Barred(number, BarReason.SCREENED)
        return decision

    def at_line(
        self,
        line: SipLine,
        situation: Situation | Arrival,
        caller: str | None,
        forwarded_through: Sequence[str] = (),
    ) -> forwarding.Decision:
        """What `line`'s options make of a call from `caller` (None: anonymous), on arrival or when its phone is
        busy or does not answer (features.forwarding)."""
        settings = self._lines.settings(line.line_id)
        options = CallOptions.of(settings)
        if isinstance(situation, Arrival):
            situation = situation_on_arrival(
                registered=situation.registered,
                calls_in_progress=situation.calls_in_progress,
                simultaneous_calls=line.simultaneous_calls,
                call_waiting=options.call_waiting,
            )
        refused = bool(settings.screen_entries) and screened(
            self._lines.screen_entries(line.line_id), caller, ScreenDirection.INCOMING
        )
        return route_to_line(
            Callee(line.number, options, settings.voicemail_on),
            situation,
            anonymous_caller=caller is None,
            screened_caller=refused,
            forwarded_through=forwarded_through,
        )

    def box_line(self, number: str, forwarding: SipLine) -> SipLine:
        """The line whose voicemail a forward of `forwarding` names by `number`: one of its account's lines (as
        the options service checks when the forward is set: the line may have changed hands since), else
        `forwarding` itself."""
        if number == forwarding.number:
            return forwarding
        line = self._lines.by_number(number)
        return line if line is not None and self._lines.same_account(forwarding, line) else forwarding

    def _route(self, dialled: str, caller: SipLine) -> Decision:
        if dialled == VOICEMAIL_SHORT_NUMBER:
            return ToOwnVoicemail(caller)
        if dialled in EMERGENCY_NUMBERS:  # national numbers: the trunk of the caller's own country carries them
            trunk = self._trunks.for_number(caller.number)
            return ToOutside(dialled, trunk) if trunk is not None else NoRoute(dialled)
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
        return self._to_number(number)

    def _to_number(self, number: str) -> ToLine | ToOutside | NoRoute | Unassigned:
        line = self._lines.by_number(number)
        if line is not None:
            return ToLine(line)
        if self._lines.platform_holds(number):
            return Unassigned(number)
        trunk = self._trunks.for_number(number)
        return ToOutside(number, trunk) if trunk is not None else NoRoute(number)

    def _screens_out(self, caller: SipLine, decision: ToLine | ToOutside) -> bool:
        return screened(self._lines.screen_entries(caller.line_id), _number_of(decision), ScreenDirection.OUTGOING)

    @staticmethod
    def _presented_as(decision: ToLine | ToOutside, settings: LineSettings) -> ToLine | ToOutside:
        presentation = decision.presentation
        if presentation is None:
            presentation = Presentation.HIDDEN if settings.identification_restriction else Presentation.SHOWN
        return replace(decision, presentation=presentation, display_number=settings.display_number)

    def route_incoming(self, dialled: str) -> ToLine | ToVoicemailAccess | Unassigned:
        """A call from a trunk reaches a line of the platform, the voicemail access, or nothing: never another
        trunk (the platform is no transit network). The carrier may write the number in E.164, without its +,
        or national."""
        number = normalise_dialled(dialled)
        if number is not None and number == self._voicemail_access_number:
            return ToVoicemailAccess()
        line = self._lines.by_number(number) if number is not None else None
        return ToLine(line) if line is not None else Unassigned(number or dialled)


def _number_of(decision: ToLine | ToOutside | NoRoute | Unassigned) -> str:
    return (
        decision.line.number
        if isinstance(decision, ToLine)
        else (decision.number if isinstance(decision, ToOutside | NoRoute) else decision.dialled)
    )


def _presented(decision: Decision, presentation: Presentation) -> Decision:
    """A call dialled after 3651/3652 goes where the number alone goes, presented as asked; a prefix in front
    of anything but a call (a star code, 123) means nothing, and is unassigned."""
    if isinstance(decision, ToLine | ToOutside):
        return replace(decision, presentation=presentation)
    if isinstance(decision, NoRoute | Unassigned):
        return decision
    return Unassigned("")
