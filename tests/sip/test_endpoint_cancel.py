"""The endpoint's CANCEL of an INVITE it sent (RFC 3261 §9.1), fed bytes: no CANCEL before a provisional
response (it waits for one), none after a final response."""

from __future__ import annotations

import pytest

from tonalite.sip.endpoint import Peer, SipEndpoint, TransactionFailed
from tonalite.sip.headers import BRANCH_MAGIC, top_via
from tonalite.sip.message import Headers, Request, serialise
from tonalite.sip.parser import parse_message
from tonalite.sip.responses import response_to
from tonalite.sip.transport import Transport

PHONE = Peer(Transport.UDP, "192.0.2.10", 5060)


def _endpoint() -> SipEndpoint:
    branches = iter(range(1, 1000))
    return SipEndpoint(sent_by=lambda _: "192.0.2.1:5060", new_branch=lambda: f"{BRANCH_MAGIC}-{next(branches)}")


def _invite() -> Request:
    headers = Headers(
        [
            ("Max-Forwards", "70"),
            ("From", "<sip:caller@192.0.2.1>;tag=a"),
            ("To", "<sip:callee@192.0.2.10>"),
            ("Call-ID", "cancel-test"),
            ("CSeq", "1 INVITE"),
            ("Contact", "<sip:caller@192.0.2.1:5060>"),
        ]
    )
    return Request("INVITE", "sip:callee@192.0.2.10:5060", headers)


def _sent_methods(endpoint: SipEndpoint) -> list[str]:
    return [data.split(b" ", 1)[0].decode() for data, _ in endpoint.outgoing(0.0)]


def _answer(endpoint: SipEndpoint, invite: Request, status: int, now: float) -> None:
    """The phone's response to the INVITE as it went out (with the endpoint's Via)."""
    response = response_to(invite, status, to_tag="callee")
    endpoint.receive(serialise(response), PHONE, now)


def _sent_invite(endpoint: SipEndpoint) -> tuple[int, Request]:
    transaction = endpoint.send_request(_invite(), PHONE, 0.0)
    (data, _), *_ = endpoint.outgoing(0.0)
    sent = parse_message(data)
    assert isinstance(sent, Request)
    return transaction, sent


def test_a_cancel_before_any_provisional_response_waits_for_one() -> None:
    endpoint = _endpoint()
    transaction, invite = _sent_invite(endpoint)
    endpoint.cancel(transaction, 0.1)
    assert _sent_methods(endpoint) == []
    _answer(endpoint, invite, 100, 0.2)
    (data, peer), *rest = endpoint.outgoing(0.0)
    cancel = parse_message(data)
    assert isinstance(cancel, Request) and cancel.method == "CANCEL" and not rest
    assert peer == PHONE
    assert top_via(cancel).branch == top_via(invite).branch, "a CANCEL shares its INVITE's branch (§9.1)"


@pytest.mark.parametrize("final", [486, 200])
def test_a_cancel_waiting_for_a_provisional_response_is_dropped_by_a_final_one(final: int) -> None:
    endpoint = _endpoint()
    transaction, invite = _sent_invite(endpoint)
    endpoint.cancel(transaction, 0.1)
    _answer(endpoint, invite, final, 0.2)
    assert "CANCEL" not in _sent_methods(endpoint)
    _answer(endpoint, invite, 180, 0.3)  # a late provisional response changes nothing
    assert "CANCEL" not in _sent_methods(endpoint)


def test_a_ringing_invite_is_cancelled_at_once() -> None:
    endpoint = _endpoint()
    transaction, invite = _sent_invite(endpoint)
    _answer(endpoint, invite, 180, 0.1)
    endpoint.outgoing(0.0)
    endpoint.cancel(transaction, 0.2)
    assert _sent_methods(endpoint) == ["CANCEL"]


def test_nothing_is_cancelled_after_a_final_response() -> None:
    endpoint = _endpoint()
    transaction, invite = _sent_invite(endpoint)
    _answer(endpoint, invite, 486, 0.1)
    assert _sent_methods(endpoint) == ["ACK"]
    endpoint.cancel(transaction, 0.2)
    assert _sent_methods(endpoint) == []


def test_an_invite_that_times_out_forgets_its_waiting_cancel() -> None:
    endpoint = _endpoint()
    transaction, _ = _sent_invite(endpoint)
    endpoint.cancel(transaction, 0.1)
    deadline = endpoint.next_deadline()
    while deadline is not None:
        endpoint.handle_timer(deadline)
        deadline = endpoint.next_deadline()
    assert "CANCEL" not in _sent_methods(endpoint)
    failed = endpoint.next_event()
    assert isinstance(failed, TransactionFailed) and failed.transaction == transaction and failed.timed_out
