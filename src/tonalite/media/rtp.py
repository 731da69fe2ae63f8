"""RTP and RTCP (RFC 3550), sans-IO: packets, a sender's numbering and a receiver's statistics.

Every byte string handed to `parse_rtp` or `parse_rtcp` is hostile network data: a malformed one raises
`RtpError` or `RtcpError` (both ValueErrors) and nothing else. Time comes in as arguments, in seconds; the
receiver converts arrival times to the stream's timestamp clock for the interarrival jitter.

`RtpSender` numbers the packets of one outgoing stream and counts them for its sender reports.
`RtpReceiver` follows the remote source of one incoming stream as RFC 3550 Appendix A describes (probation,
sequence cycles, loss, jitter) and makes the report block our SR or RR carries about it.
"""

from __future__ import annotations

import secrets
import struct
from random import Random
from typing import NamedTuple

RTP_VERSION = 2
RTP_HEADER_LENGTH = 12

MIN_SEQUENTIAL = 2
"""Sequential packets a new source must send before it is valid (RFC 3550 A.1)."""

MAX_DROPOUT = 3000
"""A forward sequence jump below this is loss; a larger one is a restart or garbage (RFC 3550 A.1)."""

MAX_MISORDER = 100
"""A packet this close behind the highest sequence number is late or duplicated (RFC 3550 A.1)."""

RTCP_SR = 200
RTCP_RR = 201
RTCP_SDES = 202
RTCP_BYE = 203
SDES_CNAME = 1

_SEQUENCE_MOD = 1 << 16
_MOD_32 = 1 << 32
_MAX_REPORT_BLOCKS = 31
_NTP_UNIX_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01

_RTP_FIXED = struct.Struct("!BBHII")
_WORDS_16 = struct.Struct("!HH")
_RTCP_HEADER = struct.Struct("!BBH")
_SENDER_INFO = struct.Struct("!IQIII")  # SSRC of sender, NTP timestamp, RTP timestamp, packet and octet counts
_REPORT_BLOCK = struct.Struct("!IIIIII")
_SSRC = struct.Struct("!I")


class RtpError(ValueError):
    """An RTP packet that cannot be read, or fields that cannot be written as one."""


class RtcpError(ValueError):
    """An RTCP compound packet that cannot be read, or a report that cannot be written as one."""


class RtpHeaderExtension(NamedTuple):
    """The header extension kept whole: `profile` is the 16-bit profile-defined value (0xBEDE for RFC 8285
    one-byte elements), `data` the extension's words, a multiple of 4 octets."""

    profile: int
    data: bytes


class RtpPacket(NamedTuple):
    """One RTP packet (version 2 is implied). `padding` counts the padding octets, the count octet included;
    0 means the P bit is clear."""

    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False
    csrcs: tuple[int, ...] = ()
    extension: RtpHeaderExtension | None = None
    padding: int = 0

    def serialise(self) -> bytes:
        if not 0 <= self.payload_type <= 0x7F:
            raise RtpError("payload type out of range")
        if len(self.csrcs) > 15:
            raise RtpError("more than 15 CSRCs")
        if not 0 <= self.padding <= 0xFF:
            raise RtpError("padding length out of range")
        extension = self.extension
        first = RTP_VERSION << 6 | (self.padding > 0) << 5 | (extension is not None) << 4 | len(self.csrcs)
        parts = [
            _RTP_FIXED.pack(
                first, self.marker << 7 | self.payload_type, self.sequence_number, self.timestamp, self.ssrc
            ),
            struct.pack(f"!{len(self.csrcs)}I", *self.csrcs),
        ]
        if extension is not None:
            words, remainder = divmod(len(extension.data), 4)
            if remainder or words > 0xFFFF:
                raise RtpError("header extension data not a whole number of words, up to 65535")
            parts += [_WORDS_16.pack(extension.profile, words), extension.data]
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes((self.padding,)))
        return b"".join(parts)


