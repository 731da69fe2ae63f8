from __future__ import annotations

import random
import struct

import pytest

from tonalite.media.rtp import (
    MAX_DROPOUT,
    MAX_MISORDER,
    Goodbye,
    ReceiverReport,
    ReportBlock,
    RtcpError,
    RtpError,
    RtpHeaderExtension,
    RtpPacket,
    RtpReceiver,
    RtpSender,
    SenderReport,
    build_rtcp,
    is_rtcp,
    ntp_timestamp,
    parse_rtcp,
    parse_rtp,
    rtcp_source,
    rtp_source,
)

REMOTE_SSRC = 0x11223344
OTHER_SSRC = 0x55667788
G711_RATE = 8000
FRAME = 160  # 20 ms of G.711

MINIMAL_HEADER = bytes.fromhex("80 00 1234 89abcdef 11223344") + b"\xff\xff\xff\xff"
FULL_HEADER = (
    bytes.fromhex("b2 88 ffff 00000001 deadbeef")  # V=2 P X CC=2, M PT=8
    + bytes.fromhex("01020304 05060708")  # CSRCs
    + bytes.fromhex("bede 0001 10aa0000")  # extension: profile, one word
    + b"abc"
    + bytes.fromhex("00000000 05")  # five octets of padding
)
FULL_PACKET = RtpPacket(
    payload_type=8,
    sequence_number=0xFFFF,
    timestamp=1,
    ssrc=0xDEADBEEF,
    payload=b"abc",
    marker=True,
    csrcs=(0x01020304, 0x05060708),
    extension=RtpHeaderExtension(0xBEDE, bytes.fromhex("10aa0000")),
    padding=5,
)


def rtp(sequence_number: int, timestamp: int | None = None, ssrc: int = REMOTE_SSRC) -> RtpPacket:
    if timestamp is None:
        timestamp = sequence_number * FRAME
    return RtpPacket(0, sequence_number % 0x10000, timestamp % 0x1_0000_0000, ssrc, bytes(FRAME))


def feed(receiver: RtpReceiver, sequence_numbers: list[int] | range, ssrc: int = REMOTE_SSRC) -> list[bool]:
    """Packets 20 ms apart, each arriving exactly on time, so the jitter stays 0."""
    return [receiver.receive(rtp(n, ssrc=ssrc), n * FRAME / G711_RATE) for n in sequence_numbers]


def valid_receiver(first: int = 1000) -> RtpReceiver:
    receiver = RtpReceiver(G711_RATE)
    assert feed(receiver, [first, first + 1]) == [False, True]
    return receiver


def block(receiver: RtpReceiver, now: float = 0.0) -> ReportBlock:
    report = receiver.report_block(now)
    assert report is not None
    return report


# RTP packets


def test_parse_minimal_header() -> None:
    assert parse_rtp(MINIMAL_HEADER) == RtpPacket(0, 0x1234, 0x89ABCDEF, 0x11223344, b"\xff\xff\xff\xff")


def test_parse_header_with_csrcs_extension_padding_and_marker() -> None:
    assert parse_rtp(FULL_HEADER) == FULL_PACKET


def test_parse_marker_and_empty_payload() -> None:
    packet = parse_rtp(bytes.fromhex("80 e5 0001 00000000 00000001"))
    assert packet == RtpPacket(101, 1, 0, 1, b"", marker=True)


def test_padding_may_take_the_whole_payload() -> None:
    packet = parse_rtp(bytes.fromhex("a0 00 0001 00000000 00000001 00000004"))
    assert (packet.payload, packet.padding) == (b"", 4)


