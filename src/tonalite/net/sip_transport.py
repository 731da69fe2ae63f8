"""The asyncio edge of SIP: UDP, TCP and TLS sockets feeding one sans-IO SipEndpoint (RFC 3261 §18).

Everything here is plumbing: bytes in -> endpoint.receive; endpoint.outgoing -> sockets; one loop timer
for the endpoint's next deadline; events handed to the application.

Connections (TCP, TLS):
- Responses and in-dialog requests go back over the connection a phone's request came on (its Peer names
  it). A message for an address with no Peer connection goes over an open connection to that address (the
  one a phone registered on, found by its source address), else over a new one this node opens (TLS with
  `tls_client_context`, which verifies the far end). Messages queued while that connection is being made
  go out in order, on that one connection.
- A message tied to a connection that has closed (a response, most often) goes over another open
  connection from the same address if there is one, else it is dropped: it is not sent over a new
  connection to the phone's source port, which is the far end of a connection it made, where nothing
  listens. The endpoint is told a connection closed: it fails the transactions that were on it.
- Host names (a trunk's): a TCP or TLS connection resolves its own. Over UDP the name is resolved
  (getaddrinfo, in the UDP socket's address family) before the first datagram goes, the messages sent
  meanwhile wait in order, and the address is kept RESOLVED_NAME_S (60 s). A name that does not resolve
  fails the transactions waiting on it at once, as a peer no connection reaches does. (RFC 3263's NAPTR and
  SRV records are not looked up: a trunk names its host and port.)
- CRLF CRLF keep-alives get a CRLF (RFC 5626 §4.4.1); over UDP they are ignored.
- Idle connections: a connection that has not carried a successful REGISTER (a 2xx sent back on it) is
  closed after `idle_timeout` seconds without a byte either way. One a phone registered on is the phone's
  flow: it stays open until the phone (or an error) closes it; the phone keeps it alive with CRLF pings
  and re-registers on it. Only an authenticated REGISTER pins a connection, so anonymous connections that
  never send anything, or send junk, stay bounded.
- Slow messages: once the first byte of a message has come, the whole message must come within
  `message_timeout` seconds (MESSAGE_TIMEOUT_S, 20 s: a message is at most 64 KiB, which takes a phone well
  under a second, a few on a link that loses segments; Kamailio's tcp_msg_read_timeout is the same limit),
  or the connection is closed. CRLF keep-alives between messages do not start that clock. It holds for registered
  connections too: a client trickling bytes into a message it never ends (a slow loris) keeps neither the
  connection nor its buffer. A TLS handshake gets the same time.
- Connection limits: a connection accepted when `max_connections_per_source` are already open from its
  source (an IPv4 address, or an IPv6 address's /64) or `max_connections` are open in all is closed at
  once, before it is read; the connections already open are left alone. One log line per source and per
  minute (REFUSAL_REPORT_S) says so, with the number refused since the last. Connections this node opens
  are never refused and do not count against their far end's address; they count in the total. Defaults:
  256 per source (MAX_CONNECTIONS_PER_SOURCE: the phones of an office behind one NAT address share it, so
  a site with more phones on TCP or TLS needs more) and 10,000 in all (MAX_CONNECTIONS), never more than
  half the process's file descriptor limit (the other half is for RTP sockets, the database and files).
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import logging
import re
import resource
import socket
import ssl
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import cast

from tonalite.clock import Clock
from tonalite.config import ListenAddress
from tonalite.sip.endpoint import Event, Peer, SipEndpoint
from tonalite.sip.parser import StreamFramer
from tonalite.sip.transport import Transport

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
RESOLVED_NAME_S = 60.0
RESOLVED_NAMES_KEPT = 1024
IDLE_CONNECTION_S = 300.0
MESSAGE_TIMEOUT_S = 20.0
MAX_CONNECTIONS_PER_SOURCE = 256
MAX_CONNECTIONS = 10_000
REFUSAL_REPORT_S = 60.0
REFUSAL_REPORTS_KEPT = 1024
UDP_BUFFER_BYTES = 8 * 1024 * 1024
_FORCED_BUFFER_OPTIONS = (  # SO_RCVBUFFORCE and SO_SNDBUFFORCE, which Python does not name
    {socket.SO_RCVBUF: 33, socket.SO_SNDBUF: 32} if sys.platform == "linux" else {}
)
UDP_KEEPALIVES = (b"\r\n", b"\r\n\r\n")
_REGISTER_OK = re.compile(rb"\r\nCSeq[ \t]*:[ \t]*[0-9]+[ \t]+REGISTER[ \t]*\r\n", re.IGNORECASE)

Address = tuple[Transport, str, int]
ALL_SOURCES = "*"  # the refusal reports of the total limit


def source_of(host: str) -> str:
    """What the per-source limit counts by: an IPv4 address (also when IPv4-mapped), or an IPv6 address's /64,
    the network of one site (a host can take any address in it)."""
    if ":" not in host:
        return host
    try:
        address = ipaddress.IPv6Address(host)
    except ValueError:
        return host
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, edge: SipTransport) -> None:
        self._edge = edge
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # uvloop's does not subclass asyncio's

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        host, port = str(addr[0]), int(addr[1])
        if data in UDP_KEEPALIVES:  # RFC 5626 §4.4.1 keep-alive over UDP: nothing to do
            return
        self._edge.received(data, Peer(Transport.UDP, host, port), framed=False)

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error: %s", exc)


class _Stream(asyncio.Protocol):
    """One TCP or TLS connection, cut into messages by Content-Length; `inbound` when a phone opened it."""

    def __init__(self, edge: SipTransport, transport_kind: Transport, inbound: bool) -> None:
        self._edge = edge
        self._kind = transport_kind
        self.inbound = inbound
        self._framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer: Peer | None = None
        self.registered = False
        self._last_activity = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None
        self._message_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peername = transport.get_extra_info("peername")
        if peername is None:  # reset before we saw it (uvloop then has no peer address): nothing to serve
            transport.close()
            return
        address = (self._kind, str(peername[0]), int(peername[1]))
        connection_id = self._edge.new_connection(self, address)
        if connection_id is None:  # over a limit: refused
            self.transport.abort()
            return
        self.peer = Peer(*address, connection_id)
        self._touch()
        self._arm_idle_timer()

    def data_received(self, data: bytes) -> None:
        if self.peer is None or self.transport is None or self.transport.is_closing():
            return
        self._touch()
        messages = self._framer.feed(data)
        if self._framer.in_message:
            if messages or self._message_timer is None:  # a message began in this data: its clock starts
                self._start_message_clock()
        elif self._message_timer is not None:
            self._message_timer.cancel()
            self._message_timer = None
        for _ in range(self._framer.pings):
            self.write(b"\r\n")
        self._framer.pings = 0
        for message in messages:
            self._edge.received(message, self.peer, framed=True)
        if self._framer.error is not None:
            log.info("closing %s: %s", self.peer, self._framer.error)
            self.transport.close()

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self._touch()
        if (
            not self.registered
            and data.startswith(b"SIP/2.0 2")
            and _REGISTER_OK.search(data, 0, data.find(b"\r\n\r\n"))
        ):
            self.registered = True
            self._cancel_idle_timer()
        self.transport.write(data)

    @property
    def open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_idle_timer()
        if self._message_timer is not None:
            self._message_timer.cancel()
            self._message_timer = None
        if self.peer is not None:
            self._edge.connection_closed(self.peer)

    # Slow messages: a timer from the first byte of a message, only while one is incomplete.

    def _start_message_clock(self) -> None:
        if self._message_timer is not None:
            self._message_timer.cancel()
        loop = asyncio.get_running_loop()
        self._message_timer = loop.call_later(self._edge.message_timeout, self._on_message_timer)

    def _on_message_timer(self) -> None:
        self._message_timer = None
        if self.transport is not None and self.open:
            log.info(
                "closing %s: a message still incomplete %s s after it began", self.peer, self._edge.message_timeout
            )
            self.transport.abort()  # not close(): it would wait for a peer that does not read to drain its data

    # Idle connections: one timer per connection, pushed back lazily when it fires too early.

    def _touch(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()

    def _arm_idle_timer(self) -> None:
        loop = asyncio.get_running_loop()
        self._idle_timer = loop.call_at(self._last_activity + self._edge.idle_timeout, self._on_idle_timer)

    def _cancel_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _on_idle_timer(self) -> None:
        self._idle_timer = None
        if self.registered or not self.open:
            return
        if asyncio.get_running_loop().time() - self._last_activity >= self._edge.idle_timeout:
            log.info("closing %s: idle for %s s", self.peer, self._edge.idle_timeout)
            self.close()
        else:
            self._arm_idle_timer()


@dataclass
class SipTransport:
    """Owns the sockets of one node and drives its endpoint; `on_event` is the application.

    `tls_context` is the server side of the TLS listeners; `tls_client_context` is used for the TLS
    connections this node opens (none can be opened without it). The timeouts (seconds) and limits are
    described in the module's docstring.
    """

    endpoint: SipEndpoint
    clock: Clock
    on_event: Callable[[Event], None]
    tls_context: ssl.SSLContext | None = None
    tls_client_context: ssl.SSLContext | None = None
    idle_timeout: float = IDLE_CONNECTION_S
    message_timeout: float = MESSAGE_TIMEOUT_S
    max_connections_per_source: int = MAX_CONNECTIONS_PER_SOURCE
    max_connections: int = MAX_CONNECTIONS
    udp_buffer_bytes: int = UDP_BUFFER_BYTES
    _udp: dict[tuple[str, int], _Datagrams] = field(default_factory=dict)
    _servers: list[tuple[Transport, asyncio.Server]] = field(default_factory=list)
    _connections: dict[int, _Stream] = field(default_factory=dict)
    _by_address: dict[Address, int] = field(default_factory=dict)
    _connection_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _timer: asyncio.Handle | None = None
    _timer_deadline: float | None = None
    _connecting: dict[Address, list[bytes]] = field(default_factory=dict)
    _resolving: dict[tuple[str, int], list[bytes]] = field(default_factory=dict)  # UDP datagrams awaiting a name
    _resolved: dict[str, tuple[str, float]] = field(default_factory=dict)  # name -> (address, until: loop time)
    _pending: set[asyncio.Task[None]] = field(default_factory=set)  # connections being opened, names resolved
    _sources: dict[int, str] = field(default_factory=dict)  # accepted connection -> its source
    _per_source: dict[str, int] = field(default_factory=dict)  # source -> accepted connections open
    _refusals: dict[str, tuple[float, int]] = field(default_factory=dict)  # source -> (last report, refused since)
    _connection_limit: int = field(default=0, init=False)  # max_connections, or less (file descriptors)

    def __post_init__(self) -> None:
        self._connection_limit = self.max_connections
        descriptors, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if descriptors != resource.RLIM_INFINITY and descriptors // 2 < self.max_connections:
            self._connection_limit = descriptors // 2
            log.info(
                "at most %d SIP connections, half the file descriptor limit (%d); raise it (ulimit -n) for more",
                self._connection_limit,
                descriptors,
            )

    async def start(self, addresses: list[ListenAddress]) -> None:
        loop = asyncio.get_running_loop()
        for address in addresses:
            if address.transport == Transport.UDP:
                _, protocol = await loop.create_datagram_endpoint(
                    lambda: _Datagrams(self), local_addr=(address.host, address.port)
                )
                self._udp[(address.host, address.port)] = protocol
                if protocol.transport is not None:
                    _size_buffers(protocol.transport.get_extra_info("socket"), self.udp_buffer_bytes, address)
            else:
                tls = address.transport == Transport.TLS
                if tls and self.tls_context is None:
                    raise ValueError(f"{address}: TLS needs a certificate (TONALITE_TLS_CERTIFICATE)")
                server = await loop.create_server(
                    lambda kind=address.transport: _Stream(self, kind, inbound=True),
                    address.host,
                    address.port,
                    ssl=self.tls_context if tls else None,
                    ssl_handshake_timeout=self.message_timeout if tls else None,
                )
                self._servers.append((address.transport, server))

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for task in list(self._pending):
            task.cancel()
        for protocol in self._udp.values():
            if protocol.transport is not None:
                protocol.transport.close()
        for connection in list(self._connections.values()):
            connection.close()
        for _, server in self._servers:
            server.close()
            await server.wait_closed()

    def bound_port(self, transport: Transport) -> int:
        """The port a listener of that transport got (useful when asked for port 0)."""
        if transport == Transport.UDP:
            protocol = next(iter(self._udp.values()))
            assert protocol.transport is not None
            return int(protocol.transport.get_extra_info("sockname")[1])
        for kind, server in self._servers:
            if kind == transport:
                return int(server.sockets[0].getsockname()[1])
        raise LookupError(transport)

    # From the protocols.

    def received(self, data: bytes, peer: Peer, framed: bool) -> None:
        self.endpoint.receive(data, peer, self.clock.now(), framed=framed)
        self.pump()

    def new_connection(self, stream: _Stream, address: Address) -> int | None:
        """The id of a connection just made, or None when it is one accepted over a limit."""
        source = source_of(address[1]) if stream.inbound else None
        if source is not None:
            if len(self._connections) >= self._connection_limit:
                self._refused(ALL_SOURCES, address, f"{len(self._connections)} connections open, the limit")
                return None
            open_from_source = self._per_source.get(source, 0)
            if open_from_source >= self.max_connections_per_source:
                self._refused(source, address, f"{open_from_source} connections open from {source}, the limit")
                return None
            self._per_source[source] = open_from_source + 1
        connection_id = next(self._connection_ids)
        if source is not None:
            self._sources[connection_id] = source
        self._connections[connection_id] = stream
        self._by_address[address] = connection_id
        return connection_id

    def _refused(self, key: str, address: Address, reason: str) -> None:
        """Log a refused connection, once a minute per `key` (a source, or ALL_SOURCES)."""
        now = asyncio.get_running_loop().time()
        last = self._refusals.get(key)
        if last is not None and now - last[0] < REFUSAL_REPORT_S:
            self._refusals[key] = (last[0], last[1] + 1)
            return
        since = f" ({last[1]} more refused since the last report)" if last is not None and last[1] else ""
        kind, host, port = address
        log.info("refusing a %s connection from %s:%s: %s%s", kind.value, host, port, reason, since)
        if len(self._refusals) >= REFUSAL_REPORTS_KEPT:
            for stale in [old for old, (at, _) in self._refusals.items() if now - at >= REFUSAL_REPORT_S]:
                del self._refusals[stale]
        self._refusals[key] = (now, 0)

    def connection_closed(self, peer: Peer) -> None:
        if peer.connection is not None:
            self._connections.pop(peer.connection, None)
            source = self._sources.pop(peer.connection, None)
            if source is not None:
                remaining = self._per_source.pop(source) - 1
                if remaining:
                    self._per_source[source] = remaining
            address = (peer.transport, peer.host, peer.port)
            if self._by_address.get(address) == peer.connection:
                del self._by_address[address]
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
        for data, peer in self.endpoint.outgoing(self.clock.now()):
            self._send(data, peer)
        self._schedule()

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_deadline = None
        self.endpoint.handle_timer(self.clock.now())
        self.pump()

    def _schedule(self) -> None:
        """One loop timer, for the endpoint's earliest deadline; left alone while that deadline stands."""
        deadline = self.endpoint.next_deadline()
        if deadline == self._timer_deadline:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_deadline = deadline
        if deadline is not None:
            self._timer = asyncio.get_running_loop().call_at(self._loop_time(deadline), self._on_timer)

    def _loop_time(self, deadline: float) -> float:
        loop = asyncio.get_running_loop()
        return loop.time() + max(0.0, deadline - self.clock.now())

    def _send(self, data: bytes, peer: Peer) -> None:
        if peer.transport == Transport.UDP:
            self._send_datagram(data, peer.host, peer.port)
            return
        address = (peer.transport, peer.host, peer.port)
        if peer.connection is not None:  # an answer, or a request in a dialog, on the connection it belongs to
            stream = self._open_connection(peer.connection) or self._open_connection(self._by_address.get(address))
            if stream is None:
                log.info("dropping a message for %s: its connection is closed", peer)
            else:
                stream.write(data)
            return
        queued = self._connecting.get(address)
        if queued is not None:
            queued.append(data)
            return
        stream = self._open_connection(self._by_address.get(address))
        if stream is not None:
            stream.write(data)
            return
        self._connecting[address] = [data]
        self._in_background(self._connect_and_send(address))

    def _send_datagram(self, data: bytes, host: str, port: int) -> None:
        protocol = next(iter(self._udp.values()), None)
        if protocol is None or protocol.transport is None:
            return
        if ":" in host or host.replace(".", "").isdigit():  # an address: a host name has a letter (RFC 1123)
            protocol.transport.sendto(data, (host, port))
            return
        loop = asyncio.get_running_loop()
        resolved = self._resolved.get(host)
        if resolved is not None and resolved[1] > loop.time():
            protocol.transport.sendto(data, (resolved[0], port))
            return
        queued = self._resolving.get((host, port))
        if queued is not None:
            queued.append(data)
            return
        self._resolving[(host, port)] = [data]
        self._in_background(self._resolve_and_send(host, port, protocol.transport))

    async def _resolve_and_send(self, host: str, port: int, transport: asyncio.DatagramTransport) -> None:
        loop = asyncio.get_running_loop()
        family = transport.get_extra_info("socket").family
        try:
            found = await asyncio.wait_for(
                loop.getaddrinfo(host, port, family=family, type=socket.SOCK_DGRAM), CONNECT_TIMEOUT_S
            )
            if not found:
                raise OSError("no address")
        except (OSError, TimeoutError) as error:
            self._unreachable(Peer(Transport.UDP, host, port), self._resolving.pop((host, port), []), error)
            return
        address = str(found[0][4][0])
        now = loop.time()
        if len(self._resolved) >= RESOLVED_NAMES_KEPT:
            self._resolved = {name: kept for name, kept in self._resolved.items() if kept[1] > now}
        self._resolved[host] = (address, now + RESOLVED_NAME_S)
        for data in self._resolving.pop((host, port), []):
            transport.sendto(data, (address, port))

    def _open_connection(self, connection_id: int | None) -> _Stream | None:
        stream = self._connections.get(connection_id) if connection_id is not None else None
        return stream if stream is not None and stream.open else None

    async def _connect_and_send(self, address: Address) -> None:
        kind, host, port = address
        loop = asyncio.get_running_loop()
        try:
            if kind == Transport.TLS and self.tls_client_context is None:
                raise OSError("no TLS client context")
            _, stream = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _Stream(self, kind, inbound=False),
                    host,
                    port,
                    ssl=self.tls_client_context if kind == Transport.TLS else None,
                ),
                CONNECT_TIMEOUT_S,
            )
        except (OSError, TimeoutError) as error:
            self._unreachable(Peer(kind, host, port), self._connecting.pop(address, []), error)
            return
        for data in self._connecting.pop(address, []):
            stream.write(data)

    def _unreachable(self, peer: Peer, dropped: list[bytes], error: Exception) -> None:
        """No connection could be opened to `peer`, or its name did not resolve: the messages waiting for it
        are dropped and the transactions that sent them fail at once."""
        reason = str(error) or type(error).__name__
        log.info(
            "cannot reach %s:%s over %s (%d messages dropped): %s",
            peer.host,
            peer.port,
            peer.transport.value,
            len(dropped),
            reason,
        )
        self.endpoint.peer_unreachable(peer, self.clock.now())
        self.pump()

    def _in_background(self, work: Coroutine[None, None, None]) -> None:
        """Run `work` on the loop, kept until done so that `stop` can cancel it."""
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


def _size_buffers(sock: socket.socket, size: int, address: ListenAddress) -> None:
    """Ask for `size` bytes of receive and send buffer on a UDP socket, beyond the system's maximum where the
    process may (Linux, CAP_NET_ADMIN), and log what the kernel gave: a datagram that finds the receive buffer
    full is dropped, and the phone has to retransmit it (500 ms later at best)."""
    for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, _FORCED_BUFFER_OPTIONS.get(option, option), size)
        except PermissionError:
            sock.setsockopt(socket.SOL_SOCKET, option, size)
    received, sent = (sock.getsockopt(socket.SOL_SOCKET, option) for option in (socket.SO_RCVBUF, socket.SO_SNDBUF))
    # Linux reports twice what was set (the other half is its bookkeeping).
    shown = (address, received // 1024, sent // 1024)
    if min(received, sent) >= size:
        log.info("UDP %s: buffers of %d KiB received, %d KiB sent", *shown)
    else:
        log.warning(
            "UDP %s: buffers of %d KiB received, %d KiB sent, less than the %d KiB asked: raise net.core.rmem_max "
            "and wmem_max, or give the process CAP_NET_ADMIN",
            *shown,
            size // 1024,
        )
