"""Challenges are sent statelessly (RFC 3261 §8.2.7): the request's transaction is forgotten, nothing is
retransmitted on a timer, and over UDP a retransmission of the request gets the very same answer. A non-INVITE
request answered at once with a final response is kept the same way: its answer stands for its Completed
state (§17.2.2)."""

from __future__ import annotations

import gc

import pytest

import tonalite.sip.endpoint as endpoint_module
from tonalite.sip.endpoint import IncomingAck, IncomingRequest, Peer, SipEndpoint
from tonalite.sip.headers import BRANCH_MAGIC
from tonalite.sip.parser import parse_message
from tonalite.sip.responses import response_to
from tonalite.sip.transport import Transport

PHONE = Peer(Transport.UDP, "192.0.2.10", 5060)
STREAM = Peer(Transport.TCP, "192.0.2.10", 5060, 7)
KEPT_S = 32.0  # 64*T1


def _request(method: str, *, transport: str = "UDP", branch: str = "stateless") -> bytes:
    return (
        f"{method} sip:bob@192.0.2.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} 192.0.2.10:5060;branch={BRANCH_MAGIC}-{branch}\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@192.0.2.1>;tag=a\r\n"
        f"To: <sip:bob@192.0.2.1>{';tag=t' if method == 'ACK' else ''}\r\n"
        "Call-ID: stateless-test\r\n"
        f"CSeq: 1 {method}\r\n"
        "Contact: <sip:alice@192.0.2.10:5060>\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def _endpoint() -> SipEndpoint:
    return SipEndpoint(sent_by=lambda _: "192.0.2.1:5060", new_branch=lambda: f"{BRANCH_MAGIC}-local")


def _answer(
    endpoint: SipEndpoint, data: bytes, status: int, now: float, peer: Peer = PHONE, *, statelessly: bool = False
) -> bytes:
    """The request reaches the application, which answers it (statelessly, as a challenge, or in its
    transaction); the one datagram sent."""
    endpoint.receive(data, peer, now, framed=peer.reliable)
    event = endpoint.next_event()
    assert isinstance(event, IncomingRequest)
    send = endpoint.send_response_statelessly if statelessly else endpoint.send_response
    send(event.transaction, response_to(event.request, status, to_tag="t"), now)
    (sent,) = endpoint.outgoing(now)
    assert getattr(parse_message(sent[0]), "status", None) == status, "the answer alone, no 100 Trying"
    return sent[0]


def _challenge(endpoint: SipEndpoint, data: bytes, status: int, now: float, peer: Peer = PHONE) -> bytes:
    return _answer(endpoint, data, status, now, peer, statelessly=True)


def test_a_challenged_invite_leaves_nothing_to_retransmit() -> None:
    endpoint = _endpoint()
    _challenge(endpoint, _request("INVITE"), 407, 0.0)
    assert endpoint.next_deadline() is None, "no Timer G resends the 407, no Timer H waits for its ACK"
    endpoint.handle_timer(40.0)
    assert endpoint.outgoing(40.0) == []


def test_a_retransmitted_request_gets_the_same_bytes_and_reaches_no_application() -> None:
    endpoint = _endpoint()
    data = _request("REGISTER")
    challenge = _challenge(endpoint, data, 401, 0.0)
    endpoint.receive(bytes(bytearray(data)), PHONE, 0.5)
    assert endpoint.outgoing(0.5) == [(challenge, PHONE)]
    assert endpoint.next_event() is None


def test_the_ack_of_a_stateless_407_goes_to_the_dialog_layer() -> None:
    endpoint = _endpoint()
    _challenge(endpoint, _request("INVITE"), 407, 0.0)
    endpoint.receive(_request("ACK"), PHONE, 0.1)
    assert isinstance(endpoint.next_event(), IncomingAck), "which finds no dialog and drops it (§8.2.7)"
    assert endpoint.outgoing(0.1) == []


def test_after_64_t1_a_copy_is_a_new_request() -> None:
    endpoint = _endpoint()
    data = _request("REGISTER")
    _challenge(endpoint, data, 401, 0.0)
    endpoint.handle_timer(KEPT_S + 1)
    _challenge(endpoint, data, 401, KEPT_S + 2)


def test_answers_expire_oldest_first_and_a_renewed_one_is_kept() -> None:
    endpoint = _endpoint()
    first, second = _request("REGISTER", branch="one"), _request("REGISTER", branch="two")
    _challenge(endpoint, first, 401, 0.0)
    _challenge(endpoint, second, 401, 10.0)
    endpoint.handle_timer(KEPT_S + 1)  # the first is gone, the second still answers
    endpoint.receive(second, PHONE, KEPT_S + 1)
    assert len(endpoint.outgoing(KEPT_S + 1)) == 1
    _challenge(endpoint, first, 401, KEPT_S + 2)


def test_over_a_stream_the_request_is_simply_forgotten() -> None:
    endpoint = _endpoint()
    data = _request("REGISTER", transport="TCP")
    _challenge(endpoint, data, 401, 0.0, STREAM)
    _challenge(endpoint, data, 401, 0.1, STREAM)


def test_a_request_already_answered_provisionally_stays_stateful() -> None:
    """An INVITE that got its 100 Trying is challenged in its transaction, which then resends the 407."""
    endpoint = _endpoint()
    endpoint.receive(_request("INVITE"), PHONE, 0.0)
    event = endpoint.next_event()
    assert isinstance(event, IncomingRequest)
    assert [getattr(parse_message(data), "status", 0) for data, _ in endpoint.outgoing(0.0)] == [100]
    endpoint.send_response_statelessly(event.transaction, response_to(event.request, 407, to_tag="t"), 0.1)
    assert len(endpoint.outgoing(0.1)) == 1
    assert endpoint.next_deadline() == 0.6, "Timer G"


def test_at_most_so_many_answers_are_kept_the_oldest_go_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """A flood of requests holds bounded memory: past the limit, the oldest answer is forgotten (its
    retransmission would be challenged afresh)."""
    monkeypatch.setattr(endpoint_module, "ANSWERS_KEPT", 2)
    endpoint = _endpoint()
    requests = [_request("REGISTER", branch=f"flood{index}") for index in range(3)]
    for request in requests:
        _challenge(endpoint, request, 401, 0.0)
    for kept in requests[1:]:
        endpoint.receive(kept, PHONE, 0.1)
        assert len(endpoint.outgoing(0.1)) == 1
        assert endpoint.next_event() is None
    _challenge(endpoint, requests[0], 401, 0.2)


def test_a_non_invite_request_answered_at_once_keeps_only_its_answer() -> None:
    endpoint = _endpoint()
    data = _request("REGISTER")
    answer = _answer(endpoint, data, 200, 0.0)
    assert endpoint.next_deadline() is None, "no Timer J: the kept answer stands for the Completed state"
    endpoint.receive(data, PHONE, 1.0)
    assert endpoint.outgoing(1.0) == [(answer, PHONE)]
    assert endpoint.next_event() is None


def test_a_retransmission_in_other_bytes_is_matched_by_its_branch() -> None:
    """§17.2.3 matches a retransmission by branch, sent-by and method, not by its bytes."""
    endpoint = _endpoint()
    data = _request("OPTIONS")
    answer = _answer(endpoint, data, 200, 0.0)
    reworded = data.replace(b"Max-Forwards: 70\r\n", b"Max-Forwards: 69\r\nUser-Agent: retry\r\n")
    endpoint.receive(reworded, Peer(Transport.UDP, "198.51.100.66", 5060), 1.0)
    assert endpoint.outgoing(1.0) == [(answer, PHONE)], "to the request's source, not the copy's"
    assert endpoint.next_event() is None
    endpoint.handle_timer(KEPT_S + 1)
    endpoint.receive(reworded, PHONE, KEPT_S + 1)
    assert isinstance(endpoint.next_event(), IncomingRequest), "after 64*T1 it is a new request"


def test_a_non_invite_request_answered_after_a_provisional_response_stays_stateful() -> None:
    endpoint = _endpoint()
    endpoint.receive(_request("OPTIONS"), PHONE, 0.0)
    event = endpoint.next_event()
    assert isinstance(event, IncomingRequest)
    endpoint.send_response(event.transaction, response_to(event.request, 100), 0.0)
    endpoint.send_response(event.transaction, response_to(event.request, 200, to_tag="t"), 0.1)
    assert len(endpoint.outgoing(0.1)) == 2
    assert endpoint.next_deadline() == pytest.approx(0.1 + KEPT_S), "Timer J of the transaction"


def test_over_a_stream_an_answered_request_is_forgotten_at_once() -> None:
    endpoint = _endpoint()
    data = _request("REGISTER", transport="TCP")
    _answer(endpoint, data, 200, 0.0, STREAM)
    assert endpoint.next_deadline() is None
    _answer(endpoint, data, 200, 0.1, STREAM)


def test_kept_answers_drop_out_of_the_collectors_walks() -> None:
    """Hundreds of thousands of answers are alive under load: once a collection has seen them, no full
    collection walks them again (plain tuples of plain values, which the collector stops tracking)."""
    endpoint = _endpoint()
    for index in range(50):
        _answer(endpoint, _request("REGISTER", branch=f"kept{index}"), 200, 0.0)
        _challenge(endpoint, _request("INVITE", branch=f"kept{index}"), 407, 0.0)
    gc.collect()
    kept = [*endpoint._answers.values(), *endpoint._answered_keys]
    assert len(kept) == 200 and not any(gc.is_tracked(item) for item in kept)
