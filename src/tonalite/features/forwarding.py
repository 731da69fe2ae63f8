"""Where a call to a line goes, from the line's options and what its phone is doing. The first rule that
applies wins:

1. anonymous call rejection, for a caller who hides their number: the announcement, then 433 (RFC 5079); and a
   caller the line's incoming screen list refuses: 603. A barring comes before any diversion (3GPP TS 24.604),
   so a forward never carries a call the line refuses;
2. the unconditional forward;
3. do not disturb: the line's voicemail if its box is on, else busy (486);
4. absent subscriber: "your correspondent is absent", then 480;
5. busy (see `situation_on_arrival`, or the phone refused the call with busy): the busy forward, else the
   voicemail, else 486;
6. not registered: the backup forward (forwardBackup), else the voicemail, else 480;
7. no reply within the delay: the no-reply forward, else the voicemail, else the phone keeps ringing;
8. otherwise the phone rings.

A forward to a number (nature number or line) is routed by the call core as if the line had dialled it; when
it reaches another line, that line's options decide in turn, with this line added to `forwarded_through`. A
forward that would reach a line already in that chain (A→B→A), or a call already forwarded MAX_FORWARDS times,
ends on the voicemail of the line where it was found, or busy: a call never goes round for ever. A forward of
nature voicemail ends the chain on a box, so it never loops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum, auto

from tonalite.features.call_options import CallOptions, Forward
from tonalite.store.models import ForwardNature

MAX_FORWARDS = 5


class Situation(Enum):
    IDLE = auto()
    """The call arrives, and the registered phone can take it."""
    NOT_REGISTERED = auto()
    BUSY = auto()
    """The line cannot take another call, or its phone refused this one with busy."""
    NO_REPLY = auto()
    """The phone rang for the no-reply delay unanswered."""


def situation_on_arrival(
    *, registered: bool, calls_in_progress: int, simultaneous_calls: int, call_waiting: bool
) -> Situation:
    """A line is busy at its simultaneous-calls limit, or in a call when call waiting is off."""
    if not registered:
        return Situation.NOT_REGISTERED
    if calls_in_progress >= simultaneous_calls or (calls_in_progress > 0 and not call_waiting):
        return Situation.BUSY
    return Situation.IDLE


@dataclass(frozen=True, slots=True)
class Callee:
    number: str
    """The line's number (E.164)."""
    options: CallOptions
    voicemail_on: bool


class ForwardReason(StrEnum):
    """Why a call was forwarded, as the Diversion header (RFC 5806) says it."""

    UNCONDITIONAL = "unconditional"
    BUSY = "user-busy"
    NO_REPLY = "no-answer"
    NOT_REGISTERED = "unavailable"


@dataclass(frozen=True, slots=True)
class Ring:
    no_reply_s: int | None
    """Seconds before Situation.NO_REPLY is decided; None when nothing would follow: the phone rings until the
    call core's ring timeout."""
    no_reply_forward: bool
    """Whether a no-reply forward is set (else the voicemail takes the call after the delay)."""


@dataclass(frozen=True, slots=True)
class ForwardTo:
    number: str
    reason: ForwardReason


@dataclass(frozen=True, slots=True)
class ToVoicemail:
    line: str
    """The number of the line whose box takes the message."""


@dataclass(frozen=True, slots=True)
class Announce:
    """Play the prompt to the caller (early media), then end the call with the status."""

    prompt: str
    status: int


@dataclass(frozen=True, slots=True)
class Fail:
    status: int


Decision = Ring | ForwardTo | ToVoicemail | Announce | Fail

BUSY = Fail(486)
UNAVAILABLE = Fail(480)
ABSENT = Announce("absent_subscriber", 480)
ANONYMOUS_REJECTED = Announce("anonymous_calls_rejected", 433)
SCREENED_OUT = Fail(603)
KEEP_RINGING = Ring(None, no_reply_forward=False)


def route_to_line(
    callee: Callee,
    situation: Situation,
    *,
    anonymous_caller: bool = False,
    screened_caller: bool = False,
    forwarded_through: Sequence[str] = (),
) -> Decision:
    """What happens to a call to `callee` in `situation`; `screened_caller` when the line's incoming screen
    list refuses the caller, `forwarded_through` the lines whose forwards brought it here, in order."""
    options = callee.options
    if options.anonymous_call_rejection and anonymous_caller:
        return ANONYMOUS_REJECTED
    if screened_caller:
        return SCREENED_OUT
    if _is_set(options.forward_unconditional):
        return _forward(callee, options.forward_unconditional, ForwardReason.UNCONDITIONAL, forwarded_through)
    if options.do_not_disturb:
        return _voicemail_or(callee, BUSY)
    if options.absent_subscriber:
        return ABSENT
    otherwise: Decision
    match situation:
        case Situation.BUSY:
            forward, reason, otherwise = options.forward_busy, ForwardReason.BUSY, BUSY
        case Situation.NOT_REGISTERED:
            forward, reason, otherwise = options.forward_backup, ForwardReason.NOT_REGISTERED, UNAVAILABLE
        case Situation.NO_REPLY:
            forward, reason, otherwise = options.forward_no_reply, ForwardReason.NO_REPLY, KEEP_RINGING
        case Situation.IDLE:
            return _ring(callee)
    if _is_set(forward):
        return _forward(callee, forward, reason, forwarded_through)
    return _voicemail_or(callee, otherwise)


def _ring(callee: Callee) -> Ring:
    no_reply_forward = _is_set(callee.options.forward_no_reply)
    if no_reply_forward or callee.voicemail_on:
        return Ring(callee.options.forward_no_reply_delay, no_reply_forward)
    return KEEP_RINGING


def _forward(callee: Callee, forward: Forward, reason: ForwardReason, chain: Sequence[str]) -> Decision:
    if forward.nature == ForwardNature.VOICEMAIL:
        return ToVoicemail(forward.number or callee.number)
    if forward.number == callee.number or forward.number in chain or len(chain) >= MAX_FORWARDS:
        return _voicemail_or(callee, BUSY)
    return ForwardTo(forward.number, reason)


def _voicemail_or(callee: Callee, otherwise: Decision) -> Decision:
    return ToVoicemail(callee.number) if callee.voicemail_on else otherwise


def _is_set(forward: Forward) -> bool:
    """On, with somewhere to go (the options service refuses a forward on without a number)."""
    return forward.enabled and forward.has_destination
