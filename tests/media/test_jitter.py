from __future__ import annotations

import random

import pytest

from tonalite.media.jitter import FRAME_DURATION, FRAME_SAMPLES, LATE_RESYNC, Arrival, JitterBuffer

TICK = FRAME_DURATION
PRE_ROLL = [None, None, None]  # the three empty slots of a 60 ms target delay before the first frame

Packet = tuple[float, int, int, bytes]  # arrival, sequence number, RTP timestamp, payload


def frame(n: int) -> bytes:
    return f"frame {n}".encode()


def stream(
    count: int, *, first: int = 0, sequence: int = 1000, timestamp: int = 80_000, start: float = 0.0
) -> list[Packet]:
    """Frames `first`..`first + count - 1`, each arriving on time, 20 ms apart from `start`."""
    return [
        (
            start + n * TICK,
            (sequence + n) % 0x10000,
            (timestamp + n * FRAME_SAMPLES) % 0x1_0000_0000,
            frame(first + n),
        )
        for n in range(count)
    ]


def play(buffer: JitterBuffer, packets: list[Packet], ticks: int, *, offset: float = 0.005) -> list[bytes | None]:
    """The media tick: every 20 ms (`offset` after the first packet's 20 ms), push what has arrived since the
    last tick, in list order, then pop."""
    played = []
    pending = list(packets)
    for tick in range(ticks):
        now = tick * TICK + offset
        while pending and pending[0][0] <= now:
            arrival, sequence, timestamp, payload = pending.pop(0)
            buffer.push(sequence, timestamp, payload, arrival)
        played.append(buffer.pop(now))
    return played


def test_in_order_stream_plays_after_the_target_delay() -> None:
    played = play(JitterBuffer(target_delay=0.060), stream(10), ticks=14)
    assert played == [*PRE_ROLL, *map(frame, range(10)), None]


@pytest.mark.parametrize(("target_delay", "pre_roll"), [(0.0, 0), (0.02, 1), (0.1, 5)])
def test_target_delay_sets_the_pre_roll(target_delay: float, pre_roll: int) -> None:
    played = play(JitterBuffer(target_delay=target_delay), stream(4), ticks=pre_roll + 4)
    assert played == [None] * pre_roll + [frame(n) for n in range(4)]


@pytest.mark.parametrize(
    ("name", "order", "delays"),
    [
        ("swapped pairs", [0, 1, 3, 2, 5, 4, 7, 6, 9, 8], [0.0] * 10),
        ("reversed threes", [0, 1, 4, 3, 2, 7, 6, 5, 8, 9], [0.0] * 10),
        ("jitter below the delay", list(range(10)), [0.0, 0.035, 0.01, 0.05, 0.0, 0.045, 0.02, 0.0, 0.055, 0.0]),
    ],
)
def test_reordering_within_the_delay(name: str, order: list[int], delays: list[float]) -> None:
    """The first packet sets the play-out time; later ones may come up to the target delay after theirs."""
    packets = stream(10)
    reordered = sorted(
        (
            (packets[slot][0] + delay, *packets[n][1:])
            for slot, (n, delay) in enumerate(zip(order, delays, strict=True))
        ),
        key=lambda packet: packet[0],
    )
    played = play(JitterBuffer(), reordered, ticks=13)
    assert played == [*PRE_ROLL, *map(frame, range(10))], name


def test_a_packet_reordered_before_the_first_still_plays() -> None:
    first, second = stream(2)
    played = play(JitterBuffer(), [(0.0, *second[1:]), (0.01, *first[1:])], ticks=5)
    assert played == [None, None, frame(0), frame(1), None]


def test_duplicates_are_dropped() -> None:
    buffer = JitterBuffer()
    packets = stream(3)
    outcomes = [buffer.push(seq, ts, payload, arrival) for arrival, seq, ts, payload in packets + packets[1:2]]
    assert outcomes == [Arrival.RESYNCED, Arrival.QUEUED, Arrival.QUEUED, Arrival.DUPLICATE]
    assert len(buffer) == 3
    assert [buffer.pop(0.005 + n * TICK) for n in range(7)] == [*PRE_ROLL, frame(0), frame(1), frame(2), None]


