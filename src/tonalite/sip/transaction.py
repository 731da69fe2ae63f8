"""RFC 3261 §17 transactions with RFC 6026's corrections, sans-IO.

A transaction is fed messages and the time (`now`, monotonic seconds). What it wants sent and what its
transaction user (TU) must learn are queued as outputs, drained in order by `take_outputs()`; when it next
needs `handle_timer(now)` is `next_deadline()`. Timers are deadlines, never callbacks.

Every entry point ends by firing the timers that are due at `now`. So the zero-length timers of reliable
transports (D, I, J, K) end the transaction in the call that started them, and after any call
`next_deadline()` is later than the `now` it was given.

Each machine keeps its transitions in `_step` (what an input does in each state) and `_enter` (the
timers a state starts and stops). Inputs a state has no use for are absorbed, as §17 asks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import Generic, NamedTuple, TypeVar

from tonalite.sip.headers import BRANCH_MAGIC, CSeq, HeaderError, cseq_of, parse_params, top_via
from tonalite.sip.message import Headers, Message, Request, Response, serialise


@dataclass(frozen=True, slots=True)
class TimerValues:
    """The base values of RFC 3261 Table 4, in seconds; every timer derives from them."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0

    @property
    def timeout(self) -> float:
        """64*T1: Timers B, F, H, L, M, and J on unreliable transports."""
        return 64 * self.t1

    @property
    def timer_d(self) -> float:
        """Timer D on unreliable transports: "at least 32 s" (§17.1.1.2), and never less than 64*T1, the
        time the server's Timer H keeps retransmitting the final response the ACK answers."""
        return max(32.0, self.timeout)


class Timer(Enum):
    A = "A"  # client INVITE: retransmit the request
    B = "B"  # client INVITE: no final response
    D = "D"  # client INVITE: absorb final response retransmissions
    E = "E"  # client non-INVITE: retransmit the request
    F = "F"  # client non-INVITE: no final response
    G = "G"  # server INVITE: retransmit the 300-699 response
    H = "H"  # server INVITE: no ACK
    I = "I"  # noqa: E741 (the RFC's name) server INVITE: absorb ACK retransmissions
    J = "J"  # server non-INVITE: absorb request retransmissions
    K = "K"  # client non-INVITE: absorb response retransmissions
    L = "L"  # server INVITE (RFC 6026): absorb INVITE retransmissions after a 2xx
    M = "M"  # client INVITE (RFC 6026): pass 2xx retransmissions and forks to the TU


class ClientInviteState(Enum):
    CALLING = "Calling"
    PROCEEDING = "Proceeding"
    ACCEPTED = "Accepted"
    COMPLETED = "Completed"
    TERMINATED = "Terminated"


class ClientNonInviteState(Enum):
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    TERMINATED = "Terminated"


class ServerInviteState(Enum):
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    ACCEPTED = "Accepted"
    TERMINATED = "Terminated"


class ServerNonInviteState(Enum):
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    TERMINATED = "Terminated"


@dataclass(slots=True)
class SendMessage:
    """Pass this message to the transport; the endpoint knows where the transaction's peer is. A server
    transaction's responses come serialised (see `_ServerTransaction`)."""

    message: Message | bytes


@dataclass(slots=True)
class ResponseReceived:
    """A response for the TU: each 1xx, the first 300-699, and every 2xx including retransmissions."""

    response: Response


@dataclass(slots=True)
class AckReceived:
    """An ACK that matched an INVITE server transaction in Accepted (RFC 6026 §7.1): it acknowledges the
    TU's 2xx (this happens with RFC 2543 peers, whose ACK has no branch of its own)."""

    request: Request


@dataclass(slots=True)
class TimedOut:
    """Timer B or F (no final response; §8.1.3.1 treats it as a 408) or Timer H (no ACK) fired."""


@dataclass(slots=True)
class TransportError:
    """The endpoint reported that the transport could not carry this transaction's messages."""


@dataclass(slots=True)
class Terminated:
    """The transaction is over: forget it. Always the last output."""


