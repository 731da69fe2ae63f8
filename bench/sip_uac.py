"""A minimal SIP user agent client over UDP for load generators: one line's REGISTER, then calls (INVITE, 407,
ACK, INVITE with credentials, 200, ACK, BYE), all on one socket.

Requests are built by hand and answers read with Tonalite's own parser and digest code; the server's side they
load (transactions, dialogs, digest verification, the call core) shares none of this client's code beyond
parsing and serialising. A request is resent on RFC 3261's timers (T1 doubling, up to T2; an INVITE no more
once a provisional answer came) and fails after 64*T1; a 200 to an INVITE that comes again is ACKed again.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from dataclasses import dataclass, field
from typing import cast

from tonalite.services.lines import LineCredentials
from tonalite.sip.auth import answer_challenge, first_supported_challenge
from tonalite.sip.message import Headers, Request, Response, serialise
from tonalite.sip.parser import ParseError, parse_message
from tonalite.sip.responses import response_to

T1_S = 0.5
T2_S = 4.0
TRANSACTION_TIMEOUT_S = 64 * T1_S
HOST = "127.0.0.1"

Address = tuple[str, int]


class SipFailure(Exception):
    """A request got a final answer other than the one expected, or none in time."""


@dataclass
class Dialog:
    """A call this client placed: what in-dialog requests need, and whether the server hung up (its BYE)."""

    call_id: str
    local: str  # our From, with its tag
    remote: str  # the server's To, with its tag
    target: str  # the Request-URI of in-dialog requests: the 200's Contact
    routes: list[str]
    answer: bytes  # the SDP of the 200
    cseq: int
    hung_up_by_server: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Pending:
    answered: asyncio.Future[Response]
    proceeding: bool = False


def _transaction_key(headers: Headers) -> tuple[str, str]:
    return headers.get("Call-ID") or "", " ".join((headers.get("CSeq") or "").split())


def _contact_uri(value: str) -> str:
    """The URI of a Contact value, in angle brackets or not."""
    if "<" in value:
        return value.split("<", 1)[1].split(">", 1)[0]
    return value.split(";", 1)[0].strip()


class SipUac(asyncio.DatagramProtocol):
    def __init__(self, server: Address, line: LineCredentials) -> None:
        self._server = server
        self._line = line
        self._transport: asyncio.DatagramTransport | None = None
        self._pending: dict[tuple[str, str], _Pending] = {}
        self._acks: dict[str, bytes] = {}  # Call-ID -> the ACK of its 200, for a 200 that comes again
        self._dialogs: dict[str, Dialog] = {}
        self._cnonces = itertools.count(1)
        self.retransmissions = 0

    @classmethod
    async def open(cls, server: Address, line: LineCredentials) -> SipUac:
        loop = asyncio.get_running_loop()
        _, uac = await loop.create_datagram_endpoint(lambda: cls(server, line), local_addr=(HOST, 0))
        return uac

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)  # uvloop's is not a subclass

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    @property
    def _port(self) -> int:
        assert self._transport is not None
        return int(self._transport.get_extra_info("sockname")[1])

    @property
    def _contact(self) -> str:
        return f"<sip:{self._line.username}@{HOST}:{self._port}>"

    def _send(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.sendto(data, self._server)

    # Incoming datagrams.

    def datagram_received(self, data: bytes, addr: Address) -> None:
        try:
            message = parse_message(data)
        except ParseError:
            return
        if isinstance(message, Response):
            self._response_received(message)
        else:
            self._request_received(message)

    def _response_received(self, response: Response) -> None:
        key = _transaction_key(response.headers)
        pending = self._pending.get(key)
        if pending is None:
            ack = self._acks.get(key[0])
            if ack is not None and key[1].endswith("INVITE") and 200 <= response.status < 300:
                self._send(ack)  # our ACK was lost: the server resends its 200
            return
        if response.status < 200:
            pending.proceeding = True
        elif not pending.answered.done():
            pending.answered.set_result(response)

    def _request_received(self, request: Request) -> None:
        if request.method == "ACK":
            return
        dialog = self._dialogs.get(request.headers.get("Call-ID") or "")
        if request.method == "BYE" and dialog is not None:
            dialog.hung_up_by_server.set()
            self._send(serialise(response_to(request, 200)))
        else:
            self._send(serialise(response_to(request, 481 if request.method == "BYE" else 501)))

    # Requests.

    async def _transaction(self, request: Request) -> Response:
        """Send `request` until its final answer comes (resent on Timer A/E), or fail after 64*T1."""
        key = _transaction_key(request.headers)
        pending = _Pending(asyncio.get_running_loop().create_future())
        self._pending[key] = pending
        data, interval = serialise(request), T1_S
        try:
            async with asyncio.timeout(TRANSACTION_TIMEOUT_S):
                self._send(data)
                while True:
                    done, _ = await asyncio.wait([pending.answered], timeout=interval)
                    if done:
                        return pending.answered.result()
                    if not (pending.proceeding and request.method == "INVITE"):
                        self._send(data)
                        self.retransmissions += 1
                    interval = min(interval * 2, T2_S)
        except TimeoutError:
            raise SipFailure(f"{request.method}: no final answer within {TRANSACTION_TIMEOUT_S:.0f} s") from None
        finally:
            del self._pending[key]

    def _request(
        self, method: str, uri: str, call_id: str, cseq: int, local: str, remote: str, extra: list[tuple[str, str]]
    ) -> Request:
        branch = f"z9hG4bK{secrets.token_hex(8)}"
        headers = Headers(
            [
                ("Via", f"SIP/2.0/UDP {HOST}:{self._port};branch={branch};rport"),
                ("Max-Forwards", "70"),
                ("From", local),
                ("To", remote),
                ("Call-ID", call_id),
                ("CSeq", f"{cseq} {method}"),
                *extra,
            ]
        )
        return Request(method, uri, headers)

    def _credentials(self, challenge: Response, header: str, method: str, uri: str) -> str:
        found = first_supported_challenge(challenge.headers.get_all(header))
        if found is None:
            raise SipFailure(f"{method}: {challenge.status} without a challenge we can answer")
        line = self._line
        cnonce = f"{secrets.token_hex(4)}{next(self._cnonces)}"
        return str(answer_challenge(found, method, uri, line.username, line.password, cnonce, 1))

    async def register(self, expires: int = 3600) -> None:
        """REGISTER this socket as the line's contact, answering the registrar's challenge."""
        line = self._line
        uri, call_id = f"sip:{line.domain}", secrets.token_hex(8)
        aor = f"<sip:{line.username}@{line.domain}>"
        local = f"{aor};tag={secrets.token_hex(4)}"
        extra = [("Contact", self._contact), ("Expires", str(expires))]
        response = await self._transaction(self._request("REGISTER", uri, call_id, 1, local, aor, extra))
        if response.status == 401:
            authorization = ("Authorization", self._credentials(response, "WWW-Authenticate", "REGISTER", uri))
            request = self._request("REGISTER", uri, call_id, 2, local, aor, [*extra, authorization])
            response = await self._transaction(request)
        if response.status != 200:
            raise SipFailure(f"REGISTER: {response.status} {response.reason}")

    async def invite(self, dialled: str, offer: bytes) -> Dialog:
        """Call `dialled` (a number of the line's domain) with the SDP `offer`; the dialog once the 200 is ACKed."""
        line = self._line
        uri, call_id = f"sip:{dialled}@{line.domain}", secrets.token_hex(10)
        local = f"<sip:{line.username}@{line.domain}>;tag={secrets.token_hex(4)}"
        remote = f"<{uri}>"
        extra = [("Contact", self._contact), ("Content-Type", "application/sdp")]
        request = self._request("INVITE", uri, call_id, 1, local, remote, extra)
        request.body = offer
        response = await self._transaction(request)
        if response.status == 407:
            self._ack_failure(request, response)
            credentials = ("Proxy-Authorization", self._credentials(response, "Proxy-Authenticate", "INVITE", uri))
            request = self._request("INVITE", uri, call_id, 2, local, remote, [*extra, credentials])
            request.body = offer
            response = await self._transaction(request)
        if response.status != 200:
            self._ack_failure(request, response)
            raise SipFailure(f"INVITE: {response.status} {response.reason}")
        return self._confirm(request, response)

    def _ack_failure(self, invite: Request, response: Response) -> None:
        """The ACK of a non-2xx final answer: the INVITE's branch, the answer's To (RFC 3261 §17.1.1.3)."""
        headers = Headers([(name, invite.headers.get(name) or "") for name in ("Via", "Max-Forwards", "From")])
        headers.add("To", response.headers.get("To") or "")
        headers.add("Call-ID", invite.headers.get("Call-ID") or "")
        headers.add("CSeq", f"{_transaction_key(invite.headers)[1].split()[0]} ACK")
        self._send(serialise(Request("ACK", invite.uri, headers)))

    def _confirm(self, invite: Request, response: Response) -> Dialog:
        """Build the dialog from the 200 and ACK it."""
        headers = invite.headers
        cseq = int(_transaction_key(headers)[1].split()[0])
        contact = response.headers.get("Contact")
        dialog = Dialog(
            call_id=headers.get("Call-ID") or "",
            local=headers.get("From") or "",
            remote=response.headers.get("To") or "",
            target=_contact_uri(contact) if contact else invite.uri,
            routes=list(reversed(response.headers.get_all("Record-Route"))),
            answer=response.body,
            cseq=cseq,
        )
        ack = self._in_dialog(dialog, "ACK", cseq)
        self._acks[dialog.call_id] = serialise(ack)
        self._dialogs[dialog.call_id] = dialog
        self._send(self._acks[dialog.call_id])
        return dialog

    def _in_dialog(self, dialog: Dialog, method: str, cseq: int) -> Request:
        routes = [("Route", route) for route in dialog.routes]
        return self._request(method, dialog.target, dialog.call_id, cseq, dialog.local, dialog.remote, routes)

    async def bye(self, dialog: Dialog) -> None:
        """Hang up; SipFailure unless the server answers 200."""
        dialog.cseq += 1
        try:
            response = await self._transaction(self._in_dialog(dialog, "BYE", dialog.cseq))
        finally:
            self._acks.pop(dialog.call_id, None)
            self._dialogs.pop(dialog.call_id, None)
        if response.status != 200:
            raise SipFailure(f"BYE: {response.status} {response.reason}")
