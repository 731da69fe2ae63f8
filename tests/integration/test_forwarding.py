"""A call to a line ends where the line's options say, carried out by the call core with real phones (sipp):
each kind of forward (unconditional, no reply after the configured delay, busy, not registered), to a line or
to a voicemail; do not disturb; absent subscriber and anonymous rejection (an announcement as early media,
then the final status); call waiting off; screen lists; the display number; and a forward loop that ends.
Forwards out through a trunk are in test_trunks.py."""

from __future__ import annotations

import re
import wave
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.calling import (
    call_records,
    caller,
    limit_calls,
    national,
    received,
    register,
    set_line_options,
    set_voicemail,
    voicemail_caller,
)
from tests.integration.conftest import Site
from tests.peers.sipp import Sipp
from tests.peers.tonalite_server import DOMAIN, free_port
from tonalite.prompts import prompt_path
from tonalite.store.models import (
    CallResult,
    ForwardNature,
    Line,
    ScreenDirection,
    ScreenListEntry,
    ScreenListKind,
)

NO_REPLY_S = 5
LATE_S = 3.0
"""How much later than the delay the forward may happen here (a loaded machine), well short of a second delay."""


def _phone(site: Site, index: int, scenario: str = "call_uas", **substitutions: str) -> Sipp:
    """Line `index`'s registered phone, playing `scenario` (it answers, by default), its messages traced."""
    return Sipp(
        scenario,
        site.server.sip_port,
        site.work_dir / f"line{index}",
        local_port=register(site, index),
        substitutions=substitutions,
        extra=["-trace_msg"],
    ).start()


def _forward(site: Site, index: int, kind: str, to: int | None, nature: ForwardNature = ForwardNature.LINE) -> None:
    """Turn on line `index`'s forward `kind` (unconditional, no_reply, busy, backup) to line `to`'s number
    (None: no number, for the line's own voicemail)."""
    number = site.lines[to].number if to is not None else ""
    options: dict[str, Any] = {
        f"forward_{kind}": True,
        f"forward_{kind}_number": number,
        f"forward_{kind}_nature": nature,
    }
    set_line_options(site, index, **options)


def _call(site: Site, index: int, scenario: str = "call_uac", **substitutions: str) -> Sipp:
    """Line 0 calls line `index`; its messages traced."""
    call = caller(site, scenario, national(site.lines[index]), substitutions=substitutions)
    call.extra += ["-trace_msg"]
    return call


def _passes(*runs: Sipp) -> None:
    for run in runs:
        finished = run.finish()
        assert finished.all_passed, finished.output


def _diversion(phone: Sipp) -> str:
    (invite,) = received(phone, "INVITE")
    return invite.header("Diversion")


def _refused(site: Site, index: int, final: str) -> Sipp:
    """Line 0 calls line `index` and gets `final` (after early media, if any)."""
    call = _call(site, index, "call_refused", FINAL=final).start()
    _passes(call)
    return call


def _prompt_seconds(prompt: str) -> float:
    with wave.open(str(prompt_path("fr", prompt))) as audio:
        frames: int = audio.getnframes()
        rate: int = audio.getframerate()
    return frames / rate


def _screen(site: Site, index: int, direction: ScreenDirection, kind: ScreenListKind, number: str) -> None:
    platform = site.server.platform
    with platform.db.session() as session:
        line_id = session.scalar(select(Line.id).where(Line.number == site.lines[index].number))
        session.add(ScreenListEntry(line_id=line_id, direction=direction, kind=kind, number=number, is_prefix=False))
    platform.db.dispose()


def _answered_by_voicemail(site: Site, index: int) -> None:
    """Line 0 calls line `index`; a voicemail answers (the call is recorded as such), and it hangs up."""
    run = voicemail_caller(site, index, talk_ms=2000).run()
    assert run.all_passed, run.output
    (record,) = call_records(site, 1)
    assert record.result == CallResult.VOICEMAIL


def test_an_unconditional_forward_to_a_line_rings_that_line_only(phones: Site) -> None:
    """Line 1 forwards everything to line 2: line 2's phone rings with the caller's number and a Diversion
    naming line 1 (RFC 5806); line 1's phone, registered, gets nothing."""
    site = phones
    _forward(site, 1, "unconditional", 2)
    register(site, 0)
    register(site, 1)  # nobody answers there: an INVITE to it would fail the call
    target = _phone(site, 2)
    _passes(_call(site, 1).start(), target)
    (invite,) = received(target, "INVITE")
    assert f"sip:{site.lines[0].number}@{DOMAIN}" in invite.header("From")
    assert invite.header("Diversion") == f"<sip:{site.lines[1].number}@{DOMAIN}>;reason=unconditional;counter=1"
    (record,) = call_records(site, 1)
    assert (record.callee, record.result) == (site.lines[1].number, CallResult.ANSWERED)