Output = SendMessage | ResponseReceived | AckReceived | TimedOut | TransportError | Terminated

StateT = TypeVar("StateT", bound=Enum)


class _Transaction(ABC, Generic[StateT]):
    """Deadlines, outputs and the timer loop shared by the four machines."""

    __slots__ = ("_deadlines", "_interval", "_outputs", "reliable", "state", "timers")
    _TERMINATED: StateT
    state: StateT

    def __init__(self, reliable: bool, timers: TimerValues, state: StateT) -> None:
        self.reliable = reliable
        self.timers = timers
        self.state = state
        self._deadlines: dict[Timer, float] = {}
        self._interval = timers.t1  # the current period of the machine's retransmission timer (A, E or G)
        self._outputs: list[Output] | None = None  # made on the first output: most waits produce none

    @property
    def terminated(self) -> bool:
        return self.state is self._TERMINATED

    def next_deadline(self) -> float | None:
        """The earliest pending timer: None when none is (terminated, or waiting without a timer)."""
        return min(self._deadlines.values(), default=None)

    def handle_timer(self, now: float) -> None:
        """Fire every timer whose deadline is <= now, earliest first. A retransmission timer restarts from
        `now`, so a late call sends one retransmission rather than a burst."""
        while self._deadlines:
            timer = min(self._deadlines, key=self._deadlines.__getitem__)
            if self._deadlines[timer] > now:
                return
            del self._deadlines[timer]
            self._step(timer, now)

    def take_outputs(self) -> list[Output]:
        outputs, self._outputs = self._outputs, None
        if outputs is None:
            return []
        return outputs

    @abstractmethod
    def _step(self, trigger: Message | Timer, now: float) -> None:
        """The machine's transitions: what a message or a fired timer does in the current state."""

    @abstractmethod
    def _enter(self, state: StateT, now: float) -> None:
        """Move to `state`, starting and stopping the timers it runs."""

    def _input(self, trigger: Message, now: float) -> None:
        self._step(trigger, now)
        self.handle_timer(now)

    def _start(self, timer: Timer, after: float, now: float) -> None:
        self._deadlines[timer] = now + after

    def _start_unless_reliable(self, timer: Timer, after: float, now: float) -> None:
        """A wait that only covers retransmissions: zero on reliable transports, which have none."""
        self._start(timer, 0.0 if self.reliable else after, now)

    def _restart_retransmission(self, timer: Timer, interval: float, now: float) -> None:
        self._interval = interval
        self._start(timer, interval, now)

    def _stop(self, *timers: Timer) -> None:
        for timer in timers:
            self._deadlines.pop(timer, None)

    def _send(self, message: Message | bytes) -> None:
        self._emit(SendMessage(message))

    def _emit(self, event: Output) -> None:
        if self._outputs is None:
            self._outputs = [event]
        else:
            self._outputs.append(event)

    def _terminate(self) -> None:
        self._deadlines.clear()
        self._emit(Terminated())


class _ClientTransaction(_Transaction[StateT]):
    """Keeps its request: it retransmits it, and builds the ACK of a non-2xx (and a CANCEL) from it."""

    __slots__ = ("request",)

    def __init__(self, request: Request, reliable: bool, timers: TimerValues, state: StateT) -> None:
        super().__init__(reliable, timers, state)
        self.request = request

    def receive_response(self, response: Response, now: float) -> None:
        """A response whose `client_key` is this transaction's."""
        self._input(response, now)

    def transport_failed(self, now: float) -> None:
        """The request (or ACK) could not be sent: the TU learns it and the transaction ends (§17.1.1.2,
        §17.1.2.2; §8.1.3.1 has the TU treat it as a 503)."""
        if not self.terminated:
            self._emit(TransportError())
            self._enter(self._TERMINATED, now)


