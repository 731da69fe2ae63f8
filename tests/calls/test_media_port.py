"""What a feature does with a leg's media, over a real MediaSession on 127.0.0.1 facing the fake phone of
tests/peers/rtp_phone.py: prompts heard (and interrupted), recordings made, key presses collected."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.peers.rtp_phone import (
    EVENT_PT,
    HOST,
    SILENCE,
    WAIT,
    CountingStream,
    Phone,
    Rig,
    dominant_frequency,
    loopback_rig,
    tone,
)
from tonalite.calls import media_port
from tonalite.calls.media_port import MediaClosed, MediaEvents, MediaPort, StopReason, read_audio
from tonalite.media.dtmf import DtmfEvent, TelephoneEvent
from tonalite.media.g711 import PCMU, SAMPLE_RATE
from tonalite.media.jitter import FRAME_SAMPLES
from tonalite.media.rtp import RtpPacket
from tonalite.media.stream import Address, AudioSink, AudioSource, MediaStream, Samples
from tonalite.media.wav import read_wav, write_wav
from tonalite.net.media_session import MediaSession
from tonalite.prompts import BEEP

FREQUENCY_RESOLUTION = 10.0


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with loopback_rig() as opened:
        yield opened


class _Stream(CountingStream):
    """A stream that shows its audio source and sink, says when a sink starts listening, and can be waited on
    until it has received a number of packets."""

    def __init__(self, remote: Address) -> None:
        super().__init__(remote)
        self.source: AudioSource | None = None
        self.sink: AudioSink | None = None
        self.listening = asyncio.Event()

    def play(self, source: AudioSource | None) -> None:
        super().play(source)
        self.source = source

    def listen(self, sink: AudioSink | None) -> None:
        super().listen(sink)
        self.sink = sink
        if sink is not None:
            self.listening.set()


async def open_port(rig: Rig) -> tuple[MediaSession, MediaPort, _Stream]:
    stream = _Stream(rig.phone.address)
    session = await rig.open_session(stream)
    return session, MediaPort(session), stream


def tone_file(directory: Path, seconds: float) -> tuple[Path, Samples]:
    samples = tone(round(seconds * SAMPLE_RATE))
    path = directory / f"tone-{seconds}.wav"
    write_wav(path, samples)
    return path, samples


def as_heard(samples: Samples) -> Samples:
    """What PCMU makes of `samples` on the way."""
    return PCMU.decode(PCMU.encode(samples))


class _Heard:
    """Every packet the phone hears, from the session's first."""

    def __init__(self, phone: Phone) -> None:
        self._phone = phone
        self.packets: list[RtpPacket] = []

    async def until(self, ready: Callable[[list[RtpPacket]], bool]) -> None:
        while not ready(self.packets):
            _, packet = await self._phone.next_rtp()
            self.packets.append(packet)

    async def tone_packets(self, count: int) -> None:
        await self.until(lambda packets: sum(packet.payload != SILENCE for packet in packets) >= count)

    async def sent_after(self, sent: int) -> list[RtpPacket]:
        """Five packets the session sent after its `sent` first ones."""
        await self.until(lambda packets: len(packets) >= sent + 5)
        first = self.packets[0].sequence_number
        return [packet for packet in self.packets if (packet.sequence_number - first) % 0x10000 >= sent]


async def test_a_played_wav_reaches_the_phone_as_20_ms_packets_of_its_audio(rig: Rig, tmp_path: Path) -> None:
    _, port, _ = await open_port(rig)
    path, samples = tone_file(tmp_path, 0.5)
    playing = asyncio.create_task(port.play([path]))

    arrival, packet = await rig.phone.next_rtp()
    while packet.payload == SILENCE:
        arrival, packet = await rig.phone.next_rtp()
    arrivals, packets = [], []
    while packet.payload != SILENCE:
        arrivals.append(arrival)
        packets.append(packet)
        arrival, packet = await rig.phone.next_rtp()
    assert await asyncio.wait_for(playing, WAIT) is None

    heard = np.concatenate([PCMU.decode(packet.payload) for packet in packets])
    assert len(heard) == len(samples)
    assert dominant_frequency(heard) == pytest.approx(1000, abs=FREQUENCY_RESOLUTION)
    assert np.corrcoef(heard, samples)[0, 1] > 0.99
    for n, packet in enumerate(packets):
        assert packet.sequence_number == (packets[0].sequence_number + n) % 0x10000
        assert packet.timestamp == (packets[0].timestamp + n * FRAME_SAMPLES) % (1 << 32)
    assert (arrivals[-1] - arrivals[0]) / (len(arrivals) - 1) == pytest.approx(0.020, abs=0.003)


