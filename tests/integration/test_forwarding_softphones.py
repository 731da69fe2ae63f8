"""Call forwarding set and cleared by star code from a real softphone (headless baresip), end to end.

Three phones, lines 0, 1 and 2, each sending a tone of its own and recording what it receives. Line 1's phone
dials `*21*<line 2's number>#`: the node answers, says what it did and hangs up, and the REST API shows the
forward. Line 0 then calls line 1: line 2's phone rings and answers (line 1's never rings), and each side hears
the other's tone for most of the call. Line 1's phone dials `#21#`: the forward is off, and line 0's next call
to line 1 rings line 1's phone, which answers.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.calling import call_records, national
from tests.integration.conftest import Site
from tests.integration.test_softphones import analyse, server_log_on_failure
from tests.peers.baresip import Baresip
from tonalite.store.models import CallResult

TONE_0_HZ = 1000.0
TONE_1_HZ = 700.0
TONE_2_HZ = 440.0
CONVERSATION_S = 3.0
ANSWERED_BY_NODE_S = 15.0
"""How long the node's spoken confirmation of a star code may take before it hangs up."""


def _star_code(phone: Baresip, code: str) -> None:
    """The phone dials `code`; the node answers, speaks and hangs up itself. baresip puts a `#` in the
    Request-URI as it is, which RFC 3261 does not allow in a user part (the server answers 400 "malformed
    userinfo"): it is written `%23`, as a phone's dialler escapes it."""
    phone.dial(code.replace("#", "%23"))
    phone.wait_for("CALL_ESTABLISHED", fail_on=("CALL_CLOSED",))
    closed = phone.wait_for("CALL_CLOSED", timeout=ANSWERED_BY_NODE_S)
    assert closed["param"] == "Connection reset by peer", f"the node hung up after its confirmation: {closed}"


def _options(site: Site) -> dict[str, Any]:
    options: dict[str, Any] = site.line_api(1, "options").json()
    return options


def _answered(phone: Baresip, caller: str) -> None:
    """The phone (answering by itself: baresip then reports no CALL_INCOMING) took a call from `caller`."""
    established = phone.wait_for("CALL_ESTABLISHED", fail_on=("CALL_CLOSED",))
    assert established.get("direction") == "incoming", established
    assert established["peeruri"] == f"sip:{caller}@{phone.line.domain}", f"{phone.name} sees the caller's number"


def _calls_since(phone: Baresip, start: int) -> list[dict[str, Any]]:
    """The call events the phone reported from its `start`-th event on."""
    return [event for event in phone.events[start:] if event.get("class") == "call"]


@pytest.mark.timeout(90)
def test_a_forward_set_by_star_code_from_a_softphone_rings_the_target_until_cleared(md5_site: Site) -> None:
    site = md5_site
    line_0, line_1, line_2 = site.lines
    port = site.server.sip_port
    with (
        server_log_on_failure(site),
        Baresip("line0", site.work_dir / "line0", line_0, port, tone_hz=TONE_0_HZ) as phone_0,
        Baresip("line1", site.work_dir / "line1", line_1, port, tone_hz=TONE_1_HZ, answermode="auto") as phone_1,
        Baresip("line2", site.work_dir / "line2", line_2, port, tone_hz=TONE_2_HZ, answermode="auto") as phone_2,
    ):
        for phone in (phone_0, phone_1, phone_2):
            phone.register()
        for index in (0, 1, 2):
            assert site.wait_registrations(index, bool), f"line {index} registered"
        assert _options(site)["forwardUnconditional"] is False

        # 1. Line 1 forwards everything to line 2, from its phone.
        _star_code(phone_1, f"*21*{national(line_2)}#")
        options = _options(site)
        assert options["forwardUnconditional"] is True
        assert options["forwardUnconditionalNumber"] == line_2.number

        # 2. A call to line 1 rings line 2's phone, which answers; line 1's phone never rings.
        before_1 = len(phone_1.events)
        phone_0.dial(national(line_1))
        _answered(phone_2, line_0.number)
        phone_0.wait_for("CALL_ESTABLISHED", fail_on=("CALL_CLOSED",))
        answered = time.monotonic()
        time.sleep(CONVERSATION_S)  # the conversation itself: what the recordings measure
        phone_0.hangup()
        talk_s = time.monotonic() - answered
        phone_0.wait_for("CALL_CLOSED")
        closed = phone_2.wait_for("CALL_CLOSED")
        assert closed["param"] == "Connection reset by peer", "line 2's call ended by the BYE relayed from line 0"
        assert _calls_since(phone_1, before_1) == [], "line 1's phone did not ring"
        (heard_by_0,) = [analyse(path, TONE_2_HZ) for path in phone_0.recordings("dec")]
        (heard_by_2,) = [analyse(path, TONE_0_HZ) for path in phone_2.recordings("dec")]
        print(f"talked {talk_s:.2f} s; line 0 heard {heard_by_0}; line 2 heard {heard_by_2}")
        for heard, tone in ((heard_by_0, TONE_2_HZ), (heard_by_2, TONE_0_HZ)):
            assert abs(heard.peak_hz - tone) <= 5, heard
            assert heard.share_near_tone > 0.9, heard
            assert heard.active_seconds >= 0.8 * talk_s, (heard, talk_s)
        forwarded = [record for record in call_records(site, 2) if record.caller == line_0.number]
        assert [(record.callee, record.result) for record in forwarded] == [(line_1.number, CallResult.ANSWERED)]

        # 3. The forward cleared from line 1's phone: the next call rings line 1's phone, which answers.
        _star_code(phone_1, "#21#")
        assert _options(site)["forwardUnconditional"] is False
        before_2 = len(phone_2.events)
        phone_0.dial(national(line_1))
        _answered(phone_1, line_0.number)
        phone_0.wait_for("CALL_ESTABLISHED", fail_on=("CALL_CLOSED",))
        phone_0.hangup()
        phone_0.wait_for("CALL_CLOSED")
        phone_1.wait_for("CALL_CLOSED")
        assert _calls_since(phone_2, before_2) == [], "line 2's phone did not ring this time"
