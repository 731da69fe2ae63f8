"""The SIP endpoint, sans-IO: bytes and a clock in; bytes to send, events for the application out.

It parses what arrives, matches it to transactions (RFC 3261 §17), stamps `received`/`rport` on the top
Via (§18.2.1, RFC 3581), answers what is malformed with 400 (or drops it), answers CANCEL itself
(§9.2), and keeps one deadline heap for every transaction's timers. The application (the registrar and
the call core) sees only events and answers through `send_response` / `send_request`.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from tonalite.sip.headers import (
    HeaderError,
    Via,
    cseq_of,
    first_contact_of,
    from_of,
    remember_via,
    to_of,
    top_via,
)
from tonalite.sip.message import Message, Request, Response, serialise
from tonalite.sip.parser import ParseError, parse_message
from tonalite.sip.responses import response_to
from tonalite.sip.transaction import (
    AckReceived,
    ClientInviteState,
    ClientInviteTransaction,
    ClientKey,
    ClientNonInviteTransaction,
    ClientTransaction,
    ResponseReceived,
    Rfc2543Key,
    SendMessage,
    ServerInviteState,
    ServerInviteTransaction,
    ServerKey,
    ServerNonInviteTransaction,
    ServerTransaction,
    Terminated,
    TimedOut,
    TimerValues,
    TransportError,
    build_cancel,
    cancelled_key,
    client_key,
    server_key,
    trying,
)
from tonalite.sip.transport import Transport
from tonalite.sip.uri import AbsoluteUri, SipUri, UriError, parse_uri


class Peer(NamedTuple):
    """Where a message came from or goes to; `connection` names the TCP/TLS connection it travels on.

    A named tuple: one is made for every datagram, and a frozen dataclass costs twice as much to build."""

    transport: Transport
    host: str
    port: int
    connection: int | None = None

    @property
    def reliable(self) -> bool:
        return self.transport != Transport.UDP


@dataclass(slots=True)
class IncomingRequest:
    """A new request; answer it with `send_response(transaction, …)`."""

    transaction: int
    request: Request
    peer: Peer


@dataclass(slots=True)
class IncomingAck:
    """An ACK for a 2xx: it belongs to the dialog, not to a transaction (§17.2.1, §13.3.1.4)."""

    request: Request
    peer: Peer


@dataclass(slots=True)
class IncomingCancel:
    """The CANCEL of a pending INVITE was answered 200; the application must now end the INVITE (487)."""

    invite_transaction: int
    request: Request


@dataclass(slots=True)
class IncomingResponse:
    transaction: int
    response: Response


@dataclass(slots=True)
class TransactionFailed:
    """No final response came (client: treat as 408), no ACK for a final response (server INVITE), or the
    transport could not carry the transaction's messages (`timed_out` is then False)."""

    transaction: int
    timed_out: bool


Event = IncomingRequest | IncomingAck | IncomingCancel | IncomingResponse | TransactionFailed


ANSWERS_KEPT = 250_000
"""Final answers kept for retransmissions at most (see `SipEndpoint._answer_and_forget`): 64*T1 (32 s) of
more answers a second than the node can compute (~7,800), ~0.8 KB each."""


TransactionKey = ServerKey | Rfc2543Key | ClientKey

_Answer = tuple[bytes, str, int, float, int]
"""A final answer kept for the retransmissions of the UDP request it answered: (bytes, host, port, until, the
hash of its transaction key). One flat tuple of plain values, which the garbage collector stops tracking at its
first pass (a tuple holding another only at a later one, after the survivors are frozen): hundreds of
thousands are alive at a time, and a named tuple, a Peer with its enum or a key would be walked by every full
collection. The key is known by its hash, as the datagram is (see `receive`)."""


@dataclass(slots=True)
class _Entry:
    transaction: ClientTransaction | ServerTransaction
    peer: Peer
    key: TransactionKey
    client: bool
    scheduled: float | None = None
    """The deadline of the transaction's entry in the heap: an entry with another deadline is out of date."""
    datagram: int | None = None
    """The hash of the datagram that started a server transaction over UDP, by which its retransmissions are
    recognised (see `SipEndpoint.receive`)."""