def parse_rtp(data: bytes) -> RtpPacket:
    """The packet in `data`, checked as RFC 3550 A.1 asks of a packet's own fields."""
    if len(data) < RTP_HEADER_LENGTH:
        raise RtpError("shorter than an RTP header")
    first, second, sequence_number, timestamp, ssrc = _RTP_FIXED.unpack_from(data)
    if first >> 6 != RTP_VERSION:
        raise RtpError("RTP version is not 2")
    csrc_count = first & 0x0F
    offset = RTP_HEADER_LENGTH + 4 * csrc_count
    if offset > len(data):
        raise RtpError("CSRC list beyond the packet")
    csrcs = struct.unpack_from(f"!{csrc_count}I", data, RTP_HEADER_LENGTH)
    extension = None
    if first & 0x10:
        if offset + 4 > len(data):
            raise RtpError("header extension beyond the packet")
        profile, words = _WORDS_16.unpack_from(data, offset)
        start, offset = offset + 4, offset + 4 + 4 * words
        if offset > len(data):
            raise RtpError("header extension length beyond the packet")
        extension = RtpHeaderExtension(profile, data[start:offset])
    padding = 0
    if first & 0x20:
        padding = data[-1]
        if padding == 0:
            raise RtpError("padding bit set with a zero padding count")
        if padding > len(data) - offset:
            raise RtpError("padding length beyond the packet")
    return RtpPacket(
        payload_type=second & 0x7F,
        sequence_number=sequence_number,
        timestamp=timestamp,
        ssrc=ssrc,
        payload=data[offset : len(data) - padding],
        marker=bool(second & 0x80),
        csrcs=csrcs,
        extension=extension,
        padding=padding,
    )


def is_rtcp(data: bytes) -> bool:
    """Whether a packet on an RTP/RTCP-muxed port is RTCP (RFC 5761 §4): its second octet is a packet type
    from 192 to 223, which RTP would read as the marker bit and a payload type from 64 to 95."""
    return len(data) >= 2 and 192 <= data[1] <= 223


def rtcp_source(data: bytes) -> int | None:
    """The SSRC of the sender of an RTCP compound packet (the first packet's, RFC 3550 §6.4), None when `data`
    does not start like RTCP: shorter than 8 octets, not version 2 or not an RTCP packet type. Only the header is
    read, for a relay, which forwards packets whole and leaves the rest to the phones."""
    if len(data) < 8 or data[0] >> 6 != RTP_VERSION or not is_rtcp(data):
        return None
    return int(_SSRC.unpack_from(data, 4)[0])


def rtp_source(data: bytes) -> int | None:
    """The SSRC of an RTP packet, or of an RTCP packet sharing its port (RFC 5761), None when `data` is neither:
    shorter than its header or not version 2. Only the header is read, as by `rtcp_source`."""
    if is_rtcp(data):
        return rtcp_source(data)
    if len(data) < RTP_HEADER_LENGTH or data[0] >> 6 != RTP_VERSION:
        return None
    return int(_SSRC.unpack_from(data, 8)[0])


class ReportBlock(NamedTuple):
    """What a receiver reports about one source (RFC 3550 §6.4.1). `cumulative_lost` is signed: duplicates
    can make it negative. `last_sr` is the middle 32 bits of that source's last SR NTP timestamp and
    `delay_since_last_sr` the time since, in 1/65536 s; both are 0 before any SR."""

    ssrc: int
    fraction_lost: int
    cumulative_lost: int
    extended_highest_sequence: int
    jitter: int
    last_sr: int = 0
    delay_since_last_sr: int = 0

    def serialise(self) -> bytes:
        if not -0x800000 <= self.cumulative_lost <= 0x7FFFFF:
            raise RtcpError("cumulative lost beyond 24 bits")
        return _REPORT_BLOCK.pack(
            self.ssrc,
            self.fraction_lost << 24 | self.cumulative_lost & 0xFFFFFF,
            self.extended_highest_sequence,
            self.jitter,
            self.last_sr,
            self.delay_since_last_sr,
        )


class SenderReport(NamedTuple):
    """An SR: `ntp_timestamp` is the 64-bit NTP wall-clock time (see `ntp_timestamp`), `rtp_timestamp` the
    same instant on the stream's clock; the counts are of packets and payload octets sent."""

    ssrc: int
    ntp_timestamp: int
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()


class ReceiverReport(NamedTuple):
    ssrc: int
    reports: tuple[ReportBlock, ...] = ()


class Goodbye(NamedTuple):
    """A BYE: these sources are leaving the session."""

    ssrcs: tuple[int, ...]


RtcpPacket = SenderReport | ReceiverReport | Goodbye


def ntp_timestamp(unix_seconds: float) -> int:
    """The 64-bit NTP timestamp (32.32 fixed point since 1900) of a Unix time, for an SR."""
    return int((unix_seconds + _NTP_UNIX_OFFSET) * (1 << 32)) & 0xFFFF_FFFF_FFFF_FFFF


