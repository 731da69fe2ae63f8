from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tonalite.sip.message import Headers, Request, Response, serialise
from tonalite.sip.parser import parse_message
from tonalite.sip.transaction import (
    AckReceived,
    ClientInviteState,
    ClientInviteTransaction,
    ClientKey,
    ClientNonInviteState,
    ClientNonInviteTransaction,
    ClientTransaction,
    Output,
    ResponseReceived,
    Rfc2543Key,
    SendMessage,
    ServerInviteState,
    ServerInviteTransaction,
    ServerKey,
    ServerNonInviteState,
    ServerNonInviteTransaction,
    ServerTransaction,
    Terminated,
    TimerValues,
    TransportError,
    build_ack,
    build_cancel,
    cancelled_key,
    client_key,
    server_key,
)

TOP_VIA = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtop1;rport"
UPSTREAM_VIA = "SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKupstream"
BOB = "<sip:bob@b.example>"
UDP, TCP = False, True

Transaction = ClientTransaction | ServerTransaction


def make_request(method: str = "INVITE", *, via: str = TOP_VIA, to: str = BOB) -> Request:
    headers = Headers(
        [
            ("Via", via),
            ("Via", UPSTREAM_VIA),
            ("Max-Forwards", "69"),
            ("Route", "<sip:p1.example;lr>"),
            ("Route", "<sip:p2.example;lr>"),
            ("From", '"Alice" <sip:alice@a.example>;tag=a1'),
            ("To", to),
            ("Call-ID", "call-1@a.example"),
            ("CSeq", f"7 {method}"),
            ("Contact", "<sip:alice@192.0.2.1>"),
            ("Timestamp", "54"),
        ]
    )
    return Request(method, "sip:bob@b.example", headers, b"v=0\r\n")


def make_response(request: Request, status: int, to_tag: str = "b1") -> Response:
    """A response as the peer would send it: Via, From, Call-ID, CSeq copied; a To tag unless 100."""
    headers = Headers([(name, value) for name, value in request.headers if name in ("Via", "From", "Call-ID", "CSeq")])
    to = request.headers.get("To") or ""
    headers.add("To", to if status == 100 else f"{to};tag={to_tag}")
    return Response(status, "Reason", headers)


def describe(output: Output) -> str:
    """A compact label: what is sent by method or status, what the TU learns prefixed with `tu`."""
    match output:
        case SendMessage(message=Request() as request):
            return request.method
        case SendMessage(message=Response() as response):
            return str(response.status)
        case SendMessage(message=bytes() as data):  # a server transaction's response, serialised
            return str(sent_response(data).status)
        case ResponseReceived(response=response):
            return f"tu {response.status}"
        case AckReceived():
            return "tu ACK"
    return type(output).__name__


def sent_response(data: bytes) -> Response:
    response = parse_message(data)
    assert isinstance(response, Response)
    return response


def drained(transaction: Transaction) -> list[str]:
    return [describe(output) for output in transaction.take_outputs()]


def run(transaction: Transaction, until: float) -> list[tuple[float, str]]:
    """Call handle_timer at each deadline up to `until`, as the endpoint does; log outputs with their time."""
    log: list[tuple[float, str]] = []
    while (deadline := transaction.next_deadline()) is not None and deadline <= until:
        transaction.handle_timer(deadline)
        log += [(deadline, label) for label in drained(transaction)]
        following = transaction.next_deadline()
        assert following is None or following > deadline
    return log


def sent_at(times: tuple[float, ...], label: str) -> list[tuple[float, str]]:
    return [(time, label) for time in times]


def client_for(method: str, reliable: bool, timers: TimerValues = TimerValues()) -> ClientTransaction:
    request = make_request(method)
    if method == "INVITE":
        return ClientInviteTransaction(request, reliable, 0.0, timers)
    return ClientNonInviteTransaction(request, reliable, 0.0, timers)


# Client transactions: retransmissions and timeouts.

INVITE_UDP = (0.5, 1.5, 3.5, 7.5, 15.5, 31.5)
NON_INVITE_UDP = (0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5)
TIMEOUT = [(32.0, "TimedOut"), (32.0, "Terminated")]


