"""SIP transports (RFC 3261 §18) against `tonalite serve`: UDP, TCP and TLS, rport/received (RFC 3581),
answers on the connection a request came on, CRLF keep-alives (RFC 5626 §4.4.1), OPTIONS; and, with the
transport in this process, idle connections, outbound TLS, and the limits that keep one client from holding
connections: the time a message may take, the connections per source and in all.

The TLS certificate is a self-signed one for 127.0.0.1 and localhost made with the openssl command; the test
phones verify it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import socket
import ssl
import subprocess
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import Site
from tests.peers.sip_client import Phone, StreamPhone, UdpPhone
from tests.peers.tonalite_server import TonaliteServer, copy_database, create_lines, free_port
from tonalite.clock import SystemClock
from tonalite.config import ListenAddress
from tonalite.net.sip_transport import SipTransport, source_of
from tonalite.sip.auth import DigestAlgorithm
from tonalite.sip.endpoint import Event, IncomingRequest, IncomingResponse, Peer, SipEndpoint, TransactionFailed
from tonalite.sip.headers import BRANCH_MAGIC, Via, cseq_of
from tonalite.sip.message import Headers, Request, Response, serialise
from tonalite.sip.parser import StreamFramer, parse_message
from tonalite.sip.responses import response_to
from tonalite.sip.transport import Transport

WAIT_S = 5.0
CORE_METHODS = {"REGISTER", "INVITE", "ACK", "CANCEL", "BYE", "OPTIONS"}


@dataclass(frozen=True)
class Certificate:
    certificate: Path
    private_key: Path

    def client_context(self) -> ssl.SSLContext:
        """What a phone that trusts this certificate uses: hostname checked, TLS 1.2 and up."""
        context = ssl.create_default_context(cafile=self.certificate)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificate, self.private_key)
        return context


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    directory = tmp_path_factory.mktemp("tls")
    made = Certificate(directory / "cert.pem", directory / "key.pem")
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
            *("-keyout", str(made.private_key), "-out", str(made.certificate), "-days", "2", "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return made


def _tls_env(certificate: Certificate) -> dict[str, str]:
    return {
        "TONALITE_TLS_CERTIFICATE": str(certificate.certificate),
        "TONALITE_TLS_PRIVATE_KEY": str(certificate.private_key),
    }


@pytest.fixture(scope="module")
def tls_site(
    sqlite_template: Path, certificate: Certificate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """One server for the module, SHA-256 offered first: UDP and TCP on `sip_port`, TLS on `tls_port`; each
    test registers lines of its own."""
    base = tmp_path_factory.mktemp("transports")
    data_dir = base / "server"
    server = TonaliteServer(
        data_dir, copy_database(sqlite_template, data_dir), _tls_env(certificate), tls_port=free_port()
    )
    platform = server.platform
    group_id, lines = create_lines(platform, 6)
    platform.db.dispose()
    (base / "peers").mkdir()
    with server:
        yield Site(server, lines, base / "peers", group_id)
    log = (data_dir / "server.log").read_text(errors="replace")
    assert "Traceback" not in log and "ERROR" not in log, log


def _phone(
    site: Site,
    transport: str,
    line: int,
    certificate: Certificate,
    via_host: str = "127.0.0.1",
    via_port: int | None = None,
) -> Phone:
    credentials = site.lines[line]
    if transport == "udp":
        return UdpPhone(
            site.server.sip_port,
            credentials.username,
            credentials.password,
            credentials.domain,
            via_host=via_host,
            via_port=via_port,
        )
    return _stream_phone(site, transport, line, certificate)


def _stream_phone(
    site: Site, transport: str, line: int, certificate: Certificate, contact_port: int | None = None
) -> StreamPhone:
    """A TCP phone on the server's SIP port, or a TLS one on its TLS port that verifies the certificate."""
    credentials = site.lines[line]
    tls = transport == "tls"
    port = site.server.tls_port if tls else site.server.sip_port
    assert port is not None
    return StreamPhone(
        port,
        credentials.username,
        credentials.password,
        credentials.domain,
        tls=certificate.client_context() if tls else None,
        contact_port=contact_port,
    )


def _top_via(response: Response) -> Via:
    return Via.parse(response.headers.get_all("Via")[0])


# 1. TLS


