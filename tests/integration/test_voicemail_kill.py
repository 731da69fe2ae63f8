"""The server killed with SIGKILL in the middle of a voicemail deposit: after a restart on the same database and
data directory, the part recorded before the kill is a message like any other, listed and played through the API."""

from __future__ import annotations

import io
import signal
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlalchemy import select

from tests.integration.calling import register, set_voicemail, voicemail_caller
from tests.integration.conftest import Site
from tests.peers.sipp import Sipp
from tonalite.media.g711 import SAMPLE_RATE
from tonalite.media.wav import read_wav
from tonalite.store.models import VoicemailMessage

RECORDED_BEFORE_KILL_S = 2.0
"""The audio the message's file holds when the server is killed, at least."""
TALK_MS = 20_000
"""How long the caller sends its tone: the greeting (about 10 s), the beep, and more than the test needs."""
RECORDING_TIMEOUT_S = 40.0
"""From the call's start until the file holds RECORDED_BEFORE_KILL_S: the greeting, the beep, then recording."""
CALLER_TIMEOUT_S = 30
POLL_INTERVAL_S = 0.05
SEEN_LATE_S = 0.5
"""How long after its creation the test may first see the deposit's row: a poll interval and a query."""


def poll(check: Callable[[], bool], timeout_s: float, call: Sipp, waiting_for: str) -> None:
    """Return once `check()` holds; fail after `timeout_s`, or as soon as the caller's sipp has ended."""
    assert call.process is not None
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline or call.process.poll() is not None:
            call.process.kill()
            raise AssertionError(f"never saw {waiting_for}: {call.finish().output}")
        time.sleep(POLL_INTERVAL_S)


def deposit_file(site: Site, call: Sipp) -> Path:
    """The file the voicemail records the call's message into, once its row is in the database (the voicemail
    creates it after the beep, as it starts recording)."""
    platform = site.server.platform
    messages: list[VoicemailMessage] = []

    def started() -> bool:
        with platform.db.session() as session:
            messages.extend(session.scalars(select(VoicemailMessage)))
        return bool(messages)

    try:
        poll(started, RECORDING_TIMEOUT_S, call, "the deposit's row")
    finally:
        platform.db.dispose()
    (message,) = messages
    assert not message.complete
    return platform.services.voicemail.audio_path(message.box_id, message.id)


def stored_seconds(path: Path) -> float:
    return len(read_wav(path)) / SAMPLE_RATE if path.exists() else 0.0


def test_a_deposit_cut_by_sigkill_is_kept_whole_after_a_restart(phones: Site) -> None:
    """Line 0 calls line 2, not registered, whose voicemail answers; 2 s into the recording of the caller's 1 kHz
    tone the server is killed; restarted, it completes the message from its file: the API lists it with the
    length the file had at the kill and serves it as a WAV holding the tone, and the cut call's sipp fails."""
    site = phones
    set_voicemail(site, 2, active=True)
    register(site, 0)
    call = voicemail_caller(site, 2, talk_ms=TALK_MS, timeout_s=CALLER_TIMEOUT_S)
    sipp = call.start().process
    assert sipp is not None
    try:
        path = deposit_file(site, call)
        recording_since = time.monotonic()
        poll(
            lambda: stored_seconds(path) >= RECORDED_BEFORE_KILL_S,
            RECORDING_TIMEOUT_S,
            call,
            f"{RECORDED_BEFORE_KILL_S} s of audio in {path}",
        )

        assert site.server.kill() == -signal.SIGKILL
        recorded_s = stored_seconds(path)
        assert RECORDED_BEFORE_KILL_S <= recorded_s <= time.monotonic() - recording_since + SEEN_LATE_S
        site.server.start()

        run = call.finish()
        assert (run.successful, run.failed) == (0, 1), run.output  # its BYE gets a 481 from the restarted server
    finally:
        sipp.kill()  # no-op once finished; ends the call if the test failed before

    (message,) = site.line_api(2, "voicemail/messages").json()["items"]
    assert abs(message["duration"] - recorded_s) <= 0.001
    audio = site.line_api(2, f"voicemail/messages/{message['id']}/audio")
    assert audio.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(audio.content)) as played:
        assert (played.getnchannels(), played.getsampwidth(), played.getframerate()) == (1, 2, SAMPLE_RATE)
        assert played.getnframes() == round(recorded_s * SAMPLE_RATE)
        samples = np.frombuffer(played.readframes(played.getnframes()), dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))] - 1000) < 10