@pytest.mark.parametrize(
    ("method", "reliable", "timers", "expected"),
    [
        pytest.param("INVITE", UDP, TimerValues(), sent_at(INVITE_UDP, "INVITE") + TIMEOUT, id="A-doubles-then-B"),
        pytest.param("INVITE", TCP, TimerValues(), TIMEOUT, id="no-A-on-TCP"),
        pytest.param(
            "INVITE",
            UDP,
            TimerValues(t1=0.25),
            [*sent_at((0.25, 0.75, 1.75, 3.75, 7.75, 15.75), "INVITE"), (16.0, "TimedOut"), (16.0, "Terminated")],
            id="A-and-B-follow-T1",
        ),
        pytest.param("OPTIONS", UDP, TimerValues(), sent_at(NON_INVITE_UDP, "OPTIONS") + TIMEOUT, id="E-capped-at-T2"),
        pytest.param("OPTIONS", TCP, TimerValues(), TIMEOUT, id="no-E-on-TCP"),
        pytest.param(
            "OPTIONS",
            UDP,
            TimerValues(t1=1.0, t2=2.0),
            sent_at((1.0, 3.0, 5.0, 7.0), "OPTIONS"),
            id="E-cap-follows-T2",
        ),
    ],
)
def test_client_retransmits_then_times_out(
    method: str, reliable: bool, timers: TimerValues, expected: list[tuple[float, str]]
) -> None:
    transaction = client_for(method, reliable, timers)
    assert drained(transaction) == [method]
    assert run(transaction, until=expected[-1][0]) == expected


def test_invite_over_udp_retransmits_the_same_request_object() -> None:
    transaction = client_for("INVITE", UDP)
    first = transaction.take_outputs()
    transaction.handle_timer(0.5)
    again = transaction.take_outputs()
    assert first == again == [SendMessage(transaction.request)]


def test_a_provisional_response_stops_timers_a_and_b() -> None:
    transaction = client_for("INVITE", UDP)
    transaction.take_outputs()
    ringing = make_response(transaction.request, 180)
    transaction.receive_response(ringing, 0.3)
    assert transaction.take_outputs() == [ResponseReceived(ringing)]
    assert transaction.state is ClientInviteState.PROCEEDING
    assert transaction.next_deadline() is None
    assert run(transaction, until=1000.0) == []
    transaction.receive_response(make_response(transaction.request, 183), 40.0)
    assert drained(transaction) == ["tu 183"]


def test_non_invite_in_proceeding_retransmits_every_t2_until_timer_f() -> None:
    transaction = client_for("OPTIONS", UDP)
    transaction.take_outputs()
    transaction.handle_timer(0.5)
    transaction.receive_response(make_response(transaction.request, 100), 0.6)
    assert drained(transaction) == ["OPTIONS", "tu 100"]
    assert transaction.state is ClientNonInviteState.PROCEEDING
    # Timer E keeps its deadline (1.5); from then on it restarts at T2 instead of doubling.
    assert run(transaction, until=32.0) == sent_at((1.5, 5.5, 9.5, 13.5, 17.5, 21.5, 25.5, 29.5), "OPTIONS") + TIMEOUT


def test_invite_2xx_goes_to_accepted_and_every_2xx_reaches_the_tu() -> None:
    """RFC 6026 §7.2: no ACK from the transaction; retransmissions and forked 2xx pass up until Timer M."""
    transaction = client_for("INVITE", UDP)
    transaction.take_outputs()
    ok = make_response(transaction.request, 200)
    transaction.receive_response(ok, 1.0)
    assert transaction.take_outputs() == [ResponseReceived(ok)]
    assert transaction.state is ClientInviteState.ACCEPTED
    assert transaction.next_deadline() == 33.0
    transaction.receive_response(ok, 2.0)
    transaction.receive_response(make_response(transaction.request, 200, to_tag="fork2"), 3.0)
    transaction.receive_response(make_response(transaction.request, 180), 4.0)
    transaction.receive_response(make_response(transaction.request, 486), 5.0)
    assert drained(transaction) == ["tu 200", "tu 200"]
    assert run(transaction, until=100.0) == [(33.0, "Terminated")]


