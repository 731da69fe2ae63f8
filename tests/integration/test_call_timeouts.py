"""Calls that time out, against `tonalite serve` with short timers (TONALITE_SIP_T1_MS, TONALITE_RING_TIMEOUT_S).

- The callee's phone never responds to the INVITE, not even 100 or 180 (a sipp UAS that only listens, or a
  registered contact where nothing listens at all): the platform sends the INVITE again on Timer A, gives up
  on Timer B (64*T1), which counts as a 408 (RFC 3261 §8.1.3.1), and the caller gets 408: no-answer, 408.
- The callee's phone rings (180) and nobody picks up: after the ring timeout the callee's phone gets a CANCEL
  and the caller 480 "No Answer": no-answer, 480. RFC 3398's table of ISUP causes to SIP responses gives
  480 for cause 19 "no answer from the user (user alerted)" and 408 for cause 18 "no user responding", the
  phone that never answered at all, as above.

With T1 = 50 ms Timer B is 3.2 s (32 s by default) and the ring timeout is 2 s (180 s by default).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.integration.calling import call_records, caller, national, received, register, set_voicemail
from tests.integration.conftest import Site, _site, with_phone_directories
from tests.peers.sip_client import MAX_MESSAGE_BYTES, RECEIVE_TIMEOUT_S, UdpPhone
from tests.peers.sipp import Sipp
from tonalite.config import Settings
from tonalite.sip.message import Response, serialise
from tonalite.sip.parser import parse_message
from tonalite.store.models import CallResult

T1_MS = 50
TIMER_B_S = 64 * T1_MS / 1000
RING_TIMEOUT_S = 2
NO_RETRANSMISSION_S = 20 * T1_MS / 1000
"""Long enough for four Timer G retransmissions of a stateful 407 (T1, 3*T1, 7*T1, 15*T1)."""
LATE_S = 10.0
"""How much later than its timer a timeout may be seen here (a sipp start, a digest round, a loaded machine),
still well short of the defaults (32 s, 180 s): the settings took effect."""


def _site_with_timers(sqlite_template: Path, tmp_path: Path, ring_timeout_s: int | None) -> Iterator[Site]:
    env = {"TONALITE_SIP_DIGEST_ALGORITHMS": "MD5,SHA-256", "TONALITE_SIP_T1_MS": str(T1_MS)}
    if ring_timeout_s is not None:
        env["TONALITE_RING_TIMEOUT_S"] = str(ring_timeout_s)
    yield from with_phone_directories(_site(sqlite_template, tmp_path, env))


@pytest.fixture
def short_t1(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    """T1 = 50 ms, and the ring timeout as shipped (180 s), far beyond Timer B."""
    yield from _site_with_timers(sqlite_template, tmp_path, None)


@pytest.fixture
def short_ring(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    """T1 = 50 ms and a 2 s ring timeout: shorter than Timer B."""
    yield from _site_with_timers(sqlite_template, tmp_path, RING_TIMEOUT_S)


@pytest.mark.parametrize("phone", ["silent", "absent"])
def test_a_phone_that_never_responds_gets_the_caller_a_408(short_t1: Site, phone: str) -> None:
    site = short_t1
    set_voicemail(site, 1, active=False)  # else it takes the call
    register(site, 0)
    callee_port = register(site, 1)
    callee = None
    if phone == "silent":  # a phone that takes the INVITE and stays silent; "absent": nothing on that port
        silent_ms = int((TIMER_B_S + 1.0) * 1000)
        callee = Sipp(
            "call_uas_silent",
            site.server.sip_port,
            site.work_dir / "line1",
            local_port=callee_port,
            substitutions={"SILENT_MS": str(silent_ms)},
            extra=["-trace_msg"],
        ).start()
    started = time.monotonic()
    refused = caller(site, "call_refused", national(site.lines[1]), substitutions={"FINAL": "408"}).run()
    waited = time.monotonic() - started
    assert refused.all_passed, refused.output
    assert TIMER_B_S <= waited < TIMER_B_S + LATE_S
    if callee is not None:
        assert callee.finish().all_passed
        # Timer A: sent at 0, T1, 3*T1, 7*T1, ... 63*T1 before Timer B (64*T1) ends it: 7 times in all, 6 if a
        # loaded loop fires Timer A late enough for the last one to fall after Timer B (3 with T1 = 500 ms).
        invites = received(callee, "INVITE ")
        assert 6 <= len(invites) <= 7
        assert len({invite.header("Via") for invite in invites}) == 1  # one transaction, retransmitted
    (record,) = call_records(site, 1)
    assert record.result == CallResult.NO_ANSWER
    assert record.sip_code == 408
    assert record.answered_at is None and record.ended_at is not None


def test_a_challenged_invite_gets_one_407_and_its_retransmission_the_same(short_t1: Site) -> None:
    """The 407 is sent statelessly (RFC 3261 §8.2.7): a caller that never ACKs it gets no Timer G
    retransmissions (at T1, 3*T1, 7*T1, ... from a stateful one, towards an address that may be forged),
    and a retransmitted INVITE gets the same 407, byte for byte."""
    line = short_t1.lines[0]
    phone = UdpPhone(short_t1.server.sip_port, line.username, line.password, line.domain)
    try:
        invite = phone.request("INVITE", [("Content-Type", "application/sdp")])
        invite.uri = f"sip:{national(short_t1.lines[1])}@{line.domain}"
        data = serialise(invite)
        phone.send_raw(data)
        first, _ = phone.sock.recvfrom(MAX_MESSAGE_BYTES)
        challenge = parse_message(first)
        assert isinstance(challenge, Response) and challenge.status == 407
        phone.sock.settimeout(NO_RETRANSMISSION_S)
        with pytest.raises(TimeoutError):
            phone.receive_message()
        phone.sock.settimeout(RECEIVE_TIMEOUT_S)
        phone.send_raw(data)
        again, _ = phone.sock.recvfrom(MAX_MESSAGE_BYTES)
        assert again == first
    finally:
        phone.close()


EARLY_OFFER = """Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000"""
LATE_OFFER = "Content-Length: 0"
REJECTED_STREAM = {
    "ACK_CHECK": '<action><ereg regexp="m=audio 0 " search_in="body" check_it="true" assign_to="rejected"/></action>',
    "ACK_REFERENCE": '<Reference variables="rejected"/>',
}


NO_ACK_CHECK = {"ACK_CHECK": "", "ACK_REFERENCE": ""}


def _answering_callee(site: Site, ack_check: dict[str, str]) -> Sipp:
    """Line 1's phone, registered: it answers, and wants an ACK (checked by `ack_check`), then a BYE."""
    return Sipp(
        "call_uas_late_ack",
        site.server.sip_port,
        site.work_dir / "line1",
        local_port=register(site, 1),
        substitutions=ack_check,
    ).start()