def test_a_phone_registers_over_tls_with_sha256_digest(tls_site: Site, certificate: Certificate) -> None:
    phone = _stream_phone(tls_site, "tls", 0, certificate)
    try:
        assert isinstance(phone.sock, ssl.SSLSocket) and phone.sock.version() in ("TLSv1.2", "TLSv1.3")
        challenge_response, final, challenge = phone.register(expires=600)
    finally:
        phone.close()
    assert challenge_response.status == 401
    assert challenge.algorithm == DigestAlgorithm.SHA256
    assert final.status == 200, final
    (item,) = tls_site.wait_registrations(0, bool)
    assert item["transport"] == "tls"
    assert item["source"] == f"tls:127.0.0.1:{phone.port}"


def test_tls_before_1_2_is_refused(tls_site: Site, certificate: Certificate) -> None:
    """This client can speak TLS 1.1 (OpenSSL allows it at security level 0): the server refuses it, with a
    protocol-version alert (asyncio) or by closing the connection during the handshake (uvloop)."""
    assert tls_site.server.tls_port is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = ssl.create_default_context(cafile=certificate.certificate)
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        old.minimum_version = ssl.TLSVersion.TLSv1_1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    with (
        socket.create_connection(("127.0.0.1", tls_site.server.tls_port), timeout=WAIT_S) as raw,
        # An alert, or the server's close: UNEXPECTED_EOF_WHILE_READING, or "connection has been closed (EOF)"
        # from the ssl modules of Python 3.11.2 and older.
        pytest.raises(ssl.SSLError, match=r"PROTOCOL_VERSION|EOF"),
    ):
        old.wrap_socket(raw, server_hostname="127.0.0.1")


def _serve_to_exit(server: TonaliteServer, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in server.environment().items() if not name.startswith("TONALITE_TLS")}
    return subprocess.run(server.command, env={**environment, **env}, capture_output=True, text=True, timeout=30)


def test_a_tls_listener_without_a_certificate_is_one_error_line(sqlite_template: Path, tmp_path: Path) -> None:
    server = TonaliteServer(tmp_path, copy_database(sqlite_template, tmp_path), tls_port=free_port())
    run = _serve_to_exit(server, {})
    assert run.returncode in (1, 2)
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("error:") and "TLS" in line and "certificate" in line.lower(), line


def test_an_unreadable_certificate_is_one_error_line(sqlite_template: Path, tmp_path: Path) -> None:
    server = TonaliteServer(tmp_path, copy_database(sqlite_template, tmp_path), tls_port=free_port())
    missing = tmp_path / "missing.pem"
    run = _serve_to_exit(server, {"TONALITE_TLS_CERTIFICATE": str(missing), "TONALITE_TLS_PRIVATE_KEY": str(missing)})
    assert run.returncode == 1
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("error: TLS certificate") and str(missing) in line, run.stderr


# 2. rport and received


@pytest.mark.parametrize("via_host", ["127.0.0.1", "192.0.2.10"])
def test_rport_answers_go_to_the_source_port_whatever_the_via_says(
    tls_site: Site, certificate: Certificate, via_host: str
) -> None:
    """The Via names a port nothing of the phone's listens on (a decoy socket's), on this host or on a private
    address behind a NAT: the answers still reach the socket the REGISTER came from."""
    decoy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    decoy.bind(("127.0.0.1", 0))
    decoy.setblocking(False)
    phone = _phone(tls_site, "udp", 1, certificate, via_host=via_host, via_port=int(decoy.getsockname()[1]))
    try:
        challenge_response, final, _ = phone.register()
        for response in (challenge_response, final):
            via = _top_via(response)
            assert (via.host, via.port) == (via_host, decoy.getsockname()[1])
            assert via.params.get("received") == "127.0.0.1"
            assert via.params.get("rport") == str(phone.port)
        assert final.status == 200, final
        with pytest.raises(BlockingIOError):
            decoy.recv(65535)
    finally:
        phone.close()
        decoy.close()
    (item,) = tls_site.wait_registrations(
        1, lambda items: bool(items) and items[0]["source"].endswith(f":{phone.port}")
    )
    assert item["source"] == f"udp:127.0.0.1:{phone.port}"


# 3. answers on the connection the request came on


