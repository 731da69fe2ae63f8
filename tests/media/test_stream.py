from __future__ import annotations

import itertools
import random

import numpy as np
import numpy.typing as npt
import pytest

from tonalite.media.dtmf import END_PACKET_COUNT, DtmfError, DtmfEvent, TelephoneEvent, dtmf_packets
from tonalite.media.g711 import PCMA, PCMU, SAMPLE_RATE, G711Codec
from tonalite.media.rtp import (
    ReceiverReport,
    RtpPacket,
    SenderReport,
    build_rtcp,
    ntp_timestamp,
    parse_rtcp,
    parse_rtp,
)
from tonalite.media.stream import DIGIT_GAP_TICKS, Address, MediaStream, Samples

TICK = 0.020
FRAME = 160
EVENT_PT = 101
PHONE_SSRC = 0x5EED_0001
SDP_ADDRESS: Address = ("192.0.2.10", 40000)  # what the phone's SDP says
NAT_ADDRESS: Address = ("198.51.100.7", 61000)  # where its packets really come from
STRANGER: Address = ("203.0.113.66", 5004)
PRE_ROLL = 3  # ticks of the 60 ms target delay before the first frame plays

Frames = list[Samples | None]


def new_stream(
    codec: G711Codec = PCMU, remote: Address | None = SDP_ADDRESS, telephone_event: int | None = EVENT_PT
) -> MediaStream:
    return MediaStream(codec, telephone_event, remote, rng=random.Random(7), target_delay=0.060)


def tone(frames: int, frequency: float = 1000.0, amplitude: int = 8000) -> list[Samples]:
    t = np.arange(frames * FRAME) / SAMPLE_RATE
    signal = np.round(amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.int16)
    return [signal[n * FRAME : (n + 1) * FRAME] for n in range(frames)]


def audio_packet(n: int, payload: bytes, *, ssrc: int = PHONE_SSRC, payload_type: int = 0) -> bytes:
    """The phone's `n`th 20 ms packet."""
    return RtpPacket(payload_type, (1000 + n) % 0x10000, 50_000 + n * FRAME, ssrc, payload, marker=n == 0).serialise()


def collect(stream: MediaStream) -> Frames:
    heard: Frames = []
    stream.listen(heard.append)
    return heard


def call(stream: MediaStream, datagrams: dict[int, bytes], ticks: int, source: Address = NAT_ADDRESS) -> list[bytes]:
    """Tick `ticks` times, 20 ms apart; the datagram keyed by a tick arrives 5 ms before it. The datagrams sent."""
    sent = []
    for n in range(ticks):
        if n in datagrams:
            stream.receive(datagrams[n], source, n * TICK)
        result = stream.tick(n * TICK + 0.005)
        if result is not None:
            sent.append(result[0])
    return sent


def dominant_frequency(samples: npt.NDArray[np.int16]) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


@pytest.mark.parametrize("codec", [PCMU, PCMA])
def test_tone_from_the_phone_reaches_the_sink_after_the_jitter_delay(codec: G711Codec) -> None:
    stream = new_stream(codec)
    heard = collect(stream)
    frames = tone(50)
    call(
        stream,
        {n: audio_packet(n, codec.encode(frame), payload_type=codec.payload_type) for n, frame in enumerate(frames)},
        53,
    )
    assert heard[:PRE_ROLL] == [None] * PRE_ROLL
    played = heard[PRE_ROLL:]
    assert all(frame is not None and len(frame) == FRAME for frame in played)
    samples = np.concatenate([frame for frame in played if frame is not None])
    np.testing.assert_array_equal(samples, codec.decode(b"".join(codec.encode(frame) for frame in frames)))
    assert dominant_frequency(samples) == pytest.approx(1000, abs=SAMPLE_RATE / len(samples))
    assert stream.statistics.packets_received == 50


def test_lost_packets_reach_the_sink_as_gaps() -> None:
    stream = new_stream()
    heard = collect(stream)
    frames = tone(10)
    call(stream, {n: audio_packet(n, PCMU.encode(frames[n])) for n in range(10) if n not in (4, 5)}, 13)
    assert [frame is None for frame in heard] == [True] * PRE_ROLL + [False] * 4 + [True] * 2 + [False] * 4
    assert stream.statistics.packets_received == 8