@pytest.mark.parametrize(
    ("offer", "ack_check"),
    [(EARLY_OFFER, NO_ACK_CHECK), (LATE_OFFER, REJECTED_STREAM)],
    ids=["early-offer", "late-offer"],
)
def test_an_answer_the_caller_never_acknowledges_is_resent_then_both_sides_are_hung_up(
    short_t1: Site, offer: str, ack_check: dict[str, str]
) -> None:
    """RFC 3261 §13.3.1.4: the caller's 200 goes again at T1, 2*T1, 4*T1 ... (at most T2 apart) until its ACK
    comes; after 64*T1 without one the call is over. The callee's own 2xx is acknowledged before its BYE
    (§13.2.2.4: every 2xx is) — when that 2xx made the offer (the caller's INVITE had none), with an answer
    rejecting its stream — and the call is recorded as failed with 408."""
    site = short_t1
    register(site, 0)
    callee = _answering_callee(site, ack_check)
    calling = caller(site, "call_uac_no_ack", national(site.lines[1]), substitutions={"OFFER": offer})
    calling.extra.append("-trace_msg")
    started = time.monotonic()
    hung_up = calling.run()
    waited = time.monotonic() - started
    assert hung_up.all_passed, hung_up.output
    assert callee.finish().all_passed, "ACK, then BYE"
    assert TIMER_B_S <= waited < TIMER_B_S + LATE_S
    answers = received(calling, "SIP/2.0 200", "2 INVITE")
    assert len(answers) >= 5, "T1, 2*T1, 4*T1, 8*T1, 16*T1 and 32*T1 fall before 64*T1"
    (record,) = call_records(site, 1)
    assert (record.result, record.sip_code) == (CallResult.FAILED, 408)
    assert record.answered_at is not None