@pytest.mark.parametrize(
    "data",
    [
        MINIMAL_HEADER,
        FULL_HEADER,
        bytes.fromhex("80 e5 0001 00000000 00000001"),
        bytes.fromhex("90 00 0001 00000000 00000001 bede 0000"),
    ],
)
def test_round_trip(data: bytes) -> None:
    assert parse_rtp(data).serialise() == data


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "shorter than an RTP header"),
        (MINIMAL_HEADER[:11], "shorter than an RTP header"),
        (bytes([0x00]) + MINIMAL_HEADER[1:], "version"),
        (bytes([0x40]) + MINIMAL_HEADER[1:], "version"),
        (bytes([0xC0]) + MINIMAL_HEADER[1:], "version"),
        (bytes([0x83]) + MINIMAL_HEADER[1:], "CSRC list beyond"),  # three CSRCs, one word of payload
        (bytes([0x90]) + MINIMAL_HEADER[1:12] + b"\xbe\xde", "header extension beyond"),
        (bytes([0x90]) + MINIMAL_HEADER[1:12] + bytes.fromhex("bede 0002 00000000"), "extension length beyond"),
        (bytes([0xA0]) + MINIMAL_HEADER[1:12] + b"\x00", "zero padding count"),
        (bytes([0xA0]) + MINIMAL_HEADER[1:12] + b"\x00\x00\x05", "padding length beyond"),
        (bytes([0xB0]) + MINIMAL_HEADER[1:12] + bytes.fromhex("bede 0001 00000001"), "padding length beyond"),
    ],
)
def test_malformed_rtp_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(RtpError, match=reason):
        parse_rtp(data)


@pytest.mark.parametrize(
    "packet",
    [
        FULL_PACKET._replace(payload_type=128),
        FULL_PACKET._replace(csrcs=tuple(range(16))),
        FULL_PACKET._replace(padding=256),
        FULL_PACKET._replace(extension=RtpHeaderExtension(0xBEDE, b"\x10")),
    ],
)
def test_serialise_refuses_what_a_header_cannot_hold(packet: RtpPacket) -> None:
    with pytest.raises(RtpError):
        packet.serialise()


def test_is_rtcp_tells_rtcp_from_rtp_on_a_muxed_port() -> None:
    assert not is_rtcp(MINIMAL_HEADER)
    assert not is_rtcp(bytes.fromhex("80 e5 0001 00000000 00000001"))  # marker + payload type 101
    assert is_rtcp(bytes.fromhex("80 c8"))  # SR
    assert is_rtcp(bytes.fromhex("80 df"))  # payload type 95 with the marker: RTCP's range
    assert not is_rtcp(bytes.fromhex("80 e0"))
    assert not is_rtcp(b"\x80")


@pytest.mark.parametrize(
    ("data", "rtp", "rtcp"),
    [
        pytest.param(MINIMAL_HEADER, REMOTE_SSRC, None, id="RTP"),
        pytest.param(FULL_HEADER, 0xDEADBEEF, None, id="RTP with everything"),
        pytest.param(bytes.fromhex("81 c9 0001 11223344 55667788"), REMOTE_SSRC, REMOTE_SSRC, id="an RR"),
        pytest.param(bytes.fromhex("80 c9 0001 11223344"), REMOTE_SSRC, REMOTE_SSRC, id="a short RR"),
        pytest.param(MINIMAL_HEADER[:11], None, None, id="short of an RTP header"),
        pytest.param(bytes.fromhex("80 c9 0001"), None, None, id="short of an RTCP header"),
        pytest.param(bytes.fromhex("40 00 1234 89abcdef 11223344"), None, None, id="version 1"),
        pytest.param(bytes.fromhex("00 01 0000 2112a442 000000000000"), None, None, id="STUN"),
        pytest.param(bytes.fromhex("16 fe fd 0000 00000000"), None, None, id="DTLS"),
        pytest.param(b"", None, None, id="empty"),
    ],
)
def test_the_source_of_a_packet_from_its_header_alone(data: bytes, rtp: int | None, rtcp: int | None) -> None:
    assert rtp_source(data) == rtp
    assert rtcp_source(data) == rtcp


# RTCP