def test_a_packet_after_its_play_out_time_is_dropped_and_leaves_a_gap() -> None:
    packets = stream(8)
    late = packets[4]
    packets[4] = (late[0] + 0.1, *late[1:])  # due at 0.145, arrives at 0.18
    packets.sort(key=lambda packet: packet[0])
    buffer = JitterBuffer()
    played = play(buffer, packets, ticks=11)
    assert played == [*PRE_ROLL, frame(0), frame(1), frame(2), frame(3), None, frame(5), frame(6), frame(7)]
    assert buffer.push(late[1], late[2], late[3], 0.3) is Arrival.LATE


def test_gap_returns_none() -> None:
    packets = [p for i, p in enumerate(stream(6)) if i not in (2, 3)]
    assert play(JitterBuffer(), packets, ticks=9) == [*PRE_ROLL, frame(0), frame(1), None, None, frame(4), frame(5)]


def test_silence_suppression_keeps_time() -> None:
    """A sender that stops in a silence: sequence numbers continue, the timestamp jumps by the silence."""
    talk = stream(3)
    after_silence = stream(3, first=3, sequence=1003, timestamp=80_000 + 50 * FRAME_SAMPLES, start=1.0)
    played = play(JitterBuffer(), talk + after_silence, ticks=56)
    assert played == [*PRE_ROLL, *map(frame, range(3)), *[None] * 47, *map(frame, range(3, 6))]


@pytest.mark.parametrize(
    ("sequence", "timestamp"),
    [(0xFFFD, 80_000), (1000, 0xFFFF_FFFF - 2 * FRAME_SAMPLES), (0xFFFE, 0x1_0000_0000 - FRAME_SAMPLES)],
)
def test_sequence_and_timestamp_wrap(sequence: int, timestamp: int) -> None:
    buffer = JitterBuffer()
    packets = stream(8, sequence=sequence, timestamp=timestamp)
    shuffled = [packets[i] for i in (0, 2, 1, 3, 5, 4, 6, 7)]
    outcomes = [buffer.push(seq, ts, payload, arrival) for arrival, seq, ts, payload in shuffled]
    assert outcomes == [Arrival.RESYNCED] + [Arrival.QUEUED] * 7
    assert [buffer.pop(0.005 + n * TICK) for n in range(11)] == [*PRE_ROLL, *map(frame, range(8))]


@pytest.mark.parametrize(
    ("name", "sequence", "timestamp", "ssrc"),
    [
        ("sequence far ahead", 1004 + 5000, 80_000 + 4 * FRAME_SAMPLES, None),
        ("sequence far behind", 1004 - 500, 80_000 + 4 * FRAME_SAMPLES, None),
        ("timestamp far ahead", 1004, 80_000 + 4000 * FRAME_SAMPLES, None),
        ("new SSRC", 1004, 80_000 + 4 * FRAME_SAMPLES, 0x55667788),
    ],
)
def test_restart_flushes_and_resyncs(name: str, sequence: int, timestamp: int, ssrc: int | None) -> None:
    buffer = JitterBuffer()
    for arrival, seq, ts, payload in stream(4):
        buffer.push(seq, ts, payload, arrival, ssrc=0x11223344)
    assert buffer.pop(0.005) is None
    assert buffer.push(sequence, timestamp, b"new stream", 0.06, ssrc=ssrc) is Arrival.RESYNCED, name
    assert len(buffer) == 1
    assert [buffer.pop(0.065 + n * TICK) for n in range(5)] == [*PRE_ROLL, b"new stream", None]


def test_timestamp_far_behind_with_normal_sequence_is_late_until_it_repeats() -> None:
    buffer = JitterBuffer()
    for arrival, seq, ts, payload in stream(2):
        buffer.push(seq, ts, payload, arrival)
    outcomes = [buffer.push(1002 + n, 40_000 + n * FRAME_SAMPLES, frame(n), 0.05) for n in range(LATE_RESYNC)]
    assert outcomes == [Arrival.LATE] * (LATE_RESYNC - 1) + [Arrival.RESYNCED]


