"""The 100 Trying of an INVITE (RFC 3261 §17.2.1) goes out when the I/O layer drains the endpoint, and only
if the application has not answered the INVITE by then."""

from __future__ import annotations

from tonalite.sip.endpoint import IncomingRequest, Peer, SipEndpoint
from tonalite.sip.headers import BRANCH_MAGIC
from tonalite.sip.parser import parse_message
from tonalite.sip.responses import response_to
from tonalite.sip.transport import Transport

PHONE = Peer(Transport.UDP, "192.0.2.10", 5060)
INVITE = (
    "INVITE sip:bob@192.0.2.1 SIP/2.0\r\n"
    f"Via: SIP/2.0/UDP 192.0.2.10:5060;branch={BRANCH_MAGIC}-trying\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:alice@192.0.2.1>;tag=a\r\n"
    "To: <sip:bob@192.0.2.1>\r\n"
    "Call-ID: trying-test\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:alice@192.0.2.10:5060>\r\n"
    "Content-Length: 0\r\n\r\n"
).encode()


def _received_invite() -> tuple[SipEndpoint, IncomingRequest]:
    endpoint = SipEndpoint(sent_by=lambda _: "192.0.2.1:5060", new_branch=lambda: f"{BRANCH_MAGIC}-local")
    endpoint.receive(INVITE, PHONE, 0.0)
    event = endpoint.next_event()
    assert isinstance(event, IncomingRequest)
    return endpoint, event


def _statuses(endpoint: SipEndpoint, now: float) -> list[int]:
    statuses = []
    for data, _ in endpoint.outgoing(now):
        response = parse_message(data)
        statuses.append(getattr(response, "status", 0))
    return statuses


def test_an_invite_the_application_answers_at_once_gets_no_100() -> None:
    endpoint, event = _received_invite()
    endpoint.send_response(event.transaction, response_to(event.request, 407, to_tag="t"), 0.0)
    assert _statuses(endpoint, 0.0) == [407]


def test_an_invite_left_pending_gets_its_100_at_the_drain_and_on_retransmission() -> None:
    endpoint, _ = _received_invite()
    assert _statuses(endpoint, 0.0) == [100]
    endpoint.receive(INVITE, PHONE, 0.5)  # the phone did not get it: the 100 is sent again
    assert _statuses(endpoint, 0.5) == [100]
    assert endpoint.next_event() is None, "a retransmission is absorbed by the transaction"


def test_a_100_is_not_sent_twice_when_the_application_later_rings() -> None:
    endpoint, event = _received_invite()
    assert _statuses(endpoint, 0.0) == [100]
    endpoint.send_response(event.transaction, response_to(event.request, 180, to_tag="t"), 0.1)
    assert _statuses(endpoint, 0.1) == [180]
