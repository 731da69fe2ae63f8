"""DTMF as RFC 4733 telephone-events in RTP, and the SIP INFO bodies some phones send instead, sans-IO.

`TelephoneEvent` is one payload block on the wire. `DtmfReceiver` turns the telephone-event packets of one RTP
stream into `DtmfEvent`s, one per key press; `dtmf_packets` is the sending side; `parse_info_body` reads the
SIP INFO fallback into the same `DtmfEvent`. Only the sixteen DTMF events (0-9 * # A-D) are handled: the
other RFC 4733 / 4734 events (flash, modem and fax tones) are ignored by the receiver.
"""

from __future__ import annotations

import re
import struct
from collections import deque
from dataclasses import dataclass

from tonalite.media.rtp import MAX_MISORDER

DTMF_CHARACTERS = "0123456789*#ABCD"
"""The DTMF digits in event code order: the code of a digit is its index (RFC 4733 §3.2)."""

DEFAULT_DURATION_MS = 100
"""How long a sent digit lasts, and the duration of an `application/dtmf` INFO, which carries none."""

PACKET_INTERVAL_MS = 20
"""The spacing of the packets `dtmf_packets` produces: one per media tick."""

END_PACKET_COUNT = 3
"""How many times the end packet is sent, as RFC 4733 §2.5.1.4 recommends: it is the one that matters."""

MAX_VOLUME = 63
MAX_DURATION = 0xFFFF
"""The widest duration field, in timestamp units: 8.19 s at 8 kHz, far beyond any key press."""

MAX_INFO_BODY = 1024
"""Longest SIP INFO body read; a real one is about twenty bytes."""

_BLOCK = struct.Struct("!BBH")
_END_BIT = 0x80
_VOLUME_BITS = 0x3F
_SEQUENCE_MODULUS = 1 << 16
_RECENT_PRESSES = 16  # timestamps of finished presses remembered, to ignore their late and repeated packets
_RELAY_LINE = re.compile(r"[ \t]*([A-Za-z]+)[ \t]*=[ \t]*([^ \t]*)[ \t]*")
_DURATION_VALUE = re.compile(r"[0-9]{1,5}")
_SIGNAL_CODE = re.compile(r"[0-9]{1,2}")


class DtmfError(ValueError):
    """A telephone-event payload, INFO body, digit or duration this module cannot read or send."""


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """One RFC 4733 §2.3 event block: event code (0-255), end bit, volume (0-63, in -dBm0), and duration in
    RTP timestamp units since the event's RTP timestamp. The R bit is reserved: written 0, ignored on read."""

    event: int
    end: bool
    volume: int
    duration: int

    def __post_init__(self) -> None:
        if not 0 <= self.event <= 0xFF:
            raise DtmfError(f"event code {self.event} outside 0-255")
        if not 0 <= self.volume <= MAX_VOLUME:
            raise DtmfError(f"volume {self.volume} outside 0-{MAX_VOLUME}")
        if not 0 <= self.duration <= MAX_DURATION:
            raise DtmfError(f"duration {self.duration} outside 0-{MAX_DURATION}")

    @classmethod
    def parse(cls, payload: bytes) -> TelephoneEvent:
        """The first event block of a payload. RFC 4733 §2.5.1.5 lets a sender pack several short events in
        one packet (the RTP timestamp is then the first one's); we never ask for that, so blocks after the
        first are ignored. A payload that is not a whole number of 4-byte blocks is refused."""
        if not payload or len(payload) % _BLOCK.size:
            raise DtmfError(f"telephone-event payload of {len(payload)} bytes")
        event, flags, duration = _BLOCK.unpack_from(payload)
        return cls(event, bool(flags & _END_BIT), flags & _VOLUME_BITS, duration)

    def to_payload(self) -> bytes:
        return _BLOCK.pack(self.event, (_END_BIT if self.end else 0) | self.volume, self.duration)

    @property
    def digit(self) -> str | None:
        """The DTMF character of the event, or None for a non-DTMF event."""
        return DTMF_CHARACTERS[self.event] if self.event < len(DTMF_CHARACTERS) else None


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    """A key press, reported once whichever way it came (RTP or SIP INFO)."""

    digit: str
    duration_ms: int


