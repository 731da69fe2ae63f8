from __future__ import annotations

import random

import pytest

from tonalite.media.dtmf import (
    END_PACKET_COUNT,
    MAX_INFO_BODY,
    DtmfError,
    DtmfEvent,
    DtmfReceiver,
    TelephoneEvent,
    dtmf_packets,
    event_code,
    parse_info_body,
)

RELAY = "application/dtmf-relay"
T0 = 100.0


def block(event: int, duration: int, *, end: bool = False, volume: int = 10) -> bytes:
    return TelephoneEvent(event, end, volume, duration).to_payload()


Packet = tuple[bytes, int, int]  # payload, RTP timestamp, sequence number


def press(
    event: int, timestamp: int, sequence: int, durations: list[int], ends: int = END_PACKET_COUNT
) -> list[Packet]:
    """The packets of one press, on consecutive sequence numbers: an update per duration, the last one instead
    sent as `ends` end packets (none: the press's end is lost)."""
    updates = durations[:-1] if ends else durations
    payloads = [block(event, d) for d in updates] + [block(event, durations[-1], end=True)] * ends
    return [(payload, timestamp, (sequence + i) % 0x10000) for i, payload in enumerate(payloads)]


def feed(receiver: DtmfReceiver, packets: list[Packet], now: float = T0) -> list[list[DtmfEvent]]:
    """What each packet made the receiver report, packets 20 ms apart from `now`."""
    return [
        receiver.receive(payload, timestamp, sequence, now + 0.02 * i)
        for i, (payload, timestamp, sequence) in enumerate(packets)
    ]


def reported(receiver: DtmfReceiver, packets: list[Packet]) -> list[DtmfEvent]:
    return [event for events in feed(receiver, packets) for event in events]


# Payload vectors, written out bit by bit: event | E R volume(6) | duration(16).
VECTORS = [
    (bytes([0x05, 0b0000_1010, 0x00, 0xA0]), TelephoneEvent(5, False, 10, 160), "5"),
    (bytes([0x0B, 0b1000_1010, 0x03, 0x20]), TelephoneEvent(11, True, 10, 800), "#"),
    (bytes([0x0A, 0b0011_1111, 0xFF, 0xFF]), TelephoneEvent(10, False, 63, 0xFFFF), "*"),
    (bytes([0x0C, 0b1000_0000, 0x00, 0x00]), TelephoneEvent(12, True, 0, 0), "A"),
    (bytes([0x0F, 0b0000_0111, 0x01, 0x00]), TelephoneEvent(15, False, 7, 256), "D"),
    (bytes([0x10, 0b0000_1010, 0x00, 0xA0]), TelephoneEvent(16, False, 10, 160), None),  # flash
    (bytes([0xFF, 0b1011_1111, 0x12, 0x34]), TelephoneEvent(255, True, 63, 0x1234), None),
]


@pytest.mark.parametrize(("payload", "expected", "digit"), VECTORS)
def test_payload_vectors_parse_and_build(payload: bytes, expected: TelephoneEvent, digit: str | None) -> None:
    parsed = TelephoneEvent.parse(payload)
    assert parsed == expected
    assert parsed.digit == digit
    assert expected.to_payload() == payload


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (bytes([0x01, 0b0100_0000, 0x00, 0x10]), TelephoneEvent(1, False, 0, 16)),  # R bit ignored
        (bytes([0x01, 0b1111_1111, 0x00, 0x10]), TelephoneEvent(1, True, 63, 16)),
        (block(3, 320) + block(4, 160), TelephoneEvent(3, False, 10, 320)),  # a packed second block ignored
    ],
)
def test_parse_ignores_the_reserved_bit_and_extra_blocks(payload: bytes, expected: TelephoneEvent) -> None:
    assert TelephoneEvent.parse(payload) == expected


@pytest.mark.parametrize("length", [0, 1, 2, 3, 5, 6, 7, 9])
def test_payload_not_whole_blocks_is_refused(length: int) -> None:
    with pytest.raises(DtmfError):
        TelephoneEvent.parse(bytes(length))


