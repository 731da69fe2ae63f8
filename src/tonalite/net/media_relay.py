"""The RTP relay of an anchored call: each leg's phone sends to a port pair of ours, and what comes in on one
leg's RTP (RTCP) port goes out of the other leg's RTP (RTCP) port to the other phone, so that each phone sees
one address, ours. Packets go whole, as they came: the SDP passed end to end, so the phones agreed a codec
(no transcoding, no re-timing; SRTP with SDES keys passes too). The RTP ports also carry RTCP when the phones
agreed rtcp-mux.

Each port sends to its phone where an RtpLatch says (media/latching.py): the address the phone's SDP named,
RTCP to its port + 1, until the phone's first packet on that port; then where its packets come from, moved only
by the same SSRC. A datagram that is not RTP (RTCP on an RTCP port) by its header, that comes from a stranger,
or that has nowhere to go yet (the other phone's address is not known) is dropped and counted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from tonalite.calls.media_anchor import Side
from tonalite.media.latching import Address, RtpLatch
from tonalite.media.rtp import rtcp_source, rtp_source
from tonalite.net.rtp_ports import RtpPortPool, RtpSockets

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SideStatistics:
    """Datagrams `received` on a leg's ports, `dropped` of those (not forwarded), and `sent` to its phone."""

    received: int
    sent: int
    dropped: int


@dataclass(frozen=True, slots=True)
class RelayStatistics:
    caller: SideStatistics
    callee: SideStatistics

    def __str__(self) -> str:
        return "; ".join(
            f"{name} {side.received} in, {side.sent} out, {side.dropped} dropped"
            for name, side in (("caller", self.caller), ("callee", self.callee))
        )


class _Counts:
    __slots__ = ("dropped", "received", "sent")

    def __init__(self) -> None:
        self.received = 0
        self.sent = 0
        self.dropped = 0

    def snapshot(self) -> SideStatistics:
        return SideStatistics(self.received, self.sent, self.dropped)


class _RelayPort(asyncio.DatagramProtocol):
    """One port of a leg: it latches where the leg's phone is, and forwards what that phone sends to `peer`,
    the other leg's port of the same kind, which sends it on to its own phone."""

    __slots__ = ("_counts", "_source_of", "_transport", "latch", "peer")

    def __init__(self, source_of: Callable[[bytes], int | None], counts: _Counts) -> None:
        self._source_of = source_of
        self._counts = counts
        self._transport: asyncio.DatagramTransport | None = None
        self.latch = RtpLatch(None)
        self.peer = self  # until _Leg.facing pairs it with the other leg's

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        counts = self._counts
        counts.received += 1
        ssrc = self._source_of(data)
        source = cast(Address, addr if len(addr) == 2 else addr[:2])  # IPv6 adds flow info and scope id
        latch = self.latch
        if ssrc is None or not latch.admits(source, ssrc):
            counts.dropped += 1
            return
        latch.latch(source, ssrc)
        if not self.peer.send(data):
            counts.dropped += 1

    def send(self, data: bytes) -> bool:
        """Send to this port's phone; False while its address is not known."""
        remote = self.latch.remote
        transport = self._transport
        if remote is None or transport is None:
            return False
        transport.sendto(data, remote)
        self._counts.sent += 1
        return True

    def error_received(self, exc: Exception) -> None:
        log.debug("relay port error: %s", exc)  # most often ICMP port unreachable: the phone has gone


class _Leg:
    """A leg's ports, with its phone's counts; `facing` makes two legs forward to each other."""

    __slots__ = ("counts", "rtcp", "rtp")

    def __init__(self) -> None:
        self.counts = _Counts()
        self.rtp = _RelayPort(rtp_source, self.counts)
        self.rtcp = _RelayPort(rtcp_source, self.counts)

    def facing(self, other: _Leg) -> None:
        self.rtp.peer, other.rtp.peer = other.rtp, self.rtp
        self.rtcp.peer, other.rtcp.peer = other.rtcp, self.rtcp


class MediaRelay:
    """The relay of one call, made by `MediaRelays.open`. Until `set_remote` names a leg's phone, packets for
    it wait for that phone's first packet (dropped meanwhile). `close` gives the ports back (more than once is
    fine)."""

    def __init__(
        self, pool: RtpPortPool, legs: dict[Side, _Leg], sockets: dict[Side, RtpSockets[_RelayPort, _RelayPort]]
    ) -> None:
        self._pool = pool
        self._legs = legs
        self._sockets = sockets
        self._closed = False

    def port_for(self, side: Side) -> int:
        """The RTP port `side`'s phone sends to: the port of the SDP passed to it (RTCP: the next one)."""
        return self._sockets[side].port

    def set_remote(self, side: Side, remote: Address | None) -> None:
        """Where `side`'s phone's SDP (offer or answer, a re-INVITE's too) says it receives RTP, as
        calls.media_anchor.relayed_remote reads it; RTCP goes to the next port. See RtpLatch.rename for what a
        new address does to where packets go. An address the relay does not send to is taken as none: a host
        name (looking it up would block the loop; the phone's packets show where it is), an unspecified address
        (a hold), a multicast address, a port out of range."""
        leg = self._legs[side]
        rtp = _sendable(remote)
        leg.rtp.latch.rename(rtp)
        leg.rtcp.latch.rename(None if rtp is None else (rtp[0], rtp[1] + 1))

    @property
    def statistics(self) -> RelayStatistics:
        return RelayStatistics(self._legs[Side.CALLER].counts.snapshot(), self._legs[Side.CALLEE].counts.snapshot())

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for sockets in self._sockets.values():
            self._pool.release(sockets)


def _sendable(remote: Address | None) -> Address | None:
    if remote is None:
        return None
    host, port = remote
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if address.is_unspecified or address.is_multicast or not 0 < port < 65535:
        return None
    return str(address), port


class MediaRelays:
    """Opens the relays of anchored calls on the node's RTP port pool (the media sessions' pool)."""

    def __init__(self, pool: RtpPortPool) -> None:
        self._pool = pool

    async def open(self, caller_host: str, callee_host: str) -> MediaRelay:
        """Bind a port pair for each leg, on the host its phone reaches this node at (the address of the SDP
        passed to it); NoRtpPort when the pool has not two pairs free."""
        legs = {Side.CALLER: _Leg(), Side.CALLEE: _Leg()}
        legs[Side.CALLER].facing(legs[Side.CALLEE])
        sockets: dict[Side, RtpSockets[_RelayPort, _RelayPort]] = {}
        try:
            for side, host in ((Side.CALLER, caller_host), (Side.CALLEE, callee_host)):
                sockets[side] = await self._bind(host, legs[side])
        except BaseException:
            for opened in sockets.values():
                self._pool.release(opened)
            raise
        return MediaRelay(self._pool, legs, sockets)

    async def _bind(self, host: str, leg: _Leg) -> RtpSockets[_RelayPort, _RelayPort]:
        return await self._pool.open(host, lambda: leg.rtp, lambda: leg.rtcp)