@pytest.mark.parametrize("provisional_first", [False, True])
def test_invite_300_to_699_is_acknowledged_by_the_transaction(provisional_first: bool) -> None:
    transaction = client_for("INVITE", UDP)
    transaction.take_outputs()
    if provisional_first:
        transaction.receive_response(make_response(transaction.request, 180), 0.2)
        transaction.take_outputs()
    busy = make_response(transaction.request, 486)
    transaction.receive_response(busy, 1.0)
    outputs = transaction.take_outputs()
    assert outputs[0] == ResponseReceived(busy)
    assert isinstance(outputs[1], SendMessage)
    assert serialise(outputs[1].message) == serialise(build_ack(transaction.request, busy))
    assert len(outputs) == 2
    assert transaction.state is ClientInviteState.COMPLETED
    # Each retransmission of the final response gets the same ACK again, and is not passed up.
    transaction.receive_response(busy, 2.0)
    transaction.receive_response(busy, 4.0)
    resent = transaction.take_outputs()
    assert [serialise(output.message) for output in resent if isinstance(output, SendMessage)] == [
        serialise(outputs[1].message)
    ] * 2
    assert len(resent) == 2
    transaction.receive_response(make_response(transaction.request, 180), 5.0)
    assert drained(transaction) == []
    assert run(transaction, until=100.0) == [(33.0, "Terminated")]


def test_ack_for_a_non_2xx_follows_17_1_1_3() -> None:
    invite = make_request()
    ack = build_ack(invite, make_response(invite, 486, to_tag="busy9"))
    assert (ack.method, ack.uri) == ("ACK", invite.uri)
    assert ack.headers.get_all("Via") == [TOP_VIA]
    assert ack.headers.get("To") == f"{BOB};tag=busy9"
    assert ack.headers.get("CSeq") == "7 ACK"
    for name in ("From", "Call-ID", "Max-Forwards"):
        assert ack.headers.get(name) == invite.headers.get(name)
    assert ack.headers.get_all("Route") == ["<sip:p1.example;lr>", "<sip:p2.example;lr>"]
    assert ack.headers.get("Contact") is None
    assert ack.body == b""


def test_cancel_follows_9_1() -> None:
    invite = make_request(to=f"{BOB};tag=dialog5")
    cancel = build_cancel(invite)
    assert (cancel.method, cancel.uri) == ("CANCEL", invite.uri)
    assert cancel.headers.get_all("Via") == [TOP_VIA]
    assert cancel.headers.get("CSeq") == "7 CANCEL"
    for name in ("From", "To", "Call-ID", "Max-Forwards"):
        assert cancel.headers.get(name) == invite.headers.get(name)
    assert cancel.headers.get_all("Route") == ["<sip:p1.example;lr>", "<sip:p2.example;lr>"]
    assert cancel.headers.get("Contact") is None
    assert cancel.body == b""
    # Same branch, yet its own client transaction; at the server its own transaction that names the INVITE.
    assert client_key(cancel) == ClientKey("z9hG4bKtop1", "CANCEL") != client_key(invite)
    assert server_key(cancel) != server_key(invite)
    assert cancelled_key(cancel) == server_key(invite)


def test_cancel_of_an_rfc2543_invite_finds_it_by_the_fallback() -> None:
    invite = make_request(via="SIP/2.0/UDP 192.0.2.1:5060")
    assert cancelled_key(build_cancel(invite)) == server_key(invite)


@pytest.mark.parametrize(
    ("method", "status", "state"),
    [
        ("INVITE", None, ClientInviteState.CALLING),
        ("INVITE", 180, ClientInviteState.PROCEEDING),
        ("INVITE", 486, ClientInviteState.COMPLETED),
        ("OPTIONS", None, ClientNonInviteState.TRYING),
        ("OPTIONS", 100, ClientNonInviteState.PROCEEDING),
    ],
)
def test_client_transport_failure_ends_the_transaction(
    method: str, status: int | None, state: ClientInviteState | ClientNonInviteState
) -> None:
    transaction = client_for(method, UDP)
    if status is not None:
        transaction.receive_response(make_response(transaction.request, status), 1.0)
    transaction.take_outputs()
    assert transaction.state is state
    transaction.transport_failed(2.0)
    assert transaction.take_outputs() == [TransportError(), Terminated()]
    assert transaction.terminated and transaction.next_deadline() is None
    transaction.transport_failed(3.0)
    transaction.receive_response(make_response(transaction.request, 486), 3.0)
    transaction.handle_timer(1000.0)
    assert transaction.take_outputs() == []