@pytest.mark.parametrize(
    ("event", "volume", "duration"),
    [(-1, 0, 0), (256, 0, 0), (0, -1, 0), (0, 64, 0), (0, 0, -1), (0, 0, 0x10000)],
)
def test_out_of_range_fields_cannot_be_built(event: int, volume: int, duration: int) -> None:
    with pytest.raises(DtmfError):
        TelephoneEvent(event, False, volume, duration)


def test_every_four_byte_payload_round_trips_but_for_the_reserved_bit() -> None:
    rng = random.Random(4733)
    for _ in range(3000):
        payload = rng.randbytes(4)
        assert TelephoneEvent.parse(payload).to_payload() == payload[:1] + bytes([payload[1] & 0xBF]) + payload[2:]


def test_random_payloads_raise_only_dtmf_error() -> None:
    rng = random.Random(2833)
    receiver = DtmfReceiver()
    for i in range(5000):
        payload = rng.randbytes(4) if i % 2 else rng.randbytes(rng.randrange(0, 24))
        try:
            TelephoneEvent.parse(payload)
            receiver.receive(payload, rng.randrange(1 << 32), rng.randrange(1 << 16), T0 + i * 0.02)
            receiver.poll(T0 + i * 0.02)
        except DtmfError:
            pass


@pytest.mark.parametrize(("digit", "code"), [*zip("0123456789*#ABCD", range(16), strict=True), ("a", 12), ("d", 15)])
def test_event_codes(digit: str, code: int) -> None:
    assert event_code(digit) == code


@pytest.mark.parametrize("digit", ["", "E", "12", "+", " ", "٣"])
def test_not_a_digit(digit: str) -> None:
    with pytest.raises(DtmfError):
        event_code(digit)


# Receiving.


def test_a_press_with_three_end_packets_is_reported_once_at_the_first_end() -> None:
    receiver = DtmfReceiver()
    results = feed(receiver, press(5, 8000, 10, [160, 320, 480, 640, 800]))
    assert results == [[], [], [], [], [DtmfEvent("5", 100)], [], []]
    assert receiver.next_deadline() is None


@pytest.mark.parametrize(
    ("name", "packets", "expected"),
    [
        ("lost start", press(1, 8000, 10, [800]), [DtmfEvent("1", 100)]),
        (
            "start and updates lost, one end arrives",
            press(9, 8000, 10, [1600], ends=1),
            [DtmfEvent("9", 200)],
        ),
        (
            "reordered updates within a press",
            [press(2, 8000, 10, [160, 320, 480])[i] for i in (1, 0, 3, 2, 4)],
            [DtmfEvent("2", 60)],
        ),
        (
            "same digit twice, told apart by the timestamp",
            press(7, 8000, 10, [160, 320, 480, 640, 800]) + press(7, 8000 + 2400, 17, [160, 320, 480, 640, 800]),
            [DtmfEvent("7", 100), DtmfEvent("7", 100)],
        ),
        (
            "a duplicate end packet after the next press started",
            press(1, 8000, 10, [160, 800])
            + press(2, 12000, 14, [160, 320, 640])[:1]
            + [(block(1, 800, end=True), 8000, 13)]
            + press(2, 12000, 14, [160, 320, 640])[1:],
            [DtmfEvent("1", 100), DtmfEvent("2", 80)],
        ),
        (
            "a press without end is ended by the next one",
            press(3, 8000, 10, [160, 320, 480], ends=0) + press(4, 16000, 20, [160, 800]),
            [DtmfEvent("3", 60), DtmfEvent("4", 100)],
        ),
        (
            "a lost-start end packet after an unended press reports both",
            press(3, 8000, 10, [160, 320], ends=0) + press(4, 16000, 20, [640]),
            [DtmfEvent("3", 40), DtmfEvent("4", 80)],
        ),
        (
            "a reordered packet of an older press does not cut the current one",
            [*press(5, 16000, 20, [160, 320])[:1], (block(6, 160), 8000, 12), *press(5, 16000, 21, [320, 480])],
            [DtmfEvent("5", 60)],
        ),
        (
            "non-DTMF events are ignored",
            [(block(16, 160), 8000, 10), (block(16, 800, end=True), 8000, 11), *press(0, 9600, 12, [160, 800])],
            [DtmfEvent("0", 100)],
        ),
        (
            "sequence numbers wrap",
            press(8, 8000, 0xFFFE, [160, 320, 480, 640, 800]) + press(9, 12000, 5, [160, 800]),
            [DtmfEvent("8", 100), DtmfEvent("9", 100)],
        ),
        (
            "timestamps wrap",
            press(8, 0xFFFF_FF00, 10, [160, 800]) + press(9, 0x100, 15, [160, 800]),
            [DtmfEvent("8", 100), DtmfEvent("9", 100)],
        ),
        (
            "a restarted stream (sequence far behind) is not taken for reordering",
            press(1, 8000, 5000, [160, 800]) + press(2, 900, 40, [160, 800]),
            [DtmfEvent("1", 100), DtmfEvent("2", 100)],
        ),
    ],
)
def test_receiver_reports_each_press_once(name: str, packets: list[Packet], expected: list[DtmfEvent]) -> None:
    assert reported(DtmfReceiver(), packets) == expected, name


