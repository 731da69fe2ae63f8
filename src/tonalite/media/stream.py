"""One call leg's RTP stream on this node, sans-IO: datagrams and ticks in, datagrams, audio and key presses out.

The asyncio layer owns the sockets and the 20 ms pacer: it hands every datagram of the RTP port to `receive`,
every datagram of the RTCP port to `receive_rtcp`, calls `tick` once per media tick and sends what it
returns, and `drain` when the call ends. Audio goes both ways as frames of 160 linear samples (20 ms of
G.711): `play` sets where outgoing frames come from, `listen` where incoming ones go.

Incoming packets are hostile network data: a packet that is not RTP, has a payload type that was not
negotiated, or is audio that is not one 20 ms frame (the SDP offers ptime 20) is dropped and counted, and
changes nothing. The packets kept latch the address we send to (symmetric RTP, see media/latching.py): a phone
behind NAT is reached at the address its packets come from, and a stranger who finds the port cannot divert
the call's audio to itself by sending RTP.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from random import Random
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from tonalite.media.dtmf import DEFAULT_DURATION_MS, DtmfError, DtmfEvent, DtmfPacket, DtmfReceiver, dtmf_packets
from tonalite.media.g711 import SAMPLE_RATE, G711Codec
from tonalite.media.jitter import FRAME_SAMPLES, JitterBuffer
from tonalite.media.latching import Address as Address
from tonalite.media.latching import RtpLatch
from tonalite.media.rtp import (
    ReceiverReport,
    RtcpError,
    RtpError,
    RtpPacket,
    RtpReceiver,
    RtpSender,
    SenderReport,
    build_rtcp,
    ntp_timestamp,
    parse_rtcp,
    parse_rtp,
)

Samples: TypeAlias = npt.NDArray[np.int16]
AudioSource: TypeAlias = Callable[[], Samples | None]
"""Called once per tick for the next 160 samples to send, or None when it has nothing (silence is sent)."""
AudioSink: TypeAlias = Callable[[Samples | None], None]
"""Called once per tick with the next 160 samples received, or None for a gap (nothing arrived in time)."""

DIGIT_GAP_TICKS = 3
"""Ticks of audio after a sent key press before the next queued one starts: a gateway that turns events back
into tones needs the pause to tell two equal digits apart."""

_TIMESTAMP_MODULUS = 1 << 32


@dataclass(frozen=True, slots=True)
class StreamStatistics:
    """A snapshot for diagnostics: `packets_lost` is the remote source's cumulative loss (RFC 3550 A.3),
    `jitter_ms` the current interarrival jitter estimate."""

    packets_received: int
    packets_lost: int
    jitter_ms: float
    dropped: int
    packets_sent: int


class MediaStream:
    """The RTP stream of one call leg: `codec` and `telephone_event` (its payload type, None when not
    negotiated) are the SDP answer's, `remote` the SDP's connection address and port (None when it has
    none), `rng` numbers the outgoing stream (tests pass a seeded one), `target_delay` is the jitter
    buffer's, in seconds."""

    __slots__ = (
        "_digit_gap",
        "_digits",
        "_dropped",
        "_dtmf",
        "_events",
        "_jitter",
        "_last_tick",
        "_latch",
        "_owed",
        "_received",
        "_receiver",
        "_sender",
        "_sink",
        "_source",
        "_unstamped",
        "codec",
        "telephone_event",
    )

    def __init__(
        self,
        codec: G711Codec,
        telephone_event: int | None = None,
        remote: Address | None = None,
        *,
        rng: Random | None = None,
        target_delay: float = 0.060,
    ) -> None:
        _check_telephone_event(codec, telephone_event)
        self.codec = codec
        self.telephone_event = telephone_event
        self._dropped = 0  # malformed RTP or RTCP, payload types not negotiated, audio not 20 ms
        self._latch = RtpLatch(remote)
        self._sender = RtpSender(codec.payload_type, rng)
        self._receiver = RtpReceiver(SAMPLE_RATE)
        self._jitter = JitterBuffer(target_delay)
        self._dtmf = DtmfReceiver(SAMPLE_RATE)
        self._events: list[DtmfEvent] = []
        self._digits: deque[DtmfPacket] = deque()
        self._digit_gap = 0
        self._source: AudioSource | None = None
        self._sink: AudioSink | None = None
        self._received = 0
        self._unstamped = 0  # timestamp units the clock has run since the last packet sent's timestamp
        self._owed = 0  # skipped periods whose frames the jitter buffer has not played out yet
        self._last_tick = 0.0

    def agree(self, codec: G711Codec, telephone_event: int | None, remote: Address | None) -> None:
        """The answer to our own offer (the caller made none) chose `codec`, `telephone_event` and named
        `remote`: the stream takes them, before its first packet (it sends none while it has no address)."""
        if self._sender.packets_sent:
            raise ValueError("the stream has started: its codec is agreed")
        _check_telephone_event(codec, telephone_event)
        self.codec = codec
        self.telephone_event = telephone_event
        self._sender.payload_type = codec.payload_type
        self._latch.rename(remote)

    @property
    def remote(self) -> Address | None:
        """Where packets go: the source of the latest packet kept, else the SDP's address."""
        return self._latch.remote

    @property
    def statistics(self) -> StreamStatistics:
        return StreamStatistics(
            packets_received=self._received,
            packets_lost=self._receiver.packets_lost,
            jitter_ms=self._receiver.jitter * 1000 / SAMPLE_RATE,
            dropped=self._dropped,
            packets_sent=self._sender.packets_sent,
        )

    def play(self, source: AudioSource | None) -> None:
        """Send what `source` gives from the next tick on; None sends silence."""
        self._source = source

    def listen(self, sink: AudioSink | None) -> None:
        """Hand incoming audio to `sink` from the next tick on; None drops it."""
        self._sink = sink

    def send_digit(self, digit: str, duration_ms: int = DEFAULT_DURATION_MS) -> None:
        """Queue a key press as RFC 4733 events, after any queued before. DtmfError if telephone-event was
        not negotiated or the digit or duration cannot be sent."""
        if self.telephone_event is None:
            raise DtmfError("telephone-event was not negotiated")
        self._digits.extend(dtmf_packets(digit, duration_ms, clock_rate=SAMPLE_RATE))

    def events(self) -> Sequence[DtmfEvent]:
        """The key presses received since the last call, in order (asked at every tick: most often none)."""
        if not self._events:
            return ()
        events, self._events = self._events, []
        return events

    def receive(self, data: bytes, source: Address, now: float) -> None:
        """Take one datagram from the RTP port; never raises."""
        try:
            packet = parse_rtp(data)
        except RtpError:
            self._dropped += 1
            return
        if not self._latch.admits(source, packet.ssrc):
            self._dropped += 1
            return
        if not self._accept(packet, now):
            self._dropped += 1
            return
        self._received += 1
        self._receiver.receive(packet, now)
        self._latch.latch(source, packet.ssrc)

    def _accept(self, packet: RtpPacket, now: float) -> bool:
        """Hand a packet to the jitter buffer or the DTMF receiver: whether it was one of theirs.

        Telephone events share the audio's SSRC and sequence numbers, so both count in the RTCP statistics
        (else every key press would look like loss); the jitter estimate rises a little during a press, as
        its packets repeat one timestamp."""
        if packet.payload_type == self.codec.payload_type:
            if len(packet.payload) != FRAME_SAMPLES:
                return False
            self._jitter.push(packet.sequence_number, packet.timestamp, packet.payload, now, packet.ssrc)
            return True
        if packet.payload_type == self.telephone_event:
            try:
                presses = self._dtmf.receive(packet.payload, packet.timestamp, packet.sequence_number, now)
            except DtmfError:
                return False
            self._events.extend(presses)
            return True
        return False

    def receive_rtcp(self, data: bytes, now: float) -> None:
        """Take one datagram from the RTCP port: the remote's sender reports, for our report blocks'
        LSR and DLSR. Never raises."""
        try:
            packets = parse_rtcp(data)
        except RtcpError:
            self._dropped += 1
            return
        for packet in packets:
            if isinstance(packet, SenderReport):
                self._receiver.receive_sender_report(packet, now)

    def tick(self, now: float, frames: int = 1) -> tuple[bytes, Address] | None:
        """The media tick: play out the next incoming frame, then the datagram to send and where to, or None
        while no remote address is known (the source is still played, in time).

        `frames` is the 20 ms periods since the last tick, more than one when the pacer skipped ticks (the
        process stalled). The RTP clock runs that many frames on, but the source gives one frame and one
        packet goes: a burst would reach the phone too late to be played. The skipped periods' frames are
        played out too, so that the jitter buffer keeps its delay and the sink gets every frame: as soon as
        the buffer holds more than its delay, which may be a tick later, as the packets held up by the stall
        can be read after this tick."""
        self._owed += frames - 1
        self._play_out(self._jitter.pop(now))
        while self._owed and self._jitter.buffered > self._jitter.target_frames:
            self._owed -= 1
            self._play_out(self._jitter.pop(now))
        press = self._dtmf.poll(now)
        if press is not None:
            self._events.append(press)
        self._last_tick = now
        self._unstamped += frames * FRAME_SAMPLES
        samples = None if self._source is None else self._source()
        remote = self._latch.remote
        if remote is None:
            return None
        return self._packet(samples), remote

    def drain(self) -> None:
        """Play out at once what the jitter buffer still holds: at the end of the call, else the last frames
        received (the target delay's worth) would never reach the sink."""
        for payload in self._jitter.drain():
            self._play_out(payload)

    def _play_out(self, payload: bytes | None) -> None:
        if self._sink is not None:
            self._sink(None if payload is None else self.codec.decode(payload))

    def _packet(self, samples: Samples | None) -> bytes:
        """The next datagram: a queued key press's next event packet, else audio. An event's packets all
        carry its first one's timestamp; the clock runs on meanwhile, so audio resumes in time."""
        digit = self._next_digit_packet()
        if digit is not None:
            step = self._unstamped if digit.marker else 0
            data = self._sender.packet(digit.payload, step, digit.marker, payload_type=self.telephone_event)
        else:
            step = self._unstamped
            data = self._sender.packet(self._encode(samples), step, marker=self._sender.packets_sent == 0)
        self._unstamped -= step
        return data

    def _next_digit_packet(self) -> DtmfPacket | None:
        if self._digit_gap:
            self._digit_gap -= 1
            return None
        if not self._digits:
            return None
        packet = self._digits.popleft()
        if packet.last:
            self._digit_gap = DIGIT_GAP_TICKS
        return packet

    def _encode(self, samples: Samples | None) -> bytes:
        if samples is None:
            return self.codec.silence(FRAME_SAMPLES)
        payload = self.codec.encode(samples)
        if len(payload) != FRAME_SAMPLES:
            raise ValueError(f"an audio source gave {len(payload)} samples, not {FRAME_SAMPLES}")
        return payload

    def rtcp_report(self, now: float, cname: str, unix_seconds: float) -> bytes:
        """Our compound RTCP packet: an SR once we have sent packets, else an RR, with a report block about
        the remote source once one is valid. `unix_seconds` is the wall-clock time now, for the SR's NTP
        timestamp."""
        block = self._receiver.report_block(now)
        reports = () if block is None else (block,)
        sender = self._sender
        report: SenderReport | ReceiverReport
        if sender.packets_sent:
            report = sender.sender_report(ntp_timestamp(unix_seconds), self._rtp_clock(now), reports)
        else:
            report = ReceiverReport(sender.ssrc, reports)
        return build_rtcp(report, cname)

    def _rtp_clock(self, now: float) -> int:
        """The outgoing stream's RTP timestamp at `now`, from the last tick's."""
        since_tick = round((now - self._last_tick) * SAMPLE_RATE)
        return (self._sender.timestamp + self._unstamped + since_tick) % _TIMESTAMP_MODULUS


def _check_telephone_event(codec: G711Codec, telephone_event: int | None) -> None:
    if telephone_event is not None and (not 0 <= telephone_event <= 0x7F or telephone_event == codec.payload_type):
        raise ValueError(f"telephone-event payload type {telephone_event} is not usable with {codec.encoding_name}")