def test_non_invite_final_response_reaches_the_tu_once() -> None:
    transaction = client_for("OPTIONS", UDP)
    transaction.take_outputs()
    ok = make_response(transaction.request, 200)
    transaction.receive_response(make_response(transaction.request, 100), 0.1)
    transaction.receive_response(ok, 0.2)
    transaction.receive_response(ok, 0.3)
    transaction.receive_response(make_response(transaction.request, 500), 0.4)
    assert drained(transaction) == ["tu 100", "tu 200"]
    assert transaction.state is ClientNonInviteState.COMPLETED
    assert run(transaction, until=100.0) == [(5.2, "Terminated")]


# Server transactions.


class KeptServerInvite(ServerInviteTransaction):
    """The machine, with the request it was made for at hand (server transactions do not keep it)."""

    __slots__ = ("request",)

    def __init__(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.request = request


class KeptServerNonInvite(ServerNonInviteTransaction):
    """The same for the non-INVITE machine."""

    __slots__ = ("request",)

    def __init__(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.request = request


def server_invite(reliable: bool, *, send_trying: bool = True) -> KeptServerInvite:
    return KeptServerInvite(make_request(), reliable, 0.0, send_trying=send_trying)


def test_server_invite_answers_100_trying_at_once() -> None:
    transaction = server_invite(UDP)
    outputs = transaction.take_outputs()
    assert len(outputs) == 1 and isinstance(outputs[0], SendMessage)
    sent = outputs[0].message
    assert isinstance(sent, bytes)
    trying = sent_response(sent)
    assert (trying.status, trying.reason) == (100, "Trying")
    assert trying.headers.get_all("Via") == [TOP_VIA, UPSTREAM_VIA]
    for name in ("From", "To", "Call-ID", "CSeq", "Timestamp"):
        assert trying.headers.get(name) == transaction.request.headers.get(name)
    assert trying.headers.get("Contact") is None
    assert transaction.next_deadline() is None
    assert drained(server_invite(UDP, send_trying=False)) == []


G_TIMES = (0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5)


@pytest.mark.parametrize(
    ("reliable", "expected"),
    [
        pytest.param(UDP, sent_at(G_TIMES, "486") + TIMEOUT, id="G-capped-at-T2-then-H"),
        pytest.param(TCP, TIMEOUT, id="no-G-on-TCP"),
    ],
)
def test_server_invite_retransmits_its_non_2xx_until_timer_h(reliable: bool, expected: list[tuple[float, str]]) -> None:
    transaction = server_invite(reliable)
    transaction.take_outputs()
    transaction.send_response(make_response(transaction.request, 486), 0.0)
    assert drained(transaction) == ["486"]
    assert transaction.state is ServerInviteState.COMPLETED
    assert run(transaction, until=100.0) == expected


def test_server_invite_ack_confirms_and_stops_retransmissions() -> None:
    transaction = server_invite(UDP)
    busy = make_response(transaction.request, 486)
    transaction.send_response(busy, 0.0)
    transaction.handle_timer(0.5)
    transaction.take_outputs()
    transaction.receive_request(build_ack(transaction.request, busy), 1.0)
    assert transaction.take_outputs() == []
    assert transaction.state is ServerInviteState.CONFIRMED
    assert transaction.next_deadline() == 6.0
    transaction.receive_request(build_ack(transaction.request, busy), 2.0)
    transaction.receive_request(transaction.request, 3.0)
    assert run(transaction, until=100.0) == [(6.0, "Terminated")]


def test_server_invite_2xx_goes_to_accepted_until_timer_l() -> None:
    transaction = server_invite(UDP)
    transaction.take_outputs()
    ok = make_response(transaction.request, 200)
    transaction.send_response(ok, 1.0)
    assert transaction.take_outputs() == [SendMessage(serialise(ok))]
    assert transaction.state is ServerInviteState.ACCEPTED
    assert transaction.next_deadline() == 33.0
    transaction.receive_request(transaction.request, 2.0)
    assert transaction.take_outputs() == []  # absorbed, and no 2xx retransmission of its own
    transaction.send_response(ok, 3.0)  # the TU's retransmission (§13.3.1.4) goes out
    transaction.send_response(make_response(transaction.request, 486), 4.0)  # not after a 2xx
    transaction.send_response(make_response(transaction.request, 180), 4.0)
    ack = make_request("ACK", to=f"{BOB};tag=b1")
    transaction.receive_request(ack, 5.0)
    assert transaction.take_outputs() == [SendMessage(serialise(ok)), AckReceived(ack)]
    assert run(transaction, until=100.0) == [(33.0, "Terminated")]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        pytest.param([], ["100"], id="Proceeding-100"),
        pytest.param([180], ["180"], id="Proceeding-last-provisional"),
        pytest.param([180, 486], ["486"], id="Completed-final"),
        pytest.param([486, "ACK"], [], id="Confirmed"),
        pytest.param([200], [], id="Accepted"),
    ],
)
def test_server_invite_absorbs_invite_retransmissions(script: list[int | str], expected: list[str]) -> None:
    transaction = server_invite(UDP)
    for step in script:
        if step == "ACK":
            transaction.receive_request(make_request("ACK", to=f"{BOB};tag=b1"), 0.1)
        else:
            assert isinstance(step, int)
            transaction.send_response(make_response(transaction.request, step), 0.1)
    transaction.take_outputs()
    transaction.receive_request(transaction.request, 0.2)
    assert drained(transaction) == expected