def test_lost_end_is_reported_after_the_timeout_with_the_last_duration() -> None:
    receiver = DtmfReceiver(end_timeout=1.0)
    assert receiver.poll(T0) is None
    assert receiver.next_deadline() is None
    feed(receiver, press(6, 8000, 10, [160, 320, 480], ends=0), now=T0)
    last_packet = T0 + 0.04
    assert receiver.next_deadline() == pytest.approx(last_packet + 1.0)
    assert receiver.poll(last_packet + 0.99) is None
    assert receiver.poll(last_packet + 1.0) == DtmfEvent("6", 60)
    assert receiver.poll(last_packet + 2.0) is None
    assert receiver.next_deadline() is None
    # Its end packets, arriving after all, are not a second press.
    assert reported(receiver, [(block(6, 800, end=True), 8000, 13)] * 3) == []


def test_updates_push_the_timeout_back() -> None:
    receiver = DtmfReceiver(end_timeout=0.5)
    receiver.receive(block(1, 160), 8000, 1, T0)
    receiver.receive(block(1, 3200), 8000, 2, T0 + 0.4)
    assert receiver.poll(T0 + 0.6) is None
    assert receiver.poll(T0 + 1.0) == DtmfEvent("1", 400)


def test_duration_follows_the_clock_rate() -> None:
    receiver = DtmfReceiver(clock_rate=16000)
    assert reported(receiver, press(4, 1000, 1, [320, 1600])) == [DtmfEvent("4", 100)]


def test_a_malformed_payload_changes_nothing() -> None:
    receiver = DtmfReceiver()
    receiver.receive(block(1, 160), 8000, 1, T0)
    with pytest.raises(DtmfError):
        receiver.receive(b"\x01\x80\x03", 8000, 2, T0)
    assert receiver.receive(block(1, 800, end=True), 8000, 3, T0) == [DtmfEvent("1", 100)]


# Sending.


@pytest.mark.parametrize(
    ("digit", "duration_ms", "event", "durations"),
    [
        ("5", 100, 5, [160, 320, 480, 640, 800, 800, 800]),
        ("#", 40, 11, [160, 320, 320, 320]),
        ("a", 20, 12, [160, 160, 160]),
        ("*", 10, 10, [80, 80, 80]),
        ("1", 50, 1, [160, 320, 400, 400, 400]),
    ],
)
def test_sender_packets(digit: str, duration_ms: int, event: int, durations: list[int]) -> None:
    packets = dtmf_packets(digit, duration_ms)
    blocks = [TelephoneEvent.parse(packet.payload) for packet in packets]
    assert [b.duration for b in blocks] == durations
    assert [b.event for b in blocks] == [event] * len(packets)
    assert [b.end for b in blocks] == [False] * (len(packets) - 3) + [True] * 3
    assert {b.volume for b in blocks} == {10}
    assert [p.marker for p in packets] == [True] + [False] * (len(packets) - 1)
    assert [p.last for p in packets] == [False] * (len(packets) - 1) + [True]


