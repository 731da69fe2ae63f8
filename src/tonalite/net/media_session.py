"""One leg's media on this node: a MediaStream on a bound RTP/RTCP port pair, driven by the media tick.

Plumbing only: every datagram of the RTP port goes to `stream.receive`, every datagram of the RTCP port to
`stream.receive_rtcp`; at each tick of the pacer the stream ticks and the datagram it returns is sent from
the RTP port (so a phone behind NAT sees our packets come from the port its own go to), and every
`rtcp_interval` ticks (5 s) an RTCP report goes from the RTCP port to the remote's RTP port + 1.

Key presses go to whoever listens: after each tick, the ones the stream received are handed to `listener`
(its `key_pressed`), and `close` tells it `media_closed`, once, after draining the stream's jitter buffer
into its sink (a recording then ends with the last frames received). A MediaPort sets itself there; with no
listener they are dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from tonalite.clock import Clock
from tonalite.media.dtmf import DtmfEvent
from tonalite.media.stream import Address, MediaStream
from tonalite.net.pacer import Pacer
from tonalite.net.rtp_ports import RtpPortPool, RtpSockets

log = logging.getLogger(__name__)

RTCP_INTERVAL_TICKS = 250
"""Ticks between two RTCP reports: 5 s, RFC 3550's minimum interval."""


class MediaListener(Protocol):
    """Who hears what happens on a leg's media."""

    def key_pressed(self, event: DtmfEvent) -> None: ...

    def media_closed(self) -> None: ...


class _Port(asyncio.DatagramProtocol):
    """The RTP or the RTCP port: each datagram goes to `received(data, source, now)`."""

    def __init__(self, received: Callable[[bytes, Address, float], None], clock: Clock, name: str) -> None:
        self._received = received
        self._clock = clock
        self._name = name

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._received(data, (str(addr[0]), int(addr[1])), self._clock.now())

    def error_received(self, exc: Exception) -> None:
        log.debug("%s port error: %s", self._name, exc)  # most often ICMP port unreachable: the phone has gone


class MediaSession:
    """Built by `open`; `port` is the RTP port for the SDP answer. `close` ends it (more than once is fine)."""

    def __init__(
        self,
        sockets: RtpSockets[_Port, _Port],
        pool: RtpPortPool,
        pacer: Pacer,
        clock: Clock,
        stream: MediaStream,
        cname: str,
        rtcp_interval: int = RTCP_INTERVAL_TICKS,
    ) -> None:
        if rtcp_interval <= 0:
            raise ValueError("the RTCP interval must be at least one tick")
        self._sockets = sockets
        self._pool = pool
        self._pacer = pacer
        self._clock = clock
        self._stream = stream
        self._cname = cname
        self._rtcp_interval = rtcp_interval
        self._ticks = 0
        self._closed = False
        self.listener: MediaListener | None = None
        self._tick_id = pacer.add(self._tick)

    @classmethod
    async def open(
        cls,
        pool: RtpPortPool,
        host: str,
        pacer: Pacer,
        clock: Clock,
        stream: MediaStream,
        *,
        rtcp_interval: int = RTCP_INTERVAL_TICKS,
    ) -> MediaSession:
        """Bind a port pair of `pool` on `host` for `stream` and start ticking it; NoRtpPort when none is free."""
        sockets = await pool.open(
            host,
            lambda: _Port(stream.receive, clock, "RTP"),
            lambda: _Port(lambda data, _source, now: stream.receive_rtcp(data, now), clock, "RTCP"),
        )
        return cls(sockets, pool, pacer, clock, stream, f"tonalite@{host}", rtcp_interval)

    @property
    def port(self) -> int:
        return self._sockets.port

    @property
    def stream(self) -> MediaStream:
        return self._stream

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop ticking, give the ports back to the pool, drain the stream, tell the listener. Never raises
        from the stream's sink: the call's end must go on whatever its recording does."""
        if self._closed:
            return
        self._closed = True
        self._pacer.remove(self._tick_id)
        self._pool.release(self._sockets)
        try:
            self._stream.drain()
        except Exception:
            log.exception("a media stream failed to drain")
        if self.listener is not None:
            self.listener.media_closed()

    def _tick(self) -> None:
        """An exception (a failing audio source, a listener's) goes to the pacer, which logs it; the key presses
        received are handed over whatever happened."""
        now = self._clock.now()
        self._ticks += 1
        try:
            outgoing = self._stream.tick(now, self._pacer.frames)
            if outgoing is not None:
                self._sockets.rtp.sendto(*outgoing)
            if self._ticks % self._rtcp_interval == 0:
                self._send_report(now)
        finally:
            self._hand_over_key_presses()

    def _send_report(self, now: float) -> None:
        remote = self._stream.remote
        if remote is None:
            return
        report = self._stream.rtcp_report(now, self._cname, self._clock.wall().timestamp())
        host, port = remote
        self._sockets.rtcp.sendto(report, (host, port + 1))

    def _hand_over_key_presses(self) -> None:
        events = self._stream.events()
        listener = self.listener
        if listener is None:
            return
        for event in events:
            listener.key_pressed(event)


class MediaSessions:
    """Opens the node's media sessions: one port pool and one pacer for all, the pacer made on the loop at the
    first call (the composition root runs before the loop does in tests and tools)."""

    def __init__(self, pool: RtpPortPool, clock: Clock) -> None:
        self._pool = pool
        self._clock = clock
        self._pacer: Pacer | None = None

    async def open(self, stream: MediaStream, host: str) -> MediaSession:
        if self._pacer is None:
            self._pacer = Pacer(asyncio.get_running_loop())
        return await MediaSession.open(self._pool, host, self._pacer, self._clock, stream)