class _ServerTransaction(_Transaction[StateT]):
    """No timer runs before the TU's first response, so the constructors take `now` only for the shape
    all four share. The request is not kept: a finished transaction lives on for Timer J or I (tens of
    thousands of them under load), holding only its last response, serialised once when it is sent: one
    bytes object for the garbage collector to skip rather than a message's objects for it to walk."""

    __slots__ = ("_last_response",)
    _RESENDS_IN: frozenset[StateT]

    def __init__(self, reliable: bool, timers: TimerValues, state: StateT) -> None:
        super().__init__(reliable, timers, state)
        self._last_response: bytes | None = None

    def receive_request(self, request: Request, now: float) -> None:
        """A request whose `server_key` is this transaction's: a retransmission, or the ACK of an INVITE."""
        self._input(request, now)

    def receive_retransmission(self, now: float) -> None:
        """A copy, byte for byte, of the request that started this transaction (the endpoint recognises one
        before parsing it): the last response is sent again while the request is being answered or once it
        has been answered with a non-2xx, as for a retransmission that `receive_request` is given."""
        if self.state in self._RESENDS_IN:
            self._resend_last_response()
        self.handle_timer(now)

    def send_response(self, response: Response, now: float) -> None:
        """A response from the TU; one the current state does not take is discarded (§17.2.2)."""
        self._input(response, now)

    def transport_failed(self, now: float) -> None:
        """A response could not be sent: the TU learns it and the transaction stays in its state (§17.2.4
        as RFC 6026 §8.8 rewrites it); its own timers still end it."""
        if not self.terminated:
            self._emit(TransportError())

    @property
    def responded(self) -> bool:
        """Whether any response (a 100 Trying included) has been sent."""
        return self._last_response is not None

    def _respond(self, response: Response) -> None:
        self._last_response = serialise(response)
        self._send(self._last_response)

    def _resend_last_response(self) -> None:
        if self._last_response is not None:
            self._send(self._last_response)


class ClientInviteTransaction(_ClientTransaction[ClientInviteState]):
    """§17.1.1 (Figure 5) with RFC 6026 §7.2's Accepted state. Sends the INVITE at construction."""

    __slots__ = ()
    _TERMINATED = ClientInviteState.TERMINATED

    def __init__(self, request: Request, reliable: bool, now: float, timers: TimerValues = TimerValues()) -> None:
        super().__init__(request, reliable, timers, ClientInviteState.CALLING)
        self._send(request)
        if not reliable:
            self._restart_retransmission(Timer.A, timers.t1, now)
        self._start(Timer.B, timers.timeout, now)

    def _step(self, trigger: Message | Timer, now: float) -> None:
        match self.state, trigger:
            case ((ClientInviteState.CALLING | ClientInviteState.PROCEEDING), Response() as response):
                self._emit(ResponseReceived(response))
                if response.status < 200:
                    self._enter(ClientInviteState.PROCEEDING, now)
                elif response.status < 300:
                    self._enter(ClientInviteState.ACCEPTED, now)
                else:
                    self._send(build_ack(self.request, response))
                    self._enter(ClientInviteState.COMPLETED, now)
            case ClientInviteState.ACCEPTED, Response() as response if 200 <= response.status < 300:
                self._emit(ResponseReceived(response))
            case ClientInviteState.COMPLETED, Response() as response if response.status >= 300:
                self._send(build_ack(self.request, response))  # the same ACK again, for a retransmission
            case ClientInviteState.CALLING, Timer.A:
                self._send(self.request)
                self._restart_retransmission(Timer.A, 2 * self._interval, now)
            case ClientInviteState.CALLING, Timer.B:
                self._emit(TimedOut())
                self._enter(ClientInviteState.TERMINATED, now)
            case (ClientInviteState.COMPLETED, Timer.D) | (ClientInviteState.ACCEPTED, Timer.M):
                self._enter(ClientInviteState.TERMINATED, now)

    def _enter(self, state: ClientInviteState, now: float) -> None:
        self.state = state
        match state:
            case ClientInviteState.PROCEEDING:
                self._stop(Timer.A, Timer.B)
            case ClientInviteState.ACCEPTED:
                self._stop(Timer.A, Timer.B)
                self._start(Timer.M, self.timers.timeout, now)
            case ClientInviteState.COMPLETED:
                self._stop(Timer.A, Timer.B)
                self._start_unless_reliable(Timer.D, self.timers.timer_d, now)
            case ClientInviteState.TERMINATED:
                self._terminate()