def test_tcp_answers_come_back_on_the_phones_connection(tls_site: Site, certificate: Certificate) -> None:
    """The Contact names a port the phone listens on; the server answers on the phone's connection and
    opens none to that port."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    listening.setblocking(False)
    phone = _stream_phone(tls_site, "tcp", 2, certificate, contact_port=int(listening.getsockname()[1]))
    try:
        challenge_response, final, _ = phone.register()
        assert (challenge_response.status, final.status) == (401, 200), final
        assert phone.ask("OPTIONS").status == 200
        (item,) = tls_site.wait_registrations(2, bool)
        assert item["transport"] == "tcp"
        assert item["source"] == f"tcp:127.0.0.1:{phone.port}"
        with pytest.raises(BlockingIOError):
            listening.accept()
    finally:
        phone.close()
        listening.close()


@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_a_phone_going_away_mid_transaction_does_no_harm(
    tls_site: Site, certificate: Certificate, transport: str
) -> None:
    """Closed (FIN) or reset (RST) right after a REGISTER or in the middle of one: the server goes on."""
    for how in ("close", "reset"):
        for cut in (None, 40):
            phone = _stream_phone(tls_site, transport, 3, certificate)
            data = serialise(phone.register_request())
            phone.send_raw(data[:cut] if cut else data)
            if how == "close":
                phone.close()
            else:
                phone.reset()
    survivor = _phone(tls_site, transport, 3, certificate)
    try:
        assert survivor.ask("OPTIONS").status == 200
        assert survivor.register()[1].status == 200
    finally:
        survivor.close()
    assert tls_site.server.alive()
    assert "Traceback" not in tls_site.server.log_tail(200)


# 4. CRLF keep-alives


@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_crlf_keepalives_are_answered_between_messages(
    tls_site: Site, certificate: Certificate, transport: str
) -> None:
    phone = _stream_phone(tls_site, transport, 4, certificate)
    try:
        phone.ping()
        phone.ping()
        phone.wait_pongs(2)
        phone.send_raw(serialise(phone.register_request()) + b"\r\n\r\n")  # a ping right after a message
        challenge_response = phone.receive()
        assert challenge_response.status == 401
        phone.wait_pongs(3)
        authorization, _ = phone.answer(challenge_response)
        phone.send_raw(b"\r\n\r\n" + serialise(phone.register_request(authorization=authorization)))  # and before
        assert phone.receive().status == 200
        phone.wait_pongs(4)
        request = serialise(phone.request("OPTIONS"))
        phone.send_raw(request[:30])  # a message cut in two, a ping after it
        phone.send_raw(request[30:] + b"\r\n\r\n")
        assert phone.receive().status == 200
        phone.wait_pongs(5)
        assert phone.ask("OPTIONS").status == 200
        assert phone.pongs == 5, "one CRLF per ping, nothing more"
    finally:
        phone.close()
    # Line 4 registered over the other transport in the other case: wait for this phone's binding.
    (item,) = tls_site.wait_registrations(
        4, lambda items: bool(items) and items[0]["source"] == f"{transport}:127.0.0.1:{phone.port}"
    )
    assert item["transport"] == transport


def test_a_crlf_keepalive_over_udp_is_ignored(tls_site: Site, certificate: Certificate) -> None:
    phone = _phone(tls_site, "udp", 4, certificate)
    try:
        phone.send_raw(b"\r\n\r\n")
        phone.send_raw(b"\r\n")
        phone.send_raw(serialise(phone.request("OPTIONS")))
        first = phone.receive_message()  # a datagram answering the keep-alives would have come before
        assert isinstance(first, Response) and first.status == 200
        assert cseq_of(first).method == "OPTIONS"
    finally:
        phone.close()


# 5. OPTIONS and unknown methods


def _allowed(response: Response) -> set[str]:
    return {method.strip() for value in response.headers.get_all("Allow") for method in value.split(",")}


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
def test_options_lists_the_methods_and_an_unknown_one_gets_501(
    tls_site: Site, certificate: Certificate, transport: str
) -> None:
    phone = _phone(tls_site, transport, 5, certificate)
    try:
        options = phone.ask("OPTIONS")
        unknown = phone.ask("PUBLISH")
    finally:
        phone.close()
    assert options.status == 200, options
    assert _allowed(options) >= CORE_METHODS
    assert unknown.status == 501, unknown  # RFC 3261 §8.2.1: with the Allow list
    assert _allowed(unknown) >= CORE_METHODS


# 6. Idle connections, and outbound TLS: the transport in this process, with a stand-in application

IDLE_S = 0.3


def _request_bytes(method: str, cseq: int, extra: str = "") -> bytes:
    lines = [
        f"{method} sip:127.0.0.1 SIP/2.0",
        f"Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK{secrets.token_hex(6)}",
        "Max-Forwards: 70",
        "From: <sip:a@127.0.0.1>;tag=1",
        "To: <sip:a@127.0.0.1>",
        f"Call-ID: {secrets.token_hex(6)}",
        f"CSeq: {cseq} {method}",
        "Contact: <sip:a@127.0.0.1:5999;transport=tcp>",
    ]
    return ("\r\n".join(lines) + f"\r\n{extra}Content-Length: 0\r\n\r\n").encode()


def _endpoint() -> SipEndpoint:
    return SipEndpoint(sent_by=lambda _: "127.0.0.1:5061", new_branch=lambda: BRANCH_MAGIC + secrets.token_hex(8))


async def _read_response(reader: asyncio.StreamReader) -> Response:
    while True:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT_S)
        if head.strip(b"\r\n"):
            message = parse_message(head, framed=True)  # the stand-in answers carry no body
            assert isinstance(message, Response)
            return message


async def _closed_within(reader: asyncio.StreamReader, limit: float) -> float:
    """Seconds until the server closed the connection, failing after `limit`; data meanwhile is skipped."""
    start = time.monotonic()
    while await asyncio.wait_for(reader.read(4096), limit):
        pass
    return time.monotonic() - start


def _stand_in_application(endpoint: SipEndpoint, clock: SystemClock) -> Callable[[Event], None]:
    """Answers a REGISTER with Authorization 200, else 401, and OPTIONS 200."""

    def on_event(event: Event) -> None:
        if isinstance(event, IncomingRequest):
            request = event.request
            status = 401 if request.method == "REGISTER" and "Authorization" not in request.headers else 200
            endpoint.send_response(event.transaction, response_to(request, status, to_tag="x"), clock.now())

    return on_event


@pytest.fixture
async def idle_server() -> AsyncIterator[int]:
    """A TCP listener with the stand-in application."""
    endpoint = _endpoint()
    clock = SystemClock()
    transport = SipTransport(endpoint, clock, _stand_in_application(endpoint, clock), idle_timeout=IDLE_S)
    await transport.start([ListenAddress(Transport.TCP, "127.0.0.1", 0)])
    try:
        yield transport.bound_port(Transport.TCP)
    finally:
        await transport.stop()


async def test_idle_connections_close_unless_a_phone_registered_on_them(idle_server: int) -> None:
    silent, silent_writer = await asyncio.open_connection("127.0.0.1", idle_server)
    challenged, challenged_writer = await asyncio.open_connection("127.0.0.1", idle_server)
    registered, registered_writer = await asyncio.open_connection("127.0.0.1", idle_server)
    pinging, pinging_writer = await asyncio.open_connection("127.0.0.1", idle_server)
    start = time.monotonic()
    silent_closed = asyncio.ensure_future(_closed_within(silent, WAIT_S))

    challenged_writer.write(_request_bytes("REGISTER", 1))
    assert (await _read_response(challenged)).status == 401
    challenged_closed = asyncio.ensure_future(_closed_within(challenged, WAIT_S))
    registered_writer.write(_request_bytes("REGISTER", 1, 'Authorization: Digest username="a"\r\n'))
    assert (await _read_response(registered)).status == 200

    while time.monotonic() - start < 3 * IDLE_S:  # pings keep this one open meanwhile
        pinging_writer.write(b"\r\n\r\n")
        assert await asyncio.wait_for(pinging.readexactly(2), WAIT_S) == b"\r\n"
        await asyncio.sleep(IDLE_S / 4)
    pinging_after = await _closed_within(pinging, WAIT_S)
    silent_after, challenged_after = await silent_closed, await challenged_closed

    assert IDLE_S * 0.9 <= silent_after <= IDLE_S * 3
    assert IDLE_S * 0.9 <= challenged_after <= IDLE_S * 3, "an unauthenticated REGISTER does not pin a connection"
    assert IDLE_S * 0.5 <= pinging_after <= IDLE_S * 3
    assert time.monotonic() - start > 3 * IDLE_S
    registered_writer.write(_request_bytes("OPTIONS", 2))  # the registered phone's connection outlived them all
    assert (await _read_response(registered)).status == 200
    for writer in (silent_writer, challenged_writer, registered_writer, pinging_writer):
        writer.close()


def _options(cseq: int, uri: str) -> Request:
    """An OPTIONS this node sends (the endpoint adds the Via)."""
    headers = Headers(
        [
            ("Max-Forwards", "70"),
            ("From", "<sip:tonalite@127.0.0.1>;tag=t"),
            ("To", "<sip:far@127.0.0.1>"),
            ("Call-ID", secrets.token_hex(6)),
            ("CSeq", f"{cseq} OPTIONS"),
        ]
    )
    return Request("OPTIONS", uri, headers)


class _LogWaiter(logging.Handler):
    """Sets `seen` when a record containing `text` is logged."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.INFO)
        self.text = text
        self.seen = asyncio.Event()
        self.message = ""

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.message = record.getMessage()
            self.seen.set()


