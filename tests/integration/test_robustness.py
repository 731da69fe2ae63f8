"""What no phone should send, sent to a real `tonalite serve`: the RFC 4475 torture messages, truncated
datagrams, random and mutated bytes over UDP, the torture messages and broken streams over TCP, and stalled
partial messages.

Every request gets the status RFC 4475 asks for (the table of tests/sip/test_torture.py) or the refusal the
server's own parser and endpoint decide on (400, 416, 505, …), or nothing when it cannot be answered; a
well-formed request gets an ordinary answer, never a 500. Afterwards the process is alive, its log holds no
traceback, and a normal REGISTER still succeeds.

The tests share one server, in the order written; each checks the part of the server's log written while
it ran, and the last one checks the whole log and a REGISTER after all the others.
Every wait is bounded; the only waits for "nothing comes back" are QUIET_S long, and they follow a barrier
(an OPTIONS answered on the same UDP socket of the server), so everything sent before it has been read.
"""

from __future__ import annotations

import random
import re
import secrets
import selectors
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Site, _site
from tests.peers.sip_client import UdpPhone
from tests.peers.sipp import run_sipp, users_file
from tests.peers.tonalite_server import TonaliteServer, free_port
from tests.sip import test_torture as torture
from tonalite.sip.endpoint import IncomingRequest, Peer, SipEndpoint
from tonalite.sip.message import Response
from tonalite.sip.parser import MAX_LINE_BYTES, MAX_MESSAGE_BYTES, ParseError, StreamFramer, parse_message
from tonalite.sip.transport import Transport

HOST = "127.0.0.1"
UDP_MAX = 65507  # the largest IPv4 UDP payload: bigger messages can only be tried over TCP
REFUSALS = frozenset({400, 413, 416, 505, 513})  # what the parser and the endpoint refuse a request with
UNPARSEABLE = -1  # stands for an answer that is not a SIP response
ANSWER_TIMEOUT_S = 3.0  # bound on every wait for an answer that must come
CLOSE_TIMEOUT_S = 5.0  # bound on every wait for the server to close a connection
QUIET_S = 0.15  # how long "nothing comes back" is watched for, after a barrier
BATCH_DATAGRAMS = 32  # datagrams between two barriers, well within the server's socket buffer
BATCH_BYTES = 48_000
SEED = 4475
RANDOM_DATAGRAMS = 100
MUTATED_DATAGRAMS = 240
SLOW_LORIS_CONNECTIONS = 10  # of each kind
LOG_MARKERS = ("Traceback (most recent call last)", "the SIP application failed")
TRUNCATED_FIXTURES = ("wsinv", "mpart01", "inv2543", "esc01", "intmeth", "regaut01")
MUTATED_FIXTURES = ("wsinv", "intmeth", "esc01", "longreq", "mpart01", "inv2543", "regaut01", "cparam01", "unreason")


# What must come back.


@dataclass(frozen=True, slots=True)
class Expect:
    """Nothing (`silent`); exactly `status` (maybe nothing at all when `optional`); or, when `status` is None,
    whatever the platform answers a well-formed request with: possibly nothing (an ACK, a retransmission
    matched to an earlier transaction), never a 500."""

    status: int | None
    silent: bool = False
    optional: bool = False


SILENT = Expect(None, silent=True)
APPLICATION = Expect(None)


def table_expectation(name: str) -> Expect:
    """The outcome RFC 4475 asks for, as tests/sip/test_torture.py's table records it."""
    status = torture.EXPECTED[name].status
    if status is None:
        return APPLICATION
    return SILENT if status == torture.DROP else Expect(status)


def endpoint_verdict(data: bytes) -> Expect:
    """What a SIP endpoint like the server's decides before any application sees the message: the refusal it
    sends, nothing, or a request for the application. (Stateless, so the same on the server.)"""
    endpoint = SipEndpoint(sent_by=lambda _: f"{HOST}:5060", new_branch=lambda: "z9hG4bKlocal")
    endpoint.receive(data, Peer(Transport.UDP, HOST, 5070), 0.0)
    finals = [status for out, _ in endpoint.outgoing(0.0) for status in final_statuses(out)]
    if finals and finals[0] in REFUSALS:
        return Expect(finals[0])
    return APPLICATION if finals or isinstance(endpoint.next_event(), IncomingRequest) else SILENT