def test_a_no_reply_forward_moves_the_call_after_the_configured_delay(phones: Site) -> None:
    """Line 1's phone rings for the line's no-reply delay (5 s, measured from the call records), gets a
    CANCEL, and line 2's phone rings and answers."""
    site = phones
    _forward(site, 1, "no_reply", 2)
    set_line_options(site, 1, forward_no_reply_delay=NO_REPLY_S)
    register(site, 0)
    ringing = _phone(site, 1, "call_uas_ring")
    target = _phone(site, 2)
    _passes(_call(site, 1).start(), ringing, target)
    assert "reason=no-answer" in _diversion(target)
    (record,) = call_records(site, 1)
    assert record.result == CallResult.ANSWERED and record.answered_at is not None
    rang = (record.answered_at - record.started_at).total_seconds()
    assert NO_REPLY_S <= rang < NO_REPLY_S + LATE_S, rang


@pytest.mark.parametrize("final", ["486", "603"])
def test_a_busy_forward_takes_the_call_its_phone_refuses(phones: Site, final: str) -> None:
    site = phones
    _forward(site, 1, "busy", 2)
    register(site, 0)
    refusing = _phone(site, 1, "call_uas_refuse", FINAL=final)
    target = _phone(site, 2)
    _passes(_call(site, 1).start(), refusing, target)
    assert "reason=user-busy" in _diversion(target)


def test_a_busy_forward_takes_the_call_a_line_at_its_limit_cannot(phones: Site) -> None:
    """Line 1 takes one call at a time: while a first call rings there, a second goes to line 2."""
    site = phones
    limit_calls(site, 1, 1)
    _forward(site, 1, "busy", 2)
    register(site, 0)
    ringing = _phone(site, 1, "call_uas_ring")
    first = caller(site, "call_uac_cancel", national(site.lines[1]), local_port=free_port())
    first.extra += ["-d", "4000", "-trace_msg"]
    first.start().wait_for_message("SIP/2.0 180")
    target = _phone(site, 2)
    _passes(_call(site, 1).start(), target, first, ringing)
    assert "reason=user-busy" in _diversion(target)


@pytest.mark.parametrize("call_waiting", [True, False])
def test_call_waiting_lets_a_second_call_ring_or_makes_the_line_busy(phones: Site, call_waiting: bool) -> None:
    """Line 1 may take two calls. While one rings: with call waiting, the next rings too (its phone gets both
    INVITEs); without, the next is busy (486)."""
    site = phones
    set_voicemail(site, 1, active=False)
    set_line_options(site, 1, call_waiting=call_waiting)
    register(site, 0)
    ringing = Sipp(
        "call_uas_ring",
        site.server.sip_port,
        site.work_dir / "line1",
        local_port=register(site, 1),
        calls=2 if call_waiting else 1,
        extra=["-trace_msg"],
    ).start()
    first = caller(site, "call_uac_cancel", national(site.lines[1]), local_port=free_port())
    first.extra += ["-d", "4000", "-trace_msg"]
    first.start().wait_for_message("SIP/2.0 180")
    if call_waiting:
        second = caller(site, "call_uac_cancel", national(site.lines[1]), local_port=free_port())
        second.extra += ["-trace_msg"]
        _passes(second.start())
        assert received(second, "SIP/2.0 180")
    else:
        _refused(site, 1, "486")
    _passes(first, ringing)
    assert len(received(ringing, "INVITE")) == (2 if call_waiting else 1)


def test_a_backup_forward_takes_the_call_of_a_line_not_registered(phones: Site) -> None:
    site = phones
    _forward(site, 1, "backup", 2)
    register(site, 0)
    target = _phone(site, 2)
    _passes(_call(site, 1).start(), target)
    assert "reason=unavailable" in _diversion(target)


def test_a_forward_to_another_lines_voicemail_is_answered_there(phones: Site) -> None:
    """Line 1 forwards to line 2's box: with line 1's own box off, only line 2's can answer."""
    site = phones
    _forward(site, 1, "unconditional", 2, ForwardNature.VOICEMAIL)
    set_voicemail(site, 1, active=False)
    register(site, 0)
    _answered_by_voicemail(site, 1)


def test_a_forward_loop_ends_busy_without_ringing_anyone(phones: Site) -> None:
    """Line 1 forwards to line 2, which forwards back to line 1: the call ends on line 2's voicemail, here
    off, so busy; no phone rang (both are registered where nobody answers)."""
    site = phones
    _forward(site, 1, "unconditional", 2)
    _forward(site, 2, "unconditional", 1)
    set_voicemail(site, 2, active=False)
    register(site, 0)
    register(site, 1)
    register(site, 2)
    _refused(site, 1, "486")
    (record,) = call_records(site, 1)
    assert (record.result, record.sip_code) == (CallResult.BUSY, 486)


