"""The RTP ports of the node, from TONALITE_RTP_PORTS: an even port for RTP and the next odd one for RTCP
(RFC 3550 §11), both bound before the pair is handed out.

Ports are handed out least recently used first: a released pair goes to the back of the line, so that the
late packets of a call that just ended do not reach the next one, as long as the range holds more pairs than
there are calls at once. A port that another program holds, or whose released transport has not closed yet
(closing completes on the loop's next turn), is skipped and tried again later.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

RtpProtocol = TypeVar("RtpProtocol", bound=asyncio.DatagramProtocol)
RtcpProtocol = TypeVar("RtcpProtocol", bound=asyncio.DatagramProtocol)


class NoRtpPort(RuntimeError):
    """Every pair of the range is in use (or held by other programs)."""


@dataclass(slots=True)
class RtpSockets(Generic[RtpProtocol, RtcpProtocol]):
    """An RTP port and its RTCP port, bound; `RtpPortPool.release` closes them and returns the pair."""

    port: int
    rtp: asyncio.DatagramTransport
    rtp_protocol: RtpProtocol
    rtcp: asyncio.DatagramTransport
    rtcp_protocol: RtcpProtocol


class RtpPortPool:
    def __init__(self, low: int, high: int) -> None:
        first = low + low % 2
        self._free: deque[int] = deque(range(first, high, 2))
        if not self._free:
            raise ValueError(f"no even port with its odd neighbour in {low}-{high}")
        self._in_use: set[int] = set()

    @property
    def free_pairs(self) -> int:
        return len(self._free)

    @property
    def pairs_in_use(self) -> int:
        return len(self._in_use)

    async def open(
        self, host: str, rtp: Callable[[], RtpProtocol], rtcp: Callable[[], RtcpProtocol]
    ) -> RtpSockets[RtpProtocol, RtcpProtocol]:
        """Bind the least recently used free pair on `host`; NoRtpPort when none can be bound."""
        loop = asyncio.get_running_loop()
        for _ in range(len(self._free)):
            port = self._free.popleft()
            try:
                rtp_transport, rtp_protocol = await loop.create_datagram_endpoint(rtp, local_addr=(host, port))
            except OSError:
                self._free.append(port)
                continue
            try:
                rtcp_transport, rtcp_protocol = await loop.create_datagram_endpoint(rtcp, local_addr=(host, port + 1))
            except OSError:
                rtp_transport.close()
                self._free.append(port)
                continue
            self._in_use.add(port)
            return RtpSockets(port, rtp_transport, rtp_protocol, rtcp_transport, rtcp_protocol)
        raise NoRtpPort(f"no RTP port pair free on {host} ({len(self._in_use)} in use)")

    def release(self, sockets: RtpSockets[RtpProtocol, RtcpProtocol]) -> None:
        """Close the pair's sockets and put it at the back of the line; releasing twice does nothing."""
        sockets.rtp.close()
        sockets.rtcp.close()
        if sockets.port in self._in_use:
            self._in_use.discard(sockets.port)
            self._free.append(sockets.port)