async def test_outbound_tls_verifies_the_far_end_and_shares_one_connection(certificate: Certificate) -> None:
    """Two requests to a TLS peer with no connection yet: one connection is opened (the second request waits
    for it), verified against the peer's certificate; both arrive in order and their answers come back."""
    accepted: list[list[bytes]] = []
    handlers: list[asyncio.Task[object]] = []

    async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answers 200 to each request on the connection, until it is closed."""
        received: list[bytes] = []
        accepted.append(received)
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                received.append(head)
                request = parse_message(head, framed=True)
                assert isinstance(request, Request)
                writer.write(serialise(response_to(request, 200, to_tag="far")))
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    far_end = await asyncio.start_server(peer, "127.0.0.1", 0, ssl=certificate.server_context())
    port = int(far_end.sockets[0].getsockname()[1])
    answered: list[Response] = []
    both_answered = asyncio.Event()
    clock = SystemClock()

    def on_event(event: Event) -> None:
        if isinstance(event, IncomingResponse):
            answered.append(event.response)
            if len(answered) == 2:
                both_answered.set()

    def options(cseq: int) -> Request:
        return _options(cseq, f"sip:far@127.0.0.1:{port};transport=tls")

    trusting = _endpoint()
    transport = SipTransport(trusting, clock, on_event, tls_client_context=certificate.client_context())
    distrusting = _endpoint()
    untrusting = SipTransport(distrusting, clock, on_event, tls_client_context=ssl.create_default_context())
    transport_log = logging.getLogger("tonalite.net.sip_transport")
    unreachable = _LogWaiter("cannot reach")
    transport_log.addHandler(unreachable)
    level = transport_log.level
    transport_log.setLevel(logging.INFO)
    try:
        for cseq in (1, 2):
            trusting.send_request(options(cseq), Peer(Transport.TLS, "127.0.0.1", port), clock.now())
            transport.pump()
        await asyncio.wait_for(both_answered.wait(), WAIT_S)
        assert [cseq_of(response).number for response in answered] == [1, 2]
        assert len(accepted) == 1, "one connection for both"
        assert [head.split(b" ", 1)[0] for head in accepted[0]] == [b"OPTIONS", b"OPTIONS"]

        distrusting.send_request(options(3), Peer(Transport.TLS, "127.0.0.1", port), clock.now())
        untrusting.pump()
        await asyncio.wait_for(unreachable.seen.wait(), WAIT_S)
        assert "CERTIFICATE_VERIFY_FAILED" in unreachable.message
        assert len(answered) == 2
    finally:
        transport_log.removeHandler(unreachable)
        transport_log.setLevel(level)
        await transport.stop()
        await untrusting.stop()
        if handlers:  # they end when the transport's connection closes
            await asyncio.wait(handlers, timeout=WAIT_S)
        far_end.close()
        await far_end.wait_closed()


@pytest.mark.parametrize("transport", [Transport.TCP, Transport.TLS])
async def test_a_request_to_a_peer_nothing_answers_on_fails_at_once(transport: Transport) -> None:
    """A connection that cannot be opened fails the transaction with a transport error (§17.1.2.2) rather
    than leaving it to Timer F (32 s); a second request to the same address, queued behind the first
    connection attempt, fails with it."""
    port = free_port()  # bound by nobody: the connection is refused
    failed: list[TransactionFailed] = []
    both_failed = asyncio.Event()

    def on_event(event: Event) -> None:
        if isinstance(event, TransactionFailed):
            failed.append(event)
            if len(failed) == 2:
                both_failed.set()

    endpoint = _endpoint()
    clock = SystemClock()
    edge = SipTransport(endpoint, clock, on_event, tls_client_context=ssl.create_default_context())
    try:
        sent = [
            endpoint.send_request(
                _options(cseq, f"sip:far@127.0.0.1:{port}"), Peer(transport, "127.0.0.1", port), clock.now()
            )
            for cseq in (1, 2)
        ]
        edge.pump()
        await asyncio.wait_for(both_failed.wait(), WAIT_S)
        assert sorted(event.transaction for event in failed) == sorted(sent)
        assert not any(event.timed_out for event in failed)
    finally:
        await edge.stop()


# 7. Limits: the time a message may take, the connections per source and in all (the transport in this process)

LIMIT_S = 0.3
PER_SOURCE = 3
REGISTER_AUTHORIZATION = 'Authorization: Digest username="a"\r\n'


class _WatchedEndpoint(SipEndpoint):
    """The stand-in's endpoint; `closed` gets the id of each connection the transport reports closed."""

    closed: asyncio.Queue[int]

    def transport_failed(self, connection: int, now: float) -> None:
        super().transport_failed(connection, now)
        self.closed.put_nowait(connection)


