"""Calls a line's phone does not take go to the line's voicemail: not picked up within the line's no-reply
delay, refused by the phone (busy, declined), picked up too late. sipp plays both phones."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from tests.integration.calling import call_records, register, set_line_options, voicemail_caller
from tests.integration.conftest import Site
from tests.peers.sipp import Sipp
from tonalite.media.wav import read_wav
from tonalite.store.models import CallResult, VoicemailMessage

NO_REPLY_S = 5
"""The shortest no-reply delay a line may have."""
LATE_S = 3.0
"""How much later than the delay the voicemail may answer here (a loaded machine), well short of 20 s."""


def _ringing_phone(site: Site, scenario: str, **substitutions: str) -> Sipp:
    return Sipp(
        scenario,
        site.server.sip_port,
        site.work_dir / "line1",
        local_port=register(site, 1),
        substitutions=substitutions,
    ).start()


def test_a_phone_not_picked_up_within_the_no_reply_delay_sends_the_call_to_voicemail(phones: Site) -> None:
    """The phone rings; at the line's no-reply delay it gets a CANCEL, and the voicemail answers the caller
    and takes the message (the tone sent after the greeting)."""
    site = phones
    set_line_options(site, 1, forward_no_reply_delay=NO_REPLY_S)
    register(site, 0)
    callee = _ringing_phone(site, "call_uas_ring")
    run = voicemail_caller(site, 1, talk_ms=14000).run()
    assert run.all_passed, run.output
    assert callee.finish().all_passed
    (record,) = call_records(site, 1)
    assert record.result == CallResult.VOICEMAIL
    assert record.answered_at is not None
    assert NO_REPLY_S <= (record.answered_at - record.started_at).total_seconds() < NO_REPLY_S + LATE_S
    platform = site.server.platform
    with platform.db.session() as session:
        (message,) = session.scalars(select(VoicemailMessage).where(VoicemailMessage.complete.is_(True))).all()
        audio = read_wav(platform.services.voicemail.audio_path(message.box_id, message.id))
    platform.db.dispose()
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64)))
    assert abs(np.fft.rfftfreq(len(audio), 1 / 8000)[int(np.argmax(spectrum))] - 1000) < 10


@pytest.mark.parametrize("final", ["486", "603"])
def test_a_phone_that_refuses_the_call_sends_it_to_voicemail(phones: Site, final: str) -> None:
    """Busy (486) or declined by its user (603): the caller reaches the voicemail, not the refusal."""
    site = phones
    register(site, 0)
    callee = _ringing_phone(site, "call_uas_refuse", FINAL=final)
    run = voicemail_caller(site, 1, talk_ms=2000).run()
    assert run.all_passed, run.output
    assert callee.finish().all_passed
    (record,) = call_records(site, 1)
    assert record.result == CallResult.VOICEMAIL


def test_a_phone_picked_up_as_the_voicemail_took_the_call_is_hung_up(phones: Site) -> None:
    """The phone's 200 crosses the CANCEL sent at the no-reply delay: the platform acknowledges it and hangs
    the phone up, and the caller stays with the voicemail."""
    site = phones
    set_line_options(site, 1, forward_no_reply_delay=NO_REPLY_S)
    register(site, 0)
    callee = _ringing_phone(site, "call_uas_answers_too_late")
    run = voicemail_caller(site, 1, talk_ms=2000).run()
    assert run.all_passed, run.output
    finished = callee.finish()
    assert finished.all_passed, finished.output
    (record,) = call_records(site, 1)
    assert record.result == CallResult.VOICEMAIL