def test_a_caller_that_hangs_up_without_acknowledging_ends_the_call_at_once(short_t1: Site) -> None:
    """Its BYE ends the call: the callee's 2xx is acknowledged, then the callee gets the BYE, and the caller
    hears nothing more (no 200 resent for the ACK that will never come, no BYE at 64*T1)."""
    site = short_t1
    register(site, 0)
    callee = _answering_callee(site, NO_ACK_CHECK)
    quiet_ms = int((TIMER_B_S + 1.0) * 1000)
    calling = caller(
        site,
        "call_uac_bye_before_ack",
        national(site.lines[1]),
        substitutions={"OFFER": EARLY_OFFER, "QUIET_MS": str(quiet_ms)},
    )
    calling.extra.append("-trace_msg")
    hung_up = calling.run()
    assert hung_up.all_passed, hung_up.output
    assert callee.finish().all_passed, "ACK, then BYE"
    assert len(received(calling, "SIP/2.0 200", "2 INVITE")) <= 2, "a copy may cross the BYE, no more"
    assert received(calling, "BYE") == []
    (record,) = call_records(site, 1)
    assert (record.result, record.sip_code) == (CallResult.ANSWERED, 200)


def test_a_call_nobody_picks_up_ends_after_the_ring_timeout(short_ring: Site) -> None:
    site = short_ring
    register(site, 0)
    callee = Sipp(
        "call_uas_ring", site.server.sip_port, site.work_dir / "line1", local_port=register(site, 1)
    ).start()  # it rings, then takes the CANCEL: 200 for it, 487 for the INVITE
    calling = caller(site, "call_refused", national(site.lines[1]), substitutions={"FINAL": "480"})
    calling.extra.append("-trace_msg")
    started = time.monotonic()
    refused = calling.run()
    waited = time.monotonic() - started
    assert refused.all_passed, refused.output
    assert callee.finish().all_passed
    assert RING_TIMEOUT_S <= waited < RING_TIMEOUT_S + LATE_S
    assert received(calling, "SIP/2.0 180")  # the caller heard it ring first
    (no_answer, *_) = received(calling, "SIP/2.0 480")
    assert no_answer.start_line == "SIP/2.0 480 No Answer"
    (record,) = call_records(site, 1)
    assert record.result == CallResult.NO_ANSWER
    assert record.sip_code == 480
    assert record.answered_at is None


def test_a_ring_timeout_before_the_phone_responds_sends_no_cancel(short_ring: Site) -> None:
    """The ring timeout (2 s) is shorter than Timer B (3.2 s) and the phone has not responded: it never rang,
    so there is nothing to cancel yet; the caller is told the phone did not respond (408)."""
    site = short_ring
    register(site, 0)
    callee = Sipp(
        "call_uas_silent",
        site.server.sip_port,
        site.work_dir / "line1",
        local_port=register(site, 1),
        substitutions={"SILENT_MS": str(int((TIMER_B_S + 1.0) * 1000))},
        extra=["-trace_msg"],
    ).start()
    calling = caller(site, "call_refused", national(site.lines[1]), substitutions={"FINAL": "408"})
    calling.extra.append("-trace_msg")
    placed = calling.run()  # any other final answer ends the run at once (sipp aborts on the unexpected)
    callee.finish()
    assert not received(callee, "CANCEL ")
    assert received(calling, "SIP/2.0 408")
    assert placed.all_passed, placed.output


@pytest.mark.parametrize(
    ("name", "value"),
    [("sip_t1_ms", 0), ("sip_t1_ms", 9), ("sip_t1_ms", 4001), ("ring_timeout_s", 0), ("ring_timeout_s", 3601)],
)
def test_timer_settings_out_of_bounds_are_refused(name: str, value: int) -> None:
    with pytest.raises(ValidationError, match=name):
        Settings.model_validate({name: value})


def test_timer_settings_default_to_the_rfc_values() -> None:
    settings = Settings()
    assert (settings.sip_t1_ms, settings.ring_timeout_s) == (500, 180)