def final_statuses(data: bytes, *, framed: bool = False) -> list[int]:
    """The final status of a response ([] for a provisional one), or UNPARSEABLE."""
    try:
        message = parse_message(data, framed=framed)
    except ParseError:
        return [UNPARSEABLE]
    if not isinstance(message, Response):
        return [UNPARSEABLE]
    return [message.status] if message.status >= 200 else []


def stream_statuses(data: bytes) -> list[int]:
    """The final statuses of the responses read from a connection, in order."""
    try:
        messages = StreamFramer().feed(data)
    except ParseError:
        return [UNPARSEABLE]
    statuses = [status for message in messages for status in final_statuses(message, framed=True)]
    return statuses if sum(map(len, messages)) == len(data) else [*statuses, UNPARSEABLE]


def judge(label: str, expect: Expect, statuses: list[int]) -> str | None:
    """None when the answers are what `expect` allows, else what went wrong."""
    if expect.silent:
        return None if not statuses else f"{label}: expected no answer, got {statuses}"
    if expect.status is not None:
        if set(statuses) == {expect.status} or (expect.optional and not statuses):
            return None
        return f"{label}: expected {expect.status}, got {statuses or 'no answer'}"
    wrong = [status for status in statuses if status == UNPARSEABLE or (status >= 500 and status not in (501, 505))]
    return f"{label}: got {wrong}" if wrong else None


# Messages.