def _report_blocks(data: bytes, offset: int, count: int) -> tuple[ReportBlock, ...]:
    blocks = []
    for ssrc, loss, highest, jitter, last_sr, delay in _REPORT_BLOCK.iter_unpack(
        data[offset : offset + _REPORT_BLOCK.size * count]
    ):
        lost = loss & 0xFFFFFF
        blocks.append(ReportBlock(ssrc, loss >> 24, lost - (lost & 0x800000) * 2, highest, jitter, last_sr, delay))
    return tuple(blocks)


def parse_rtcp(data: bytes) -> tuple[RtcpPacket, ...]:
    """The SRs, RRs and BYEs of a compound packet, in order; other packet types (SDES, APP, feedback) are
    checked for framing and skipped.

    Every packet must be version 2 with an RTCP packet type (192 to 223, RFC 5761 §4), the length fields
    must tile `data` exactly, and only the last packet may be padded (RFC 3550 A.2).
    The first packet need not be an SR or RR, so reduced-size RTCP (RFC 5506) is read too.
    """
    if not data:
        raise RtcpError("empty RTCP packet")
    packets: list[RtcpPacket] = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < _RTCP_HEADER.size:
            raise RtcpError("truncated RTCP header")
        first, packet_type, length = _RTCP_HEADER.unpack_from(data, offset)
        if first >> 6 != RTP_VERSION:
            raise RtcpError("RTCP version is not 2")
        if not 192 <= packet_type <= 223:
            raise RtcpError("not an RTCP packet type")
        body, end = offset + _RTCP_HEADER.size, offset + 4 * (length + 1)
        if end > len(data):
            raise RtcpError("RTCP length beyond the compound packet")
        body_end = end
        if first & 0x20:
            if end != len(data):
                raise RtcpError("padding before the last RTCP packet")
            padding = data[end - 1]
            if padding == 0 or padding > end - body:
                raise RtcpError("bad RTCP padding length")
            body_end = end - padding
        count = first & 0x1F
        room = body_end - body
        if packet_type == RTCP_SR:
            if room < _SENDER_INFO.size + _REPORT_BLOCK.size * count:
                raise RtcpError("report blocks beyond the SR")
            ssrc, ntp_time, rtp_timestamp, packet_count, octet_count = _SENDER_INFO.unpack_from(data, body)
            reports = _report_blocks(data, body + _SENDER_INFO.size, count)
            packets.append(SenderReport(ssrc, ntp_time, rtp_timestamp, packet_count, octet_count, reports))
        elif packet_type == RTCP_RR:
            if room < _SSRC.size + _REPORT_BLOCK.size * count:
                raise RtcpError("report blocks beyond the RR")
            (ssrc,) = _SSRC.unpack_from(data, body)
            packets.append(ReceiverReport(ssrc, _report_blocks(data, body + _SSRC.size, count)))
        elif packet_type == RTCP_BYE:
            if room < _SSRC.size * count:
                raise RtcpError("SSRC list beyond the BYE")
            packets.append(Goodbye(struct.unpack_from(f"!{count}I", data, body)))
        offset = end
    return tuple(packets)