def event_code(digit: str) -> int:
    """The RFC 4733 event code of a DTMF character; letters in either case."""
    code = DTMF_CHARACTERS.find(digit.upper()) if len(digit) == 1 else -1
    if code < 0:
        raise DtmfError(f"not a DTMF digit: {digit!r}")
    return code


@dataclass(slots=True)
class _Press:
    """The press being received: the RTP timestamp all its packets share, and the longest duration heard."""

    timestamp: int
    digit: str
    duration: int
    last_heard: float


class DtmfReceiver:
    """Telephone-event packets of one RTP stream in, each key press out once.

    A press is identified by its RTP timestamp: a new timestamp starts a new press (whether or not its first
    packet, the one with the marker bit, arrived), packets with the current timestamp update it. A press is
    reported with its final duration when its first end packet arrives; a press still running when a new
    one starts is reported then, and a press whose end packets were all lost is reported `end_timeout`
    seconds after its last packet (`poll`), with the longest duration heard. The timestamps of the last few
    reported presses are remembered, so the repeated end packets, and any late packet of a reported press,
    are ignored. A packet with a new timestamp but a sequence number behind the newest seen (by at most
    `MAX_MISORDER`: further is a restarted stream) belongs to a press older than the latest one, reordered:
    it is ignored too, rather than reported out of order.

    The marker bit is not needed: a new timestamp already says a press starts, and the marker packet may be
    lost. Packets of a non-DTMF event are ignored.
    """

    __slots__ = ("_finished", "_newest_sequence", "_press", "clock_rate", "end_timeout")

    def __init__(self, clock_rate: int = 8000, end_timeout: float = 1.0) -> None:
        self.clock_rate = clock_rate
        self.end_timeout = end_timeout
        self._press: _Press | None = None
        self._finished: deque[int] = deque(maxlen=_RECENT_PRESSES)
        self._newest_sequence: int | None = None

    def receive(self, payload: bytes, timestamp: int, sequence: int, now: float) -> list[DtmfEvent]:
        """The presses this packet ends, in order: none, one, or two (a running press that a new one ends,
        and the new one when all that arrived of it is an end packet). A malformed payload raises DtmfError
        and changes nothing."""
        block = TelephoneEvent.parse(payload)
        if block.digit is None or timestamp in self._finished:
            return []
        reported: list[DtmfEvent] = []
        press = self._press
        if press is not None and press.timestamp == timestamp:
            press.duration = max(press.duration, block.duration)
            press.last_heard = now
        elif self._is_reordered(sequence):
            return []
        else:
            if press is not None:
                reported.append(self._finish(press))
            press = self._press = _Press(timestamp, block.digit, block.duration, now)
        self._note_sequence(sequence)
        if block.end:
            reported.append(self._finish(press))
        return reported

    def poll(self, now: float) -> DtmfEvent | None:
        """The running press, if it has been silent for `end_timeout`: its end packets were lost."""
        press = self._press
        if press is None or now < press.last_heard + self.end_timeout:
            return None
        return self._finish(press)

    def next_deadline(self) -> float | None:
        """When `poll` may next report something: None when no press is running."""
        return None if self._press is None else self._press.last_heard + self.end_timeout

    def _finish(self, press: _Press) -> DtmfEvent:
        self._press = None
        self._finished.append(press.timestamp)
        return DtmfEvent(press.digit, round(press.duration * 1000 / self.clock_rate))

    def _is_reordered(self, sequence: int) -> bool:
        if self._newest_sequence is None:
            return False
        return (self._newest_sequence - sequence) % _SEQUENCE_MODULUS <= MAX_MISORDER

    def _note_sequence(self, sequence: int) -> None:
        newest = self._newest_sequence
        if newest is None or 0 < (sequence - newest) % _SEQUENCE_MODULUS < _SEQUENCE_MODULUS // 2:
            self._newest_sequence = sequence


