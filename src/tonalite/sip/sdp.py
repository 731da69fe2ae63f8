"""Session descriptions (SDP, RFC 8866) and the offer/answer model (RFC 3264).

A description parses into frozen dataclasses and serialises back with CRLF line ends: parse(serialise(x)) == x.
Parsing forgives what phones get wrong without harm (LF line ends, trailing whitespace, blank lines, fields out
of order, type letters it does not know, which are kept) and refuses what could send media to the wrong place or
in the wrong direction: a malformed v=, o=, c=, m=, t= or b= line, a field that may appear once appearing twice,
a session field inside a media section, conflicting direction attributes. Attribute values are read on demand by
the typed helpers, which treat one they cannot read as absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from itertools import pairwise
from typing import TypeVar

MAX_SIZE = 64 * 1024
MAX_LINES = 1024
MAX_MEDIA = 64
MAX_FORMATS = 128

_LINE = re.compile(r"([a-z])=(.*)")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_TOKEN = re.compile(r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+")
_PROTO = re.compile(rf"{_TOKEN.pattern}(?:/{_TOKEN.pattern})*")
_ADDRESS = re.compile(r"[!-~]+")
_DIGITS = re.compile(r"[0-9]{1,20}")
_PAYLOAD_TYPE = re.compile(r"12[0-7]|1[01][0-9]|[1-9]?[0-9]")
_RTPMAP = re.compile(r"([^/\s]+)/([0-9]{1,10})(?:/([0-9]{1,3}))?")

# Fields a section may carry once, fields it may repeat; any other known letter is out of place there.
_KNOWN = frozenset("vosiuepcbtrzkam")
_SESSION_ONCE, _SESSION_MANY = "osiuczk", "epbtra"
_MEDIA_ONCE, _MEDIA_MANY = "ik", "cba"

T = TypeVar("T")


class SdpError(ValueError):
    """A session description that breaks RFC 8866 or a size limit; a SIP endpoint answers it with 488 or 400."""


class Direction(Enum):
    """Which way media flows, seen from the description's author (RFC 3264 §5.1)."""

    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    @property
    def sends(self) -> bool:
        return self in (Direction.SENDRECV, Direction.SENDONLY)

    @property
    def receives(self) -> bool:
        return self in (Direction.SENDRECV, Direction.RECVONLY)

    @classmethod
    def of(cls, sends: bool, receives: bool) -> Direction:
        if sends:
            return cls.SENDRECV if receives else cls.SENDONLY
        return cls.RECVONLY if receives else cls.INACTIVE


_DIRECTIONS = frozenset(direction.value for direction in Direction)


@dataclass(frozen=True, slots=True)
class Codec:
    """An RTP payload format as an rtpmap names it: `PCMU/8000`, `opus/48000/2`."""

    encoding: str
    clock_rate: int
    channels: int = 1

    def matches(self, other: Codec) -> bool:
        """Same format; encoding names are case-insensitive (RFC 4855 §3)."""
        return (self.encoding.lower(), self.clock_rate, self.channels) == (
            other.encoding.lower(),
            other.clock_rate,
            other.channels,
        )

    def __str__(self) -> str:
        channels = f"/{self.channels}" if self.channels != 1 else ""
        return f"{self.encoding}/{self.clock_rate}{channels}"


# RFC 3551 §6, tables 4 and 5: what a payload type means in RTP/AVP when no rtpmap says otherwise.
STATIC_PAYLOAD_TYPES = {
    0: Codec("PCMU", 8000),
    3: Codec("GSM", 8000),
    4: Codec("G723", 8000),
    5: Codec("DVI4", 8000),
    6: Codec("DVI4", 16000),
    7: Codec("LPC", 8000),
    8: Codec("PCMA", 8000),
    9: Codec("G722", 8000),
    10: Codec("L16", 44100, 2),
    11: Codec("L16", 44100),
    12: Codec("QCELP", 8000),
    13: Codec("CN", 8000),
    14: Codec("MPA", 90000),
    15: Codec("G728", 8000),
    16: Codec("DVI4", 11025),
    17: Codec("DVI4", 22050),
    18: Codec("G729", 8000),
    25: Codec("CelB", 90000),
    26: Codec("JPEG", 90000),
    28: Codec("nv", 90000),
    31: Codec("H261", 90000),
    32: Codec("MPV", 90000),
    33: Codec("MP2T", 90000),
    34: Codec("H263", 90000),
}