def test_server_invite_without_trying_has_nothing_to_resend_yet() -> None:
    transaction = server_invite(UDP, send_trying=False)
    transaction.receive_request(transaction.request, 0.2)
    assert transaction.take_outputs() == []


@pytest.mark.parametrize("reliable", [UDP, TCP])
def test_server_transport_failure_informs_the_tu_and_keeps_the_state(reliable: bool) -> None:
    """RFC 6026 §8.8 (§17.2.4): the transaction remains in its state; Timer H still ends it."""
    transaction = server_invite(reliable)
    transaction.send_response(make_response(transaction.request, 486), 0.0)
    transaction.take_outputs()
    transaction.transport_failed(0.1)
    assert transaction.take_outputs() == [TransportError()]
    assert transaction.state is ServerInviteState.COMPLETED
    assert run(transaction, until=100.0)[-2:] == TIMEOUT


def server_non_invite(reliable: bool) -> KeptServerNonInvite:
    return KeptServerNonInvite(make_request("OPTIONS"), reliable, 0.0)


def test_server_non_invite_sends_nothing_by_itself() -> None:
    transaction = server_non_invite(UDP)
    assert transaction.take_outputs() == []
    assert transaction.state is ServerNonInviteState.TRYING
    assert transaction.next_deadline() is None


@pytest.mark.parametrize(
    ("responses", "sent", "state", "expected"),
    [
        pytest.param([], [], ServerNonInviteState.TRYING, [], id="Trying-discards"),
        pytest.param([100], ["100"], ServerNonInviteState.PROCEEDING, ["100"], id="Proceeding-provisional"),
        pytest.param([100, 183], ["100", "183"], ServerNonInviteState.PROCEEDING, ["183"], id="Proceeding-latest"),
        pytest.param([100, 200], ["100", "200"], ServerNonInviteState.COMPLETED, ["200"], id="Completed-final"),
        pytest.param([200, 500], ["200"], ServerNonInviteState.COMPLETED, ["200"], id="Completed-discards-finals"),
    ],
)
def test_server_non_invite_answers_retransmissions_with_its_last_response(
    responses: list[int], sent: list[str], state: ServerNonInviteState, expected: list[str]
) -> None:
    transaction = server_non_invite(UDP)
    for status in responses:
        transaction.send_response(make_response(transaction.request, status), 0.1)
    assert drained(transaction) == sent
    assert transaction.state is state
    transaction.receive_request(transaction.request, 0.2)
    assert drained(transaction) == expected


