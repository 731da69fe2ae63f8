"""Minimal SIP user agents for the tests sipp cannot run: SHA-256 digest, TCP and TLS, raw bytes, comparisons.

They build requests by hand and read answers with Tonalite's message parser; the server's side they test
(digest verification, registrar rules, transports) is independent of the client code they share (message
serialisation and parsing). `UdpPhone` sends datagrams; `StreamPhone` holds one TCP or TLS connection and
cuts what comes back on it by itself (not with the server's StreamFramer), counting the CRLF keep-alive
answers (RFC 5626 §4.4.1) it finds between messages.
"""

from __future__ import annotations

import secrets
import socket
import ssl
import struct
from dataclasses import dataclass, field

from tonalite.sip.auth import DigestChallenge, answer_challenge, first_supported_challenge
from tonalite.sip.message import Headers, Message, Request, Response, serialise
from tonalite.sip.parser import parse_message
from tonalite.sip.responses import response_to

RECEIVE_TIMEOUT_S = 3.0
MAX_MESSAGE_BYTES = 65535


@dataclass
class Phone:
    """What every test phone does; subclasses move the bytes. `via_host` and `via_port` put another address
    than the socket's in the Via and the Contact, as a phone behind a NAT does."""

    server_port: int
    username: str
    password: str
    domain: str
    call_id: str = field(default_factory=lambda: secrets.token_hex(8))
    cseq: int = 0
    via_host: str = "127.0.0.1"
    via_port: int | None = None
    port: int = field(init=False, default=0)  # the local port of the socket, set by the subclass

    @property
    def transport(self) -> str:
        """The Via transport token."""
        raise NotImplementedError

    @property
    def contact(self) -> str:
        return f"<sip:{self.username}@{self.via_host}:{self.via_port or self.port}>"

    def close(self) -> None:
        raise NotImplementedError

    def send_raw(self, data: bytes) -> None:
        raise NotImplementedError

    def receive_message(self) -> Message:
        """The next message, whatever it is; a bounded wait (socket.timeout fails the test)."""
        raise NotImplementedError

    def receive(self) -> Response:
        """The next final or non-100 response."""
        while True:
            message = self.receive_message()
            if isinstance(message, Response) and message.status != 100:
                return message

    def request(self, method: str, extra: list[tuple[str, str]] | None = None) -> Request:
        """An out-of-dialog request to the server's domain, a new CSeq on this phone's Call-ID."""
        self.cseq += 1
        sent_by = f"{self.via_host}:{self.via_port or self.port}"
        headers = Headers(
            [
                ("Via", f"SIP/2.0/{self.transport} {sent_by};branch=z9hG4bK{secrets.token_hex(8)};rport"),
                ("Max-Forwards", "70"),
                ("From", f"<sip:{self.username}@{self.domain}>;tag={secrets.token_hex(4)}"),
                ("To", f"<sip:{self.username}@{self.domain}>"),
                ("Call-ID", self.call_id),
                ("CSeq", f"{self.cseq} {method}"),
                ("Contact", self.contact),
                *(extra or []),
            ]
        )
        return Request(method, f"sip:{self.domain}", headers)

    def register_request(self, expires: int = 600, authorization: str | None = None) -> Request:
        extra = [("Expires", str(expires)), ("User-Agent", "tonalite-test-phone")]
        if authorization is not None:
            extra.append(("Authorization", authorization))
        return self.request("REGISTER", extra)

    def answer(
        self, challenge_response: Response, method: str = "REGISTER", uri: str | None = None
    ) -> tuple[str, DigestChallenge]:
        """The Authorization for a request (a REGISTER by default) answering the topmost challenge we support,
        and that challenge."""
        challenge = first_supported_challenge(challenge_response.headers.get_all("WWW-Authenticate"))
        assert challenge is not None, challenge_response
        credentials = answer_challenge(
            challenge, method, uri or f"sip:{self.domain}", self.username, self.password, secrets.token_hex(8), 1
        )
        return str(credentials), challenge

    def register(self, expires: int = 600) -> tuple[Response, Response, DigestChallenge]:
        """REGISTER, then answer the topmost challenge we support; the 401 and the final answer."""
        self.send_raw(serialise(self.register_request(expires)))
        challenge_response = self.receive()
        authorization, challenge = self.answer(challenge_response)
        self.send_raw(serialise(self.register_request(expires, authorization)))
        return challenge_response, self.receive(), challenge

    def ask(self, method: str) -> Response:
        """Send an out-of-dialog request with no body and wait for its response."""
        self.send_raw(serialise(self.request(method)))
        return self.receive()

    def subscribe_request(
        self, box: str, expires: int, from_tag: str, to_tag: str | None = None, authorization: str | None = None
    ) -> Request:
        """A message-summary SUBSCRIBE to the box `box` (a number or a SIP username); with `to_tag`, inside the
        subscription's dialog (whose From tag is `from_tag`)."""
        extra = [
            ("Event", "message-summary"),
            ("Accept", "application/simple-message-summary"),
            ("Expires", str(expires)),
        ]
        if authorization is not None:
            extra.append(("Authorization", authorization))
        request = self.request("SUBSCRIBE", extra)
        request.uri = f"sip:{box}@{self.domain}"
        request.headers.set("From", f"<sip:{self.username}@{self.domain}>;tag={from_tag}")
        request.headers.set("To", f"<{request.uri}>" + (f";tag={to_tag}" if to_tag else ""))
        return request

    def subscribe(self, box: str, expires: int, from_tag: str) -> Response:
        """SUBSCRIBE out of dialog, answer the challenge; the final answer."""
        self.send_raw(serialise(self.subscribe_request(box, expires, from_tag)))
        authorization, _ = self.answer(self.receive(), "SUBSCRIBE", f"sip:{box}@{self.domain}")
        self.send_raw(serialise(self.subscribe_request(box, expires, from_tag, authorization=authorization)))
        return self.receive()

    def receive_notify(self) -> Request:
        """The next message, which must be a NOTIFY; answered 200, as a phone does."""
        message = self.receive_message()
        assert isinstance(message, Request) and message.method == "NOTIFY", message
        self.send_raw(serialise(response_to(message, 200, to_tag=secrets.token_hex(4))))
        return message