async def test_a_key_pressed_mid_prompt_interrupts_it_and_is_returned(rig: Rig, tmp_path: Path) -> None:
    session, port, stream = await open_port(rig)
    path, _ = tone_file(tmp_path, 2.0)
    heard = _Heard(rig.phone)
    playing = asyncio.create_task(port.play([path], interruptible=True))
    await heard.tone_packets(5)
    rig.phone.send(rig.phone.press("5"), (HOST, session.port))

    assert await asyncio.wait_for(playing, WAIT) == "5"
    assert stream.source is None
    assert all(packet.payload == SILENCE for packet in await heard.sent_after(stream.statistics.packets_sent))
    assert await port.collect_digits(max_digits=1, first_timeout=0.05, inter_digit_timeout=0.05) == ""


async def test_cancelling_a_prompt_stops_its_audio(rig: Rig, tmp_path: Path) -> None:
    _, port, stream = await open_port(rig)
    path, _ = tone_file(tmp_path, 2.0)
    heard = _Heard(rig.phone)
    playing = asyncio.create_task(port.play([path]))
    await heard.tone_packets(5)
    playing.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(playing, WAIT)
    assert stream.source is None
    assert all(packet.payload == SILENCE for packet in await heard.sent_after(stream.statistics.packets_sent))


async def test_keys_pressed_during_a_prompt_are_the_next_input(rig: Rig, tmp_path: Path) -> None:
    session, port, _ = await open_port(rig)
    path, _ = tone_file(tmp_path, 0.6)
    rig.phone.send(rig.phone.press("42"), (HOST, session.port))  # over in 0.28 s
    assert await asyncio.wait_for(port.play([path]), WAIT) is None
    assert await port.collect_digits(max_digits=4, first_timeout=0.05, inter_digit_timeout=0.05) == "42"


async def test_keys_after_the_one_that_interrupts_a_prompt_are_not_lost(rig: Rig, tmp_path: Path) -> None:
    session, port, _ = await open_port(rig)
    path, _ = tone_file(tmp_path, 2.0)
    rig.phone.send(rig.phone.press("78#"), (HOST, session.port))
    assert await asyncio.wait_for(port.play([path], interruptible=True), WAIT) == "7"
    collected = port.collect_digits(max_digits=5, first_timeout=1.0, inter_digit_timeout=1.0)
    assert await asyncio.wait_for(collected, WAIT) == "8"


async def test_collect_digits_ends_at_the_terminator(rig: Rig) -> None:
    session, port, _ = await open_port(rig)
    rig.phone.send(rig.phone.press("1234#"), (HOST, session.port))
    collected = port.collect_digits(max_digits=10, first_timeout=1.0, inter_digit_timeout=1.0)
    assert await asyncio.wait_for(collected, WAIT) == "1234"


async def test_collect_digits_ends_at_max_digits_and_keeps_the_rest(rig: Rig) -> None:
    session, port, _ = await open_port(rig)
    rig.phone.send(rig.phone.press("123"), (HOST, session.port))
    collected = port.collect_digits(max_digits=2, first_timeout=1.0, inter_digit_timeout=1.0)
    assert await asyncio.wait_for(collected, WAIT) == "12"
    collected = port.collect_digits(max_digits=2, first_timeout=1.0, inter_digit_timeout=0.2)
    assert await asyncio.wait_for(collected, WAIT) == "3"


async def test_collect_digits_returns_what_it_has_at_the_inter_digit_timeout(rig: Rig) -> None:
    session, port, _ = await open_port(rig)
    rig.phone.send(rig.phone.press("12"), (HOST, session.port))
    collected = port.collect_digits(max_digits=10, first_timeout=1.0, inter_digit_timeout=0.3)
    assert await asyncio.wait_for(collected, WAIT) == "12"


async def test_collect_digits_returns_nothing_at_the_first_timeout(rig: Rig) -> None:
    _, port, _ = await open_port(rig)
    loop = asyncio.get_running_loop()
    started = loop.time()
    collected = port.collect_digits(max_digits=4, first_timeout=0.2, inter_digit_timeout=1.0)
    assert await asyncio.wait_for(collected, WAIT) == ""
    assert 0.2 <= loop.time() - started < 0.5


