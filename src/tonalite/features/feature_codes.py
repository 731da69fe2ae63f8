"""Star codes: what a line's phone dials to set its call options (*21*0999001234#, #21#, *#21#, **21#, #002…),
and the 3651/3652 prefixes that hide or show the caller's number for one call. Parsing says what was dialled;
applying says what to change and what the caller hears. The call core carries both out.

Accepted: the user part of the Request-URI as the call core unescapes it. A `%23` still in it (a phone that
escaped it twice) is read as `#`. The closing `#` may be left out (phones that use # as their send key drop
it): `*21*0999001234` is `*21*0999001234#`. Anything else beginning with `*` or `#` is a mistyped code: the
caller hears so, and nothing changes (it never reaches the dial plan).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum, auto

from tonalite.features.call_options import CallOptions, Forward
from tonalite.features.dialled import VOICEMAIL_SHORT_NUMBER, normalise_dialled
from tonalite.features.spoken import spoken_count, spoken_phone_number
from tonalite.services.line_options import FORWARDS, NO_REPLY_DELAY_RANGE
from tonalite.store.models import ForwardNature, Language


class Feature(StrEnum):
    """What a star code sets; the value is the LineOptions field (and CallOptions attribute) holding it."""

    FORWARD_UNCONDITIONAL = "forward_unconditional"
    FORWARD_NO_REPLY = "forward_no_reply"
    FORWARD_BUSY = "forward_busy"
    ABSENT_SUBSCRIBER = "absent_subscriber"
    DO_NOT_DISTURB = "do_not_disturb"
    IDENTIFICATION_RESTRICTION = "identification_restriction"
    ANONYMOUS_CALL_REJECTION = "anonymous_call_rejection"
    LOCK_OUT_CALL = "lock_out_call"

    @property
    def is_forward(self) -> bool:
        return self.value.startswith("forward_")


class Action(Enum):
    ACTIVATE = auto()
    DEACTIVATE = auto()
    QUERY = auto()
    TOGGLE = auto()


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a forward goes: a number (E.164), or the line's own voicemail (nature voicemail, no number)."""

    nature: ForwardNature
    number: str = ""


@dataclass(frozen=True, slots=True)
class FeatureCode:
    feature: Feature
    action: Action
    destination: Destination | None = None
    """A forward's activation: where to; None for where it went last (*21#)."""
    delay_s: int | None = None
    """*61*NUM*SECONDS#: the no-reply delay; None leaves it as it is."""
    pin: str = ""
    """The outgoing lock's PIN: four digits."""


@dataclass(frozen=True, slots=True)
class CancelForwards:
    """#002: every forward off."""


class Presentation(Enum):
    HIDDEN = auto()
    SHOWN = auto()


@dataclass(frozen=True, slots=True)
class PresentedCall:
    """3651NUM / 3652NUM: a call to `dialled`, routed by the dial plan as if dialled alone, with the caller's
    number hidden or shown for this call only, whatever identification_restriction says. Nothing is set."""

    dialled: str
    presentation: Presentation


class Fault(Enum):
    UNKNOWN_CODE = auto()
    """Not a code of the table, or the wrong arguments for it."""
    NUMBER = auto()
    DELAY = auto()
    PIN = auto()


@dataclass(frozen=True, slots=True)
class MalformedCode:
    dialled: str
    fault: Fault


ParsedCode = FeatureCode | CancelForwards | PresentedCall | MalformedCode
AnsweredCode = FeatureCode | CancelForwards | MalformedCode
"""A code the node answers itself (every one but a call with its presentation chosen)."""

_SERVICES = {
    "21": Feature.FORWARD_UNCONDITIONAL,
    "61": Feature.FORWARD_NO_REPLY,
    "69": Feature.FORWARD_BUSY,
    "24": Feature.ABSENT_SUBSCRIBER,
    "26": Feature.DO_NOT_DISTURB,
    "31": Feature.IDENTIFICATION_RESTRICTION,
    "82": Feature.ANONYMOUS_CALL_REJECTION,
    "33": Feature.LOCK_OUT_CALL,
}
_ACTIONS = {"*": Action.ACTIVATE, "#": Action.DEACTIVATE, "*#": Action.QUERY, "**": Action.TOGGLE}
_CODE = re.compile(r"(?P<prefix>\*#|\*\*|\*|#)(?P<service>[0-9]{2})(?P<arguments>(?:\*[^*#]*)*)#?")
_CANCEL_FORWARDS = ("#002", "#002#")
_PRESENTATION_PREFIXES = {"3651": Presentation.HIDDEN, "3652": Presentation.SHOWN}
_PIN = re.compile(r"[0-9]{4}")
_DELAY = re.compile(r"[0-9]{1,3}")


def parse_feature_code(dialled: str) -> ParsedCode | None:
    """What a line's phone dialled, if it is a code; None for anything else (the dial plan routes it)."""
    dialled = dialled.replace("%23", "#")
    prefix, rest = dialled[:4], dialled[4:]
    if prefix in _PRESENTATION_PREFIXES:
        return PresentedCall(rest, _PRESENTATION_PREFIXES[prefix]) if rest else MalformedCode(dialled, Fault.NUMBER)
    if not dialled.startswith(("*", "#")):
        return None
    if dialled in _CANCEL_FORWARDS:
        return CancelForwards()
    match = _CODE.fullmatch(dialled)
    feature = _SERVICES.get(match["service"]) if match else None
    if match is None or feature is None:
        return MalformedCode(dialled, Fault.UNKNOWN_CODE)
    action = _ACTIONS[match["prefix"]]
    arguments = match["arguments"].split("*")[1:]
    if feature == Feature.LOCK_OUT_CALL:
        return _lock(dialled, action, arguments)
    if feature.is_forward and action == Action.ACTIVATE:
        return _forward_activation(dialled, feature, arguments)
    return FeatureCode(feature, action) if not arguments else MalformedCode(dialled, Fault.UNKNOWN_CODE)