@dataclass
class _Edge:
    transport: SipTransport
    endpoint: _WatchedEndpoint
    port: int
    responses: asyncio.Queue[Response]


@asynccontextmanager
async def _limited_edge(
    *, kind: Transport = Transport.TCP, tls: ssl.SSLContext | None = None, max_connections: int = 100
) -> AsyncIterator[_Edge]:
    """A listener with the stand-in application, a LIMIT_S message limit, PER_SOURCE connections per source,
    and an idle limit too long to matter here. Responses to what the node sends go to `responses`."""
    endpoint = _WatchedEndpoint(
        sent_by=lambda _: "127.0.0.1:5061", new_branch=lambda: BRANCH_MAGIC + secrets.token_hex(8)
    )
    endpoint.closed = asyncio.Queue()
    clock = SystemClock()
    answer = _stand_in_application(endpoint, clock)
    responses: asyncio.Queue[Response] = asyncio.Queue()

    def on_event(event: Event) -> None:
        if isinstance(event, IncomingResponse):
            responses.put_nowait(event.response)
        answer(event)

    transport = SipTransport(
        endpoint,
        clock,
        on_event,
        tls_context=tls,
        idle_timeout=60.0,
        message_timeout=LIMIT_S,
        max_connections_per_source=PER_SOURCE,
        max_connections=max_connections,
    )
    await transport.start([ListenAddress(kind, "127.0.0.1", 0)])
    try:
        yield _Edge(transport, endpoint, transport.bound_port(kind), responses)
    finally:
        await transport.stop()