async def test_a_recording_stopped_by_the_pound_key_holds_the_phones_audio_and_not_the_key(
    rig: Rig, tmp_path: Path
) -> None:
    session, port, stream = await open_port(rig)
    recording = asyncio.create_task(port.record(tmp_path / "message.wav", max_seconds=5))
    await asyncio.wait_for(stream.listening.wait(), WAIT)
    said = tone(SAMPLE_RATE)
    rig.phone.send(rig.phone.audio(said) + rig.phone.press("#"), (HOST, session.port))

    result = await asyncio.wait_for(recording, WAIT)
    assert (result.reason, result.digit) == (StopReason.DIGIT, "#")
    assert result.duration == pytest.approx(1.0, abs=0.1)
    samples = read_wav(result.path)
    assert len(samples) == round(result.duration * SAMPLE_RATE)
    assert dominant_frequency(samples) == pytest.approx(1000, abs=FREQUENCY_RESOLUTION)
    np.testing.assert_array_equal(samples[-FRAME_SAMPLES:], as_heard(said[-FRAME_SAMPLES:]))  # no key, no silence
    assert stream.sink is None


async def test_a_recording_stops_at_its_maximum_length(rig: Rig, tmp_path: Path) -> None:
    session, port, _ = await open_port(rig)
    talking = rig.phone.send(rig.phone.audio(tone(2 * SAMPLE_RATE)), (HOST, session.port))
    await talking.reached(5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await asyncio.wait_for(port.record(tmp_path / "message.wav", max_seconds=0.5), WAIT)
    assert result.reason is StopReason.MAX_LENGTH
    assert result.duration == pytest.approx(0.5, abs=0.02)
    assert loop.time() - started == pytest.approx(0.5, abs=0.1)
    assert len(read_wav(result.path)) == round(result.duration * SAMPLE_RATE)


async def test_a_cancelled_recording_keeps_a_readable_file(rig: Rig, tmp_path: Path) -> None:
    session, port, stream = await open_port(rig)
    talking = rig.phone.send(rig.phone.audio(tone(2 * SAMPLE_RATE)), (HOST, session.port))
    await talking.reached(5)
    path = tmp_path / "message.wav"
    recording = asyncio.create_task(port.record(path, max_seconds=5))
    await asyncio.wait_for(stream.listening.wait(), WAIT)
    await talking.reached(25)
    recording.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(recording, WAIT)
    assert stream.sink is None
    samples = read_wav(path)
    assert 0.2 < len(samples) / SAMPLE_RATE < 0.6
    assert path.stat().st_size == 44 + 2 * len(samples)  # the header was completed: the file was closed
    assert dominant_frequency(samples) == pytest.approx(1000, abs=FREQUENCY_RESOLUTION)


async def test_a_hang_up_ends_a_recording_and_fails_what_follows(rig: Rig, tmp_path: Path) -> None:
    session, port, stream = await open_port(rig)
    talking = rig.phone.send(rig.phone.audio(tone(2 * SAMPLE_RATE)), (HOST, session.port))
    await talking.reached(5)
    recording = asyncio.create_task(port.record(tmp_path / "message.wav", max_seconds=5))
    await asyncio.wait_for(stream.listening.wait(), WAIT)
    await talking.reached(15)
    session.close()

    result = await asyncio.wait_for(recording, WAIT)
    assert result.reason is StopReason.HANG_UP
    assert len(read_wav(result.path)) == round(result.duration * SAMPLE_RATE) > 0
    with pytest.raises(MediaClosed):
        await asyncio.wait_for(port.play([BEEP]), WAIT)
    with pytest.raises(MediaClosed):
        await asyncio.wait_for(port.collect_digits(max_digits=1, first_timeout=1, inter_digit_timeout=1), WAIT)


async def test_a_recording_ended_by_a_hang_up_holds_every_frame_received(rig: Rig, tmp_path: Path) -> None:
    """The frames still in the jitter buffer when the call ends (its 60 ms delay) are recorded too."""
    session, port, stream = await open_port(rig)
    recording = asyncio.create_task(port.record(tmp_path / "message.wav", max_seconds=5))
    await asyncio.wait_for(stream.listening.wait(), WAIT)
    said = tone(25 * FRAME_SAMPLES)
    rig.phone.send(rig.phone.audio(said), (HOST, session.port))
    await stream.received(25)
    session.close()

    result = await asyncio.wait_for(recording, WAIT)
    assert result.reason is StopReason.HANG_UP
    np.testing.assert_array_equal(read_wav(result.path), as_heard(said))


async def test_send_digits_reach_the_phone_as_telephone_events(rig: Rig) -> None:
    _, port, _ = await open_port(rig)
    port.send_digits("4#")
    ended: dict[int, str | None] = {}  # a press's packets share its timestamp; its end packet comes thrice
    async with asyncio.timeout(WAIT):
        while len(ended) < 2:
            _, packet = await rig.phone.next_rtp()
            if packet.payload_type == EVENT_PT and TelephoneEvent.parse(packet.payload).end:
                ended[packet.timestamp] = TelephoneEvent.parse(packet.payload).digit
    assert list(ended.values()) == ["4", "#"]


@dataclass
class _FakeLeg:
    stream: MediaStream
    listener: MediaEvents | None = None

    def close(self) -> None:
        if self.listener is not None:
            self.listener.media_closed()


async def test_a_port_drives_any_leg_media_and_fails_once_it_has_closed(tmp_path: Path) -> None:
    leg = _FakeLeg(MediaStream(PCMU, EVENT_PT, ("192.0.2.1", 4000)))
    port = MediaPort(leg)
    assert leg.listener is port
    port.key_pressed(DtmfEvent("9", 100))
    assert await asyncio.wait_for(port.play([BEEP], interruptible=True), WAIT) == "9"

    port.media_closed()
    with pytest.raises(MediaClosed):
        await asyncio.wait_for(port.record(tmp_path / "never.wav", max_seconds=1), WAIT)
    assert not (tmp_path / "never.wav").exists()


async def test_prompts_are_read_once_other_files_each_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[Path] = []

    def counting_read_wav(path: Path) -> Samples:
        reads.append(path)
        return read_wav(path)

    monkeypatch.setattr(media_port, "read_wav", counting_read_wav)
    monkeypatch.setattr(media_port, "_prompts", {})
    path, _ = tone_file(tmp_path, 0.1)
    for _ in range(2):
        await asyncio.wait_for(read_audio(BEEP), WAIT)
        await asyncio.wait_for(read_audio(path), WAIT)
    assert reads == [BEEP, path, path]
    assert not (await asyncio.wait_for(read_audio(BEEP), WAIT)).flags.writeable


async def test_two_bridged_legs_hear_each_other_until_one_hangs_up(rig: Rig) -> None:
    """Two phones, one a leg each: each hears the other's tone through the bridge; when one leg hangs up,
    the bridge ends and the other leg is free for what comes next (its port still works)."""
    other_phone = await Phone.open(rig.phone_pool)
    try:
        first, first_port, _ = await open_port(rig)
        second = await rig.open_session(MediaStream(PCMU, EVENT_PT, other_phone.address))
        second_port = MediaPort(second)
        bridged = asyncio.create_task(first_port.bridge(second_port))
        rig.phone.send(rig.phone.audio(tone(SAMPLE_RATE, 1000.0)), ("127.0.0.1", first.port))
        other_phone.send(other_phone.audio(tone(SAMPLE_RATE, 440.0)), ("127.0.0.1", second.port))
        heard_by_first = await _audio_heard(rig.phone, frames=25)
        heard_by_second = await _audio_heard(other_phone, frames=25)
        assert abs(dominant_frequency(heard_by_first) - 440.0) <= FREQUENCY_RESOLUTION
        assert abs(dominant_frequency(heard_by_second) - 1000.0) <= FREQUENCY_RESOLUTION
        first_port.hang_up()
        await asyncio.wait_for(bridged, WAIT)
        assert first.closed and not second.closed
        second_port.key_pressed(DtmfEvent("5", 100))
        assert (
            await asyncio.wait_for(
                second_port.collect_digits(max_digits=1, first_timeout=1, inter_digit_timeout=1), WAIT
            )
            == "5"
        )
    finally:
        other_phone.close()


async def _audio_heard(phone: Phone, frames: int) -> np.ndarray:
    """The next `frames` frames of sound (not silence) the phone receives, decoded."""
    heard: list[np.ndarray] = []
    async with asyncio.timeout(WAIT):
        while len(heard) < frames:
            _, packet = await phone.next_rtp()
            samples = PCMU.decode(packet.payload)
            if np.abs(samples.astype(np.int32)).max() > 100:
                heard.append(samples)
    return np.concatenate(heard)