def test_a_stream_falling_behind_resyncs_after_late_packets_in_a_row() -> None:
    """A delay step of 100 ms at frame 5: frames 5 and 6 are dropped as late, frame 7, the third late one in a
    row, resyncs the buffer, which plays on from it after the target delay."""
    packets = [(arrival + (0.1 if n >= 5 else 0.0), *rest) for n, (arrival, *rest) in enumerate(stream(12))]
    buffer = JitterBuffer()
    played = play(buffer, packets, ticks=20)
    assert played[:11] == [*PRE_ROLL, *map(frame, range(5)), None, None, None]
    assert played[11:] == [None, *PRE_ROLL, frame(7), frame(8), frame(9), frame(10), frame(11)]


def test_pops_starting_late_do_not_add_to_the_delay() -> None:
    """The first pop comes a second after the first packet: it skips to the frame due then."""
    buffer = JitterBuffer()
    for arrival, seq, ts, payload in stream(45):
        buffer.push(seq, ts, payload, arrival)
    assert [buffer.pop(0.885 + n * TICK) for n in range(4)] == [frame(41), frame(42), frame(43), frame(44)]
    assert len(buffer) == 0


def test_size_is_bounded_whatever_arrives() -> None:
    rng = random.Random(3550)
    buffer = JitterBuffer(max_frames=50)
    for n in range(20_000):
        sequence = (1000 + n + rng.randrange(-5, 50)) % 0x10000
        timestamp = (80_000 + (n + rng.randrange(-5, 200)) * FRAME_SAMPLES) % 0x1_0000_0000
        buffer.push(sequence, timestamp, b"x", n * 0.001)
        assert len(buffer) <= 50
        if n % 7 == 0:
            buffer.pop(n * 0.001)


def test_a_flood_of_future_packets_without_pops_stays_bounded() -> None:
    buffer = JitterBuffer(max_frames=50)
    outcomes = [buffer.push(seq, ts, payload, 0.0) for _, seq, ts, payload in stream(1000)]
    assert len(buffer) <= 50
    assert outcomes.count(Arrival.RESYNCED) == 1000 // 47 + 1  # every 47 frames, the pre-roll taking 3 slots


def test_drain_returns_what_is_left_in_order_with_its_gaps_and_empties_the_buffer() -> None:
    buffer = JitterBuffer()
    for arrival, seq, ts, payload in [packet for n, packet in enumerate(stream(8)) if n != 6]:
        buffer.push(seq, ts, payload, arrival)
    assert [buffer.pop(0.005 + n * TICK) for n in range(7)] == [*PRE_ROLL, *map(frame, range(4))]
    assert buffer.drain() == [frame(4), frame(5), None, frame(7)]
    assert len(buffer) == 0
    assert buffer.drain() == []
    assert buffer.pop(0.145) is None


def test_drain_before_any_packet_or_pop() -> None:
    buffer = JitterBuffer()
    assert buffer.drain() == []
    for arrival, seq, ts, payload in stream(2):
        buffer.push(seq, ts, payload, arrival)
    assert buffer.drain() == [*PRE_ROLL, frame(0), frame(1)]  # the play-out position is still the first one's


def test_nothing_to_play_before_the_first_packet() -> None:
    buffer = JitterBuffer()
    assert [buffer.pop(n * TICK) for n in range(3)] == [None, None, None]
    assert len(buffer) == 0


@pytest.mark.parametrize(("target_delay", "max_frames"), [(-0.02, 50), (1.0, 50), (0.06, 3)])
def test_target_delay_must_fit(target_delay: float, max_frames: int) -> None:
    with pytest.raises(ValueError):
        JitterBuffer(target_delay=target_delay, max_frames=max_frames)


def test_late_stragglers_and_replays_do_not_resync() -> None:
    buffer = JitterBuffer()
    packets = stream(8)
    for arrival, seq, ts, payload in packets:
        buffer.push(seq, ts, payload, arrival)
    assert [buffer.pop(0.005 + n * TICK) for n in range(6)] == [*PRE_ROLL, frame(0), frame(1), frame(2)]
    replays = [buffer.push(seq, ts, payload, 0.12) for _, seq, ts, payload in packets[:3] * 2]
    assert replays == [Arrival.LATE] * 6
    assert len(buffer) == 5
    assert [buffer.pop(0.125 + n * TICK) for n in range(6)] == [frame(3), frame(4), frame(5), frame(6), frame(7), None]