@dataclass(frozen=True, slots=True)
class DtmfPacket:
    """One telephone-event packet to send. Every packet of a press goes out under the same RTP timestamp (the
    press's start), with its own sequence number, one per `PACKET_INTERVAL_MS`."""

    payload: bytes
    marker: bool
    last: bool


def dtmf_packets(
    digit: str, duration_ms: int = DEFAULT_DURATION_MS, *, volume: int = 10, clock_rate: int = 8000
) -> tuple[DtmfPacket, ...]:
    """The packets of one key press, in sending order: the first with the marker bit, then one per interval
    with the duration reached at its end, until the one that reaches `duration_ms`, which is the first of
    `END_PACKET_COUNT` identical end packets. A press of 100 ms at 8 kHz: durations 160, 320, 480, 640, then
    800 three times with the end bit."""
    code = event_code(digit)
    total = duration_ms * clock_rate // 1000
    if not 0 < total <= MAX_DURATION:
        raise DtmfError(f"cannot send a {duration_ms} ms press at {clock_rate} Hz")
    interval = PACKET_INTERVAL_MS * clock_rate // 1000
    durations = [*range(interval, total, interval)] + [total] * END_PACKET_COUNT
    end_from = len(durations) - END_PACKET_COUNT
    return tuple(
        DtmfPacket(
            payload=TelephoneEvent(code, index >= end_from, volume, duration).to_payload(),
            marker=index == 0,
            last=index == len(durations) - 1,
        )
        for index, duration in enumerate(durations)
    )


def parse_info_body(content_type: str, body: bytes) -> DtmfEvent:
    """The key press of a SIP INFO request, from its Content-Type (parameters ignored) and body.

    `application/dtmf-relay` is lines of `Key=value`: `Signal` is required, a DTMF character or its event code
    (`Signal=10` for `*`, as some gateways send); `Duration` is in ms, `DEFAULT_DURATION_MS` when absent; other
    keys are ignored, a repeated key is refused. Keys in any case, spaces around `=`, CRLF or LF line ends.
    `application/dtmf` is the character alone (no event codes: "12" is not "A").
    """
    media_type = content_type.split(";", 1)[0].strip(" \t").lower()
    if len(body) > MAX_INFO_BODY:
        raise DtmfError("INFO body too long")
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError as error:
        raise DtmfError("INFO body is not ASCII") from error
    if media_type == "application/dtmf-relay":
        return _parse_dtmf_relay(text)
    if media_type == "application/dtmf":
        return DtmfEvent(DTMF_CHARACTERS[event_code(text.strip(" \t\r\n"))], DEFAULT_DURATION_MS)
    raise DtmfError(f"not a DTMF INFO body: {media_type!r}")


def _parse_dtmf_relay(text: str) -> DtmfEvent:
    values: dict[str, str] = {}
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        if not line.strip(" \t"):
            continue
        match = _RELAY_LINE.fullmatch(line)
        if match is None:
            raise DtmfError(f"malformed dtmf-relay line: {line!r}")
        key = match[1].lower()
        if key in values:
            raise DtmfError(f"repeated dtmf-relay key: {match[1]}")
        values[key] = match[2]
    signal = values.get("signal")
    if signal is None:
        raise DtmfError("dtmf-relay body without Signal")
    duration = values.get("duration")
    if duration is None:
        return DtmfEvent(_signal_digit(signal), DEFAULT_DURATION_MS)
    if not _DURATION_VALUE.fullmatch(duration):
        raise DtmfError(f"malformed dtmf-relay Duration: {duration!r}")
    return DtmfEvent(_signal_digit(signal), int(duration))


def _signal_digit(signal: str) -> str:
    """A DTMF character (letters in either case) or an event code 0-15, as its character."""
    if _SIGNAL_CODE.fullmatch(signal) and int(signal) < len(DTMF_CHARACTERS):
        return DTMF_CHARACTERS[int(signal)]
    return DTMF_CHARACTERS[event_code(signal)]