def test_silence_from_the_phone_is_zeros_not_a_gap() -> None:
    stream = new_stream()
    heard = collect(stream)
    call(stream, {n: audio_packet(n, PCMU.silence(FRAME)) for n in range(3)}, 6)
    assert heard[:PRE_ROLL] == [None] * PRE_ROLL
    assert all(frame is not None and not frame.any() for frame in heard[PRE_ROLL:])


def test_symmetric_rtp_sends_to_the_latest_valid_source() -> None:
    stream = new_stream()
    result = stream.tick(0.0)
    assert result is not None and result[1] == SDP_ADDRESS

    stream.receive(audio_packet(0, PCMU.silence(FRAME)), NAT_ADDRESS, 0.01)
    result = stream.tick(0.02)
    assert result is not None and result[1] == NAT_ADDRESS

    stream.receive(audio_packet(1, PCMU.silence(FRAME), payload_type=18), STRANGER, 0.03)  # G.729: not ours
    stream.receive(b"\x80\x00garbage", STRANGER, 0.03)
    stream.receive(audio_packet(1, PCMU.silence(80)), STRANGER, 0.03)  # 10 ms: not a frame
    stream.receive(
        RtpPacket(EVENT_PT, 1001, 50_160, PHONE_SSRC, b"\x05\x0a").serialise(), STRANGER, 0.03
    )  # a broken event
    result = stream.tick(0.04)
    assert result is not None and result[1] == NAT_ADDRESS
    assert stream.remote == NAT_ADDRESS
    assert stream.statistics.dropped == 4
    assert stream.statistics.packets_received == 1


def test_once_latched_only_the_same_source_moves_the_address() -> None:
    stream = new_stream()
    stream.receive(audio_packet(0, PCMU.silence(FRAME)), NAT_ADDRESS, 0.01)
    intruder = RtpPacket(PCMU.payload_type, 7, 123_456, PHONE_SSRC + 1, PCMU.silence(FRAME)).serialise()
    stream.receive(intruder, STRANGER, 0.02)
    assert stream.remote == NAT_ADDRESS
    assert stream.statistics.dropped == 1
    rebound = ("198.51.100.7", 40_002)  # the phone's NAT gave it another port: same SSRC
    stream.receive(audio_packet(1, PCMU.silence(FRAME)), rebound, 0.03)
    assert stream.remote == rebound
    restarted = RtpPacket(PCMU.payload_type, 900, 7_000, PHONE_SSRC + 2, PCMU.silence(FRAME)).serialise()
    stream.receive(restarted, rebound, 0.04)  # a new SSRC from the latched address: the phone restarted it
    stream.receive(intruder, STRANGER, 0.05)
    assert stream.remote == rebound
    assert stream.statistics.packets_received == 3


def test_dropped_packets_change_nothing() -> None:
    stream = new_stream()
    heard = collect(stream)
    frames = tone(4)
    datagrams = {n: audio_packet(n, PCMU.encode(frames[n])) for n in range(4)}
    datagrams[2] = audio_packet(2, PCMU.encode(frames[2]), payload_type=9)
    call(stream, datagrams, 7)
    assert [frame is None for frame in heard] == [True] * PRE_ROLL + [False, False, True, False]
    assert not stream.events()


def phone_press(digit: str, sequence: int, timestamp: int) -> list[bytes]:
    return [
        RtpPacket(EVENT_PT, sequence + i, timestamp, PHONE_SSRC, packet.payload, packet.marker).serialise()
        for i, packet in enumerate(dtmf_packets(digit, 100))
    ]