# The timers that end a transaction after its final message: zero on reliable transports.


def _client_invite_final(status: int) -> Callable[[bool], Transaction]:
    def start(reliable: bool) -> Transaction:
        transaction = client_for("INVITE", reliable)
        transaction.take_outputs()
        transaction.receive_response(make_response(transaction.request, status), 1.0)
        return transaction

    return start


def _client_non_invite_final(reliable: bool) -> Transaction:
    transaction = client_for("OPTIONS", reliable)
    transaction.take_outputs()
    transaction.receive_response(make_response(transaction.request, 200), 1.0)
    return transaction


def _server_invite_final(status: int) -> Callable[[bool], Transaction]:
    def start(reliable: bool) -> Transaction:
        transaction = server_invite(reliable)
        transaction.send_response(make_response(transaction.request, status), 0.5)
        if status >= 300:
            transaction.take_outputs()
            transaction.receive_request(make_request("ACK", to=f"{BOB};tag=b1"), 1.0)
        return transaction

    return start


def _server_non_invite_final(reliable: bool) -> Transaction:
    transaction = server_non_invite(reliable)
    transaction.send_response(make_response(transaction.request, 200), 1.0)
    return transaction


@pytest.mark.parametrize(
    ("start", "udp_end", "tcp_end"),
    [
        pytest.param(_client_invite_final(486), 33.0, None, id="D"),
        pytest.param(_client_invite_final(200), 33.0, 33.0, id="M"),
        pytest.param(_client_non_invite_final, 6.0, None, id="K"),
        pytest.param(_server_invite_final(486), 6.0, None, id="I"),
        pytest.param(_server_invite_final(200), 32.5, 32.5, id="L"),
        pytest.param(_server_non_invite_final, 33.0, None, id="J"),
    ],
)
def test_closing_timers(start: Callable[[bool], Transaction], udp_end: float, tcp_end: float | None) -> None:
    """Each final timer's length per transport; None: zero, so it ends in the call that reached the state."""
    for reliable, end in ((UDP, udp_end), (TCP, tcp_end)):
        transaction = start(reliable)
        if end is None:
            assert drained(transaction)[-1:] == ["Terminated"]
            assert transaction.terminated and transaction.next_deadline() is None
        else:
            assert transaction.next_deadline() == end
            assert run(transaction, until=1000.0)[-1:] == [(end, "Terminated")]
            assert transaction.terminated


# Timers and deadlines.


@pytest.mark.parametrize(
    ("transaction", "earliest"),
    [
        pytest.param(client_for("INVITE", UDP), 0.5, id="client-INVITE-UDP-A-before-B"),
        pytest.param(client_for("INVITE", TCP), 32.0, id="client-INVITE-TCP-B"),
        pytest.param(client_for("OPTIONS", UDP), 0.5, id="client-OPTIONS-UDP-E-before-F"),
        pytest.param(client_for("OPTIONS", TCP), 32.0, id="client-OPTIONS-TCP-F"),
        pytest.param(server_invite(UDP), None, id="server-INVITE-Proceeding"),
        pytest.param(server_non_invite(UDP), None, id="server-OPTIONS-Trying"),
    ],
)
def test_next_deadline_is_the_earliest_timer(transaction: Transaction, earliest: float | None) -> None:
    assert transaction.next_deadline() == earliest


def test_server_invite_next_deadline_is_g_then_h_then_i() -> None:
    """With a LAN-sized T1, Timer H (64*T1 = 4 s) would come before Timer I (T4): the ACK must stop it."""
    transaction = KeptServerInvite(make_request(), UDP, 10.0, TimerValues(t1=0.0625))
    busy = make_response(transaction.request, 486)
    transaction.send_response(busy, 10.0)
    assert transaction.next_deadline() == 10.0625
    transaction.handle_timer(10.0625)
    assert transaction.next_deadline() == 10.1875
    transaction.receive_request(build_ack(transaction.request, busy), 10.5)
    assert drained(transaction) == ["100", "486", "486"]
    assert transaction.next_deadline() == 15.5
    assert run(transaction, until=100.0) == [(15.5, "Terminated")]