REPORT = ReportBlock(
    ssrc=REMOTE_SSRC,
    fraction_lost=25,
    cumulative_lost=10,
    extended_highest_sequence=0x0001_0005,
    jitter=32,
    last_sr=0x33445566,
    delay_since_last_sr=163840,
)


def test_receiver_report_bytes() -> None:
    data = build_rtcp(ReceiverReport(0xAABBCCDD, (REPORT,)), "ab")
    assert data == (
        bytes.fromhex("81 c9 0007 aabbccdd")
        + bytes.fromhex("11223344 19 00000a 00010005 00000020 33445566 00028000")
        + bytes.fromhex("81 ca 0003 aabbccdd 01 02 6162 00000000")
    )
    assert parse_rtcp(data) == (ReceiverReport(0xAABBCCDD, (REPORT,)),)


@pytest.mark.parametrize("cname", ["", "a", "ab", "abc", "user@192.0.2.1", "é" * 127])
def test_sender_report_round_trip(cname: str) -> None:
    report = SenderReport(0xAABBCCDD, ntp_timestamp(1_767_225_600.25), 123456, 50, 8000, (REPORT,))
    data = build_rtcp(report, cname)
    assert len(data) % 4 == 0
    assert parse_rtcp(data) == (report,)


def test_reports_without_blocks_and_negative_loss_round_trip() -> None:
    duplicated = REPORT._replace(cumulative_lost=-3, fraction_lost=0)
    for report in (
        ReceiverReport(1),
        SenderReport(1, 2, 3, 4, 5),
        ReceiverReport(1, (duplicated, REPORT._replace(cumulative_lost=-0x800000))),
    ):
        assert parse_rtcp(build_rtcp(report, "x")) == (report,)


def test_build_refuses_what_rtcp_cannot_hold() -> None:
    with pytest.raises(RtcpError, match="31"):
        build_rtcp(ReceiverReport(1, (REPORT,) * 32), "x")
    with pytest.raises(RtcpError, match="CNAME"):
        build_rtcp(ReceiverReport(1), "x" * 256)
    with pytest.raises(RtcpError, match="24 bits"):
        build_rtcp(ReceiverReport(1, (REPORT._replace(cumulative_lost=0x800000),)), "x")


def test_ntp_timestamp() -> None:
    assert ntp_timestamp(0.0) == 2_208_988_800 << 32
    assert ntp_timestamp(1.5) == (2_208_988_801 << 32) + 0x8000_0000


SDES = bytes.fromhex("81 ca 0005 11223344 01 05") + b"alice" + bytes.fromhex("07 04") + b"note" + bytes(3)
BYE = bytes.fromhex("a2 cb 0004 11223344 55667788 04") + b"gone" + bytes.fromhex("000003")  # padded
APP = bytes.fromhex("80 cc 0002 11223344") + b"TEST"


def test_compound_with_sdes_app_and_bye() -> None:
    receiver_report = bytes.fromhex("80 c9 0001 11223344")
    assert parse_rtcp(receiver_report + SDES + APP + BYE) == (
        ReceiverReport(REMOTE_SSRC),
        Goodbye((REMOTE_SSRC, OTHER_SSRC)),
    )