# Formats that ride along a voice codec but cannot carry a call on their own.
_AUXILIARY = frozenset({"telephone-event", "cn"})


@dataclass(frozen=True, slots=True)
class Origin:
    """o=: who made the description; sess-version grows with each new offer or answer (RFC 3264 §8)."""

    username: str
    session_id: int
    session_version: int
    address: str
    nettype: str = "IN"
    addrtype: str = "IP4"

    def __str__(self) -> str:
        return f"{self.username} {self.session_id} {self.session_version} {self.nettype} {self.addrtype} {self.address}"


@dataclass(frozen=True, slots=True)
class Connection:
    """c=: where media goes. `address` is kept as written, a multicast `/ttl` suffix included."""

    address: str
    nettype: str = "IN"
    addrtype: str = "IP4"

    @classmethod
    def to(cls, address: str) -> Connection:
        return cls(address, "IN", "IP6" if ":" in address else "IP4")

    def __str__(self) -> str:
        return f"{self.nettype} {self.addrtype} {self.address}"


@dataclass(frozen=True, slots=True)
class Bandwidth:
    """b=<type>:<kbit/s>, e.g. `AS:80`."""

    kind: str
    value: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True, slots=True)
class Timing:
    """t= with the r= lines that follow it, which are kept as written."""

    start: int = 0
    stop: int = 0
    repeats: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Attribute:
    """a=<name>[:<value>]; a flag such as `a=rtcp-mux` has no value (None), `a=x:` an empty one."""

    name: str
    value: str | None = None

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}:{self.value}"