def test_a_forward_loop_ends_on_the_voicemail_where_it_was_found(phones: Site) -> None:
    """The loop is found at line 2 (its forward goes back to line 1): line 2's box answers; line 1's is off."""
    site = phones
    _forward(site, 1, "unconditional", 2)
    _forward(site, 2, "unconditional", 1)
    set_voicemail(site, 1, active=False)
    register(site, 0)
    _answered_by_voicemail(site, 1)


@pytest.mark.parametrize("voicemail_on", [True, False])
def test_do_not_disturb_sends_callers_to_voicemail_or_busy(phones: Site, voicemail_on: bool) -> None:
    site = phones
    set_line_options(site, 1, do_not_disturb=True)
    set_voicemail(site, 1, active=voicemail_on)
    register(site, 0)
    register(site, 1)  # nobody answers there: its phone must not ring
    if voicemail_on:
        _answered_by_voicemail(site, 1)
    else:
        _refused(site, 1, "486")


@pytest.mark.parametrize(
    ("options", "prompt", "final"),
    [
        ({"absent_subscriber": True}, "absent_subscriber", "480"),
        ({"anonymous_call_rejection": True}, "anonymous_calls_rejected", "433"),
    ],
)
def test_an_announcement_is_played_as_early_media_then_the_call_fails(
    phones: Site, options: dict[str, bool], prompt: str, final: str
) -> None:
    """The caller gets a 183 with the node's SDP, hears the message, then the final status; nothing rings.
    Anonymous rejection needs a caller who hides their number (line 0's CLIR)."""
    site = phones
    set_line_options(site, 1, **options)
    set_line_options(site, 0, identification_restriction=True)
    register(site, 0)
    register(site, 1)
    call = _refused(site, 1, final)
    (progress,) = received(call, "SIP/2.0 183")
    assert progress.header("Content-Type") == "application/sdp"
    assert re.search(rb"^m=audio [1-9][0-9]* RTP/AVP 0", progress.body, re.M)
    (record,) = call_records(site, 1)
    assert record.ended_at is not None and record.sip_code == int(final)
    assert (record.ended_at - record.started_at).total_seconds() >= _prompt_seconds(prompt)


def test_anonymous_rejection_lets_a_shown_number_ring(phones: Site) -> None:
    site = phones
    set_line_options(site, 1, anonymous_call_rejection=True)
    register(site, 0)
    target = _phone(site, 1)
    _passes(_call(site, 1).start(), target)


def test_screen_lists_refuse_callers_and_numbers(phones: Site) -> None:
    """Line 1 takes calls from line 0 only (incoming whitelist), line 2 refuses line 0 (incoming blacklist):
    603 for the refused; then line 0 may not call line 1 (outgoing blacklist): a spoken message, then 403."""
    site = phones
    _screen(site, 1, ScreenDirection.INCOMING, ScreenListKind.WHITELIST, site.lines[0].number)
    _screen(site, 2, ScreenDirection.INCOMING, ScreenListKind.BLACKLIST, site.lines[0].number)
    for index in (1, 2):
        set_voicemail(site, index, active=False)
    register(site, 0)
    register(site, 2)
    target = _phone(site, 1)
    _passes(_call(site, 1).start(), target)
    refused = caller(site, "call_refused", national(site.lines[1]), line=2, substitutions={"FINAL": "603"}).run()
    assert refused.all_passed, refused.output
    _refused(site, 2, "603")
    _screen(site, 0, ScreenDirection.OUTGOING, ScreenListKind.BLACKLIST, site.lines[1].number)
    assert received(_refused(site, 1, "403"), "SIP/2.0 183")
    results = [(record.caller, record.callee, record.sip_code) for record in call_records(site, 4)]
    line = [line.number for line in site.lines]
    assert results == [
        (line[0], line[1], 200),
        (line[2], line[1], 603),
        (line[0], line[2], 603),
        (line[0], line[1], 403),
    ]


def test_the_display_number_is_what_the_callee_sees(phones: Site) -> None:
    """Line 0 presents line 2's number (a number of its billing group) instead of its own."""
    site = phones
    set_line_options(site, 0, display_number=site.lines[2].number)
    register(site, 0)
    target = _phone(site, 1)
    _passes(_call(site, 1).start(), target)
    (invite,) = received(target, "INVITE")
    assert f"sip:{site.lines[2].number}@{DOMAIN}" in invite.header("From")
    assert f"sip:{site.lines[2].number}@{DOMAIN}" in invite.header("P-Asserted-Identity")
    assert site.lines[0].number not in invite.header("From") + invite.header("P-Asserted-Identity")
    (record,) = call_records(site, 1)
    assert record.caller == site.lines[0].number  # the record keeps who called