def _rtcp_header(count: int, packet_type: int, body_length: int) -> bytes:
    """The header of a packet whose body (all but these 4 octets) is `body_length` octets, a multiple of 4: the
    length field counts the packet's words minus one, so the body's words."""
    return _RTCP_HEADER.pack(RTP_VERSION << 6 | count, packet_type, body_length // 4)


def build_rtcp(report: SenderReport | ReceiverReport, cname: str) -> bytes:
    """A compound packet: the report, then the SDES CNAME item every compound packet must carry (§6.1)."""
    if len(report.reports) > _MAX_REPORT_BLOCKS:
        raise RtcpError("more than 31 report blocks")
    if isinstance(report, SenderReport):
        packet_type = RTCP_SR
        head = _SENDER_INFO.pack(
            report.ssrc, report.ntp_timestamp, report.rtp_timestamp, report.packet_count, report.octet_count
        )
    else:
        packet_type = RTCP_RR
        head = _SSRC.pack(report.ssrc)
    body = head + b"".join(block.serialise() for block in report.reports)
    name = cname.encode()
    if len(name) > 0xFF:
        raise RtcpError("CNAME longer than 255 octets")
    items = bytes((SDES_CNAME, len(name))) + name
    items += bytes(4 - len(items) % 4)  # the null item ending the list, then up to a word boundary
    chunk = _SSRC.pack(report.ssrc) + items
    return b"".join(
        (
            _rtcp_header(len(report.reports), packet_type, len(body)),
            body,
            _rtcp_header(1, RTCP_SDES, len(chunk)),
            chunk,
        )
    )


class RtpSender:
    """Numbers one outgoing stream: a random SSRC, first sequence number and first timestamp (§5.1), then
    one packet per call. `rng` is for tests; the default draws from the operating system."""

    __slots__ = ("octets_sent", "packets_sent", "payload_type", "sequence_number", "ssrc", "timestamp")

    def __init__(self, payload_type: int, rng: Random | None = None) -> None:
        source = secrets.SystemRandom() if rng is None else rng
        self.payload_type = payload_type
        self.ssrc = source.getrandbits(32)
        self.sequence_number = source.getrandbits(16)  # the next packet's
        self.timestamp = source.getrandbits(32)  # the last packet's; before the first, a random origin
        self.packets_sent = 0
        self.octets_sent = 0

    def packet(
        self, payload: bytes, timestamp_step: int, marker: bool = False, *, payload_type: int | None = None
    ) -> bytes:
        """The next packet, `timestamp_step` clock units after the previous one: 160 for 20 ms of G.711 in
        steady flow, more after silence, 0 for the repeated packets of an RFC 4733 event. The marker starts
        a talkspurt; `payload_type` overrides the stream's own for one packet (telephone events)."""
        self.timestamp = (self.timestamp + timestamp_step) % _MOD_32
        data = RtpPacket(
            payload_type=self.payload_type if payload_type is None else payload_type,
            sequence_number=self.sequence_number,
            timestamp=self.timestamp,
            ssrc=self.ssrc,
            payload=payload,
            marker=marker,
        ).serialise()
        self.sequence_number = (self.sequence_number + 1) % _SEQUENCE_MOD
        self.packets_sent += 1
        self.octets_sent += len(payload)
        return data

    def sender_report(self, ntp_time: int, rtp_timestamp: int, reports: tuple[ReportBlock, ...] = ()) -> SenderReport:
        """An SR for this stream; `ntp_time` and `rtp_timestamp` are the same instant on both clocks."""
        return SenderReport(
            self.ssrc,
            ntp_time,
            rtp_timestamp,
            self.packets_sent % _MOD_32,
            self.octets_sent % _MOD_32,
            reports,
        )


class _SourceStatistics:
    """One source's state from RFC 3550 A.1 (sequence validity), A.3 (loss) and A.8 (jitter)."""

    __slots__ = (
        "bad_sequence",
        "base_sequence",
        "cycles",
        "expected_prior",
        "highest_sequence",
        "jitter",
        "last_sr",
        "last_sr_arrival",
        "probation",
        "received",
        "received_prior",
        "ssrc",
        "transit",
    )

    def __init__(self, ssrc: int, sequence_number: int) -> None:
        self.ssrc = ssrc
        self._restart(sequence_number)
        self.highest_sequence = (sequence_number - 1) % _SEQUENCE_MOD
        self.probation = MIN_SEQUENTIAL
        self.jitter = 0.0
        self.last_sr = 0
        self.last_sr_arrival: float | None = None

    def _restart(self, sequence_number: int) -> None:
        """A.1's init_seq, also forgetting the transit time: a restarted stream's timestamps start anew, and
        one difference across the restart would add a spurious jump to the jitter."""
        self.base_sequence = sequence_number
        self.highest_sequence = sequence_number
        self.bad_sequence = _SEQUENCE_MOD + 1  # matches no sequence number
        self.cycles = 0
        self.received = 0
        self.received_prior = 0
        self.expected_prior = 0
        self.transit: float | None = None

    def update(self, sequence_number: int, timestamp: int, arrival: float) -> bool:
        """A.1's update_seq, then A.8's jitter: whether the packet counts (the source is valid and the
        packet is in sequence, late or duplicated). `arrival` is in timestamp units."""
        delta = (sequence_number - self.highest_sequence) % _SEQUENCE_MOD
        if self.probation:
            if delta != 1:
                self.probation = MIN_SEQUENTIAL - 1
                self.highest_sequence = sequence_number
                return False
            self.probation -= 1
            self.highest_sequence = sequence_number
            if self.probation:
                return False
            self._restart(sequence_number)
        elif delta < MAX_DROPOUT:
            if sequence_number < self.highest_sequence:
                self.cycles += _SEQUENCE_MOD
            self.highest_sequence = sequence_number
        elif delta <= _SEQUENCE_MOD - MAX_MISORDER:
            if sequence_number != self.bad_sequence:
                self.bad_sequence = (sequence_number + 1) % _SEQUENCE_MOD
                return False
            self._restart(sequence_number)  # two sequential packets after a jump: the sender restarted
        self.received += 1
        self._update_jitter(timestamp, arrival)
        return True

    def _update_jitter(self, timestamp: int, arrival: float) -> None:
        transit = arrival - timestamp
        if self.transit is not None:
            # The difference of two transits, taken modulo 2**32 so a timestamp wrap is no jump.
            difference = abs((transit - self.transit + (1 << 31)) % _MOD_32 - (1 << 31))
            self.jitter += (difference - self.jitter) / 16
        self.transit = transit

    @property
    def expected(self) -> int:
        """Packets expected so far (A.3): from the first sequence number to the extended highest."""
        return self.cycles + self.highest_sequence - self.base_sequence + 1

    def report_block(self, now: float) -> ReportBlock:
        """The A.3 counts, starting a new report interval."""
        extended_highest = self.cycles + self.highest_sequence
        expected = self.expected
        expected_interval = expected - self.expected_prior
        received_interval = self.received - self.received_prior
        self.expected_prior, self.received_prior = expected, self.received
        lost_interval = expected_interval - received_interval
        fraction_lost = 0 if expected_interval == 0 or lost_interval <= 0 else (lost_interval << 8) // expected_interval
        delay = 0 if self.last_sr_arrival is None else int((now - self.last_sr_arrival) * 65536)
        return ReportBlock(
            ssrc=self.ssrc,
            fraction_lost=min(fraction_lost, 0xFF),
            cumulative_lost=max(-0x800000, min(expected - self.received, 0x7FFFFF)),
            extended_highest_sequence=extended_highest % _MOD_32,
            jitter=min(int(self.jitter), 0xFFFF_FFFF),
            last_sr=self.last_sr,
            delay_since_last_sr=max(0, min(delay, 0xFFFF_FFFF)),
        )


class RtpReceiver:
    """Statistics about the remote source of one incoming stream, for the report block we send about it.

    A packet from another SSRC starts a candidate source; once it has passed probation it replaces the
    current one, statistics and all. So a phone restarting its stream, or a re-INVITE moving the call to
    another device, is a new source rather than a burst of loss, while a stray packet changes nothing.
    """

    __slots__ = ("_candidate", "_clock_rate", "_source")

    def __init__(self, clock_rate: int) -> None:
        self._clock_rate = clock_rate
        self._source: _SourceStatistics | None = None
        self._candidate: _SourceStatistics | None = None

    @property
    def ssrc(self) -> int | None:
        """The valid source followed, None until one has passed probation."""
        return None if self._source is None else self._source.ssrc

    @property
    def jitter(self) -> float:
        """The current source's interarrival jitter estimate, in timestamp units."""
        return 0.0 if self._source is None else self._source.jitter

    def receive(self, packet: RtpPacket, arrival: float) -> bool:
        """Count a packet that arrived at `arrival` seconds: whether it is valid by RFC 3550 A.1 (from the
        current source, in sequence or late). A source on probation, or a packet after a sequence jump, is
        not valid yet; the caller may drop or still play it."""
        arrival_units = arrival * self._clock_rate
        source = self._source
        if source is not None and packet.ssrc == source.ssrc:
            return source.update(packet.sequence_number, packet.timestamp, arrival_units)
        candidate = self._candidate
        if candidate is None or candidate.ssrc != packet.ssrc:
            candidate = self._candidate = _SourceStatistics(packet.ssrc, packet.sequence_number)
        if not candidate.update(packet.sequence_number, packet.timestamp, arrival_units):
            return False
        self._source, self._candidate = candidate, None
        return True

    def receive_sender_report(self, report: SenderReport, arrival: float) -> None:
        """Note an SR from the source (or the candidate), for the LSR and DLSR of our next report block."""
        for source in (self._source, self._candidate):
            if source is not None and source.ssrc == report.ssrc:
                source.last_sr = report.ntp_timestamp >> 16 & 0xFFFF_FFFF
                source.last_sr_arrival = arrival

    @property
    def packets_lost(self) -> int:
        """The current source's cumulative loss (A.3; negative with duplicates), 0 before one is valid."""
        return 0 if self._source is None else self._source.expected - self._source.received

    def report_block(self, now: float) -> ReportBlock | None:
        """The report block about the current source, None before one is valid; each call starts a new
        interval for the fraction lost."""
        return None if self._source is None else self._source.report_block(now)
