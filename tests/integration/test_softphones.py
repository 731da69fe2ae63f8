"""Two real softphones (headless baresip) call each other through `tonalite serve`, over UDP and over TCP.

Phone A (line 0) sends a 1 kHz tone and phone B (line 1) a 440 Hz tone; each records what it receives.
The call is placed, answered, carries audio for a few seconds and is hung up by A; then the recordings
must hold the other side's tone for most of the call, and the server must have written one call record.
"""

from __future__ import annotations

import contextlib
import re
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import select

from tests.integration.conftest import Site, _site
from tests.peers.baresip import Baresip, BaresipError
from tonalite.services.numbering import format_national
from tonalite.store.models import CallRecord, CallResult

TONE_A_HZ = 1000.0
TONE_B_HZ = 440.0
CONVERSATION_S = 3.0
FRAME_S = 0.020
ACTIVE_RMS = 0.01  # of full scale
RECORD_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Heard:
    """What a recording holds: its length, its loudest frequency, how much of its energy is near a tone,
    and how many seconds of 20 ms frames carry sound."""

    seconds: float
    peak_hz: float
    share_near_tone: float
    active_seconds: float


def samples_of(path: Path) -> tuple[npt.NDArray[np.float64], int]:
    with wave.open(str(path), "rb") as recording:
        assert recording.getsampwidth() == 2 and recording.getnchannels() == 1, path
        rate = recording.getframerate()
        raw = recording.readframes(recording.getnframes())
    return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0, rate


def analyse(path: Path, tone_hz: float, band_hz: float = 20.0) -> Heard:
    samples, rate = samples_of(path)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    frequencies = np.fft.rfftfreq(len(samples), 1 / rate)
    near = np.abs(frequencies - tone_hz) <= band_hz
    frame = int(rate * FRAME_S)
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return Heard(
        seconds=len(samples) / rate,
        peak_hz=float(frequencies[int(np.argmax(spectrum))]),
        share_near_tone=float(spectrum[near].sum() / spectrum.sum()) if spectrum.sum() > 0 else 0.0,
        active_seconds=float(np.count_nonzero(rms > ACTIVE_RMS) * FRAME_S),
    )


def received(phone: Baresip) -> Path:
    (path,) = phone.recordings("dec")
    return path


def wait_call_record(site: Site) -> list[CallRecord]:
    """The server writes the record off its loop just after the call ends: poll, bounded."""
    deadline = time.monotonic() + RECORD_TIMEOUT_S
    platform = site.server.platform
    try:
        while True:
            with platform.db.session() as session:
                records = list(session.scalars(select(CallRecord)))
                session.expunge_all()
            if records or time.monotonic() > deadline:
                return records
            time.sleep(0.05)
    finally:
        platform.db.dispose()


@contextlib.contextmanager
def server_log_on_failure(site: Site) -> Iterator[None]:
    """A phone's failure message carries its own log; add the server's side of the story."""
    try:
        yield
    except BaresipError as error:
        raise BaresipError(f"{error}\n--- tonalite serve ---\n{site.server.log_tail()}") from None


@pytest.fixture
def anchoring_site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    """MD5 only, as for `md5_site`, and every call's RTP relayed through the node."""
    env = {"TONALITE_SIP_DIGEST_ALGORITHMS": "MD5", "TONALITE_MEDIA_ANCHOR": "always"}
    yield from _site(sqlite_template, tmp_path, env)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_two_softphones_talk_through_the_platform(md5_site: Site, transport: str) -> None:
    _talk(md5_site, transport)


@pytest.mark.timeout(60)
def test_two_softphones_talk_through_the_nodes_relay(anchoring_site: Site) -> None:
    """Each phone sends its RTP to the node, which passes it on: the relay's count of what it forwarded each
    way (logged at the call's end) is the phones' 50 packets a second."""
    talk_s = _talk(anchoring_site, "udp")
    (relayed,) = re.findall(r"media relayed: (.*)", anchoring_site.server.log_tail(200))
    counts = {
        side: (int(received), int(sent))
        for side, received, sent in re.findall(r"(caller|callee) (\d+) in, (\d+) out", relayed)
    }
    for received, sent in counts.values():
        assert received >= 0.8 * talk_s * 50 and sent >= 0.8 * talk_s * 50, relayed


def _talk(site: Site, transport: str) -> float:
    """A calls B, they talk, A hangs up: each heard the other's tone for most of the call, and the call is
    recorded. Returns how long they talked, in seconds."""
    line_a, line_b = site.lines[0], site.lines[1]
    port = site.server.sip_port
    with (
        server_log_on_failure(site),
        Baresip("A", site.work_dir / "a", line_a, port, transport, tone_hz=TONE_A_HZ, answermode="manual") as a,
        Baresip("B", site.work_dir / "b", line_b, port, transport, tone_hz=TONE_B_HZ, answermode="auto") as b,
    ):
        a.register()
        b.register()
        for index in (0, 1):
            (registration,) = site.wait_registrations(index, bool)
            assert registration["transport"] == transport
            assert registration["source"].startswith(f"{transport}:127.0.0.1:")

        dialled = format_national(line_b.number).replace(" ", "")
        assert dialled == "0199001002", "dialled in national format, through the dial plan"
        a.dial(dialled)
        a.wait_for("CALL_ESTABLISHED", fail_on=("CALL_CLOSED",))
        answered = time.monotonic()
        incoming = b.wait_for("CALL_ESTABLISHED", fail_on=("CALL_CLOSED",))
        assert incoming["peeruri"] == f"sip:{line_a.number}@127.0.0.1", "B sees A's line number, not A's phone"
        a.wait_for("CALL_RINGING", timeout=1.0)  # B's 180 came through before its 200
        time.sleep(CONVERSATION_S)  # the conversation itself: what the recordings measure
        a.hangup()
        talk_s = time.monotonic() - answered
        a.wait_for("CALL_CLOSED")
        closed = b.wait_for("CALL_CLOSED")
        assert closed["param"] == "Connection reset by peer", "B's call ended by the BYE relayed from A"

    heard_by_a = analyse(received(a), TONE_B_HZ)
    heard_by_b = analyse(received(b), TONE_A_HZ)
    print(f"{transport}: talked {talk_s:.2f} s; A heard {heard_by_a}; B heard {heard_by_b}")
    for heard, tone in ((heard_by_a, TONE_B_HZ), (heard_by_b, TONE_A_HZ)):
        assert abs(heard.peak_hz - tone) <= 5, heard
        assert heard.share_near_tone > 0.9, heard
        assert heard.active_seconds >= 0.8 * talk_s, (heard, talk_s)

    (record,) = wait_call_record(site)
    assert record.result == CallResult.ANSWERED
    assert (record.caller, record.callee) == (line_a.number, line_b.number)
    assert record.answered_at is not None and record.ended_at is not None
    assert record.duration_s >= 2
    return talk_s