@dataclass(slots=True)
class SipEndpoint:
    """One node's SIP endpoint. `sent_by` gives the host:port this node puts in its Via for a transport."""

    sent_by: Callable[[Transport], str]
    new_branch: Callable[[], str]
    timers: TimerValues = field(default_factory=TimerValues)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _entries: dict[int, _Entry] = field(default_factory=dict)
    _by_key: dict[TransactionKey, int] = field(default_factory=dict)
    _by_datagram: dict[int, int] = field(default_factory=dict)
    _deadlines: list[tuple[float, int]] = field(default_factory=list)
    _outgoing: deque[tuple[bytes, Peer]] = field(default_factory=deque)
    _events: deque[Event] = field(default_factory=deque)
    _cancel_on_provisional: set[int] = field(default_factory=set)
    _trying_due: list[tuple[int, Request]] = field(default_factory=list)
    _answers: dict[int, _Answer] = field(default_factory=dict)
    """By the hash of the datagram answered: the final answer of a forgotten transaction (`_answer_and_forget`)."""
    _answered_keys: dict[int, int] = field(default_factory=dict)
    """The hashes of those answers' transaction keys, to their datagram: for a retransmission that is not the
    same bytes (§17.2.3 matches by branch)."""
    _answer_expiry: deque[int] = field(default_factory=deque)

    # What the I/O layer calls.

    def receive(self, data: bytes, peer: Peer, now: float, framed: bool = False) -> None:
        """Take one datagram (or one framed stream message). Never raises on bad input.

        A datagram identical to the one that started a server transaction is a retransmission (a phone
        resends the same bytes): it goes to that transaction without being parsed, which keeps the work of
        an overloaded node, whose queued requests are all retransmitted, from doubling. Datagrams are known
        by their hash (the 64-bit, per-process keyed SipHash of `hash`), not kept whole for 32 s: two
        requests colliding by chance is ~1e-10 likely among 100,000 live transactions, and would only leave
        the second unanswered until the first's transaction ends."""
        datagram = None if framed else hash(data)
        if datagram is not None:
            transaction_id = self._by_datagram.get(datagram)
            if transaction_id is not None:
                entry = self._entries[transaction_id]
                assert isinstance(entry.transaction, ServerInviteTransaction | ServerNonInviteTransaction)
                entry.transaction.receive_retransmission(now)
                self._drain(transaction_id, entry)
                return
            if self._answer_again(datagram, now):
                return
        try:
            message = parse_message(data, framed=framed)
        except ParseError as error:
            if error.request is not None and error.request.method != "ACK":
                self._send(self._stamped_error(error), peer)
            return
        try:
            if isinstance(message, Request):
                self._receive_request(message, peer, now, datagram)
            else:
                self._receive_response(message, now)
        except HeaderError as error:
            if isinstance(message, Request) and message.method != "ACK":
                self._send(response_to(message, 400, f"Bad Header: {error}"[:80]), peer)

    def outgoing(self, now: float) -> list[tuple[bytes, Peer]]:
        """Drain what must be sent, in order.

        A new INVITE gets its 100 Trying here (§17.2.1) unless the application has answered it meanwhile:
        the I/O layer drains after handing the events over, so an INVITE answered at once (a 407, a 404)
        costs one datagram, not two."""
        for transaction_id, invite in self._trying_due:
            entry = self._entries.get(transaction_id)
            transaction = entry.transaction if entry is not None else None
            if isinstance(transaction, ServerInviteTransaction) and not transaction.responded:
                self.send_response(transaction_id, trying(invite), now)
        self._trying_due.clear()
        drained = list(self._outgoing)
        self._outgoing.clear()
        return drained

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def next_deadline(self) -> float | None:
        while self._deadlines:
            deadline, transaction_id = self._deadlines[0]
            entry = self._entries.get(transaction_id)
            if entry is not None and entry.scheduled == deadline:
                return deadline
            heapq.heappop(self._deadlines)
        return None

    def handle_timer(self, now: float) -> None:
        self._forget_answers(now)
        while self._deadlines and self._deadlines[0][0] <= now:
            deadline, transaction_id = heapq.heappop(self._deadlines)
            entry = self._entries.get(transaction_id)
            if entry is None or entry.scheduled != deadline:
                continue
            entry.scheduled = None
            entry.transaction.handle_timer(now)
            self._drain(transaction_id, entry)

    def transport_failed(self, connection: int, now: float) -> None:
        """A connection closed: its transactions fail (§17.1.1.2, §17.1.2.2)."""
        for transaction_id, entry in list(self._entries.items()):
            if entry.peer.connection == connection:
                entry.transaction.transport_failed(now)
                self._drain(transaction_id, entry)

    def peer_unreachable(self, peer: Peer, now: float) -> None:
        """No connection could be opened to `peer`: the client transactions whose requests waited for one
        fail with a transport error (§17.1.1.2, §17.1.2.2), instead of waiting for Timer B or F."""
        address = (peer.transport, peer.host, peer.port)
        for transaction_id, entry in list(self._entries.items()):
            waiting = entry.peer
            if (
                entry.client
                and waiting.connection is None
                and (waiting.transport, waiting.host, waiting.port) == address
            ):
                entry.transaction.transport_failed(now)
                self._drain(transaction_id, entry)

    # What the application calls.

    def send_response(self, transaction: int, response: Response, now: float) -> None:
        """Answer a request in its transaction. A non-INVITE request over UDP answered at once with a final
        response keeps nothing but that answer (`_answer_and_forget`), which is all its Completed state
        would do until Timer J: resend the answer to the request's retransmissions."""
        entry = self._entries.get(transaction)
        if entry is None or entry.client:
            return
        assert isinstance(entry.transaction, ServerInviteTransaction | ServerNonInviteTransaction)
        if (
            entry.datagram is not None
            and response.status >= 200
            and isinstance(entry.transaction, ServerNonInviteTransaction)
            and not entry.transaction.responded
        ):
            self._answer_and_forget(transaction, entry, response, now)
            return
        entry.transaction.send_response(response, now)
        self._drain(transaction, entry)

    def send_response_statelessly(self, transaction: int, response: Response, now: float) -> None:
        """Answer a request and forget its transaction (RFC 3261 §8.2.7), for the challenge of a request
        that failed authentication: a request from anyone then holds no transaction for 32 s, and a spoofed
        INVITE gets one 407, not the ten that Timer G would send its forged source. Over UDP the answer is
        kept by the request's datagram for 64*T1, so that a retransmission gets the same bytes (a phone may
        take a different challenge for a new response); the ACK of a 407 matches no transaction, and the
        dialog layer ignores it. A request already answered (a provisional response included) stays
        stateful."""
        entry = self._entries.get(transaction)
        if entry is None or entry.client:
            return
        assert isinstance(entry.transaction, ServerInviteTransaction | ServerNonInviteTransaction)
        if entry.transaction.responded:
            self.send_response(transaction, response, now)
            return
        self._answer_and_forget(transaction, entry, response, now)

    def send_request(self, request: Request, peer: Peer, now: float) -> int:
        """Start a client transaction: a new top Via with a fresh branch, then the request is sent."""
        sent_by = self._sent_by_parts(peer.transport)
        via = Via(peer.transport.value.upper(), *sent_by, {"branch": self.new_branch(), "rport": None})
        value = str(via)
        remember_via(value, via)
        request.headers.prepend("Via", value)
        reliable = peer.reliable
        transaction: ClientTransaction = (
            ClientInviteTransaction(request, reliable, now, self.timers)
            if request.method == "INVITE"
            else ClientNonInviteTransaction(request, reliable, now, self.timers)
        )
        return self._register(transaction, peer, client_key(request), client=True)

    def send_stateless(self, message: Message, peer: Peer) -> None:
        """Outside any transaction: the ACK of a 2xx, a 2xx retransmitted by the dialog layer."""
        if isinstance(message, Request) and message.method == "ACK" and not message.headers.get("Via"):
            via = Via(peer.transport.value.upper(), *self._sent_by_parts(peer.transport), {"branch": self.new_branch()})
            message.headers.prepend("Via", str(via))
        self._send(message, peer)

    def cancel(self, invite_transaction: int, now: float) -> None:
        """CANCEL a pending INVITE sent by `send_request` (§9.1). Before any provisional response the CANCEL
        waits for one: sent earlier, it could overtake the INVITE, or reach a far end that never got it. After
        a final response there is nothing left to cancel."""
        entry = self._entries.get(invite_transaction)
        if entry is None or not isinstance(entry.transaction, ClientInviteTransaction):
            return
        if entry.transaction.state == ClientInviteState.CALLING:
            self._cancel_on_provisional.add(invite_transaction)
        elif entry.transaction.state == ClientInviteState.PROCEEDING:
            self._send_cancel(entry, now)

    # Inside.

    def _receive_request(self, request: Request, peer: Peer, now: float, datagram: int | None) -> None:
        via = top_via(request)
        cseq_of(request)
        # RFC 4475 §3.1.2.6, §3.1.2.13, §3.1.2.14: a malformed From, To or (first) Contact gets its 400 here,
        # not a challenge or a 200 from an application that has not read them yet. Only the first Contact: a
        # request may list thousands, and parsing them all before authentication would be work for anyone.
        from_of(request)
        to_of(request)
        first_contact_of(request)
        self._stamp_received(request, via, peer)
        refusal = None if request.method == "ACK" else _request_uri_refusal(request)
        if refusal is not None:
            self._send(refusal, peer)
            return
        key = server_key(request)
        transaction_id = self._by_key.get(key)
        if transaction_id is not None:
            entry = self._entries[transaction_id]
            if isinstance(entry.transaction, ServerInviteTransaction | ServerNonInviteTransaction):
                entry.transaction.receive_request(request, now)
                self._drain(transaction_id, entry)
            return
        if request.method != "ACK" and self._answer_again(self._answered_keys.get(hash(key)), now):
            return
        if request.method == "ACK":
            self._events.append(IncomingAck(request, peer))
            return
        if request.method == "CANCEL":
            self._receive_cancel(request, peer, now)
            return
        transaction: ServerTransaction = (
            ServerInviteTransaction(request, peer.reliable, now, self.timers, send_trying=False)
            if request.method == "INVITE"
            else ServerNonInviteTransaction(request, peer.reliable, now, self.timers)
        )
        transaction_id = self._register(transaction, peer, key, client=False)
        if datagram is not None and transaction_id in self._entries:
            self._entries[transaction_id].datagram = datagram
            self._by_datagram[datagram] = transaction_id
        if request.method == "INVITE":
            self._trying_due.append((transaction_id, request))
        self._events.append(IncomingRequest(transaction_id, request, peer))

    def _receive_cancel(self, cancel: Request, peer: Peer, now: float) -> None:
        invite_id = self._by_key.get(cancelled_key(cancel))
        transaction = ServerNonInviteTransaction(cancel, peer.reliable, now, self.timers)
        cancel_id = self._register(transaction, peer, server_key(cancel), client=False)
        invite = self._entries.get(invite_id) if invite_id is not None else None
        if invite is None or not isinstance(invite.transaction, ServerInviteTransaction):
            self.send_response(cancel_id, response_to(cancel, 481), now)
            return
        self.send_response(cancel_id, response_to(cancel, 200), now)
        if invite_id is not None and invite.transaction.state == ServerInviteState.PROCEEDING:
            self._events.append(IncomingCancel(invite_id, cancel))

    def _receive_response(self, response: Response, now: float) -> None:
        transaction_id = self._by_key.get(client_key(response))
        if transaction_id is None:
            return
        entry = self._entries[transaction_id]
        if isinstance(entry.transaction, ClientInviteTransaction | ClientNonInviteTransaction):
            entry.transaction.receive_response(response, now)
            self._drain(transaction_id, entry)
        if transaction_id in self._cancel_on_provisional and entry.transaction.state != ClientInviteState.CALLING:
            self._cancel_on_provisional.discard(transaction_id)
            if entry.transaction.state == ClientInviteState.PROCEEDING:
                self._send_cancel(entry, now)

    def _send_cancel(self, invite: _Entry, now: float) -> None:
        assert isinstance(invite.transaction, ClientInviteTransaction)
        cancel = build_cancel(invite.transaction.request)
        transaction = ClientNonInviteTransaction(cancel, invite.peer.reliable, now, self.timers)
        self._register(transaction, invite.peer, client_key(cancel), client=True)

    def _register(
        self,
        transaction: ClientTransaction | ServerTransaction,
        peer: Peer,
        key: TransactionKey,
        client: bool,
    ) -> int:
        transaction_id = next(self._ids)
        entry = _Entry(transaction, peer, key, client)
        self._entries[transaction_id] = entry
        self._by_key[key] = transaction_id
        self._drain(transaction_id, entry)
        return transaction_id

    def _drain(self, transaction_id: int, entry: _Entry) -> None:
        for output in entry.transaction.take_outputs():
            if isinstance(output, SendMessage):
                self._send(output.message, entry.peer)
            elif isinstance(output, ResponseReceived):
                self._events.append(IncomingResponse(transaction_id, output.response))
            elif isinstance(output, AckReceived):
                self._events.append(IncomingAck(output.request, entry.peer))
            elif isinstance(output, TimedOut | TransportError):
                self._events.append(TransactionFailed(transaction_id, timed_out=isinstance(output, TimedOut)))
            elif isinstance(output, Terminated):
                self._forget(transaction_id, entry)
                return
        deadline = entry.transaction.next_deadline()
        if deadline != entry.scheduled:
            entry.scheduled = deadline
            if deadline is not None:
                heapq.heappush(self._deadlines, (deadline, transaction_id))

    def _forget(self, transaction_id: int, entry: _Entry) -> None:
        """Drop a transaction and what finds it (its key, its datagram)."""
        self._entries.pop(transaction_id, None)
        self._cancel_on_provisional.discard(transaction_id)
        if self._by_key.get(entry.key) == transaction_id:
            del self._by_key[entry.key]
        if entry.datagram is not None and self._by_datagram.get(entry.datagram) == transaction_id:
            del self._by_datagram[entry.datagram]

    def _answer_and_forget(self, transaction_id: int, entry: _Entry, response: Response, now: float) -> None:
        """Send a final answer and forget the transaction. Over UDP the answer is kept for 64*T1 (Timer J's
        time, and the longest a request is retransmitted) by the request's datagram and transaction key, and
        sent again to the request's retransmissions: the Completed state of a non-INVITE server transaction
        (§17.2.2), or the resent answer of a stateless UAS (§8.2.7), at the cost of the answer's bytes rather
        than of the request, the transaction and a timer."""
        self._forget(transaction_id, entry)
        data = serialise(response)
        if entry.datagram is not None:
            self._forget_answers(now)
            key = hash(entry.key)
            self._answers[entry.datagram] = (data, entry.peer.host, entry.peer.port, now + self.timers.timeout, key)
            self._answered_keys[key] = entry.datagram
            self._answer_expiry.append(entry.datagram)
        self._outgoing.append((data, entry.peer))

    def _answer_again(self, datagram: int | None, now: float) -> bool:
        """Resend the answer kept for the request `datagram` hashes, if one is, to where that request came
        from, as its transaction would have (a copy in other bytes may come from elsewhere); whether it was."""
        answered = self._answers.get(datagram) if datagram is not None else None
        if answered is None or answered[3] <= now:
            return False
        self._outgoing.append((answered[0], Peer(Transport.UDP, answered[1], answered[2])))
        return True

    def _forget_answers(self, now: float) -> None:
        """Drop the answers past their time, oldest first (they were kept in the order they were sent), and
        the oldest beyond ANSWERS_KEPT, so that a flood of requests (spoofed, perhaps) holds a bounded memory:
        an answer forgotten early only means that a retransmission is handled as a new request."""
        expiry, answers, keys = self._answer_expiry, self._answers, self._answered_keys
        while expiry:
            answered = answers.get(expiry[0])
            if answered is not None and answered[3] > now and len(answers) < ANSWERS_KEPT:
                return
            datagram = expiry.popleft()
            if answered is not None:
                del answers[datagram]
                if keys.get(answered[4]) == datagram:
                    del keys[answered[4]]

    def _send(self, message: Message | bytes, peer: Peer) -> None:
        self._outgoing.append((message if isinstance(message, bytes) else serialise(message), peer))

    def _sent_by_parts(self, transport: Transport) -> tuple[str, int | None]:
        host, _, port = self.sent_by(transport).rpartition(":")
        return host.strip("[]"), int(port) if port else None

    @staticmethod
    def _stamp_received(request: Request, via: Via, peer: Peer) -> None:
        """§18.2.1 and RFC 3581: record where the request really came from, so responses go back there."""
        changes: dict[str, str | None] = {}
        if via.host != peer.host:
            changes["received"] = peer.host
        if "rport" in via.params:
            changes["rport"] = str(peer.port)
            if "received" not in via.params:
                changes["received"] = peer.host
        if changes:
            stamped = via.with_params(**changes)
            value = str(stamped)
            remember_via(value, stamped)
            request.headers.replace_first_value("Via", value)

    @staticmethod
    def _stamped_error(error: ParseError) -> Response:
        assert error.request is not None
        return response_to(error.request, error.status, error.reason)


def _request_uri_refusal(request: Request) -> Response | None:
    """§8.2.2.1 and §19.1.1: a scheme we do not serve gets 416; a SIP URI may not carry headers there."""
    try:
        uri = parse_uri(request.uri)
    except UriError:
        return response_to(request, 400, "Bad Request-URI")
    if isinstance(uri, AbsoluteUri):
        return response_to(request, 416)
    if isinstance(uri, SipUri) and uri.headers:
        return response_to(request, 400, "Headers In Request-URI")
    return None
