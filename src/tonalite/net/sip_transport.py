"""The asyncio edge of SIP: UDP, TCP and TLS sockets feeding one sans-IO SipEndpoint (RFC 3261 §18).

Everything here is plumbing: bytes in -> endpoint.receive; endpoint.outgoing -> sockets; one loop timer
for the endpoint's next deadline; events handed to the application. Responses and in-dialog requests go
back over the connection a phone's request came on (its Peer names it); a message for a TCP/TLS peer
with no open connection opens one.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from tonalite.clock import Clock
from tonalite.config import ListenAddress, Transport
from tonalite.sip.endpoint import Event, Peer, SipEndpoint
from tonalite.sip.parser import ParseError, StreamFramer

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
IDLE_CONNECTION_S = 3600.0


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, edge: SipTransport) -> None:
        self._edge = edge
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # uvloop's does not subclass asyncio's

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        host, port = str(addr[0]), int(addr[1])
        if data in (b"\r\n", b"\r\n\r\n"):  # RFC 5626 §4.4.1 keep-alive over UDP: nothing to do
            return
        self._edge.received(data, Peer(Transport.UDP, host, port), framed=False)

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error: %s", exc)


class _Stream(asyncio.Protocol):
    """One TCP or TLS connection, cut into messages by Content-Length."""

    def __init__(self, edge: SipTransport, transport_kind: Transport) -> None:
        self._edge = edge
        self._kind = transport_kind
        self._framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer: Peer | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        host, port = transport.get_extra_info("peername")[:2]
        self.peer = Peer(self._kind, str(host), int(port), self._edge.new_connection(self))

    def data_received(self, data: bytes) -> None:
        assert self.peer is not None and self.transport is not None
        try:
            messages = self._framer.feed(data)
        except ParseError as error:
            log.info("closing %s: %s", self.peer, error)
            self.transport.close()
            return
        for _ in range(self._framer.pings):
            self.transport.write(b"\r\n")
        self._framer.pings = 0
        for message in messages:
            self._edge.received(message, self.peer, framed=True)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None:
            self._edge.connection_closed(self.peer)


@dataclass
class SipTransport:
    """Owns the sockets of one node and drives its endpoint; `on_event` is the application."""

    endpoint: SipEndpoint
    clock: Clock
    on_event: Callable[[Event], None]
    tls_context: ssl.SSLContext | None = None
    _udp: dict[tuple[str, int], _Datagrams] = field(default_factory=dict)
    _servers: list[asyncio.Server] = field(default_factory=list)
    _connections: dict[int, _Stream] = field(default_factory=dict)
    _connection_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _timer: asyncio.TimerHandle | None = None
    _pending_connects: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self, addresses: list[ListenAddress]) -> None:
        loop = asyncio.get_running_loop()
        for address in addresses:
            if address.transport == Transport.UDP:
                _, protocol = await loop.create_datagram_endpoint(
                    lambda: _Datagrams(self), local_addr=(address.host, address.port)
                )
                self._udp[(address.host, address.port)] = protocol
            else:
                tls = address.transport == Transport.TLS
                if tls and self.tls_context is None:
                    raise ValueError(f"{address}: TLS needs a certificate (TONALITE_TLS_CERTIFICATE)")
                server = await loop.create_server(
                    lambda kind=address.transport: _Stream(self, kind),
                    address.host,
                    address.port,
                    ssl=self.tls_context if tls else None,
                )
                self._servers.append(server)

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for protocol in self._udp.values():
            if protocol.transport is not None:
                protocol.transport.close()
        for connection in list(self._connections.values()):
            if connection.transport is not None:
                connection.transport.close()
        for server in self._servers:
            server.close()
            await server.wait_closed()

    def bound_port(self, transport: Transport) -> int:
        """The port a listener of that transport got (useful when asked for port 0)."""
        if transport == Transport.UDP:
            protocol = next(iter(self._udp.values()))
            assert protocol.transport is not None
            return int(protocol.transport.get_extra_info("sockname")[1])
        for server in self._servers:
            return int(server.sockets[0].getsockname()[1])
        raise LookupError(transport)

    # From the protocols.

    def received(self, data: bytes, peer: Peer, framed: bool) -> None:
        self.endpoint.receive(data, peer, self.clock.now(), framed=framed)
        self.pump()

    def new_connection(self, stream: _Stream) -> int:
        connection_id = next(self._connection_ids)
        self._connections[connection_id] = stream
        return connection_id

    def connection_closed(self, peer: Peer) -> None:
        if peer.connection is not None:
            self._connections.pop(peer.connection, None)
            self.endpoint.transport_failed(peer.connection, self.clock.now())
            self.pump()

    # The loop.

    def pump(self) -> None:
        """Hand events to the application and send what the endpoint produced, until both are empty."""
        while True:
            event = self.endpoint.next_event()
            if event is None:
                break
            try:
                self.on_event(event)
            except Exception:
                log.exception("the SIP application failed on %s", type(event).__name__)
        for data, peer in self.endpoint.outgoing():
            self._send(data, peer)
        self._schedule()

    def _on_timer(self) -> None:
        self._timer = None
        self.endpoint.handle_timer(self.clock.now())
        self.pump()

    def _schedule(self) -> None:
        deadline = self.endpoint.next_deadline()
        if self._timer is not None:
            if deadline is not None and abs(self._timer.when() - self._loop_time(deadline)) < 1e-4:
                return
            self._timer.cancel()
            self._timer = None
        if deadline is not None:
            self._timer = asyncio.get_running_loop().call_at(self._loop_time(deadline), self._on_timer)

    def _loop_time(self, deadline: float) -> float:
        loop = asyncio.get_running_loop()
        return loop.time() + max(0.0, deadline - self.clock.now())

    def _send(self, data: bytes, peer: Peer) -> None:
        if peer.transport == Transport.UDP:
            protocol = next(iter(self._udp.values()), None)
            if protocol is not None and protocol.transport is not None:
                protocol.transport.sendto(data, (peer.host, peer.port))
            return
        stream = self._connections.get(peer.connection) if peer.connection is not None else None
        if stream is None:
            stream = self._find_connection(peer)
        if stream is not None and stream.transport is not None and not stream.transport.is_closing():
            stream.transport.write(data)
            return
        task = asyncio.get_running_loop().create_task(self._connect_and_send(data, peer))
        self._pending_connects.add(task)
        task.add_done_callback(self._pending_connects.discard)

    def _find_connection(self, peer: Peer) -> _Stream | None:
        for stream in self._connections.values():
            if stream.peer is not None and (stream.peer.transport, stream.peer.host, stream.peer.port) == (
                peer.transport,
                peer.host,
                peer.port,
            ):
                return stream
        return None

    async def _connect_and_send(self, data: bytes, peer: Peer) -> None:
        loop = asyncio.get_running_loop()
        tls = self.tls_context if peer.transport == Transport.TLS else None
        try:
            transport, _ = await asyncio.wait_for(
                loop.create_connection(lambda: _Stream(self, peer.transport), peer.host, peer.port, ssl=tls),
                CONNECT_TIMEOUT_S,
            )
        except (OSError, TimeoutError) as error:
            log.info("cannot reach %s:%s over %s: %s", peer.host, peer.port, peer.transport.value, error)
            return
        transport.write(data)
