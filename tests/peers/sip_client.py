"""A minimal SIP user agent over UDP for the tests sipp cannot run: SHA-256 digest, raw bytes, comparisons.

It builds requests by hand and reads answers with Tonalite's parser; the server's side it tests (digest
verification, registrar rules) is independent of the client code it shares (message serialisation).
"""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass, field

from tonalite.sip.auth import DigestChallenge, answer_challenge, first_supported_challenge
from tonalite.sip.message import Headers, Request, Response, serialise
from tonalite.sip.parser import parse_message

RECEIVE_TIMEOUT_S = 3.0


@dataclass
class UdpPhone:
    server_port: int
    username: str
    password: str
    domain: str
    sock: socket.socket = field(init=False)
    call_id: str = field(default_factory=lambda: secrets.token_hex(8))
    cseq: int = 0

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(RECEIVE_TIMEOUT_S)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, ("127.0.0.1", self.server_port))

    def receive(self) -> Response:
        """The next response; a bounded wait (socket.timeout fails the test)."""
        while True:
            data, _ = self.sock.recvfrom(65535)
            message = parse_message(data)
            if isinstance(message, Response) and message.status != 100:
                return message

    def register_request(self, expires: int = 600, authorization: str | None = None) -> Request:
        self.cseq += 1
        uri = f"sip:{self.domain}"
        headers = Headers(
            [
                ("Via", f"SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{secrets.token_hex(8)};rport"),
                ("Max-Forwards", "70"),
                ("From", f"<sip:{self.username}@{self.domain}>;tag={secrets.token_hex(4)}"),
                ("To", f"<sip:{self.username}@{self.domain}>"),
                ("Call-ID", self.call_id),
                ("CSeq", f"{self.cseq} REGISTER"),
                ("Contact", f"<sip:{self.username}@127.0.0.1:{self.port}>"),
                ("Expires", str(expires)),
                ("User-Agent", "tonalite-test-phone"),
            ]
        )
        if authorization is not None:
            headers.add("Authorization", authorization)
        return Request("REGISTER", uri, headers)

    def register(self, expires: int = 600) -> tuple[Response, Response, DigestChallenge]:
        """REGISTER, then answer the topmost challenge we support; the 401 and the final answer."""
        self.send_raw(serialise(self.register_request(expires)))
        challenge_response = self.receive()
        challenge = first_supported_challenge(challenge_response.headers.get_all("WWW-Authenticate"))
        assert challenge is not None, challenge_response
        credentials = answer_challenge(
            challenge, "REGISTER", f"sip:{self.domain}", self.username, self.password, secrets.token_hex(8), 1
        )
        self.send_raw(serialise(self.register_request(expires, str(credentials))))
        return challenge_response, self.receive(), challenge
