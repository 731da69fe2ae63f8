"""Anchored media for a line-to-line call, sans-IO: whether the call's RTP goes through this node, and the
SDP that makes it do so.

Anchored, each phone gets the other's offer or answer with our address and the relay's port for its leg in
place of the other phone's (`anchored`), and the relay sends to the address the phone's own SDP names
(`relayed_remote`) until the phone's first packet shows where it really is. The relay has one port pair per
leg, so it carries one stream: the first accepted audio stream over RTP. Every other accepted stream (video,
a second audio, T.38 fax over UDPTL) is refused with port 0, so that no media goes around the relay; an
answer accepts at most the stream the offer kept. The relay forwards packets whole, so the phones still agree
codecs, telephone-event, directions, ptime, rtcp-mux and SDES keys (a=crypto) end to end; what names a
transport address goes: a=rtcp (RTCP comes to the relay's RTP port + 1, or with rtcp-mux to its RTP port)
and ICE (candidates would lead the phones around the relay, which answers no STUN). DTLS-SRTP cannot be
relayed (its handshake is not RTP). o= is kept: it identifies the author's session, not where media goes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from enum import Enum, StrEnum
from typing import Protocol

from tonalite.sip.sdp import Attribute, Connection, MediaDescription, SessionDescription

_ICE = frozenset(
    {
        "candidate",
        "remote-candidates",
        "end-of-candidates",
        "ice-ufrag",
        "ice-pwd",
        "ice-lite",
        "ice-options",
        "ice-mismatch",
        "ice-pacing",
    }
)


class Side(Enum):
    """A leg of the anchored call."""

    CALLER = "caller"
    CALLEE = "callee"


class Relay(Protocol):
    """An anchored call's RTP relay (net.media_relay.MediaRelay)."""

    def port_for(self, side: Side) -> int: ...

    def set_remote(self, side: Side, remote: tuple[str, int] | None) -> None: ...

    def close(self) -> None: ...

    @property
    def statistics(self) -> object: ...


OpenRelay = Callable[[str, str], Awaitable[Relay]]
"""Opens a relay with a port pair for each leg: on the host the caller reaches us at, then the callee's."""


class AnchorPolicy(StrEnum):
    """TONALITE_MEDIA_ANCHOR: when a line-to-line call's media goes through this node."""

    AUTO = "auto"
    """When either phone is behind NAT (`behind_nat`)."""
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class PhoneAddresses:
    """Where a leg's phone says it is, and where its SIP comes from.

    `source`: the host its SIP packets come from (the request's peer, or its registration's source host).
    `contact`: the host of its Contact URI. `sdp`: its offer or answer, when there is one yet (a callee's comes
    with its answer, after the call's media had to be decided; its Contact tells then)."""

    source: str
    contact: str | None = None
    sdp: SessionDescription | None = None


def behind_nat(phone: PhoneAddresses) -> bool:
    """Whether the phone's Contact host, or the connection address of one of its accepted streams (media or
    session level), is not the host its SIP packets come from.

    A phone behind NAT writes its private address unless it learned its public one (STUN); a private address
    is no sign in itself, as a phone on the node's own network sends from it too: only a difference counts.
    Not looked at: a stream refused with port 0, whose address means nothing, and an unspecified address
    (0.0.0.0, an RFC 2543 hold), which names no host. Addresses compare by value (2001:DB8::1 is 2001:db8::1,
    a source ::ffff:192.0.2.1 from a dual-stack socket is 192.0.2.1); a host name never equals an address, as
    there is no DNS lookup here: a phone that writes names is anchored, which costs a relay, where not
    anchoring a phone that needs it costs the call its audio. A phone that learned its public address behind
    a NAT that maps its RTP elsewhere still looks direct: TONALITE_MEDIA_ANCHOR=always covers such sites."""
    source = _host_key(phone.source)
    hosts = [] if phone.contact is None else [phone.contact]
    sdp = phone.sdp
    if sdp is not None:
        for media in sdp.media:
            connection = sdp.connection_for(media)
            if media.port != 0 and connection is not None and not _unspecified(connection.address):
                hosts.append(connection.address)
    return any(_host_key(host) != source for host in hosts)


def anchors(policy: AnchorPolicy, caller: PhoneAddresses, callee: PhoneAddresses) -> bool:
    """Whether the call's media goes through this node."""
    if policy is AnchorPolicy.AUTO:
        return behind_nat(caller) or behind_nat(callee)
    return policy is AnchorPolicy.ALWAYS


def relayed_stream(sdp: SessionDescription) -> int | None:
    """The index of the stream the relay carries: the first accepted audio stream over RTP."""
    return next(
        (index for index, media in enumerate(sdp.media) if media.media == "audio" and media.is_rtp and media.port != 0),
        None,
    )


def relayed_remote(sdp: SessionDescription) -> tuple[str, int] | None:
    """Where the author of `sdp` receives the relayed stream, as written (the relay sends to it only when it
    is an IP address that is not unspecified); None when it has no such stream."""
    index = relayed_stream(sdp)
    if index is None:
        return None
    media = sdp.media[index]
    connection = sdp.connection_for(media)
    return None if connection is None else (connection.address, media.port)


def anchored(sdp: SessionDescription, host: str, port: int) -> SessionDescription:
    """A copy of an offer or answer to pass to the other phone: the relayed stream received at `host`:`port`
    (the relay's RTP port for that phone's leg), every other stream refused, ICE dropped.

    A hold written as an unspecified connection address (RFC 2543) stays one: the other phone must still
    see that it is not to send."""
    index = relayed_stream(sdp)
    media = tuple(
        _anchored_stream(sdp, stream, host, port) if position == index else _refused(stream)
        for position, stream in enumerate(sdp.media)
    )
    connection = sdp.connection
    if connection is not None and not _unspecified(connection.address):
        connection = Connection.to(host)
    return replace(sdp, connection=connection, attributes=_without_ice(sdp.attributes), media=media)


def _anchored_stream(sdp: SessionDescription, media: MediaDescription, host: str, port: int) -> MediaDescription:
    written = sdp.connection_for(media)
    address = written.address if written is not None and _unspecified(written.address) else host
    moved = media.with_address(address, port)
    return replace(moved, attributes=_without_ice(moved.attributes))


def _refused(media: MediaDescription) -> MediaDescription:
    """RFC 3264 §6 and §8.2: port 0 refuses a stream in an answer and disables it in an offer; the m= line
    keeps its formats, which are ignored, and nothing else."""
    return MediaDescription(media.media, 0, media.proto, media.formats)


def _without_ice(attributes: tuple[Attribute, ...]) -> tuple[Attribute, ...]:
    return tuple(attribute for attribute in attributes if attribute.name not in _ICE)


def _unspecified(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_unspecified
    except ValueError:
        return False


def _host_key(host: str) -> str:
    """A host as compared: an IP address by value (an IPv4-mapped IPv6 one as IPv4), a name without case."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.lower()
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)