class ClientNonInviteTransaction(_ClientTransaction[ClientNonInviteState]):
    """§17.1.2 (Figure 6). Sends the request at construction."""

    __slots__ = ()
    _TERMINATED = ClientNonInviteState.TERMINATED

    def __init__(self, request: Request, reliable: bool, now: float, timers: TimerValues = TimerValues()) -> None:
        super().__init__(request, reliable, timers, ClientNonInviteState.TRYING)
        self._send(request)
        if not reliable:
            self._restart_retransmission(Timer.E, timers.t1, now)
        self._start(Timer.F, timers.timeout, now)

    def _step(self, trigger: Message | Timer, now: float) -> None:
        match self.state, trigger:
            case ((ClientNonInviteState.TRYING | ClientNonInviteState.PROCEEDING), Response() as response):
                self._emit(ResponseReceived(response))
                final = response.status >= 200
                self._enter(ClientNonInviteState.COMPLETED if final else ClientNonInviteState.PROCEEDING, now)
            case ClientNonInviteState.TRYING, Timer.E:
                self._send(self.request)
                self._restart_retransmission(Timer.E, min(2 * self._interval, self.timers.t2), now)
            case ClientNonInviteState.PROCEEDING, Timer.E:
                self._send(self.request)
                self._restart_retransmission(Timer.E, self.timers.t2, now)
            case ((ClientNonInviteState.TRYING | ClientNonInviteState.PROCEEDING), Timer.F):
                self._emit(TimedOut())
                self._enter(ClientNonInviteState.TERMINATED, now)
            case ClientNonInviteState.COMPLETED, Timer.K:
                self._enter(ClientNonInviteState.TERMINATED, now)

    def _enter(self, state: ClientNonInviteState, now: float) -> None:
        """Proceeding keeps Timers E and F running: E's pending deadline stands, and E restarts at T2."""
        self.state = state
        match state:
            case ClientNonInviteState.COMPLETED:
                self._stop(Timer.E, Timer.F)
                self._start_unless_reliable(Timer.K, self.timers.t4, now)
            case ClientNonInviteState.TERMINATED:
                self._terminate()


class ServerInviteTransaction(_ServerTransaction[ServerInviteState]):
    """§17.2.1 (Figure 7) with RFC 6026 §7.1's Accepted state.

    With `send_trying` (the default) it answers 100 Trying at once, as §17.2.1 asks unless the TU is known
    to answer within 200 ms.
    """

    __slots__ = ()
    _TERMINATED = ServerInviteState.TERMINATED
    _RESENDS_IN = frozenset({ServerInviteState.PROCEEDING, ServerInviteState.COMPLETED})

    def __init__(
        self,
        request: Request,
        reliable: bool,
        now: float,
        timers: TimerValues = TimerValues(),
        *,
        send_trying: bool = True,
    ) -> None:
        super().__init__(reliable, timers, ServerInviteState.PROCEEDING)
        if send_trying:
            self._respond(trying(request))

    def _step(self, trigger: Message | Timer, now: float) -> None:
        match self.state, trigger:
            case ((ServerInviteState.PROCEEDING | ServerInviteState.COMPLETED), Request(method="INVITE")):
                self._resend_last_response()
            case ServerInviteState.COMPLETED, Request(method="ACK"):
                self._enter(ServerInviteState.CONFIRMED, now)
            case ServerInviteState.ACCEPTED, Request(method="ACK") as ack:
                self._emit(AckReceived(ack))
            case ServerInviteState.PROCEEDING, Response() as response:
                self._respond(response)
                if response.status >= 300:
                    self._enter(ServerInviteState.COMPLETED, now)
                elif response.status >= 200:
                    self._enter(ServerInviteState.ACCEPTED, now)
            case ServerInviteState.ACCEPTED, Response() as response if 200 <= response.status < 300:
                self._respond(response)
            case ServerInviteState.COMPLETED, Timer.G:
                self._resend_last_response()
                self._restart_retransmission(Timer.G, min(2 * self._interval, self.timers.t2), now)
            case ServerInviteState.COMPLETED, Timer.H:
                self._emit(TimedOut())
                self._enter(ServerInviteState.TERMINATED, now)
            case (ServerInviteState.CONFIRMED, Timer.I) | (ServerInviteState.ACCEPTED, Timer.L):
                self._enter(ServerInviteState.TERMINATED, now)

    def _enter(self, state: ServerInviteState, now: float) -> None:
        self.state = state
        match state:
            case ServerInviteState.COMPLETED:
                if not self.reliable:
                    self._restart_retransmission(Timer.G, self.timers.t1, now)
                self._start(Timer.H, self.timers.timeout, now)
            case ServerInviteState.CONFIRMED:
                self._stop(Timer.G, Timer.H)
                self._start_unless_reliable(Timer.I, self.timers.t4, now)
            case ServerInviteState.ACCEPTED:
                self._start(Timer.L, self.timers.timeout, now)
            case ServerInviteState.TERMINATED:
                self._terminate()


