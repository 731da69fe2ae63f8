"""A datagram identical to the one that started a server transaction is recognised before parsing: the
transaction answers it as a retransmission (RFC 3261 §17.2), at the cost of a dictionary lookup."""

from __future__ import annotations

import pytest

import tonalite.sip.endpoint as endpoint_module
from tonalite.sip.endpoint import IncomingRequest, Peer, SipEndpoint
from tonalite.sip.headers import BRANCH_MAGIC
from tonalite.sip.parser import parse_message
from tonalite.sip.responses import response_to
from tonalite.sip.transport import Transport

PHONE = Peer(Transport.UDP, "192.0.2.10", 5060)
TIMER_J_S = 32.0


def _request(method: str, *, spacing: str = " ") -> bytes:
    return (
        f"{method} sip:bob@192.0.2.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 192.0.2.10:5060;branch={BRANCH_MAGIC}-retransmitted\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@192.0.2.1>;tag=a\r\n"
        "To: <sip:alice@192.0.2.1>\r\n"
        "Call-ID: retransmission-test\r\n"
        f"CSeq:{spacing}1 {method}\r\n"
        "Contact: <sip:alice@192.0.2.10:5060>\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The datagrams the endpoint parses."""
    parsed: list[bytes] = []

    def counting(data: bytes, framed: bool = False):  # type: ignore[no-untyped-def]
        parsed.append(data)
        return parse_message(data, framed=framed)

    monkeypatch.setattr(endpoint_module, "parse_message", counting)
    return parsed


def _endpoint() -> SipEndpoint:
    return SipEndpoint(sent_by=lambda _: "192.0.2.1:5060", new_branch=lambda: f"{BRANCH_MAGIC}-local")


def _statuses(endpoint: SipEndpoint, now: float) -> list[int]:
    return [getattr(parse_message(data), "status", 0) for data, _ in endpoint.outgoing(now)]


def _answered(endpoint: SipEndpoint, data: bytes, status: int, now: float = 0.0) -> None:
    endpoint.receive(data, PHONE, now)
    event = endpoint.next_event()
    assert isinstance(event, IncomingRequest)
    endpoint.send_response(event.transaction, response_to(event.request, status, to_tag="t"), now)
    assert _statuses(endpoint, now) == [status]


def test_the_same_datagram_again_gets_the_same_answer_without_being_parsed(parses: list[bytes]) -> None:
    endpoint = _endpoint()
    first = _request("REGISTER")
    _answered(endpoint, first, 200)
    sent_before = len(parses)
    endpoint.receive(bytes(bytearray(first)), PHONE, 1.0)  # equal bytes, another object, as from a socket
    assert _statuses(endpoint, 1.0) == [200]
    assert endpoint.next_event() is None, "absorbed by the transaction"
    assert len(parses) == sent_before, "recognised before parsing"


def test_a_retransmission_written_differently_is_still_matched_by_its_branch(parses: list[bytes]) -> None:
    endpoint = _endpoint()
    _answered(endpoint, _request("REGISTER"), 200)
    endpoint.receive(_request("REGISTER", spacing="  "), PHONE, 1.0)
    assert _statuses(endpoint, 1.0) == [200]
    assert endpoint.next_event() is None
    assert len(parses) == 2, "parsed, then matched as RFC 3261 §17.2.3 says"


def test_an_invite_being_answered_absorbs_its_copies_and_resends_its_last_provisional() -> None:
    endpoint = _endpoint()
    invite = _request("INVITE")
    endpoint.receive(invite, PHONE, 0.0)
    event = endpoint.next_event()
    assert isinstance(event, IncomingRequest)
    endpoint.send_response(event.transaction, response_to(event.request, 180, to_tag="t"), 0.0)
    assert _statuses(endpoint, 0.0) == [180]
    endpoint.receive(invite, PHONE, 0.5)
    assert _statuses(endpoint, 0.5) == [180]
    endpoint.send_response(event.transaction, response_to(event.request, 200, to_tag="t"), 1.0)
    assert _statuses(endpoint, 1.0) == [200]
    endpoint.receive(invite, PHONE, 1.5)
    assert _statuses(endpoint, 1.5) == [], "after a 2xx the TU, not the transaction, resends it"
    assert endpoint.next_event() is None


def test_once_the_transaction_is_over_the_same_datagram_is_a_new_request() -> None:
    endpoint = _endpoint()
    data = _request("REGISTER")
    _answered(endpoint, data, 200)
    endpoint.handle_timer(TIMER_J_S + 1)
    _answered(endpoint, data, 200, TIMER_J_S + 2)


def test_over_a_stream_nothing_is_remembered(parses: list[bytes]) -> None:
    endpoint = _endpoint()
    stream = Peer(Transport.TCP, "192.0.2.10", 5060, 7)
    data = _request("REGISTER").replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP")
    endpoint.receive(data, stream, 0.0, framed=True)
    event = endpoint.next_event()
    assert isinstance(event, IncomingRequest)
    endpoint.receive(data, stream, 0.1, framed=True)
    assert len(parses) == 2