def _lock(dialled: str, action: Action, arguments: list[str]) -> FeatureCode | MalformedCode:
    if action == Action.TOGGLE:
        return MalformedCode(dialled, Fault.UNKNOWN_CODE)
    if len(arguments) != 1 or not _PIN.fullmatch(arguments[0]):
        return MalformedCode(dialled, Fault.PIN)
    return FeatureCode(Feature.LOCK_OUT_CALL, action, pin=arguments[0])


def _forward_activation(dialled: str, feature: Feature, arguments: list[str]) -> FeatureCode | MalformedCode:
    most = 2 if feature == Feature.FORWARD_NO_REPLY else 1
    if len(arguments) > most:
        return MalformedCode(dialled, Fault.UNKNOWN_CODE)
    if not arguments:
        return FeatureCode(feature, Action.ACTIVATE)
    destination = _destination(arguments[0])
    if destination is None:
        return MalformedCode(dialled, Fault.NUMBER)
    if len(arguments) == 1:
        return FeatureCode(feature, Action.ACTIVATE, destination)
    low, high = NO_REPLY_DELAY_RANGE
    if not _DELAY.fullmatch(arguments[1]) or not low <= int(arguments[1]) <= high:
        return MalformedCode(dialled, Fault.DELAY)
    return FeatureCode(feature, Action.ACTIVATE, destination, delay_s=int(arguments[1]))


def _destination(dialled: str) -> Destination | None:
    if dialled == VOICEMAIL_SHORT_NUMBER:
        return Destination(ForwardNature.VOICEMAIL)
    number = normalise_dialled(dialled)
    return Destination(ForwardNature.NUMBER, number) if number is not None else None


OptionValue = bool | int | str


@dataclass(frozen=True, slots=True)
class CodeOutcome:
    changes: Mapping[str, OptionValue]
    """The options to set, by LineOptionsService's snake_case names (origin ChangeOrigin.PHONE); empty when
    nothing changes."""
    prompts: tuple[str, ...]
    number: str = ""
    """A number (E.164) spoken after the prompts, or empty."""

    def spoken(self, language: Language) -> list[str]:
        """The prompt ids the caller hears, the number included."""
        return [*self.prompts, *(spoken_phone_number(self.number, language) if self.number else ())]


PinCheck = Callable[[str], bool]
"""Whether a PIN typed is the line's lock PIN (False when the line has none)."""


def apply_feature_code(code: AnsweredCode, options: CallOptions, pin_matches: PinCheck) -> CodeOutcome:
    """What a code changes in the line's options, and what the caller hears: the new state, the state asked
    for, or why nothing changed."""
    match code:
        case MalformedCode():
            return CodeOutcome({}, ("code_invalid",))
        case CancelForwards():
            return CodeOutcome(dict.fromkeys(FORWARDS, False), ("code_all_forwards_off",))
        case FeatureCode(feature=Feature.LOCK_OUT_CALL, pin=pin) if not pin_matches(pin):
            return CodeOutcome({}, ("voicemail_wrong_pin",))
        case FeatureCode(feature=feature) if feature.is_forward:
            return _apply_to_forward(code, options)
        case FeatureCode(feature=feature, action=action):
            current: bool = getattr(options, feature.value)
            if action == Action.QUERY:
                return CodeOutcome({}, _flag_state(feature, current))
            new = action == Action.ACTIVATE or (action == Action.TOGGLE and not current)
            return CodeOutcome({feature.value: new}, _flag_state(feature, new))


def _apply_to_forward(code: FeatureCode, options: CallOptions) -> CodeOutcome:
    feature = code.feature
    current: Forward = getattr(options, feature.value)
    delay = options.forward_no_reply_delay
    if code.action == Action.QUERY:
        return _forward_state(feature, current, delay, {})
    if code.action == Action.DEACTIVATE or (code.action == Action.TOGGLE and current.enabled):
        return CodeOutcome({feature.value: False}, _flag_state(feature, False))
    destination = code.destination
    if destination is None and current.has_destination:
        destination = Destination(current.nature, current.number)
    if destination is None:
        return CodeOutcome({}, ("code_no_forward_number",))
    changes: dict[str, OptionValue] = {
        feature.value: True,
        f"{feature.value}_number": destination.number,
        f"{feature.value}_nature": destination.nature,
    }
    if code.delay_s is not None:
        changes["forward_no_reply_delay"] = code.delay_s
        delay = code.delay_s
    return _forward_state(feature, Forward(True, destination.number, destination.nature), delay, changes)


def _flag_state(feature: Feature, on: bool) -> tuple[str, ...]:
    return f"code_{feature.value}", "code_is_on" if on else "code_is_off"


def _forward_state(feature: Feature, forward: Forward, delay_s: int, changes: Mapping[str, OptionValue]) -> CodeOutcome:
    """ "Le renvoi … est activé vers" the number or the voicemail ("… après 20 secondes, vers" for no reply)."""
    if not forward.enabled:
        return CodeOutcome(changes, _flag_state(feature, False))
    subject = f"code_{feature.value}"
    if feature == Feature.FORWARD_NO_REPLY:
        head = (subject, "code_is_on_after", *spoken_count(delay_s), "code_seconds_to")
    else:
        head = (subject, "code_is_on_to")
    if forward.nature != ForwardNature.VOICEMAIL:
        return CodeOutcome(changes, head, forward.number)
    if forward.number:
        return CodeOutcome(changes, (*head, "code_voicemail_of"), forward.number)
    return CodeOutcome(changes, (*head, "code_your_voicemail"))