def test_a_late_handle_timer_fires_due_timers_in_deadline_order_once_each() -> None:
    transaction = client_for("INVITE", UDP)
    transaction.take_outputs()
    transaction.handle_timer(0.4)
    assert transaction.take_outputs() == []
    transaction.handle_timer(10.0)  # A was due at 0.5: one retransmission, restarted from now
    assert drained(transaction) == ["INVITE"]
    assert transaction.next_deadline() == 11.0
    transaction.handle_timer(40.0)  # A (11) then B (32)
    assert drained(transaction) == ["INVITE", "TimedOut", "Terminated"]
    assert transaction.next_deadline() is None


def test_an_input_also_fires_timers_that_are_due() -> None:
    transaction = client_for("OPTIONS", UDP)
    transaction.take_outputs()
    transaction.receive_response(make_response(transaction.request, 100), 0.7)
    assert drained(transaction) == ["tu 100", "OPTIONS"]
    assert transaction.next_deadline() == 4.7


def test_terminated_transactions_ignore_everything() -> None:
    transaction = server_non_invite(TCP)
    transaction.send_response(make_response(transaction.request, 200), 1.0)
    assert drained(transaction) == ["200", "Terminated"]
    transaction.receive_request(transaction.request, 2.0)
    transaction.send_response(make_response(transaction.request, 200), 2.0)
    transaction.transport_failed(2.0)
    transaction.handle_timer(100.0)
    assert transaction.take_outputs() == []
    assert transaction.state is ServerNonInviteState.TERMINATED


# Transaction keys.


def test_client_key_matches_responses_by_branch_and_cseq_method() -> None:
    invite = make_request()
    assert client_key(invite) == ClientKey("z9hG4bKtop1", "INVITE")
    assert client_key(make_response(invite, 180)) == client_key(invite)
    other_branch = make_request(via="SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtop2")
    assert client_key(make_response(other_branch, 180)) != client_key(invite)
    cancel_response = make_response(build_cancel(invite), 200)
    assert client_key(cancel_response) == ClientKey("z9hG4bKtop1", "CANCEL")


def _with_via(via: str) -> Callable[[Request], Request]:
    def change(request: Request) -> Request:
        request.headers.replace_first_value("Via", via)
        return request

    return change


def _as_ack(to_tag: str) -> Callable[[Request], Request]:
    def change(request: Request) -> Request:
        return build_ack(request, make_response(request, 486, to_tag=to_tag))

    return change


def _with_header(name: str, value: str) -> Callable[[Request], Request]:
    def change(request: Request) -> Request:
        request.headers.set(name, value)
        return request

    return change


def _with_uri(uri: str) -> Callable[[Request], Request]:
    def change(request: Request) -> Request:
        request.uri = uri
        return request

    return change


def _as_method(method: str) -> Callable[[Request], Request]:
    def change(request: Request) -> Request:
        request.headers.set("CSeq", f"7 {method}")
        return Request(method, request.uri, request.headers)

    return change


def _ack_of_2xx(request: Request) -> Request:
    """The UAC's ACK of a 2xx is a transaction of its own, with a new branch (§13.2.2.4)."""
    return _with_via("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnew")(build_ack(request, make_response(request, 200)))


def _unchanged(request: Request) -> Request:
    return request


@pytest.mark.parametrize(
    ("change", "same"),
    [
        pytest.param(_unchanged, True, id="retransmission"),
        pytest.param(_as_ack("b1"), True, id="ACK-of-non-2xx-matches-INVITE"),
        pytest.param(_ack_of_2xx, False, id="ACK-of-2xx-new-branch"),
        pytest.param(_with_via("SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKtop1"), False, id="other-sent-by-port"),
        pytest.param(_with_via("SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKtop1"), False, id="other-sent-by-host"),
        pytest.param(
            _with_via("SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKtop1;received=x"),
            True,
            id="transport-and-params-not-in-key",
        ),
        pytest.param(_as_method("CANCEL"), False, id="CANCEL-own-transaction"),
        pytest.param(_with_header("Call-ID", "other@a.example"), True, id="branch-is-enough"),
    ],
)
def test_server_key_rfc3261(change: Callable[[Request], Request], same: bool) -> None:
    original = server_key(make_request())
    assert isinstance(original, ServerKey)
    assert (server_key(change(make_request())) == original) is same