class ServerNonInviteTransaction(_ServerTransaction[ServerNonInviteState]):
    """§17.2.2 (Figure 8)."""

    __slots__ = ()
    _TERMINATED = ServerNonInviteState.TERMINATED
    _RESENDS_IN = frozenset({ServerNonInviteState.PROCEEDING, ServerNonInviteState.COMPLETED})

    def __init__(self, request: Request, reliable: bool, now: float, timers: TimerValues = TimerValues()) -> None:
        super().__init__(reliable, timers, ServerNonInviteState.TRYING)

    def _step(self, trigger: Message | Timer, now: float) -> None:
        match self.state, trigger:
            case ((ServerNonInviteState.PROCEEDING | ServerNonInviteState.COMPLETED), Request()):
                self._resend_last_response()
            case ((ServerNonInviteState.TRYING | ServerNonInviteState.PROCEEDING), Response() as response):
                self._respond(response)
                final = response.status >= 200
                self._enter(ServerNonInviteState.COMPLETED if final else ServerNonInviteState.PROCEEDING, now)
            case ServerNonInviteState.COMPLETED, Timer.J:
                self._enter(ServerNonInviteState.TERMINATED, now)

    def _enter(self, state: ServerNonInviteState, now: float) -> None:
        self.state = state
        match state:
            case ServerNonInviteState.COMPLETED:
                self._start_unless_reliable(Timer.J, self.timers.timeout, now)
            case ServerNonInviteState.TERMINATED:
                self._terminate()


ClientTransaction = ClientInviteTransaction | ClientNonInviteTransaction
ServerTransaction = ServerInviteTransaction | ServerNonInviteTransaction


class ClientKey(NamedTuple):
    """§17.1.3: the top Via branch and the CSeq method."""

    branch: str
    method: str


class ServerKey(NamedTuple):
    """§17.2.3, for a request whose branch carries the magic cookie: branch, top Via sent-by, and method
    (INVITE for an ACK)."""

    branch: str
    sent_by: tuple[str, int | None]
    method: str


ViaKey = tuple[str, str, int | None, frozenset[tuple[str, str | None]]]


class Rfc2543Key(NamedTuple):
    """§17.2.3's fallback for a request from an RFC 2543 element (no magic cookie in its branch).

    The To tag is left empty for INVITE and ACK: the ACK of a non-2xx carries the tag of our response, not
    the INVITE's, so no key computed from the request alone could hold it. A server transaction sends one
    kind of final response (Completed or Accepted decide what an ACK means), so the tag only told apart
    the crashed-forking-proxy case §17.2.3 mentions.
    """

    request_uri: str
    to_tag: str
    from_tag: str
    call_id: str
    cseq_number: int
    method: str
    top_via: ViaKey