@pytest.mark.parametrize(("read_before_the_tick", "played_by_the_tick"), [(True, 4), (False, 1)])
def test_a_tick_standing_for_skipped_ones_catches_up_without_a_burst(
    read_before_the_tick: bool, played_by_the_tick: int
) -> None:
    """The process stalled from tick 8 to 11 (the pacer skipped 3): the phone's packets of that time are read
    at once, before the tick after the stall or after it. That tick steps the RTP clock four frames on and
    plays out the frames already in; those still to come are played out as they come in, at the next tick."""
    stream = new_stream()
    heard = collect(stream)
    pulled: list[int] = []

    def source() -> Samples | None:
        pulled.append(1)
        return None

    stream.play(source)
    frames = tone(20)
    packets = [audio_packet(n, PCMU.encode(frame)) for n, frame in enumerate(frames)]
    sent = call(stream, dict(enumerate(packets[:8])), 8)
    held_up = packets[8:12]
    for packet in held_up if read_before_the_tick else []:
        stream.receive(packet, NAT_ADDRESS, 11 * TICK)
    result = stream.tick(11 * TICK + 0.005, frames=4)
    assert result is not None
    sent.append(result[0])
    assert len(heard) == 8 + played_by_the_tick
    for packet in [] if read_before_the_tick else held_up:
        stream.receive(packet, NAT_ADDRESS, 11 * TICK + 0.006)
    for n in range(12, 20):
        stream.receive(packets[n], NAT_ADDRESS, n * TICK)
        result = stream.tick(n * TICK + 0.005)
        assert result is not None
        sent.append(result[0])

    assert heard[:PRE_ROLL] == [None] * PRE_ROLL
    played = [frame for frame in heard[PRE_ROLL:] if frame is not None]
    assert len(played) == len(heard) - PRE_ROLL == 17  # the same delay after the stall: frame n plays at tick n + 3
    np.testing.assert_array_equal(np.concatenate(played), PCMU.decode(b"".join(map(PCMU.encode, frames[:17]))))
    steps = [(b.timestamp - a.timestamp) % 0x1_0000_0000 for a, b in itertools.pairwise(map(parse_rtp, sent))]
    assert steps == [FRAME] * 7 + [4 * FRAME] + [FRAME] * 8
    assert len(pulled) == len(sent) == 17  # one frame from the source and one packet per tick


def test_skipped_periods_without_audio_are_caught_up_when_it_resumes() -> None:
    """The phone sent nothing during the stall (silence suppression): the buffer has nothing to catch up on
    until audio resumes, and then plays it after the target delay, not the stall's 60 ms more."""
    stream = new_stream()
    heard = collect(stream)
    frames = tone(20)
    packets = {n: audio_packet(n, PCMU.encode(frames[n])) for n in range(20) if not 8 <= n < 12}
    call(stream, {n: packets[n] for n in range(8)}, 8)
    stream.tick(11 * TICK + 0.005, frames=4)
    for n in range(12, 20):
        stream.receive(packets[n], NAT_ADDRESS, n * TICK)
        stream.tick(n * TICK + 0.005)
    assert [frame is None for frame in heard] == [True] * PRE_ROLL + [False] * 8 + [True] * 4 + [False] * 5


def test_drain_plays_what_the_jitter_buffer_holds_into_the_sink() -> None:
    stream = new_stream()
    heard = collect(stream)
    frames = tone(10)
    call(stream, {n: audio_packet(n, PCMU.encode(frames[n])) for n in range(10) if n != 8}, 10)
    assert len(heard) == 10  # frames 7 to 9 are still in the buffer: the 60 ms delay
    stream.drain()
    assert [frame is None for frame in heard] == [True] * PRE_ROLL + [False] * 8 + [True, False]
    np.testing.assert_array_equal(heard[-1], PCMU.decode(PCMU.encode(frames[9])))
    stream.drain()
    assert len(heard) == 13


def test_key_presses_from_the_phone_become_events_once_each() -> None:
    stream = new_stream()
    packets = phone_press("5", 1000, 50_000) + phone_press("#", 1007, 51_120)
    call(stream, dict(enumerate(packets)), len(packets) + 2)
    assert stream.events() == [DtmfEvent("5", 100), DtmfEvent("#", 100)]
    assert not stream.events()
    assert stream.statistics.packets_received == len(packets)


def test_press_without_end_packets_is_reported_by_the_tick_after_the_timeout() -> None:
    stream = new_stream()
    packets = phone_press("9", 1000, 50_000)[:3]  # durations 160, 320, 480; the rest is lost
    call(stream, dict(enumerate(packets)), 3)
    assert not stream.events()
    stream.tick(0.04 + 0.999)
    assert not stream.events()
    stream.tick(0.04 + 1.0)
    assert stream.events() == [DtmfEvent("9", 60)]


def test_send_digit_sends_rfc4733_events_then_audio_resumes_in_time() -> None:
    stream = new_stream()
    sent = [parse_rtp(data) for data in call(stream, {}, 2)]
    stream.send_digit("7")
    sent += [parse_rtp(data) for data in call(stream, {}, 9)]
    audio_before, events, audio_after = sent[:2], sent[2:9], sent[9:]

    assert [packet.payload_type for packet in audio_before + audio_after] == [0] * 4
    assert [packet.payload_type for packet in events] == [EVENT_PT] * 7
    assert [packet.marker for packet in sent] == [True, False, True] + [False] * 8
    assert {packet.timestamp for packet in events} == {audio_before[1].timestamp + FRAME}
    assert [packet.sequence_number for packet in sent] == [(sent[0].sequence_number + i) % 0x10000 for i in range(11)]
    blocks = [TelephoneEvent.parse(packet.payload) for packet in events]
    assert {block.digit for block in blocks} == {"7"}
    assert [block.duration for block in blocks] == [160, 320, 480, 640, 800, 800, 800]
    assert [block.end for block in blocks] == [False] * 4 + [True] * END_PACKET_COUNT
    assert len({packet.payload for packet in events[-END_PACKET_COUNT:]}) == 1
    assert audio_after[0].timestamp == (events[0].timestamp + 7 * FRAME) % 0x1_0000_0000
    assert audio_after[1].timestamp == (audio_after[0].timestamp + FRAME) % 0x1_0000_0000