class _LogRecords(logging.Handler):
    """Keeps the messages of the transport's INFO records containing `text`, `seen` set at the first one."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.INFO)
        self.text = text
        self.messages: list[str] = []
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.messages.append(record.getMessage())
            self.seen.set()


@asynccontextmanager
async def _transport_log(text: str) -> AsyncIterator[_LogRecords]:
    records = _LogRecords(text)
    transport_log = logging.getLogger("tonalite.net.sip_transport")
    level = transport_log.level
    transport_log.setLevel(logging.INFO)
    transport_log.addHandler(records)
    try:
        yield records
    finally:
        transport_log.removeHandler(records)
        transport_log.setLevel(level)


async def _ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> int:
    writer.write(data)
    return (await _read_response(reader)).status


async def _closed_by_server(reader: asyncio.StreamReader, limit: float) -> float:
    """Like _closed_within, a reset counting as a close (the server aborts connections it cuts off)."""
    start = time.monotonic()
    with suppress(ConnectionResetError):
        await _closed_within(reader, limit)
    return time.monotonic() - start


async def _trickle(writer: asyncio.StreamWriter, data: bytes, closed: asyncio.Future[float]) -> int:
    """Send `data` a byte at a time, LIMIT_S / 6 apart, until the server closed the connection; bytes sent."""
    sent = 0
    while not closed.done() and sent < len(data):
        writer.write(data[sent : sent + 1])
        sent += 1
        await asyncio.wait([closed], timeout=LIMIT_S / 6)
    return sent


async def test_a_message_trickled_in_is_cut_off_after_the_message_limit_even_on_a_registered_connection() -> None:
    """A byte every LIMIT_S / 6 into a message that never ends: each connection is closed LIMIT_S after the
    first byte of it, the registered one too, though bytes kept coming; the log does not show them."""
    async with _limited_edge() as edge, _transport_log("still incomplete") as cut_off:
        anonymous, anonymous_writer = await asyncio.open_connection("127.0.0.1", edge.port)
        registered, registered_writer = await asyncio.open_connection("127.0.0.1", edge.port)
        assert await _ask(registered, registered_writer, _request_bytes("REGISTER", 1, REGISTER_AUTHORIZATION)) == 200
        registered_writer.write(b"\r\n\r\n")  # a keep-alive before the message: its clock starts after
        assert await asyncio.wait_for(registered.readexactly(2), WAIT_S) == b"\r\n"
        closes = [asyncio.ensure_future(_closed_by_server(reader, WAIT_S)) for reader in (anonymous, registered)]
        message = _request_bytes("OPTIONS", 2)
        sent = await asyncio.gather(
            _trickle(anonymous_writer, message, closes[0]), _trickle(registered_writer, message, closes[1])
        )
        anonymous_after, registered_after = [await close for close in closes]
        for writer in (anonymous_writer, registered_writer):
            writer.close()
    for after, count in zip((anonymous_after, registered_after), sent, strict=True):
        assert LIMIT_S * 0.9 <= after <= LIMIT_S * 3
        assert 4 <= count < len(message), "bytes kept coming until the close, and the message never ended"
    assert len(cut_off.messages) == 2
    assert not any("OPTIONS" in line or "sip:" in line for line in cut_off.messages), cut_off.messages


async def test_slow_but_complete_messages_and_keepalives_keep_a_connection_open() -> None:
    """Each message within the limit, though the exchange lasts several times it: messages in two halves
    LIMIT_S * 2/3 apart, the next one starting in the data that ends the one before (its clock starts
    there), keep-alives in between; the connection stays open and each message is answered."""
    first_half = LIMIT_S * 2 / 3
    async with _limited_edge() as edge, _transport_log("still incomplete") as cut_off:
        reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
        start = time.monotonic()
        messages = [_request_bytes("OPTIONS", cseq) for cseq in range(1, 5)]
        writer.write(messages[0][:40])
        for previous, message in itertools.pairwise(messages):
            await asyncio.sleep(first_half)
            writer.write(previous[40:] + message[:40])
            assert (await _read_response(reader)).status == 200
        await asyncio.sleep(first_half)
        writer.write(messages[-1][40:])
        assert (await _read_response(reader)).status == 200
        for cseq in range(5, 8):  # one OPTIONS every LIMIT_S * 2/3, a keep-alive between each
            await asyncio.sleep(first_half / 2)
            writer.write(b"\r\n\r\n")
            assert await asyncio.wait_for(reader.readexactly(2), WAIT_S) == b"\r\n"
            await asyncio.sleep(first_half / 2)
            assert await _ask(reader, writer, _request_bytes("OPTIONS", cseq)) == 200
        assert time.monotonic() - start > 4 * LIMIT_S
        writer.close()
    assert not cut_off.messages


async def test_connections_over_the_per_source_limit_are_refused_at_once() -> None:
    """The node has a connection of its own open to 127.0.0.1 (not counted against that address); PER_SOURCE
    phones' connections from 127.0.0.1 are served; the ones after are closed at once, with one log line;
    the first ones still get answers; once one closes, a new one can register."""

    async def far_end(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        framer = StreamFramer()
        while data := await reader.read(65536):
            for message in framer.feed(data):
                request = parse_message(message, framed=True)
                assert isinstance(request, Request)
                writer.write(serialise(response_to(request, 200, to_tag="far")))
        writer.close()

    far = await asyncio.start_server(far_end, "127.0.0.1", 0)
    far_port = int(far.sockets[0].getsockname()[1])
    async with _limited_edge() as edge, _transport_log("refusing") as refusals:
        clock = SystemClock()
        edge.endpoint.send_request(
            _options(1, f"sip:far@127.0.0.1:{far_port};transport=tcp"),
            Peer(Transport.TCP, "127.0.0.1", far_port),
            clock.now(),
        )
        edge.transport.pump()
        assert (await asyncio.wait_for(edge.responses.get(), WAIT_S)).status == 200

        phones = [await asyncio.open_connection("127.0.0.1", edge.port) for _ in range(PER_SOURCE)]
        for cseq, (reader, writer) in enumerate(phones, 1):
            assert await _ask(reader, writer, _request_bytes("OPTIONS", cseq)) == 200
        refused = [await asyncio.open_connection("127.0.0.1", edge.port) for _ in range(2)]
        for reader, _ in refused:
            assert await _closed_by_server(reader, WAIT_S) < WAIT_S
        (line,) = refusals.messages  # the second refusal is not logged: once a minute per source
        assert f"from 127.0.0.1:{refused[0][1].get_extra_info('sockname')[1]}" in line
        assert f"{PER_SOURCE} connections open from 127.0.0.1" in line

        for cseq, (reader, writer) in enumerate(phones, 10):
            assert await _ask(reader, writer, _request_bytes("OPTIONS", cseq)) == 200
        phones[0][1].close()
        await asyncio.wait_for(edge.endpoint.closed.get(), WAIT_S)
        reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
        assert await _ask(reader, writer, _request_bytes("REGISTER", 1)) == 401
        assert await _ask(reader, writer, _request_bytes("REGISTER", 2, REGISTER_AUTHORIZATION)) == 200
        assert await _ask(reader, writer, _request_bytes("OPTIONS", 3)) == 200
        for _, other in [*phones[1:], *refused, (reader, writer)]:
            other.close()
    far.close()
    await far.wait_closed()


async def test_connections_over_the_total_limit_are_refused_at_once() -> None:
    """A total limit of four, sources 127.0.0.1 and 127.0.0.2 two each: one from 127.0.0.3 is refused, and
    served once one of the others closed."""
    async with _limited_edge(max_connections=4) as edge, _transport_log("refusing") as refusals:
        phones = [
            await asyncio.open_connection("127.0.0.1", edge.port, local_addr=(source, 0))
            for source in ("127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2")
        ]
        for cseq, (reader, writer) in enumerate(phones, 1):
            assert await _ask(reader, writer, _request_bytes("OPTIONS", cseq)) == 200
        refused, refused_writer = await asyncio.open_connection("127.0.0.1", edge.port, local_addr=("127.0.0.3", 0))
        assert await _closed_by_server(refused, WAIT_S) < WAIT_S
        (line,) = refusals.messages
        assert "from 127.0.0.3:" in line and "4 connections open, the limit" in line
        phones[0][1].close()
        await asyncio.wait_for(edge.endpoint.closed.get(), WAIT_S)
        reader, writer = await asyncio.open_connection("127.0.0.1", edge.port, local_addr=("127.0.0.3", 0))
        assert await _ask(reader, writer, _request_bytes("OPTIONS", 9)) == 200
        for _, other in [*phones[1:], (refused, refused_writer), (reader, writer)]:
            other.close()


async def test_a_tls_handshake_gets_the_message_limit(certificate: Certificate) -> None:
    """A client that connects to the TLS port and never starts the handshake is closed after LIMIT_S."""
    async with _limited_edge(kind=Transport.TLS, tls=certificate.server_context()) as edge:
        reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
        assert LIMIT_S * 0.9 <= await _closed_by_server(reader, WAIT_S) <= LIMIT_S * 3
        writer.close()


def test_a_source_is_an_ipv4_address_or_an_ipv6_network() -> None:
    assert source_of("192.0.2.7") == "192.0.2.7"
    assert source_of("::ffff:192.0.2.7") == "192.0.2.7"
    assert source_of("2001:db8:1:2:aaaa::1") == source_of("2001:db8:1:2::ff") == "2001:db8:1:2::/64"
    assert source_of("fe80::1%eth0") == "fe80::/64"


def test_the_framer_tells_a_message_under_way_from_keepalives() -> None:
    """What starts the message clock; fed a byte at a time, the framer cuts what it cuts whole."""
    framer = StreamFramer()
    for piece in (b"\r", b"\n", b"\r", b"\n\r\n"):
        assert framer.feed(piece) == []
        assert not framer.in_message
    assert framer.pings == 1
    message = _request_bytes("OPTIONS", 1)
    assert [cut for byte in range(len(message)) for cut in framer.feed(message[byte : byte + 1])] == [message]
    assert framer.feed(message + message[:1]) == [message]
    assert framer.in_message
    assert framer.feed(message[1:]) == [message]
    assert not framer.in_message


BURST = 3000
"""OPTIONS datagrams sent while the node's loop is busy: ~2.5 MB of receive buffer as Linux counts it (a
loopback datagram of ~400 bytes takes ~800), ten times the system's default (212,992 bytes)."""