def test_reduced_size_and_feedback_packets_are_skipped() -> None:
    picture_loss = bytes.fromhex("81 ce 0002 11223344 55667788")
    assert parse_rtcp(picture_loss) == ()
    assert parse_rtcp(bytes.fromhex("80 cb 0000")) == (Goodbye(()),)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (bytes.fromhex("80 c9 00"), "truncated"),
        (bytes.fromhex("80 c9 0001 11223344 80"), "truncated"),
        (bytes.fromhex("40 c9 0001 11223344"), "version"),
        (bytes.fromhex("80 48 0001 11223344"), "not an RTCP packet type"),
        (bytes.fromhex("80 e0 0001 11223344"), "not an RTCP packet type"),
        (bytes.fromhex("80 c9 0002 11223344"), "length beyond"),
        (bytes.fromhex("a0 c9 0001 11223344") + APP, "padding before the last"),
        (bytes.fromhex("a0 c9 0001 11223300"), "padding length"),
        (bytes.fromhex("a0 c9 0001 11223305"), "padding length"),
        (bytes.fromhex("81 c9 0001 11223344"), "beyond the RR"),
        (bytes.fromhex("80 c8 0001 11223344"), "beyond the SR"),
        (bytes.fromhex("81 c8 0006 11223344") + bytes(20), "beyond the SR"),
        (bytes.fromhex("83 cb 0002 11223344 55667788"), "beyond the BYE"),
        (bytes.fromhex("a1 c9 0007 11223344") + bytes(23) + b"\x04", "beyond the RR"),
    ],
)
def test_malformed_rtcp_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(RtcpError, match=reason):
        parse_rtcp(data)


# Hostile input: nothing but RtpError or RtcpError escapes, and whatever parses serialises back to itself.


def hostile_inputs(rng: random.Random) -> list[bytes]:
    valid = [
        MINIMAL_HEADER,
        FULL_HEADER,
        build_rtcp(SenderReport(1, 2, 3, 4, 5, (REPORT,) * 3), "user@example"),
        bytes.fromhex("80 c9 0001 11223344") + SDES + APP + BYE,
    ]
    inputs = [packet[:length] for packet in valid for length in range(len(packet))]
    for _ in range(3000):
        data = bytearray(rng.randbytes(rng.randrange(40)))
        if data and rng.random() < 0.7:
            data[0] = 0x80 | data[0] & 0x3F  # version 2, to reach past the first check
        inputs.append(bytes(data))
    for _ in range(2000):
        data = bytearray(rng.choice(valid))
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        inputs.append(bytes(data))
    return inputs


def test_hostile_bytes_raise_only_rtp_and_rtcp_errors() -> None:
    rng = random.Random(3550)
    receiver = RtpReceiver(G711_RATE)
    for index, data in enumerate(hostile_inputs(rng)):
        try:
            packet = parse_rtp(data)
        except RtpError:
            pass
        else:
            assert parse_rtp(packet.serialise()) == packet
            receiver.receive(packet, index * 0.02)
        try:
            packets = parse_rtcp(data)
        except RtcpError:
            pass
        else:
            for report in packets:
                if isinstance(report, SenderReport):
                    receiver.receive_sender_report(report, index * 0.02)
    receiver.report_block(1e6)


# RtpSender


def test_sender_numbers_packets_from_a_random_origin() -> None:
    sender = RtpSender(0, random.Random(7))
    again = RtpSender(0, random.Random(7))
    assert (sender.ssrc, sender.sequence_number, sender.timestamp) == (
        again.ssrc,
        again.sequence_number,
        again.timestamp,
    )
    sender.sequence_number = 0xFFFF
    origin = sender.timestamp
    first = parse_rtp(sender.packet(bytes(FRAME), FRAME, marker=True))
    second = parse_rtp(sender.packet(bytes(FRAME), FRAME))
    event = parse_rtp(sender.packet(b"\x01\x0a\x00\xa0", 0, payload_type=101))
    assert [(p.sequence_number, p.timestamp, p.marker, p.payload_type) for p in (first, second, event)] == [
        (0xFFFF, (origin + FRAME) % 2**32, True, 0),
        (0, (origin + 2 * FRAME) % 2**32, False, 0),
        (1, (origin + 2 * FRAME) % 2**32, False, 101),
    ]
    assert {first.ssrc, second.ssrc, event.ssrc} == {sender.ssrc}
    assert (sender.packets_sent, sender.octets_sent) == (3, 2 * FRAME + 4)


def test_sender_timestamp_wraps() -> None:
    sender = RtpSender(8, random.Random(1))
    sender.timestamp = 2**32 - 100
    assert parse_rtp(sender.packet(b"", FRAME)).timestamp == 60