def test_sender_options() -> None:
    packets = dtmf_packets("9", 100, volume=0, clock_rate=16000)
    assert [TelephoneEvent.parse(p.payload) for p in packets][-1] == TelephoneEvent(9, True, 0, 1600)
    assert len(packets) == 7


def test_default_press_is_100_ms() -> None:
    assert dtmf_packets("0") == dtmf_packets("0", 100)


@pytest.mark.parametrize(
    ("digit", "duration_ms", "volume"), [("E", 100, 10), ("", 100, 10), ("1", 0, 10), ("1", 8200, 10), ("1", 100, 64)]
)
def test_sender_refuses(digit: str, duration_ms: int, volume: int) -> None:
    with pytest.raises(DtmfError):
        dtmf_packets(digit, duration_ms, volume=volume)


@pytest.mark.parametrize("digit", list("0123456789*#ABCD"))
def test_sent_press_is_received_once(digit: str) -> None:
    packets = [(p.payload, 4000, 100 + i) for i, p in enumerate(dtmf_packets(digit, 120))]
    assert reported(DtmfReceiver(), packets) == [DtmfEvent(digit, 120)]


# SIP INFO.


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        (RELAY, b"Signal=5\r\nDuration=160\r\n", DtmfEvent("5", 160)),
        (RELAY, b"Signal=#\nDuration=250\n", DtmfEvent("#", 250)),
        (RELAY, b"Signal = *\r\nDuration= 100", DtmfEvent("*", 100)),
        (RELAY, b"signal=a\r\nDURATION=80\r\n", DtmfEvent("A", 80)),
        (RELAY, b"Signal=D\r\nDuration=0\r\n", DtmfEvent("D", 0)),
        (RELAY, b"Signal=11\r\nDuration=100\r\n", DtmfEvent("#", 100)),
        (RELAY, b"Signal=0\r\n", DtmfEvent("0", 100)),
        (RELAY, b"\r\nDuration=90\r\n\r\nSignal=9\r\nVolume=10\r\n", DtmfEvent("9", 90)),
        ("Application/DTMF-Relay; charset=us-ascii", b"Signal=3", DtmfEvent("3", 100)),
        ("application/dtmf", b"7", DtmfEvent("7", 100)),
        ("application/dtmf", b"#\r\n", DtmfEvent("#", 100)),
        ("application/dtmf", b" b ", DtmfEvent("B", 100)),
    ],
)
def test_info_bodies(content_type: str, body: bytes, expected: DtmfEvent) -> None:
    assert parse_info_body(content_type, body) == expected


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (RELAY, b""),
        (RELAY, b"Duration=100\r\n"),
        (RELAY, b"Signal=E\r\nDuration=100"),
        (RELAY, b"Signal=16\r\nDuration=100"),
        (RELAY, b"Signal=55"),
        (RELAY, b"Signal=\r\nDuration=100"),
        (RELAY, b"Signal=5 6"),
        (RELAY, b"Signal 5"),
        (RELAY, b"Signal=5\r\nSignal=6"),
        (RELAY, b"Signal=5\r\nsignal=5"),
        (RELAY, b"Signal=5\r\nDuration=abc"),
        (RELAY, b"Signal=5\r\nDuration=-1"),
        (RELAY, b"Signal=5\r\nDuration=123456"),
        (RELAY, b"Signal=5\rDuration=100"),
        (RELAY, "Signal=٣".encode()),
        (RELAY, b"Signal=5\xff"),
        (RELAY, b"Signal=5\r\n" + b" " * MAX_INFO_BODY),
        ("application/dtmf", b""),
        ("application/dtmf", b"12"),
        ("application/dtmf", b"1\r\n2"),
        ("application/dtmf", b"x"),
        ("text/plain", b"Signal=5"),
        ("application/dtmf-relayx", b"Signal=5"),
    ],
)
def test_malformed_info_bodies(content_type: str, body: bytes) -> None:
    with pytest.raises(DtmfError):
        parse_info_body(content_type, body)