def sip_request(
    method: str,
    uri: str,
    user: str,
    *,
    transport: str = "UDP",
    headers: tuple[str, ...] = (),
    body: bytes = b"",
    call_id: str | None = None,
) -> bytes:
    call_id = call_id or f"robustness-{secrets.token_hex(8)}"
    lines = [
        f"{method} {uri} SIP/2.0",
        f"Via: SIP/2.0/{transport} {HOST}:5070;branch=z9hG4bK{secrets.token_hex(8)};rport",
        "Max-Forwards: 70",
        f"From: <sip:{user}@{HOST}>;tag={secrets.token_hex(4)}",
        f"To: <sip:{user}@{HOST}>",
        f"Call-ID: {call_id}",
        f"CSeq: 1 {method}",
        *headers,
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def options_request(call_id: str, transport: str = "UDP") -> bytes:
    return sip_request("OPTIONS", f"sip:{HOST}", "robustness", transport=transport, call_id=call_id)


def register_request(username: str) -> bytes:
    contact = (f"Contact: <sip:{username}@{HOST}:5070>", "Expires: 600", "User-Agent: robustness")
    return sip_request("REGISTER", f"sip:{HOST}", username, headers=contact)


def invite_request(username: str, callee: str) -> bytes:
    sdp = (
        b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        b"m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
    )
    headers = (f"Contact: <sip:{username}@{HOST}:5070>", "Content-Type: application/sdp")
    return sip_request("INVITE", f"sip:{callee}@{HOST}", username, headers=headers, body=sdp)


_BRANCH = re.compile(rb"(;[ \t]*branch[ \t]*=[ \t]*z9hG4bK)(?=[^\s;,])", re.IGNORECASE)
_CALL_ID = re.compile(rb"^((?:call-id|i)[ \t]*:[ \t]*)", re.IGNORECASE | re.MULTILINE)


def freshen(data: bytes, mark: str) -> bytes:
    """The same message as a new transaction: `mark` put at the start of its first branch (after the magic
    cookie, so a bare cookie stays bare) and of its Call-IDs. Otherwise the server would take it for a
    retransmission of an earlier test's message and answer that test's socket."""
    data = _BRANCH.sub(lambda match: match.group(1) + mark.encode(), data, count=1)
    return _CALL_ID.sub(lambda match: match.group(1) + mark.encode(), data)


def cut_points(data: bytes) -> list[int]:
    """1, 10, the end of the start line, mid-header, just before and after the empty line, mid-body, all but
    the last octet."""
    line_end = data.find(b"\r\n")
    head_end = data.find(b"\r\n\r\n")
    body_start = head_end + 4
    points = {1, 10, line_end, line_end + 2, (line_end + head_end) // 2, head_end, head_end + 2, body_start}
    points |= {body_start + (len(data) - body_start) // 2, len(data) - 1}
    return sorted(point for point in points if 0 < point < len(data))


# Mutations of valid messages (each takes the generator and a message, returns the mutated bytes).


def flip_bits(rng: random.Random, data: bytes) -> bytes:
    mutated = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
    return bytes(mutated)


def insert_bytes(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.randbytes(rng.randint(1, 32)) + data[at:]


def delete_bytes(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, 64) :]


def duplicate_header(rng: random.Random, data: bytes) -> bytes:
    """One header line repeated once, a few times, or past the parser's limit of header fields."""
    head, separator, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    at = rng.randrange(1, len(lines))
    lines[at:at] = [lines[at]] * rng.choice([1, 2, 5, 300])
    return b"\r\n".join(lines) + separator + body


def huge_header(rng: random.Random, data: bytes) -> bytes:
    """A header value around the line limit or up to what a datagram can carry, on one line or folded."""
    name = rng.choice([b"Subject", b"User-Agent", b"X-Torture", b"Via", b"Call-ID"])
    prefix = b"SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK" if name == b"Via" else b""
    size = min(rng.choice([MAX_LINE_BYTES - 20, MAX_LINE_BYTES + 1, 20_000, 60_000]), UDP_MAX - len(data) - 600)
    value = prefix + (b"abcdefghij0123456789" * (size // 20 + 1))[:size]
    if rng.random() < 0.5:  # folded into continuation lines, each below the line limit
        value = b"\r\n ".join(value[at : at + 4000] for at in range(0, len(value), 4000))
    start_line_end = data.find(b"\r\n")
    return data[:start_line_end] + b"\r\n" + name + b": " + value + data[start_line_end:]


def nul_bytes(rng: random.Random, data: bytes) -> bytes:
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(data) + 1)
        data = data[:at] + b"\x00" * rng.randint(1, 4) + data[at:]
    return data


def invalid_utf8(rng: random.Random, data: bytes) -> bytes:
    """An invalid UTF-8 sequence in the head (where the parser needs text) or anywhere."""
    head_end = data.find(b"\r\n\r\n")
    at = rng.randrange(head_end if head_end > 0 and rng.random() < 0.8 else len(data))
    return data[:at] + rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x28\x8c\x28", b"\x80\x80"]) + data[at:]


def stray_separator(rng: random.Random, data: bytes) -> bytes:
    """A character that means something to the SIP grammar, where it does not belong."""
    at = rng.randrange(len(data) + 1)
    separator = rng.choice([b";", b",", b"<", b">", b'"', b":", b" ", b"\r\n", b"\r\n ", b"%", b"@", b"[", b"?", b"="])
    return data[:at] + separator + data[at:]


MUTATIONS: list[Callable[[random.Random, bytes], bytes]] = [
    flip_bits,
    insert_bytes,
    delete_bytes,
    duplicate_header,
    huge_header,
    nul_bytes,
    invalid_utf8,
    stray_separator,
]


def extreme_datagrams() -> list[tuple[str, bytes]]:
    """Degenerate datagrams, and valid messages at the limits: long lists, many fields, many folded lines."""

    def fill(request: bytes, line: bytes) -> bytes:
        """The request with `line` repeated after its start line, as often as a datagram allows."""
        start_line_end = request.find(b"\r\n") + 2
        count = (UDP_MAX - len(request)) // len(line)
        return request[:start_line_end] + line * count + request[start_line_end:]

    options = options_request("extreme")
    return [
        ("empty datagram", b""),
        ("keep-alive CRLF", b"\r\n"),
        ("keep-alive CRLF CRLF", b"\r\n\r\n"),
        ("three CRLF", b"\r\n\r\n\r\n"),
        ("bare status line", b"SIP/2.0 200 OK\r\n\r\n"),
        ("bare method", b"INVITE\r\n\r\n"),
        ("LF only", b"OPTIONS sip:127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1\n\n"),
        ("a field folded over 16000 lines", fill(options, b"Subject: a" + b"\r\n a" * 16_000 + b"\r\n")),
        (
            "a field folded to just below the line limit",
            fill(options, b"Subject: a" + b"\r\n abcdefghi" * 800 + b"\r\n"),
        ),
        ("thousands of Contact values", fill(options, b"Contact: " + b"<sip:a@127.0.0.1>," * 400 + b"<sip:b@b>\r\n")),
        (
            "thousands of Via values",
            fill(options, b"Via: " + b"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx," * 150 + b"SIP/2.0/UDP b\r\n"),
        ),
        ("more header fields than allowed", fill(options, b"X-Field: x\r\n")),
    ]


def random_datagrams(rng: random.Random) -> list[tuple[str, bytes]]:
    """Random octets of many lengths, some shaped like the start of a SIP message or holding an empty line."""
    cases = []
    for index in range(RANDOM_DATAGRAMS):
        size = rng.choice([1, 2, 3, 8, 64, 500, 1400, 4000, 30_000, UDP_MAX])
        data = rng.randbytes(size)
        shape = index % 3
        if shape == 1:
            data = b"REGISTER sip:127.0.0.1 SIP/2.0\r\n" + data[: UDP_MAX - 40]
        elif shape == 2:
            data = data[: UDP_MAX - 4] + b"\r\n\r\n"
        cases.append((f"random #{index} ({len(data)} octets)", data))
    return cases


def mutated_datagrams(rng: random.Random, bases: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    cases = []
    for index in range(MUTATED_DATAGRAMS):
        mutation = MUTATIONS[index % len(MUTATIONS)]
        name, base = rng.choice(bases)
        data = mutation(rng, freshen(base, f"m{index}."))
        if rng.random() < 0.25:
            data = MUTATIONS[rng.randrange(len(MUTATIONS))](rng, data)
        cases.append((f"{mutation.__name__} of {name} #{index}", data[:UDP_MAX]))
    return cases


# The test's UDP side.


def drain(sock: socket.socket) -> list[bytes]:
    """Every datagram waiting on a non-blocking socket."""
    received = []
    while True:
        try:
            received.append(sock.recv(65536))
        except BlockingIOError:
            return received


@dataclass
class UdpBench:
    """The test's UDP sockets, one per datagram so that no answer needs matching, all kept open until the end
    so that no later socket gets a port the server still retransmits an INVITE's answer to; and a barrier:
    once an OPTIONS is answered, the server has read every datagram sent before it."""

    server: TonaliteServer
    sockets: list[socket.socket] = field(default_factory=list)

    def new_socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sockets.append(sock)
        sock.bind((HOST, 0))
        sock.setblocking(False)
        return sock

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()

    def barrier(self) -> None:
        """An OPTIONS (sent again every half second, as a phone would) until its 200 comes back."""
        probe = self.new_socket()
        call_id = f"barrier-{secrets.token_hex(8)}"
        request = options_request(call_id)
        deadline = time.monotonic() + 2 * ANSWER_TIMEOUT_S
        with selectors.DefaultSelector() as selector:
            selector.register(probe, selectors.EVENT_READ)
            while (remaining := deadline - time.monotonic()) > 0:
                probe.sendto(request, (HOST, self.server.sip_port))
                if selector.select(min(0.5, remaining)):
                    for data in drain(probe):
                        answer = parse_message(data)
                        if isinstance(answer, Response) and answer.status == 200:
                            assert answer.headers.get("Call-ID") == call_id
                            return
        raise AssertionError(f"the server no longer answers OPTIONS over UDP:\n{self.server.log_tail()}")

    def exchange(self, cases: list[tuple[str, bytes, Expect]]) -> list[str]:
        """Send every datagram from its own socket, a barrier after each batch, collect the final statuses;
        what went wrong, as text."""
        sockets = []
        batch_datagrams = batch_bytes = 0
        for _, data, _ in cases:
            if batch_datagrams >= BATCH_DATAGRAMS or batch_bytes + len(data) > BATCH_BYTES:
                self.barrier()
                batch_datagrams = batch_bytes = 0
            sock = self.new_socket()
            sock.sendto(data, (HOST, self.server.sip_port))
            sockets.append(sock)
            batch_datagrams += 1
            batch_bytes += len(data)
        self.barrier()
        answers = self._collect(sockets, {index for index, case in enumerate(cases) if case[2].status is not None})
        return [
            failure
            for (label, _, expect), statuses in zip(cases, answers, strict=True)
            if (failure := judge(label, expect, statuses)) is not None
        ]

    @staticmethod
    def _collect(sockets: list[socket.socket], awaited: set[int]) -> list[list[int]]:
        """Final statuses per socket: until every awaited socket has one (bounded), and for QUIET_S at least."""
        answers: list[list[int]] = [[] for _ in sockets]
        start = time.monotonic()
        deadline, quiet_until = start + ANSWER_TIMEOUT_S, start + QUIET_S
        with selectors.DefaultSelector() as selector:
            for index, sock in enumerate(sockets):
                selector.register(sock, selectors.EVENT_READ, index)
            while (remaining := (deadline if awaited else min(deadline, quiet_until)) - time.monotonic()) > 0:
                for key, _ in selector.select(remaining):
                    index = key.data
                    answers[index] += [status for data in drain(sockets[index]) for status in final_statuses(data)]
                    if answers[index]:
                        awaited.discard(index)
        return answers


# The test's TCP side.


@dataclass
class TcpOutcome:
    statuses: list[int]
    closed: bool  # the server ended the connection (FIN or RST) within CLOSE_TIMEOUT_S


def tcp_exchange(port: int, payloads: list[tuple[bytes, bool]]) -> list[TcpOutcome]:
    """Each payload on a connection of its own, all at once; `True` beside a payload ends the test's side of
    the connection after it (as a phone that has nothing more to say), `False` leaves it open, so that only the
    server can close it. Reads every connection until the server closes it, bounded."""
    sockets = []
    for data, half_close in payloads:
        sock = socket.create_connection((HOST, port), timeout=ANSWER_TIMEOUT_S)
        sockets.append(sock)
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server may close before it has read it all (a message too large, say)
            pass
        sock.setblocking(False)
    received = [bytearray() for _ in sockets]
    closed = [False for _ in sockets]
    deadline = time.monotonic() + CLOSE_TIMEOUT_S
    with selectors.DefaultSelector() as selector:
        for index, sock in enumerate(sockets):
            selector.register(sock, selectors.EVENT_READ, index)
        while not all(closed) and (remaining := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(remaining):
                index = key.data
                try:
                    chunk = sockets[index].recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    chunk = b""
                if chunk:
                    received[index] += chunk
                else:
                    closed[index] = True
                    selector.unregister(sockets[index])
    for sock in sockets:
        sock.close()
    return [TcpOutcome(stream_statuses(bytes(data)), done) for data, done in zip(received, closed, strict=True)]


def receive_response(sock: socket.socket) -> Response:
    """The next final response on a blocking TCP socket with a timeout."""
    framer = StreamFramer()
    while True:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        for message in framer.feed(chunk):
            response = parse_message(message, framed=True)
            if isinstance(response, Response) and response.status >= 200:
                return response


# Fixtures and checks.


@pytest.fixture(scope="module")
def robust_site(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One server for the module (as the `site` fixture builds it: MD5 offered first, for sipp)."""
    env = {"TONALITE_SIP_DIGEST_ALGORITHMS": "MD5,SHA-256"}
    yield from _site(sqlite_template, tmp_path_factory.mktemp("robustness"), env)


@pytest.fixture(scope="module")
def udp(robust_site: Site) -> Iterator[UdpBench]:
    bench = UdpBench(robust_site.server)
    yield bench
    bench.close()


def log_size(site: Site) -> int:
    return (site.server.data_dir / "server.log").stat().st_size


def assert_healthy(site: Site, udp: UdpBench, log_from: int = 0) -> None:
    """Alive, answering, and nothing in its log (from offset `log_from`) that says something escaped."""
    assert site.server.alive(), site.server.log_tail()
    udp.barrier()
    with (site.server.data_dir / "server.log").open("rb") as handle:
        handle.seek(log_from)
        log = handle.read().decode(errors="replace")
    for marker in LOG_MARKERS:
        at = log.find(marker)
        assert at < 0, f"server.log holds {marker!r}:\n{log[max(0, at - 2000) : at + 3000]}"


def report(failures: list[str], count: int) -> str:
    return f"{len(failures)} of {count} messages were not answered as expected:\n" + "\n".join(failures[:40])


# The tests.


def test_every_torture_message_over_udp_gets_its_status_or_nothing(robust_site: Site, udp: UdpBench) -> None:
    log_from = log_size(robust_site)
    cases = [(name, torture.fixture(name), table_expectation(name)) for name in sorted(torture.EXPECTED)]
    # baddn as archived lacks the empty line (dropped); with it restored it is answered 400 (see its README).
    cases.append(("baddn with its empty line", torture.fixture("baddn") + b"\r\n", Expect(400)))
    failures = udp.exchange(cases)
    assert not failures, report(failures, len(cases))
    assert_healthy(robust_site, udp, log_from)


def test_truncated_datagrams_get_400_or_nothing(robust_site: Site, udp: UdpBench) -> None:
    log_from = log_size(robust_site)
    line = robust_site.lines[0]
    bases = [(name, torture.fixture(name)) for name in TRUNCATED_FIXTURES]
    bases += [("REGISTER", register_request(line.username)), ("INVITE", invite_request(line.username, "1002"))]
    cases: list[tuple[str, bytes, Expect]] = []
    for name, whole in bases:
        for cut in cut_points(freshen(whole, "c000.")):  # every mark as long: the same cut points
            prefix = freshen(whole, f"c{len(cases):03d}.")[:cut]
            # A prefix that is still a whole message (no Content-Length to contradict a shorter body, as in
            # RFC 2543's inv2543) is answered as one; every other prefix is refused or dropped, never a 5xx.
            cases.append((f"{name}[:{cut}]", prefix, endpoint_verdict(prefix)))
    assert all(expect.status in REFUSALS for _, _, expect in cases if expect.status is not None)
    failures = udp.exchange(cases)
    assert not failures, report(failures, len(cases))
    assert_healthy(robust_site, udp, log_from)


def test_random_and_mutated_datagrams_get_a_refusal_an_ordinary_answer_or_nothing(
    robust_site: Site, udp: UdpBench
) -> None:
    log_from = log_size(robust_site)
    rng = random.Random(SEED)
    bases = [(name, torture.fixture(name)) for name in MUTATED_FIXTURES]
    bases += [("REGISTER", register_request(robust_site.lines[1].username))]
    datagrams = extreme_datagrams() + random_datagrams(rng) + mutated_datagrams(rng, bases)
    cases = [(label, data, endpoint_verdict(data)) for label, data in datagrams]
    failures = udp.exchange(cases)
    assert not failures, report(failures, len(cases))
    assert_healthy(robust_site, udp, log_from)


def test_every_torture_message_over_tcp_is_answered_or_the_connection_closed(robust_site: Site, udp: UdpBench) -> None:
    log_from = log_size(robust_site)
    names = sorted(torture.EXPECTED)
    payloads, expectations = [], []
    for name in names:
        data = freshen(torture.fixture(name), "tcp.")
        try:
            framed = StreamFramer().feed(data)
        except ParseError:  # no Content-Length (written for a datagram): the server must close, not hang
            expected = table_expectation(name)
            payloads.append((data, False))
            expectations.append(Expect(expected.status, expected.silent, optional=True))
            continue
        payloads.append((data, True))
        # A Content-Length beyond the octets sent leaves the message incomplete: nothing to answer yet.
        expectations.append(table_expectation(name) if framed else SILENT)
    outcomes = tcp_exchange(robust_site.server.sip_port, payloads)
    failures = [
        failure
        for name, expect, outcome in zip(names, expectations, outcomes, strict=True)
        if (failure := judge(f"{name} over TCP", expect, outcome.statuses)) is not None
    ]
    failures += [
        f"{name} over TCP: still open" for name, outcome in zip(names, outcomes, strict=True) if not outcome.closed
    ]
    assert not failures, report(failures, len(names))
    assert_healthy(robust_site, udp, log_from)


def test_a_connection_sending_garbage_is_closed_by_the_server(robust_site: Site, udp: UdpBench) -> None:
    log_from = log_size(robust_site)
    rng = random.Random(SEED + 1)
    no_empty_line = rng.randbytes(MAX_MESSAGE_BYTES + 5000).replace(b"\r", b"\n")
    too_long = b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nContent-Length: 70000\r\n\r\n"
    garbage: list[tuple[str, bytes, Expect]] = [
        ("more than 65535 octets without an empty line", no_empty_line, SILENT),
        ("a word and an empty line", b"garbage\r\n\r\n", SILENT),
        ("random octets and an empty line", rng.randbytes(4000).replace(b"\r\n\r\n", b"") + b"\r\n\r\n", SILENT),
        ("NUL and invalid UTF-8", b"\x00\xff\xfe\xc3\x28" * 200 + b"\r\n\r\n", SILENT),
        ("a negative Content-Length", b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nContent-Length: -5\r\n\r\n", SILENT),
        ("a Content-Length of 99999999", b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nl: 99999999\r\n\r\n", SILENT),
        ("a message larger than the limit", too_long + bytes(70000), SILENT),
        # Framing is lost with the noise; the OPTIONS before it may or may not have been answered by then.
        ("an OPTIONS, then noise", options_request("tcp-noise", "TCP") + b"noise\r\n\r\n", Expect(200, optional=True)),
    ]
    outcomes = tcp_exchange(robust_site.server.sip_port, [(data, False) for _, data, _ in garbage])
    failures = [
        failure
        for (label, _, expect), outcome in zip(garbage, outcomes, strict=True)
        if (failure := judge(label, expect, outcome.statuses)) is not None
    ]
    failures += [
        f"{label}: still open" for (label, _, _), outcome in zip(garbage, outcomes, strict=True) if not outcome.closed
    ]
    assert not failures, report(failures, len(garbage))
    assert_healthy(robust_site, udp, log_from)


def test_stalled_partial_messages_block_nothing_else(robust_site: Site, udp: UdpBench) -> None:
    log_from = log_size(robust_site)
    port = robust_site.server.sip_port
    options = options_request("slow-loris", "TCP")
    head_end = options.find(b"\r\n\r\n")
    mid_header = options[: head_end // 2]
    with_body = sip_request("OPTIONS", f"sip:{HOST}", "robustness", transport="TCP", body=b"x" * 500)[:-400]
    stalled = []
    try:
        for partial in [mid_header, with_body, b"OPT"]:
            for _ in range(SLOW_LORIS_CONNECTIONS):
                sock = socket.create_connection((HOST, port), timeout=ANSWER_TIMEOUT_S)
                stalled.append(sock)
                sock.sendall(partial)

        # Meanwhile a phone registers over UDP, and another connection is answered at once.
        line = robust_site.lines[2]
        phone = UdpPhone(port, line.username, line.password, line.domain)
        try:
            assert phone.register(expires=600)[1].status == 200
        finally:
            phone.close()
        with socket.create_connection((HOST, port), timeout=ANSWER_TIMEOUT_S) as other:
            other.sendall(options_request("beside-the-stalled", "TCP"))
            assert receive_response(other).status == 200

        # A stalled message was only waiting: its end gets it answered.
        stalled[0].sendall(options[len(mid_header) :])
        assert receive_response(stalled[0]).status == 200
        assert robust_site.wait_registrations(2, bool), "the registration reached the API"
    finally:
        for sock in stalled:
            sock.close()
    assert_healthy(robust_site, udp, log_from)


def test_after_all_of_it_the_server_is_up_and_a_normal_register_succeeds(robust_site: Site, udp: UdpBench) -> None:
    assert_healthy(robust_site, udp)
    phone_port = free_port()
    users = users_file(robust_site.work_dir, robust_site.lines[:1])
    run = run_sipp(
        "register",
        robust_site.server.sip_port,
        users,
        robust_site.work_dir,
        keys={"expires": "600"},
        local_port=phone_port,
    )
    assert run.all_passed, run.output

    def registered_from_sipp(items: list[dict[str, Any]]) -> bool:
        return any(str(item["source"]) == f"udp:{HOST}:{phone_port}" for item in items)

    assert registered_from_sipp(robust_site.wait_registrations(0, registered_from_sipp))
    assert_healthy(robust_site, udp)