def test_sender_report_carries_the_counts() -> None:
    sender = RtpSender(0, random.Random(2))
    for _ in range(5):
        sender.packet(bytes(FRAME), FRAME)
    report = sender.sender_report(ntp_timestamp(100.0), sender.timestamp, (REPORT,))
    assert report == SenderReport(sender.ssrc, ntp_timestamp(100.0), sender.timestamp, 5, 5 * FRAME, (REPORT,))
    assert parse_rtcp(build_rtcp(report, "tonalite")) == (report,)


# RtpReceiver: RFC 3550 A.1 and A.3


def test_new_source_is_on_probation() -> None:
    receiver = RtpReceiver(G711_RATE)
    assert receiver.report_block(0.0) is None
    assert feed(receiver, [10, 20]) == [False, False]  # not sequential: probation starts again
    assert receiver.ssrc is None
    assert feed(receiver, [21, 22]) == [True, True]
    assert receiver.ssrc == REMOTE_SSRC
    assert block(receiver) == ReportBlock(REMOTE_SSRC, 0, 0, 22, 0)


def test_sequence_wrap_counts_a_cycle() -> None:
    receiver = valid_receiver(65533)
    assert feed(receiver, [65535, 65536, 65537]) == [True, True, True]
    report = block(receiver)
    assert report.extended_highest_sequence == 0x1_0001
    assert report.cumulative_lost == 0


