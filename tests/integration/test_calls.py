"""Calls between lines through the B2BUA, driven by sipp: answered, cancelled, refused, and under load."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from tests.integration.calling import (
    call_records,
    caller,
    limit_calls,
    national,
    place_call,
    register,
    set_voicemail,
    voicemail_caller,
)
from tests.integration.conftest import Site
from tests.peers.sipp import Sipp
from tests.peers.tonalite_server import free_port
from tonalite.media.wav import read_wav
from tonalite.store.models import VoicemailMessage


def test_a_line_calls_another_line(phones: Site) -> None:
    site = phones
    register(site, 0)
    place_call(site, "call_uac", "call_uas", register(site, 1))
    (record,) = call_records(site, 1)
    assert (record.caller, record.callee) == (site.lines[0].number, site.lines[1].number)
    assert record.result is not None and record.result.value == "answered"
    assert record.sip_code == 200
    assert record.answered_at is not None and record.ended_at is not None


def test_the_caller_hangs_up_before_the_answer(phones: Site) -> None:
    site = phones
    register(site, 0)
    place_call(site, "call_uac_cancel", "call_uas_ring", register(site, 1), dialled=site.lines[1].number)
    (record,) = call_records(site, 1)
    assert record.result is not None and record.result.value == "cancelled"
    assert record.answered_at is None


@pytest.mark.parametrize(
    ("case", "final"),
    [("unknown number", "404"), ("callee not registered", "480"), ("caller not registered", "403")],
)
def test_calls_that_cannot_go_through(phones: Site, case: str, final: str) -> None:
    site = phones
    set_voicemail(site, 2, active=False)  # else it answers for the line that is not registered
    if case != "caller not registered":
        register(site, 0)
    dialled = {"unknown number": "0199009999", "callee not registered": national(site.lines[2])}.get(
        case, national(site.lines[1])
    )
    if case == "caller not registered":
        register(site, 1)
    refused = caller(site, "call_refused", dialled, substitutions={"FINAL": final}).run()
    assert refused.all_passed, refused.output


def test_a_callee_at_its_limit_is_busy(phones: Site) -> None:
    site = phones
    set_voicemail(site, 1, active=False)  # else it answers the second call
    limit_calls(site, 1, 1)
    register(site, 0)
    callee_port = register(site, 1)
    callee = Sipp("call_uas_ring", site.server.sip_port, site.work_dir / "line1", local_port=callee_port).start()
    first = caller(site, "call_uac_cancel", national(site.lines[1]), local_port=free_port())
    first.extra += ["-d", "3000", "-trace_msg"]  # it rings while the second call arrives
    first.start().wait_for_message("SIP/2.0 180")
    busy = caller(site, "call_refused", national(site.lines[1]), substitutions={"FINAL": "486"})
    busy_run = busy.run()
    assert busy_run.all_passed, busy_run.output
    assert first.finish().all_passed
    assert callee.finish().all_passed


def test_a_thousand_calls_at_fifty_per_second(phones: Site) -> None:
    site = phones
    for index in (0, 1):
        limit_calls(site, index, 100)  # a trunk-like line: the calls overlap
    register(site, 0)
    callee_port = register(site, 1)
    calls = 1000
    callee = Sipp(
        "call_uas", site.server.sip_port, site.work_dir / "line1", calls=calls, local_port=callee_port, timeout_s=60
    ).start()
    placed = caller(site, "call_uac", national(site.lines[1]), calls=calls, rate=50, timeout_s=60).run()
    answered = callee.finish()
    assert placed.failed == 0 and placed.successful == calls, placed.output
    assert answered.successful == calls, answered.output
    assert len(call_records(site, calls)) == calls


def test_a_phone_registered_before_a_restart_still_gets_calls(phones: Site) -> None:
    site = phones
    callee_port = register(site, 1)
    assert site.server.stop() == 0
    site.server.start()
    register(site, 0)
    place_call(site, "call_uac", "call_uas", callee_port)


def test_hold_is_relayed_in_a_re_invite(phones: Site) -> None:
    site = phones
    register(site, 0)
    place_call(site, "call_uac_hold", "call_uas_hold", register(site, 1))


VOICEMAIL_CALLS = {
    "the caller hangs up": "call_uac_voicemail",
    "the caller presses # in a SIP INFO and the voicemail hangs up": "call_uac_voicemail_info",
    "the caller made no offer, answers the voicemail's in its ACK, and hangs up": "call_uac_voicemail_late_offer",
}


@pytest.mark.parametrize("ending", VOICEMAIL_CALLS)
def test_an_unregistered_lines_voicemail_takes_the_message(phones: Site, ending: str) -> None:
    """The caller hears the greeting (about 10 s, the number read in pairs) and the beep, sends a 1 kHz tone
    all along, and after 14 s hangs up, or presses # (then the voicemail says goodbye and hangs up): the
    message holds the tone heard after the beep."""
    site = phones
    set_voicemail(site, 2, active=True)
    register(site, 0)
    call = voicemail_caller(site, 2, talk_ms=14000, scenario=VOICEMAIL_CALLS[ending], timeout_s=45)
    run = call.run()
    assert run.all_passed, run.output
    platform = site.server.platform
    with platform.db.session() as session:
        messages = session.scalars(select(VoicemailMessage).where(VoicemailMessage.complete.is_(True))).all()
        (message,) = messages
        assert 2.0 <= message.duration_ms / 1000 <= 6.0
        audio = read_wav(platform.services.voicemail.audio_path(message.box_id, message.id))
    platform.db.dispose()
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64)))
    assert abs(np.fft.rfftfreq(len(audio), 1 / 8000)[int(np.argmax(spectrum))] - 1000) < 10
    (record,) = call_records(site, 1)
    assert record.result is not None and record.result.value == "voicemail"


def test_a_voicemail_call_refuses_info_bodies_that_are_no_key_press(phones: Site) -> None:
    site = phones
    set_voicemail(site, 2, active=True)
    register(site, 0)
    run = caller(site, "call_uac_voicemail_bad_info", national(site.lines[2])).run()
    assert run.all_passed, run.output
    (record,) = call_records(site, 1)
    assert record.result is not None and record.result.value == "voicemail"


def test_a_voicemail_call_takes_a_session_refresh_and_keeps_its_codec(phones: Site) -> None:
    """During a call the voicemail answered, a re-INVITE with the same offer gets the same answer, one offering
    only another codec gets 488 and the call goes on, an UPDATE without a body gets 200; then the BYE."""
    site = phones
    set_voicemail(site, 2, active=True)
    register(site, 0)
    call = caller(site, "call_uac_voicemail_reinvite", national(site.lines[2]))
    call.extra += ["-mp", str(free_port())]
    run = call.run()
    assert run.all_passed, run.output
    (record,) = call_records(site, 1)
    assert record.result is not None and record.result.value == "voicemail"


def test_a_voicemail_call_whose_ack_brings_no_answer_is_hung_up(phones: Site) -> None:
    """The caller made no offer, and its ACK answers none of the voicemail's: the voicemail hangs up (BYE)."""
    site = phones
    set_voicemail(site, 2, active=True)
    register(site, 0)
    run = caller(site, "call_uac_voicemail_no_answer_in_ack", national(site.lines[2]), timeout_s=20).run()
    assert run.all_passed, run.output
    (record,) = call_records(site, 1)
    assert record.result is not None and record.result.value == "voicemail"