@dataclass
class UdpPhone(Phone):
    sock: socket.socket = field(init=False)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(RECEIVE_TIMEOUT_S)
        self.port = int(self.sock.getsockname()[1])

    @property
    def transport(self) -> str:
        return "UDP"

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, ("127.0.0.1", self.server_port))

    def receive_message(self) -> Message:
        data, _ = self.sock.recvfrom(MAX_MESSAGE_BYTES)
        return parse_message(data)


class ConnectionClosed(Exception):
    """The server closed the connection."""


@dataclass
class StreamPhone(Phone):
    """One TCP connection to `server_port`, or TLS when `tls` is given (verified against `server_name`).
    `contact_port` is the port the Contact names (a phone's listening port), the socket's by default."""

    tls: ssl.SSLContext | None = None
    server_name: str = "127.0.0.1"
    contact_port: int | None = None
    pongs: int = 0
    sock: socket.socket = field(init=False)
    _buffer: bytearray = field(init=False, default_factory=bytearray)

    def __post_init__(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.server_port), timeout=RECEIVE_TIMEOUT_S)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.server_name) if self.tls else sock
        self.port = int(self.sock.getsockname()[1])

    @property
    def transport(self) -> str:
        return "TLS" if self.tls is not None else "TCP"

    @property
    def contact(self) -> str:
        port = self.contact_port or self.via_port or self.port
        return f"<sip:{self.username}@{self.via_host}:{port};transport={self.transport.lower()}>"

    def close(self) -> None:
        self.sock.close()

    def reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0) instead of a FIN, as a phone that loses power mid-way would."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def ping(self) -> None:
        """A CRLF CRLF keep-alive (RFC 5626 §4.4.1)."""
        self.sock.sendall(b"\r\n\r\n")

    def wait_pongs(self, count: int) -> None:
        """Read until `count` CRLF answers have come in all (messages read meanwhile are a failure)."""
        while True:
            self._skip_pongs()
            if self.pongs >= count:
                return
            assert not self._buffer, f"a message where a CRLF keep-alive answer was awaited: {bytes(self._buffer)!r}"
            self._read_more()

    def receive_message(self) -> Message:
        while True:
            self._skip_pongs()
            end = self._buffer.find(b"\r\n\r\n")
            if end >= 0:
                total = end + 4 + _content_length(bytes(self._buffer[:end]))
                if len(self._buffer) >= total:
                    data = bytes(self._buffer[:total])
                    del self._buffer[:total]
                    return parse_message(data, framed=True)
            self._read_more()

    def at_end(self) -> bool:
        """Whether the server has closed the connection (waits RECEIVE_TIMEOUT_S at most for it)."""
        try:
            self._read_more()
        except ConnectionClosed:
            return True
        return False

    def _skip_pongs(self) -> None:
        while self._buffer.startswith(b"\r\n"):
            del self._buffer[:2]
            self.pongs += 1

    def _read_more(self) -> None:
        try:
            data = self.sock.recv(MAX_MESSAGE_BYTES)
        except ConnectionResetError:
            data = b""
        if not data:
            raise ConnectionClosed
        self._buffer += data


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            return int(value.strip())
    raise AssertionError(f"no Content-Length in {head!r}")