@dataclass(frozen=True, slots=True)
class RtcpAttribute:
    """a=rtcp (RFC 3605): where the peer wants RTCP when that is not the RTP port + 1 at the same address."""

    port: int
    connection: Connection | None = None


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """One m= section. Formats are RTP payload type numbers for RTP transports, opaque tokens for others."""

    media: str
    port: int
    proto: str
    formats: tuple[str, ...]
    port_count: int | None = None
    information: str | None = None
    connections: tuple[Connection, ...] = ()
    bandwidths: tuple[Bandwidth, ...] = ()
    key: str | None = None
    attributes: tuple[Attribute, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def is_rtp(self) -> bool:
        return _is_rtp(self.proto)

    @property
    def payload_types(self) -> tuple[int, ...]:
        if not self.is_rtp:
            return ()
        return tuple(int(fmt) for fmt in self.formats if _PAYLOAD_TYPE.fullmatch(fmt))

    @property
    def codecs(self) -> dict[int, Codec]:
        """Payload type -> codec, in m= line order, for the payload types whose codec is known."""
        found = {pt: self.codec(pt) for pt in self.payload_types}
        return {pt: codec for pt, codec in found.items() if codec is not None}

    @property
    def direction(self) -> Direction | None:
        """The section's own direction attribute; SessionDescription.direction_for adds the session default."""
        return _direction(self.attributes)

    @property
    def ptime(self) -> int | None:
        """Milliseconds of media per packet the author wants to receive; only whole numbers are understood."""
        values = self.values("ptime")
        if not values or _DIGITS.fullmatch(values[0]) is None or int(values[0]) == 0:
            return None
        return int(values[0])

    @property
    def rtcp_mux(self) -> bool:
        """RTP and RTCP share the RTP port (RFC 5761)."""
        return any(attribute.name == "rtcp-mux" for attribute in self.attributes)

    @property
    def rtcp(self) -> RtcpAttribute | None:
        values = self.values("rtcp")
        if not values:
            return None
        try:
            return _parse_rtcp(values[0])
        except SdpError:
            return None

    def values(self, name: str) -> list[str]:
        """The values of the attributes called `name`, in order; a flag gives ""."""
        return [attribute.value or "" for attribute in self.attributes if attribute.name == name]

    def codec(self, payload_type: int) -> Codec | None:
        """The rtpmap of `payload_type`, else its static assignment (RFC 3551 §6)."""
        for value in self.values("rtpmap"):
            mapped = _payload_value(value)
            if mapped is not None and mapped[0] == payload_type:
                return _parse_codec(mapped[1])
        return STATIC_PAYLOAD_TYPES.get(payload_type)

    def fmtp(self, payload_type: int) -> str | None:
        for value in self.values("fmtp"):
            mapped = _payload_value(value)
            if mapped is not None and mapped[0] == payload_type:
                return mapped[1]
        return None

    def with_address(self, address: str, port: int) -> MediaDescription:
        """The same stream received at `address`:`port` instead (media anchoring).

        a=rtcp named the old address, so it goes: RTCP then flows to port + 1, or on the RTP port with rtcp-mux.
        """
        return replace(
            self,
            port=port,
            port_count=None,
            connections=(Connection.to(address),),
            attributes=tuple(attribute for attribute in self.attributes if attribute.name != "rtcp"),
        )

    def with_direction(self, direction: Direction) -> MediaDescription:
        """Written at media level even for sendrecv, so that it overrides any session-level direction."""
        kept = tuple(attribute for attribute in self.attributes if attribute.name not in _DIRECTIONS)
        return replace(self, attributes=(*kept, Attribute(direction.value)))

    def with_formats(self, payload_types: Collection[int]) -> MediaDescription:
        """Only the given payload types, in their current order, with their rtpmap and fmtp lines."""
        formats = tuple(str(pt) for pt in self.payload_types if pt in payload_types)
        if not formats:
            raise SdpError("an m= line needs at least one format")

        def kept(attribute: Attribute) -> bool:
            if attribute.name not in ("rtpmap", "fmtp"):
                return True
            mapped = _payload_value(attribute.value or "")
            return mapped is not None and mapped[0] in payload_types

        return replace(self, formats=formats, attributes=tuple(filter(kept, self.attributes)))


@dataclass(frozen=True, slots=True)
class SessionDescription:
    """A whole description: session-level fields, which are defaults for every m= section, then the sections."""

    origin: Origin
    name: str
    timings: tuple[Timing, ...] = (Timing(),)
    information: str | None = None
    uri: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    connection: Connection | None = None
    bandwidths: tuple[Bandwidth, ...] = ()
    zone: str | None = None
    key: str | None = None
    attributes: tuple[Attribute, ...] = ()
    media: tuple[MediaDescription, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, data: bytes) -> SessionDescription:
        lines = _split_lines(data)
        if not lines or lines[0][1:] != ("v", "0"):
            raise SdpError("a session description starts with v=0")
        starts = [index for index, (_, kind, _) in enumerate(lines) if kind == "m"]
        if len(starts) > MAX_MEDIA:
            raise SdpError(f"more than {MAX_MEDIA} media sections")
        bounds = [*starts, len(lines)]
        media = tuple(_parse_media(lines[start:end]) for start, end in pairwise(bounds))
        return _parse_session(lines[1 : bounds[0]], media)

    def serialise(self) -> bytes:
        lines = ["v=0", f"o={self.origin}", f"s={self.name or ' '}"]  # RFC 8866 §5.3: never an empty s=
        lines += _optional("i", self.information) + _optional("u", self.uri)
        lines += [f"e={email}" for email in self.emails] + [f"p={phone}" for phone in self.phones]
        lines += _optional("c", self.connection) + [f"b={bandwidth}" for bandwidth in self.bandwidths]
        for timing in self.timings:
            lines += [f"t={timing.start} {timing.stop}", *(f"r={repeat}" for repeat in timing.repeats)]
        lines += _optional("z", self.zone) + _optional("k", self.key)
        lines += [f"{kind}={value}" for kind, value in self.extra]
        lines += [f"a={attribute}" for attribute in self.attributes]
        for media in self.media:
            lines += _media_lines(media)
        return ("\r\n".join(lines) + "\r\n").encode()

    def connection_for(self, media: MediaDescription) -> Connection | None:
        """The media section's c= line, else the session's."""
        return media.connections[0] if media.connections else self.connection

    def direction_for(self, media: MediaDescription) -> Direction:
        """Media-level direction, else session-level, else sendrecv (RFC 3264 §5.1)."""
        return media.direction or _direction(self.attributes) or Direction.SENDRECV

    def is_hold(self, media: MediaDescription) -> bool:
        """Whether the author puts this stream on hold.

        RFC 3264 §8.4 holds with sendonly or inactive; RFC 2543, still spoken by old phones, with c=0.0.0.0.
        """
        connection = self.connection_for(media)
        held_address = connection is not None and connection.address == "0.0.0.0"
        return held_address or self.direction_for(media) in (Direction.SENDONLY, Direction.INACTIVE)

    def with_media(self, index: int, media: MediaDescription) -> SessionDescription:
        if not 0 <= index < len(self.media):
            raise IndexError(f"no media section {index}")
        return replace(self, media=(*self.media[:index], media, *self.media[index + 1 :]))

    def with_next_version(self) -> SessionDescription:
        """The description as the next offer or answer of the session (RFC 3264 §8: sess-version + 1)."""
        return replace(self, origin=replace(self.origin, session_version=self.origin.session_version + 1))


def answer(
    offer: SessionDescription,
    supported: Sequence[Codec],
    local_address: str,
    local_ports: Sequence[int],
    session_id: int,
    session_version: int = 0,
    *,
    direction: Direction = Direction.SENDRECV,
    protocols: Collection[str] = ("RTP/AVP",),
    rtcp_mux: bool = False,
    username: str = "-",
) -> SessionDescription:
    """The answer to `offer` (RFC 3264 §6).

    `local_ports` gives the receiving port of each offered stream, in m= line order; 0 rejects that stream. A
    stream is also rejected when it was offered with port 0, over a transport not in `protocols`, or when the
    codecs in common are only telephone-event and comfort noise. An accepted stream keeps the offer's codecs
    that are `supported`, in the offer's order and with the offer's payload type numbers and fmtp, echoes its
    ptime, and rtcp-mux when `rtcp_mux` allows it (RFC 8035); its direction is the offer's reversed, narrowed
    to the local `direction` (§6.1).
    """
    if len(local_ports) != len(offer.media):
        raise ValueError(f"{len(local_ports)} local ports for {len(offer.media)} offered streams")
    connection = Connection.to(local_address)
    streams = tuple(
        _answer_stream(offer, offered, port, supported, direction, protocols, rtcp_mux)
        for offered, port in zip(offer.media, local_ports, strict=True)
    )
    return SessionDescription(
        origin=Origin(username, session_id, session_version, local_address, "IN", connection.addrtype),
        name="-",
        timings=offer.timings,
        connection=connection,
        media=streams,
    )


def _answer_stream(
    offer: SessionDescription,
    offered: MediaDescription,
    port: int,
    supported: Sequence[Codec],
    wanted: Direction,
    protocols: Collection[str],
    rtcp_mux: bool,
) -> MediaDescription:
    # §6: a rejected stream keeps a format, because the m= line needs one; it is ignored.
    rejected = MediaDescription(offered.media, 0, offered.proto, offered.formats)
    if port == 0 or offered.port == 0 or offered.proto not in protocols:
        return rejected
    common = {pt: codec for pt, codec in offered.codecs.items() if any(codec.matches(own) for own in supported)}
    if all(codec.encoding.lower() in _AUXILIARY for codec in common.values()):
        return rejected
    attributes: list[Attribute] = []
    for pt, codec in common.items():
        attributes.append(Attribute("rtpmap", f"{pt} {codec}"))  # §6.1: SHOULD even for static types
        fmtp = offered.fmtp(pt)
        if fmtp:
            attributes.append(Attribute("fmtp", f"{pt} {fmtp}"))
    if offered.ptime is not None:
        attributes.append(Attribute("ptime", str(offered.ptime)))
    if rtcp_mux and offered.rtcp_mux:
        attributes.append(Attribute("rtcp-mux"))
    theirs = offer.direction_for(offered)
    ours = Direction.of(wanted.sends and theirs.receives, wanted.receives and theirs.sends)
    attributes.append(Attribute(ours.value))
    formats = tuple(str(pt) for pt in common)
    return MediaDescription(offered.media, port, offered.proto, formats, attributes=tuple(attributes))


def check_answer(offer: SessionDescription, answer: SessionDescription) -> str | None:
    """Why `answer` cannot answer `offer` under RFC 3264 §6, or None when it can.

    An accepted stream must share a codec with the offer; further codecs are allowed, as §6.1 lets the
    answerer list formats it can receive that were not offered (the offerer just cannot use them yet).
    """
    if len(answer.media) != len(offer.media):
        return f"the answer has {len(answer.media)} m= lines, the offer {len(offer.media)}"
    if [(t.start, t.stop) for t in answer.timings] != [(t.start, t.stop) for t in offer.timings]:
        return "the answer's t= differs from the offer's"
    for index, (offered, answered) in enumerate(zip(offer.media, answer.media, strict=True), start=1):
        reason = _check_stream(offer, offered, answer, answered)
        if reason is not None:
            return f"m= line {index}: {reason}"
    return None


def _check_stream(
    offer: SessionDescription, offered: MediaDescription, answer: SessionDescription, answered: MediaDescription
) -> str | None:
    if answered.media != offered.media:
        return f"media {answered.media} answers offered {offered.media}"
    if answered.port == 0:
        return None
    if offered.port == 0:
        return "accepts a stream offered with port 0"
    if answered.proto != offered.proto:
        return f"transport {answered.proto} answers offered {offered.proto}"
    if answer.connection_for(answered) is None:
        return "no connection address"
    theirs, ours = offer.direction_for(offered), answer.direction_for(answered)
    if (ours.sends and not theirs.receives) or (ours.receives and not theirs.sends):
        return f"{ours.value} answers {theirs.value}"
    if offered.is_rtp:
        offered_codecs = offered.codecs.values()
        if not any(codec.matches(other) for codec in answered.codecs.values() for other in offered_codecs):
            return "no codec in common with the offer"
    elif not set(answered.formats) & set(offered.formats):
        return "no format in common with the offer"
    return None


def _split_lines(data: bytes) -> list[tuple[int, str, str]]:
    """(line number, type letter, value) of each non-blank line."""
    if len(data) > MAX_SIZE:
        raise SdpError(f"session description larger than {MAX_SIZE} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SdpError("session description is not UTF-8") from None
    physical = text.split("\n")
    if physical[-1] == "":
        physical.pop()
    if len(physical) > MAX_LINES:
        raise SdpError(f"session description longer than {MAX_LINES} lines")
    lines: list[tuple[int, str, str]] = []
    for number, line in enumerate(physical, start=1):
        stripped = line.rstrip(" \t\r")
        if not stripped:
            continue
        if _CONTROL.search(stripped):
            raise SdpError(f"line {number}: control character")
        match = _LINE.fullmatch(stripped)
        if match is None:
            raise SdpError(f"line {number}: expected <type>=<value>, got {stripped[:40]!r}")
        lines.append((number, match[1], match[2]))
    return lines


def _group(
    lines: Sequence[tuple[int, str, str]], once: str, many: str
) -> tuple[dict[str, tuple[int, str]], list[tuple[int, str, str]], tuple[tuple[str, str], ...]]:
    """Split a section into its single fields, its repeatable fields in order, and the unknown lines."""
    single: dict[str, tuple[int, str]] = {}
    repeated: list[tuple[int, str, str]] = []
    unknown: list[tuple[str, str]] = []
    for number, kind, value in lines:
        if kind in once:
            if kind in single:
                raise SdpError(f"line {number}: a second {kind}= line")
            single[kind] = (number, value)
        elif kind in many:
            repeated.append((number, kind, value))
        elif kind in _KNOWN:
            raise SdpError(f"line {number}: {kind}= is out of place")
        else:
            unknown.append((kind, value))
    return single, repeated, tuple(unknown)


def _at(parse: Callable[[str], T], number: int, value: str) -> T:
    try:
        return parse(value)
    except SdpError as error:
        raise SdpError(f"line {number}: {error}") from None


def _parse_session(lines: Sequence[tuple[int, str, str]], media: tuple[MediaDescription, ...]) -> SessionDescription:
    single, repeated, unknown = _group(lines, _SESSION_ONCE, _SESSION_MANY)
    for kind in "os":
        if kind not in single:
            raise SdpError(f"missing {kind}= line")
    timings: list[Timing] = []
    for number, kind, value in repeated:
        if kind == "t":
            timings.append(_at(_parse_timing, number, value))
        elif kind == "r":
            if not timings:
                raise SdpError(f"line {number}: r= before any t=")
            timings[-1] = replace(timings[-1], repeats=(*timings[-1].repeats, value))
    if not timings:
        raise SdpError("missing t= line")
    attributes = tuple(_at(_parse_attribute, number, value) for number, kind, value in repeated if kind == "a")
    _direction(attributes)
    connection = _at(_parse_connection, *single["c"]) if "c" in single else None
    for index, section in enumerate(media, start=1):
        if connection is None and not section.connections and section.port != 0:
            raise SdpError(f"media section {index} has no c= line, nor has the session")

    def text(kind: str) -> str | None:
        return single[kind][1] if kind in single else None

    return SessionDescription(
        origin=_at(_parse_origin, *single["o"]),
        name=single["s"][1],
        timings=tuple(timings),
        information=text("i"),
        uri=text("u"),
        emails=tuple(value for _, kind, value in repeated if kind == "e"),
        phones=tuple(value for _, kind, value in repeated if kind == "p"),
        connection=connection,
        bandwidths=tuple(_at(_parse_bandwidth, number, value) for number, kind, value in repeated if kind == "b"),
        zone=text("z"),
        key=text("k"),
        attributes=attributes,
        media=media,
        extra=unknown,
    )


def _parse_media(lines: Sequence[tuple[int, str, str]]) -> MediaDescription:
    head = _at(_parse_media_line, lines[0][0], lines[0][2])
    single, repeated, unknown = _group(lines[1:], _MEDIA_ONCE, _MEDIA_MANY)

    def parsed(kind: str, parse: Callable[[str], T]) -> tuple[T, ...]:
        return tuple(_at(parse, number, value) for number, letter, value in repeated if letter == kind)

    attributes = parsed("a", _parse_attribute)
    _direction(attributes)
    return replace(
        head,
        information=single["i"][1] if "i" in single else None,
        connections=parsed("c", _parse_connection),
        bandwidths=parsed("b", _parse_bandwidth),
        key=single["k"][1] if "k" in single else None,
        attributes=attributes,
        extra=unknown,
    )


def _parse_media_line(value: str) -> MediaDescription:
    parts = _fields(value)
    if len(parts) < 4:
        raise SdpError("m= needs a media type, a port, a transport and a format")
    media, port_text, proto, *formats = parts
    if len(formats) > MAX_FORMATS:
        raise SdpError(f"more than {MAX_FORMATS} formats")
    port_text, slash, count_text = port_text.partition("/")
    port = _number(port_text, "port", 65535)
    count = _number(count_text, "port count", 65535) if slash else None
    if count == 0:
        raise SdpError("a port count is at least 1")
    if _PROTO.fullmatch(proto) is None:
        raise SdpError(f"malformed transport {proto!r}")
    if _is_rtp(proto):
        formats = [str(_number(fmt, "payload type", 127)) for fmt in formats]
    else:
        formats = [_token(fmt, "format") for fmt in formats]
    if len(set(formats)) != len(formats):
        raise SdpError("a format is listed twice")
    return MediaDescription(_token(media, "media type"), port, proto, tuple(formats), port_count=count)


def _parse_origin(value: str) -> Origin:
    parts = _fields(value)
    if len(parts) != 6:
        raise SdpError("o= needs username, sess-id, sess-version, nettype, addrtype and address")
    username, session_id, version, nettype, addrtype, address = parts
    return Origin(
        username,
        _number(session_id, "sess-id"),
        _number(version, "sess-version"),
        _address(address),
        _token(nettype, "nettype"),
        _token(addrtype, "addrtype"),
    )


def _parse_connection(value: str) -> Connection:
    parts = _fields(value)
    if len(parts) != 3:
        raise SdpError("c= needs nettype, addrtype and address")
    nettype, addrtype, address = parts
    return Connection(_address(address), _token(nettype, "nettype"), _token(addrtype, "addrtype"))


def _parse_bandwidth(value: str) -> Bandwidth:
    kind, colon, amount = value.partition(":")
    if not colon:
        raise SdpError("b= needs <type>:<bandwidth>")
    return Bandwidth(_token(kind, "bandwidth type"), _number(amount, "bandwidth"))


def _parse_timing(value: str) -> Timing:
    parts = _fields(value)
    if len(parts) != 2:
        raise SdpError("t= needs a start and a stop time")
    return Timing(_number(parts[0], "start time"), _number(parts[1], "stop time"))


def _parse_attribute(value: str) -> Attribute:
    name, colon, rest = value.partition(":")
    return Attribute(_token(name, "attribute name"), rest if colon else None)


def _parse_rtcp(value: str) -> RtcpAttribute:
    port_text, _, rest = value.strip().partition(" ")
    port = _number(port_text, "RTCP port", 65535)
    return RtcpAttribute(port, _parse_connection(rest) if rest.strip() else None)


def _parse_codec(text: str) -> Codec | None:
    match = _RTPMAP.fullmatch(text.strip())
    if match is None:
        return None
    return Codec(match[1], int(match[2]), int(match[3]) if match[3] else 1)


def _payload_value(value: str) -> tuple[int, str] | None:
    """`101 0-16` (the value of an rtpmap or fmtp) -> (101, "0-16")."""
    pt, _, rest = value.partition(" ")
    if _PAYLOAD_TYPE.fullmatch(pt) is None:
        return None
    return int(pt), rest.strip()


def _direction(attributes: Sequence[Attribute]) -> Direction | None:
    found = {Direction(attribute.name) for attribute in attributes if attribute.name in _DIRECTIONS}
    if len(found) > 1:
        raise SdpError(f"conflicting direction attributes: {', '.join(sorted(d.value for d in found))}")
    return found.pop() if found else None


def _media_lines(media: MediaDescription) -> list[str]:
    port = f"{media.port}/{media.port_count}" if media.port_count is not None else str(media.port)
    lines = [f"m={media.media} {port} {media.proto} {' '.join(media.formats)}"]
    lines += _optional("i", media.information) + [f"c={connection}" for connection in media.connections]
    lines += [f"b={bandwidth}" for bandwidth in media.bandwidths] + _optional("k", media.key)
    lines += [f"{kind}={value}" for kind, value in media.extra]
    return lines + [f"a={attribute}" for attribute in media.attributes]


def _optional(kind: str, value: object | None) -> list[str]:
    return [] if value is None else [f"{kind}={value}"]


def _fields(value: str) -> list[str]:
    """Space-separated subfields; runs of spaces are forgiven."""
    return [part for part in value.split(" ") if part]


def _is_rtp(proto: str) -> bool:
    return "RTP/" in proto.upper()


def _number(text: str, what: str, maximum: int | None = None) -> int:
    if _DIGITS.fullmatch(text) is None:
        raise SdpError(f"{what} {text[:20]!r} is not a number")
    number = int(text)
    if maximum is not None and number > maximum:
        raise SdpError(f"{what} {number} is above {maximum}")
    return number


def _token(text: str, what: str) -> str:
    if _TOKEN.fullmatch(text) is None:
        raise SdpError(f"malformed {what} {text[:20]!r}")
    return text


def _address(text: str) -> str:
    if _ADDRESS.fullmatch(text) is None:
        raise SdpError(f"malformed address {text[:40]!r}")
    return text