def test_queued_digits_are_sent_one_after_the_other_with_a_pause() -> None:
    stream = new_stream()
    stream.send_digit("1", 40)
    stream.send_digit("1", 40)
    sent = [parse_rtp(data) for data in call(stream, {}, 2 * 4 + DIGIT_GAP_TICKS + 1)]
    kinds = ["event" if packet.payload_type == EVENT_PT else "audio" for packet in sent]
    assert kinds == ["event"] * 4 + ["audio"] * DIGIT_GAP_TICKS + ["event"] * 4 + ["audio"]
    first, second = sent[0], sent[4 + DIGIT_GAP_TICKS]
    assert first.marker and second.marker
    assert second.timestamp == (first.timestamp + (4 + DIGIT_GAP_TICKS) * FRAME) % 0x1_0000_0000


def test_send_digit_needs_telephone_event() -> None:
    stream = new_stream(telephone_event=None)
    with pytest.raises(DtmfError):
        stream.send_digit("1")
    with pytest.raises(DtmfError):
        new_stream().send_digit("X")


@pytest.mark.parametrize("codec", [PCMU, PCMA])
def test_played_samples_come_out_encoded(codec: G711Codec) -> None:
    stream = new_stream(codec)
    frames = tone(3, frequency=440)
    queue: list[Samples | None] = [*frames, None]
    stream.play(lambda: queue.pop(0) if queue else None)
    sent = [parse_rtp(data) for data in call(stream, {}, 5)]
    for packet, frame in zip(sent, frames, strict=False):
        np.testing.assert_array_equal(codec.decode(packet.payload), codec.decode(codec.encode(frame)))
    assert [packet.payload for packet in sent[3:]] == [codec.silence(FRAME)] * 2
    assert {packet.payload_type for packet in sent} == {codec.payload_type}
    assert [packet.marker for packet in sent] == [True, False, False, False, False]
    assert [packet.timestamp for packet in sent] == [(sent[0].timestamp + n * FRAME) % 0x1_0000_0000 for n in range(5)]
    assert stream.statistics.packets_sent == 5


def test_without_a_source_silence_is_sent() -> None:
    stream = new_stream(PCMA)
    result = stream.tick(0.0)
    assert result is not None
    assert parse_rtp(result[0]).payload == bytes([0xD5]) * FRAME


def test_a_source_giving_the_wrong_frame_size_is_refused() -> None:
    stream = new_stream()
    stream.play(lambda: np.zeros(80, dtype=np.int16))
    with pytest.raises(ValueError, match="80 samples"):
        stream.tick(0.0)


def test_without_a_remote_nothing_is_sent_until_the_phone_speaks() -> None:
    stream = new_stream(remote=None)
    heard = collect(stream)
    pulled: list[float] = []

    def source() -> Samples | None:
        pulled.append(1)
        return None

    stream.play(source)
    frames = tone(2)
    sent = call(stream, {3: audio_packet(0, PCMU.encode(frames[0])), 4: audio_packet(1, PCMU.encode(frames[1]))}, 9)
    assert len(pulled) == 9  # the source is played in time even when nothing can be sent
    assert [frame is None for frame in heard] == [True] * (3 + PRE_ROLL) + [False, False, True]
    assert len(sent) == 6  # from the tick after the first packet, to where it came from
    first = parse_rtp(sent[0])
    assert first.marker
    assert stream.remote == NAT_ADDRESS