async def test_a_burst_that_comes_while_the_loop_is_busy_waits_in_the_receive_buffer() -> None:
    """The node asks for UDP buffers large enough for a burst; every datagram of one that came while the loop
    was busy (here, the test sending it) is answered, none dropped by the kernel."""
    endpoint = _endpoint()
    clock = SystemClock()
    transport = SipTransport(endpoint, clock, _stand_in_application(endpoint, clock), udp_buffer_bytes=4 << 20)
    await transport.start([ListenAddress(Transport.UDP, "127.0.0.1", 0)])
    phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    phone.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    phone.setblocking(False)
    try:
        server = ("127.0.0.1", transport.bound_port(Transport.UDP))
        for cseq in range(BURST):  # no await: the loop cannot read a datagram before the last is sent
            phone.sendto(_request_bytes("OPTIONS", cseq + 1).replace(b"SIP/2.0/TCP", b"SIP/2.0/UDP"), server)
        answered: set[int] = set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while len(answered) < BURST:
            data = await asyncio.wait_for(loop.sock_recv(phone, 65535), max(0.0, deadline - loop.time()))
            response = parse_message(data, framed=False)
            assert isinstance(response, Response) and response.status == 200
            answered.add(cseq_of(response).number)
        assert answered == set(range(1, BURST + 1))
    finally:
        phone.close()
        await transport.stop()