def test_server_key_sent_by_host_is_case_insensitive() -> None:
    lower = make_request(via="SIP/2.0/UDP host.example:5060;branch=z9hG4bKx")
    upper = make_request(via="SIP/2.0/UDP HOST.Example:5060;branch=z9hG4bKx")
    assert server_key(lower) == server_key(upper) == ServerKey("z9hG4bKx", ("host.example", 5060), "INVITE")


RFC2543_VIA = "SIP/2.0/UDP 192.0.2.1:5060;received=192.0.2.1;maddr=192.0.2.1"


@pytest.mark.parametrize(
    ("method", "change", "same"),
    [
        pytest.param("INVITE", _unchanged, True, id="retransmission"),
        pytest.param("INVITE", _as_ack("b1"), True, id="ACK-of-non-2xx-matches-INVITE"),
        pytest.param(
            "INVITE",
            _with_via("SIP/2.0/UDP 192.0.2.1:5060;maddr=192.0.2.1;received=192.0.2.1"),
            True,
            id="Via-parameter-order-ignored",
        ),
        pytest.param(
            "INVITE",
            _with_via("SIP/2.0/UDP 192.0.2.1:5061;received=192.0.2.1;maddr=192.0.2.1"),
            False,
            id="other-top-Via",
        ),
        pytest.param(
            "INVITE", _with_via("SIP/2.0/UDP 192.0.2.1:5060;received=192.0.2.1"), False, id="other-Via-parameters"
        ),
        pytest.param("INVITE", _with_uri("sip:carol@b.example"), False, id="other-Request-URI"),
        pytest.param("INVITE", _with_header("From", "<sip:alice@a.example>;tag=a2"), False, id="other-From-tag"),
        pytest.param("INVITE", _with_header("From", "<sip:alice@a.example>;tag=a1"), True, id="From-tag-not-value"),
        pytest.param(
            "INVITE",
            _with_header("From", '"Smith; Alice" <sip:alice@a.example;transport=tcp>;tag=a1'),
            True,
            id="From-tag-after-display-name-and-URI",
        ),
        pytest.param("INVITE", _with_header("From", "sip:alice@a.example;tag=a1"), True, id="From-tag-of-addr-spec"),
        pytest.param("INVITE", _with_header("From", "<sip:alice@a.example;tag=a1>"), False, id="URI-param-is-no-tag"),
        pytest.param("INVITE", _with_header("Call-ID", "other@a.example"), False, id="other-Call-ID"),
        pytest.param("INVITE", _with_header("CSeq", "8 INVITE"), False, id="other-CSeq"),
        pytest.param("INVITE", _as_method("CANCEL"), False, id="CANCEL-own-transaction"),
        pytest.param("BYE", _unchanged, True, id="non-INVITE-retransmission"),
        pytest.param("BYE", _with_header("To", f"{BOB};tag=other"), False, id="non-INVITE-To-tag-matters"),
        pytest.param("BYE", _as_method("INFO"), False, id="non-INVITE-CSeq-method-matters"),
    ],
)
def test_server_key_rfc2543_fallback(method: str, change: Callable[[Request], Request], same: bool) -> None:
    to = f"{BOB};tag=b1" if method == "BYE" else BOB
    original = server_key(make_request(method, via=RFC2543_VIA, to=to))
    assert isinstance(original, Rfc2543Key)
    assert (server_key(change(make_request(method, via=RFC2543_VIA, to=to))) == original) is same


def test_a_branch_without_the_magic_cookie_uses_the_fallback() -> None:
    request = make_request(via="SIP/2.0/UDP 192.0.2.1:5060;branch=1234")
    key = server_key(request)
    assert isinstance(key, Rfc2543Key)
    assert (key.request_uri, key.from_tag, key.call_id, key.cseq_number, key.method) == (
        "sip:bob@b.example",
        "a1",
        "call-1@a.example",
        7,
        "INVITE",
    )