def test_random_datagrams_never_raise() -> None:
    rng = random.Random(4733)
    stream = new_stream()
    stream.listen(lambda frame: None)
    valid = audio_packet(0, PCMU.silence(FRAME))
    for n in range(5000):
        kind = rng.randrange(4)
        if kind == 0:
            data = rng.randbytes(rng.randrange(64))
        elif kind == 1:  # a plausible RTP header over random bytes: reaches the payload checks
            data = bytes([0x80 | rng.randrange(0x40), rng.choice([0, 8, EVENT_PT, 0x80 | EVENT_PT])])
            data += rng.randbytes(rng.choice([10, 14, 170, 200]))
        elif kind == 2:  # a valid packet with a few bytes flipped
            mutated = bytearray(valid)
            for _ in range(rng.randrange(1, 4)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            data = bytes(mutated)
        else:
            data = bytes([0x80 | rng.randrange(0x40), rng.randrange(192, 224)]) + rng.randbytes(rng.randrange(64))
        address = (f"10.0.0.{rng.randrange(256)}", rng.randrange(1, 65536))
        if rng.random() < 0.2:
            stream.receive_rtcp(data, n * 0.001)
        else:
            stream.receive(data, address, n * 0.001)
        if n % 20 == 0:
            stream.tick(n * 0.001)
    stream.rtcp_report(5.0, "tonalite@example.net", 1_700_000_000.0)
    assert stream.statistics.dropped > 0


def test_rtcp_sender_report_from_the_phone_is_answered_with_a_report_block() -> None:
    stream = new_stream()
    (first, *_) = parse_rtcp(stream.rtcp_report(0.0, "tonalite@example.net", 1_700_000_000.0))
    assert isinstance(first, ReceiverReport)
    assert first.reports == ()

    frames = tone(10)
    sent = call(stream, {n: audio_packet(n, PCMU.encode(frames[n])) for n in range(10) if n != 6}, 10)
    phone_ntp = ntp_timestamp(1_700_000_000.25)
    phone_sr = build_rtcp(SenderReport(PHONE_SSRC, phone_ntp, 51_000, 9, 1440), "phone@example.net")
    stream.receive_rtcp(phone_sr, 0.25)
    stream.receive_rtcp(b"\x81\xc9\x00\x07short", 0.25)

    assert stream.statistics.packets_lost == 1  # live, before any report closes an interval
    (ours, *_) = parse_rtcp(stream.rtcp_report(0.5, "tonalite@example.net", 1_700_000_000.5))
    assert isinstance(ours, SenderReport)
    assert ours.ssrc == parse_rtp(sent[0]).ssrc
    assert (ours.packet_count, ours.octet_count) == (10, 10 * FRAME)
    assert ours.ntp_timestamp == ntp_timestamp(1_700_000_000.5)
    (block,) = ours.reports
    assert block.ssrc == PHONE_SSRC
    assert block.last_sr == phone_ntp >> 16 & 0xFFFF_FFFF
    assert block.delay_since_last_sr == int(0.25 * 65536)
    assert block.cumulative_lost == 1
    assert block.extended_highest_sequence == 1009
    stats = stream.statistics
    assert (stats.packets_received, stats.packets_lost, stats.dropped, stats.packets_sent) == (9, 1, 1, 10)
    assert stats.jitter_ms >= 0


def test_sender_report_rtp_timestamp_follows_the_stream_clock() -> None:
    stream = new_stream()
    sent = [parse_rtp(data) for data in call(stream, {}, 3)]  # ticks at 5, 25, 45 ms
    (report, *_) = parse_rtcp(stream.rtcp_report(0.055, "tonalite@example.net", 1_700_000_000.0))
    assert isinstance(report, SenderReport)
    assert report.rtp_timestamp == (sent[-1].timestamp + 80) % 0x1_0000_0000  # 10 ms after the last tick


def test_telephone_event_must_differ_from_the_audio_payload_type() -> None:
    with pytest.raises(ValueError):
        MediaStream(PCMU, 0, SDP_ADDRESS)


def test_a_stream_that_made_the_offer_takes_the_answers_codec_and_address_before_sending() -> None:
    stream = new_stream(PCMA, remote=None)
    assert stream.tick(0.0) is None  # no address yet: nothing is sent
    stream.agree(PCMU, EVENT_PT, SDP_ADDRESS)
    sent = stream.tick(0.020)
    assert sent is not None
    data, remote = sent
    assert remote == SDP_ADDRESS
    assert parse_rtp(data).payload_type == PCMU.payload_type
    with pytest.raises(ValueError, match="agreed"):
        stream.agree(PCMA, None, SDP_ADDRESS)
    with pytest.raises(ValueError, match="telephone-event"):
        new_stream(PCMA, remote=None).agree(PCMU, 0, SDP_ADDRESS)