def client_key(message: Message) -> ClientKey:
    """The key of the client transaction a response belongs to, or that a request starts (§17.1.3).

    The CSeq method keeps apart an INVITE and its CANCEL, which shares the INVITE's branch (§9.1). The ACK
    for a non-2xx is sent by the INVITE's transaction and answered by nothing, so it needs no key.
    """
    return ClientKey(top_via(message).branch or "", cseq_of(message).method)


def server_key(request: Request) -> ServerKey | Rfc2543Key:
    """The key of the server transaction a request belongs to (§17.2.3).

    An ACK gets its INVITE's key, so the ACK of a non-2xx reaches the INVITE transaction; a CANCEL has its
    own transaction. The ACK of a 2xx has a new branch (§13.2.2.4) and matches nothing: it goes to the dialog.
    """
    return _server_key(request, "INVITE" if request.method == "ACK" else request.method)


def cancelled_key(cancel: Request) -> ServerKey | Rfc2543Key:
    """The key of the INVITE server transaction a CANCEL asks to end (§9.2: match as if it were the INVITE)."""
    return _server_key(cancel, "INVITE")


def _server_key(request: Request, method: str) -> ServerKey | Rfc2543Key:
    via = top_via(request)
    if via.branch is not None and via.branch.startswith(BRANCH_MAGIC):
        return ServerKey(via.branch, via.sent_by, method)
    return Rfc2543Key(
        request_uri=request.uri,
        to_tag="" if method == "INVITE" else _tag(request.headers.get("To")),
        from_tag=_tag(request.headers.get("From")),
        call_id=request.headers.get("Call-ID") or "",
        cseq_number=cseq_of(request).number,
        method=method,
        # §20.42: Via values are equal when sent-protocol, sent-by and the set of parameters are.
        top_via=(via.transport, *via.sent_by, frozenset(via.params.items())),
    )


def _tag(value: str | None) -> str:
    """The tag of a From or To value, `"Bob" <sip:bob@b.example>;tag=1` or `sip:bob@b.example;tag=1`."""
    if value is None:
        return ""
    if "<" in value:
        value = value[value.rfind(">") + 1 :]
    return parse_params(value.partition(";")[2]).get("tag") or ""


def build_ack(invite: Request, response: Response) -> Request:
    """§17.1.1.3: the ACK of a 300-699 response, sent by the INVITE's client transaction.

    Request-URI, Call-ID, From, Route and Max-Forwards of the INVITE; To of the response (with the tag it
    added); the INVITE's top Via only; the INVITE's CSeq number with method ACK.
    """
    headers = [
        ("Via", _top_via_value(invite)),
        *_fields(invite, "Max-Forwards", "Route", "From"),
        *_fields(response, "To"),
        *_fields(invite, "Call-ID"),
        ("CSeq", str(CSeq(cseq_of(invite).number, "ACK"))),
    ]
    return Request("ACK", invite.uri, Headers(headers))


def build_cancel(request: Request) -> Request:
    """§9.1: the CANCEL of a pending request (an INVITE, in practice).

    Request-URI, Call-ID, To, From, Route and Max-Forwards of the request, tags included; its top Via only
    (so the same branch); its CSeq number with method CANCEL.
    """
    headers = [
        ("Via", _top_via_value(request)),
        *_fields(request, "Max-Forwards", "Route", "From", "To", "Call-ID"),
        ("CSeq", str(CSeq(cseq_of(request).number, "CANCEL"))),
    ]
    return Request("CANCEL", request.uri, Headers(headers))


def trying(request: Request) -> Response:
    """§8.2.6: a 100 copies the request's Via, From, To, Call-ID, CSeq and Timestamp."""
    return Response(100, "Trying", Headers(_fields(request, "Via", "From", "To", "Call-ID", "CSeq", "Timestamp")))


def _fields(message: Message, *names: str) -> list[tuple[str, str]]:
    """The message's fields with these (canonical) names, as written and in its order."""
    return [(name, value) for name, value in message.headers if name in names]


def _top_via_value(message: Message) -> str:
    """The topmost Via element as written (not re-serialised, so it stays byte-equal)."""
    values = message.headers.get_all("Via")
    if not values:
        raise HeaderError("missing Via")
    return values[0]
