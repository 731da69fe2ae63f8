"""Where a call to a line goes: every rule in its order, in every situation, and forwards that loop or go on
too long ending on a voicemail or busy."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from typing import Any

import pytest

from tonalite.features.call_options import CallOptions, Forward
from tonalite.features.forwarding import (
    ABSENT,
    ANONYMOUS_REJECTED,
    BUSY,
    KEEP_RINGING,
    MAX_FORWARDS,
    SCREENED_OUT,
    UNAVAILABLE,
    Announce,
    Callee,
    Decision,
    ForwardReason,
    ForwardTo,
    Ring,
    Situation,
    ToVoicemail,
    route_to_line,
    situation_on_arrival,
)
from tonalite.prompts import LANGUAGES, prompt_path
from tonalite.store.models import ForwardNature

A = "+33999001001"
B = "+33999001002"
C = "+33999001003"
OUTSIDE = "+33140506070"
TO_OUTSIDE = Forward(True, OUTSIDE)
TO_OWN_BOX = Forward(True, "", ForwardNature.VOICEMAIL)
ALL = list(Situation)
NONE = CallOptions()


def _opts(**changes: Any) -> CallOptions:
    return replace(NONE, **changes)


@pytest.mark.parametrize(
    ("options", "voicemail_on", "situations", "decision"),
    [
        # nothing set
        (NONE, False, [Situation.IDLE], KEEP_RINGING),
        (NONE, True, [Situation.IDLE], Ring(20, no_reply_forward=False)),
        (_opts(forward_no_reply_delay=45), True, [Situation.IDLE], Ring(45, no_reply_forward=False)),
        (_opts(forward_no_reply=TO_OUTSIDE, forward_no_reply_delay=30), False, [Situation.IDLE], Ring(30, True)),
        (_opts(forward_no_reply=Forward(True)), False, [Situation.IDLE], KEEP_RINGING),  # on, nowhere to go
        (_opts(forward_no_reply=Forward(False, OUTSIDE)), False, [Situation.IDLE], KEEP_RINGING),
        # 1. unconditional first, whatever the phone does
        (_opts(forward_unconditional=TO_OUTSIDE), True, ALL, ForwardTo(OUTSIDE, ForwardReason.UNCONDITIONAL)),
        (
            _opts(forward_unconditional=Forward(True, B, ForwardNature.LINE)),
            False,
            ALL,
            ForwardTo(B, ForwardReason.UNCONDITIONAL),
        ),
        (_opts(forward_unconditional=TO_OWN_BOX), False, ALL, ToVoicemail(A)),
        (_opts(forward_unconditional=Forward(True, B, ForwardNature.VOICEMAIL)), False, ALL, ToVoicemail(B)),
        (
            _opts(forward_unconditional=TO_OUTSIDE, do_not_disturb=True, absent_subscriber=True),
            True,
            ALL,
            ForwardTo(OUTSIDE, ForwardReason.UNCONDITIONAL),
        ),
        (_opts(forward_unconditional=Forward(False, OUTSIDE)), False, [Situation.IDLE], KEEP_RINGING),
        (_opts(forward_unconditional=Forward(True)), False, [Situation.BUSY], BUSY),  # on, nowhere to go
        # 2. do not disturb
        (_opts(do_not_disturb=True), True, ALL, ToVoicemail(A)),
        (_opts(do_not_disturb=True), False, ALL, BUSY),
        (_opts(do_not_disturb=True, forward_busy=TO_OUTSIDE, forward_backup=TO_OUTSIDE), False, ALL, BUSY),
        (_opts(do_not_disturb=True, absent_subscriber=True), False, ALL, BUSY),
        # 3. absent subscriber
        (_opts(absent_subscriber=True), True, ALL, ABSENT),
        (_opts(absent_subscriber=True, forward_busy=TO_OUTSIDE), False, ALL, ABSENT),
        # 4. busy
        (_opts(forward_busy=TO_OUTSIDE), True, [Situation.BUSY], ForwardTo(OUTSIDE, ForwardReason.BUSY)),
        (_opts(forward_busy=TO_OWN_BOX), False, [Situation.BUSY], ToVoicemail(A)),
        (NONE, True, [Situation.BUSY], ToVoicemail(A)),
        (NONE, False, [Situation.BUSY], BUSY),
        (_opts(forward_backup=TO_OUTSIDE, forward_no_reply=TO_OUTSIDE), False, [Situation.BUSY], BUSY),
        # 5. not registered
        (
            _opts(forward_backup=TO_OUTSIDE),
            True,
            [Situation.NOT_REGISTERED],
            ForwardTo(OUTSIDE, ForwardReason.NOT_REGISTERED),
        ),
        (NONE, True, [Situation.NOT_REGISTERED], ToVoicemail(A)),
        (NONE, False, [Situation.NOT_REGISTERED], UNAVAILABLE),
        (_opts(forward_busy=TO_OUTSIDE, forward_no_reply=TO_OUTSIDE), False, [Situation.NOT_REGISTERED], UNAVAILABLE),
        # 6. no reply
        (_opts(forward_no_reply=TO_OUTSIDE), True, [Situation.NO_REPLY], ForwardTo(OUTSIDE, ForwardReason.NO_REPLY)),
        (_opts(forward_no_reply=TO_OWN_BOX), False, [Situation.NO_REPLY], ToVoicemail(A)),
        (NONE, True, [Situation.NO_REPLY], ToVoicemail(A)),
        (NONE, False, [Situation.NO_REPLY], KEEP_RINGING),
        (_opts(forward_busy=TO_OUTSIDE, forward_backup=TO_OUTSIDE), False, [Situation.NO_REPLY], KEEP_RINGING),
    ],
)
def test_rules(options: CallOptions, voicemail_on: bool, situations: list[Situation], decision: Decision) -> None:
    for situation in situations:
        assert route_to_line(Callee(A, options, voicemail_on), situation) == decision, situation


@pytest.mark.parametrize(
    ("options", "anonymous_caller", "decision"),
    [
        (_opts(anonymous_call_rejection=True), True, ANONYMOUS_REJECTED),
        (_opts(anonymous_call_rejection=True, forward_unconditional=TO_OUTSIDE), True, ANONYMOUS_REJECTED),
        (_opts(anonymous_call_rejection=True, do_not_disturb=True), True, ANONYMOUS_REJECTED),
        (_opts(anonymous_call_rejection=True), False, Ring(20, no_reply_forward=False)),
        (NONE, True, Ring(20, no_reply_forward=False)),
    ],
)
def test_anonymous_call_rejection_comes_first(options: CallOptions, anonymous_caller: bool, decision: Decision) -> None:
    callee = Callee(A, options, voicemail_on=True)
    assert route_to_line(callee, Situation.IDLE, anonymous_caller=anonymous_caller) == decision


@pytest.mark.parametrize(
    ("options", "situation"),
    [
        (NONE, Situation.IDLE),
        (_opts(forward_unconditional=TO_OUTSIDE), Situation.IDLE),
        (_opts(do_not_disturb=True), Situation.IDLE),
        (_opts(forward_busy=TO_OUTSIDE), Situation.BUSY),
        (_opts(forward_backup=TO_OWN_BOX), Situation.NOT_REGISTERED),
    ],
)
def test_a_screened_caller_is_refused_before_any_forward(options: CallOptions, situation: Situation) -> None:
    callee = Callee(A, options, voicemail_on=True)
    assert route_to_line(callee, situation, screened_caller=True) == SCREENED_OUT
    assert route_to_line(callee, situation, screened_caller=False) != SCREENED_OUT
    rejecting = replace(options, anonymous_call_rejection=True)
    assert route_to_line(Callee(A, rejecting, True), situation, anonymous_caller=True, screened_caller=True) == (
        ANONYMOUS_REJECTED
    )


FIVE = tuple(f"+3399900200{index}" for index in range(MAX_FORWARDS))


@pytest.mark.parametrize(
    ("target", "chain", "loops"),
    [
        (A, (), True),  # A -> A
        (B, (B,), True),  # B -> A -> B
        (B, (B, C), True),  # B -> C -> A -> B
        (C, (B, C), True),  # B -> C -> A -> C
        (OUTSIDE, (B,), False),
        (C, (B,), False),
        (OUTSIDE, FIVE[:-1], False),  # the fifth forward
        (OUTSIDE, FIVE, True),  # a sixth one
    ],
)
@pytest.mark.parametrize(
    ("forward", "situation"),
    [
        ("forward_unconditional", Situation.IDLE),
        ("forward_busy", Situation.BUSY),
        ("forward_backup", Situation.NOT_REGISTERED),
        ("forward_no_reply", Situation.NO_REPLY),
    ],
)
@pytest.mark.parametrize("voicemail_on", [True, False])
def test_loops_end_on_the_voicemail_or_busy(
    target: str, chain: tuple[str, ...], loops: bool, forward: str, situation: Situation, voicemail_on: bool
) -> None:
    callee = Callee(A, _opts(**{forward: Forward(True, target)}), voicemail_on)
    decision = route_to_line(callee, situation, forwarded_through=chain)
    if loops:
        assert decision == (ToVoicemail(A) if voicemail_on else BUSY)
    else:
        assert isinstance(decision, ForwardTo) and decision.number == target


@pytest.mark.parametrize("chain", [(B,), FIVE])
def test_a_forward_to_a_voicemail_never_loops(chain: tuple[str, ...]) -> None:
    callee = Callee(A, _opts(forward_unconditional=Forward(True, B, ForwardNature.VOICEMAIL)), voicemail_on=False)
    assert route_to_line(callee, Situation.IDLE, forwarded_through=chain) == ToVoicemail(B)


def _follow(lines: dict[str, Callee], first: str) -> tuple[Decision, list[str]]:
    """Carry a call as the call core does: each forward to a line of the platform is decided by that line."""
    chain: list[str] = []
    callee = lines[first]
    while True:
        decision = route_to_line(callee, Situation.IDLE, forwarded_through=chain)
        if not isinstance(decision, ForwardTo) or decision.number not in lines:
            return decision, chain
        assert len(chain) <= MAX_FORWARDS
        chain.append(callee.number)
        callee = lines[decision.number]


def _lines(forwards: dict[str, str], boxes: set[str]) -> dict[str, Callee]:
    numbers = set(forwards) | set(forwards.values())
    return {
        number: Callee(
            number,
            _opts(forward_unconditional=Forward(True, forwards[number])) if number in forwards else NONE,
            voicemail_on=number in boxes,
        )
        for number in numbers
    }


LONG = [f"+3399900300{index}" for index in range(8)]


@pytest.mark.parametrize(
    ("forwards", "boxes", "decision", "chain"),
    [
        ({A: A}, {A}, ToVoicemail(A), []),
        ({A: A}, set(), BUSY, []),
        ({A: B, B: A}, {A, B}, ToVoicemail(B), [A]),
        ({A: B, B: A}, {A}, BUSY, [A]),
        ({A: B, B: C, C: A}, {A, B, C}, ToVoicemail(C), [A, B]),
        ({A: B, B: C, C: B}, {A, B, C}, ToVoicemail(C), [A, B]),
        ({A: B, B: C}, set(), KEEP_RINGING, [A, B]),
        ({A: B, B: C}, {C}, Ring(20, no_reply_forward=False), [A, B]),
        (dict(pairwise(LONG)), set(LONG), ToVoicemail(LONG[5]), LONG[:5]),
        (dict(pairwise(LONG)), set(), BUSY, LONG[:5]),
    ],
)
def test_forward_chains_end(forwards: dict[str, str], boxes: set[str], decision: Decision, chain: list[str]) -> None:
    assert _follow(_lines(forwards, boxes), next(iter(forwards))) == (decision, chain)


@pytest.mark.parametrize(
    ("registered", "calls_in_progress", "simultaneous_calls", "call_waiting", "situation"),
    [
        (False, 0, 2, True, Situation.NOT_REGISTERED),
        (True, 0, 2, True, Situation.IDLE),
        (True, 0, 1, False, Situation.IDLE),
        (True, 1, 2, True, Situation.IDLE),  # call waiting
        (True, 1, 2, False, Situation.BUSY),
        (True, 2, 2, True, Situation.BUSY),  # at the limit
        (True, 1, 1, True, Situation.BUSY),
        (True, 3, 2, True, Situation.BUSY),
    ],
)
def test_situation_on_arrival(
    registered: bool, calls_in_progress: int, simultaneous_calls: int, call_waiting: bool, situation: Situation
) -> None:
    assert (
        situation_on_arrival(
            registered=registered,
            calls_in_progress=calls_in_progress,
            simultaneous_calls=simultaneous_calls,
            call_waiting=call_waiting,
        )
        == situation
    )


@pytest.mark.parametrize("announcement", [ABSENT, ANONYMOUS_REJECTED])
def test_the_announcements_exist(announcement: Announce) -> None:
    for language in LANGUAGES:
        assert prompt_path(language, announcement.prompt).exists()