def test_loss_and_fraction_lost_per_report_interval() -> None:
    receiver = valid_receiver(1)  # counting starts at 2
    dropped = set(range(40, 50))
    assert all(feed(receiver, [n for n in range(3, 102) if n not in dropped]))
    assert receiver.packets_lost == 10  # read without closing the report interval
    first = block(receiver)
    assert (first.cumulative_lost, first.fraction_lost, first.extended_highest_sequence) == (10, 10 * 256 // 100, 101)
    assert all(feed(receiver, range(102, 202)))
    second = block(receiver)
    assert (second.cumulative_lost, second.fraction_lost) == (10, 0)
    assert all(feed(receiver, range(202, 252, 2)))  # every other packet of 50
    third = block(receiver)
    assert (third.cumulative_lost, third.fraction_lost) == (10 + 24, 24 * 256 // 49)
    assert block(receiver).fraction_lost == 0  # an interval with nothing expected


def test_duplicates_make_cumulative_loss_negative_but_not_the_fraction() -> None:
    receiver = valid_receiver(1)
    assert all(feed(receiver, [3, 3, 3]))
    assert receiver.packets_lost == -2
    report = block(receiver)
    assert (report.cumulative_lost, report.fraction_lost) == (-2, 0)


def test_reordering_within_max_misorder_is_counted() -> None:
    receiver = valid_receiver(1)
    assert all(feed(receiver, [3, 5, 4, 6]))
    assert all(feed(receiver, range(7, 301)))
    assert feed(receiver, [300 - MAX_MISORDER + 1]) == [True]  # late, not a jump
    report = block(receiver)
    assert (report.extended_highest_sequence, report.cumulative_lost) == (300, -1)
    assert feed(receiver, [300 - MAX_MISORDER - 50]) == [False]  # too far behind: a jump backwards


def test_jump_beyond_max_dropout_restarts_after_two_sequential_packets() -> None:
    receiver = valid_receiver(1)
    assert all(feed(receiver, range(3, 101)))
    jump = 100 + MAX_DROPOUT + 500
    assert feed(receiver, [jump]) == [False]
    assert block(receiver).extended_highest_sequence == 100
    assert feed(receiver, [jump + 1, jump + 2]) == [True, True]
    report = block(receiver)
    assert (report.extended_highest_sequence, report.cumulative_lost, report.fraction_lost) == (jump + 2, 0, 0)


def test_isolated_jumps_are_ignored() -> None:
    receiver = valid_receiver(1)
    assert all(feed(receiver, range(3, 101)))
    assert feed(receiver, [20_000, 40_000, 101]) == [False, False, True]
    assert block(receiver).extended_highest_sequence == 101


def test_a_jump_below_max_dropout_is_loss() -> None:
    receiver = valid_receiver(1)
    assert feed(receiver, [2 + MAX_DROPOUT - 1]) == [True]
    assert block(receiver).cumulative_lost == MAX_DROPOUT - 2


def test_ssrc_change_restarts_the_statistics_for_the_new_source() -> None:
    receiver = valid_receiver(1)
    assert all(feed(receiver, [3, 4, 8]))  # three lost
    assert feed(receiver, [50_000], ssrc=0xBAD) == [False]  # a stray packet changes nothing
    assert feed(receiver, [9]) == [True]
    assert feed(receiver, [30_000, 30_001], ssrc=OTHER_SSRC) == [False, True]
    assert receiver.ssrc == OTHER_SSRC
    assert block(receiver) == ReportBlock(OTHER_SSRC, 0, 0, 30_001, 0)
    assert feed(receiver, [10]) == [False]  # the old source is now a candidate of its own


# RtpReceiver: RFC 3550 A.8 interarrival jitter


def receive_with_delays(receiver: RtpReceiver, delays: list[float], first_timestamp: int = 0) -> None:
    for index, delay in enumerate(delays):
        timestamp = first_timestamp + index * FRAME
        receiver.receive(rtp(500 + index, timestamp), 1000.0 + index * FRAME / G711_RATE + delay)


def test_jitter_is_zero_for_a_constant_delay() -> None:
    receiver = RtpReceiver(G711_RATE)
    receive_with_delays(receiver, [0.080] * 200)
    assert receiver.jitter == pytest.approx(0.0, abs=1e-6)
    assert block(receiver).jitter == 0


def test_jitter_follows_the_a8_formula_for_variable_delay() -> None:
    receiver = RtpReceiver(G711_RATE)
    # The first packet is on probation; the second sets the transit time; each later one adds |D|, the
    # change in delay in 1/8000 s: 80, 120, 200, 160. J += (|D| - J) / 16, by hand:
    # 5, 12.1875, 23.92578125, 32.430419921875.
    receive_with_delays(receiver, [0.0, 0.050, 0.060, 0.045, 0.070, 0.050])
    assert receiver.jitter == pytest.approx(32.430419921875)
    assert block(receiver).jitter == 32


def test_jitter_converges_for_constant_delay_after_variable_delay() -> None:
    receiver = RtpReceiver(G711_RATE)
    receive_with_delays(receiver, [0.0, 0.050, 0.060, 0.045, 0.070] + [0.050] * 300)
    assert receiver.jitter == pytest.approx(0.0, abs=1e-6)


def test_timestamp_wrap_adds_no_jitter() -> None:
    receiver = RtpReceiver(G711_RATE)
    receive_with_delays(receiver, [0.020] * 10, first_timestamp=2**32 - 5 * FRAME)
    assert receiver.jitter == pytest.approx(0.0, abs=1e-6)


def test_last_sender_report_and_its_delay() -> None:
    receiver = valid_receiver()
    ntp = 0x1122_3344_5566_7788
    receiver.receive_sender_report(SenderReport(OTHER_SSRC, ntp, 0, 0, 0), 9.0)  # not our source
    assert (block(receiver, 10.0).last_sr, block(receiver, 10.0).delay_since_last_sr) == (0, 0)
    receiver.receive_sender_report(SenderReport(REMOTE_SSRC, ntp, 0, 0, 0), 10.0)
    report = block(receiver, 12.5)
    assert (report.last_sr, report.delay_since_last_sr) == (0x3344_5566, int(2.5 * 65536))


def test_report_block_serialises_the_signed_loss() -> None:
    data = ReportBlock(1, 0, -2, 0, 0).serialise()
    assert struct.unpack("!II", data[:8]) == (1, 0x00FF_FFFE)
