"""Message waiting's subscriptions (RFC 6665, RFC 3842), fed bytes through the real SIP endpoint with a manual
clock and timers; the authenticator, the boxes' counts and the location service are fakes of their layers."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from tonalite.calls.authentication import Challenge
from tonalite.calls.message_waiting import (
    SUBSCRIPTIONS_PER_LINE,
    CountsInWorkerThreads,
    Deliver,
    MessageWaiting,
    changes_from_any_thread,
)
from tonalite.clock import ManualClock
from tonalite.net.loop_timers import LoopTimers
from tonalite.services.line_directory import SipLine
from tonalite.services.registrations import Binding
from tonalite.services.voicemail import BoxCounts
from tonalite.sip.endpoint import IncomingRequest, IncomingResponse, Peer, SipEndpoint, TransactionFailed
from tonalite.sip.headers import BRANCH_MAGIC, to_of
from tonalite.sip.message import Request, Response, serialise
from tonalite.sip.message_summary import MessageSummary
from tonalite.sip.parser import parse_message
from tonalite.sip.responses import response_to
from tonalite.sip.transport import Transport

DOMAIN = "sip.tonalite.test"
PHONE = Peer(Transport.UDP, "192.0.2.10", 5062)
ALICE = SipLine(1, 1, "+33999000001", "alice", DOMAIN, "Alice", 2, "", "")
BOB = SipLine(2, 1, "+33999000002", "bob", DOMAIN, "Bob", 2, "", "")
LINES = {line.username: line for line in (ALICE, BOB)}


class FakeAuthenticator:
    """The phone's Authorization names its line (the digest itself is RequestAuthenticator's, tested apart)."""

    def authenticate(self, request: Request, kind: Challenge) -> SipLine | Response:
        assert kind == Challenge.REGISTRAR
        username = request.headers.get("Authorization")
        if username is None:
            return response_to(request, 401, to_tag="challenge")
        return LINES[username]


class Directory:
    def by_username(self, username: str) -> SipLine | None:
        return LINES.get(username)

    def by_number(self, number: str) -> SipLine | None:
        return next((line for line in LINES.values() if line.number == number), None)


@dataclass
class Timer:
    due: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class Boxes:
    """The counts of each line's box; `hold` keeps the reads unanswered until `answer_reads`."""

    counts: dict[int, BoxCounts] = field(
        default_factory=lambda: {line.line_id: BoxCounts(line.number, 0, 0) for line in LINES.values()}
    )
    hold: bool = False
    held: list[tuple[int, Deliver]] = field(default_factory=list)

    def read(self, line_id: int, deliver: Deliver) -> None:
        if self.hold:
            self.held.append((line_id, deliver))
        else:
            deliver(self.counts.get(line_id))

    def answer_reads(self) -> None:
        held, self.held = self.held, []
        for line_id, deliver in held:
            deliver(self.counts.get(line_id))


class Node:
    """Message waiting behind a real endpoint, with what Signalling would hand it."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        branches = itertools.count()
        self.endpoint = SipEndpoint(
            sent_by=lambda _: "192.0.2.1:5060", new_branch=lambda: f"{BRANCH_MAGIC}-{next(branches)}"
        )
        self.timers: list[Timer] = []
        self.boxes = Boxes()
        self.bindings: dict[int, Binding] = {}
        self.message_waiting = MessageWaiting(
            self.endpoint, FakeAuthenticator(), Directory(), self, self.boxes, self.clock, self, DOMAIN
        )

    def current(self, line_id: int, now: datetime) -> Binding | None:
        return self.bindings.get(line_id)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(self.clock.now() + delay, callback)
        self.timers.append(timer)
        return timer

    def advance(self, seconds: float) -> None:
        """Time passes: the timers due run, then the endpoint's."""
        self.clock.advance(seconds)
        for timer in sorted(self.timers, key=lambda timer: timer.due):
            if timer.due <= self.clock.now() and not timer.cancelled:
                timer.cancelled = True
                timer.callback()
        self.endpoint.handle_timer(self.clock.now())
        self.dispatch()

    def receive(self, message: Request | Response, peer: Peer = PHONE) -> None:
        self.endpoint.receive(serialise(message), peer, self.clock.now())
        self.dispatch()

    def dispatch(self) -> None:
        while (event := self.endpoint.next_event()) is not None:
            match event:
                case IncomingRequest():
                    self.message_waiting.on_subscribe(event)
                case IncomingResponse() | TransactionFailed():
                    assert self.message_waiting.owns(event.transaction)
                    if isinstance(event, IncomingResponse):
                        self.message_waiting.on_response(event)
                    else:
                        self.message_waiting.on_failure(event)

    def sent(self) -> list[Request | Response]:
        return [parse_message(data) for data, _ in self.endpoint.outgoing(self.clock.now())]

    def change(self, line: SipLine, new: int, saved: int) -> None:
        self.boxes.counts[line.line_id] = BoxCounts(line.number, new, saved)
        self.message_waiting.box_changed(line.line_id)


@dataclass
class Phone:
    """A subscriber: its SUBSCRIBEs, and its answers to the NOTIFYs."""

    username: str = "alice"
    call_id: str = "subscription-1"
    cseq: int = 0
    remote_tag: str | None = None

    def subscribe(
        self,
        box: str = "alice",
        expires: int | None = 3600,
        event: str = "message-summary",
        credentials: bool = True,
        accept: str = "application/simple-message-summary",
    ) -> Request:
        self.cseq += 1
        to_tag = f";tag={self.remote_tag}" if self.remote_tag else ""
        lines = [
            f"SUBSCRIBE sip:{box}@{DOMAIN} SIP/2.0",
            f"Via: SIP/2.0/UDP {PHONE.host}:{PHONE.port};branch={BRANCH_MAGIC}-{secrets.token_hex(6)};rport",
            "Max-Forwards: 70",
            f"From: <sip:{self.username}@{DOMAIN}>;tag=phone",
            f"To: <sip:{box}@{DOMAIN}>{to_tag}",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} SUBSCRIBE",
            f"Contact: <sip:{self.username}@{PHONE.host}:{PHONE.port}>",
            f"Event: {event}",
            f"Accept: {accept}",
            *([f"Expires: {expires}"] if expires is not None else []),
            *([f"Authorization: {self.username}"] if credentials else []),
            "Content-Length: 0",
        ]
        request = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode())
        assert isinstance(request, Request)
        return request

    def accepted(self, node: Node, request: Request) -> Request:
        """Send the SUBSCRIBE: 200, then the NOTIFY, which is returned (not answered yet)."""
        node.receive(request)
        ok, notify = node.sent()
        assert isinstance(ok, Response) and ok.status == 200, ok
        assert isinstance(notify, Request) and notify.method == "NOTIFY"
        self.remote_tag = to_of(ok).tag
        return notify


def subscribed(node: Node, phone: Phone | None = None) -> tuple[Phone, Request]:
    """A phone with an active subscription, and the initial NOTIFY, answered 200."""
    phone = phone or Phone()
    notify = phone.accepted(node, phone.subscribe())
    node.receive(response_to(notify, 200))
    return phone, notify


def summary(notify: Request) -> MessageSummary:
    return MessageSummary.parse(notify.body)


@pytest.fixture
def node() -> Node:
    return Node()


def test_a_subscriber_is_challenged_then_gets_200_and_the_boxs_state_at_once(node: Node) -> None:
    phone = Phone()
    node.receive(phone.subscribe(credentials=False))
    (challenge,) = node.sent()
    assert isinstance(challenge, Response) and challenge.status == 401
    node.receive(phone.subscribe())
    ok, notify = node.sent()
    assert isinstance(ok, Response) and ok.status == 200
    assert ok.headers.get("Expires") == "3600"
    assert ok.headers.get("Contact") == "<sip:192.0.2.1:5060>"
    assert isinstance(notify, Request)
    assert notify.uri == f"sip:alice@{PHONE.host}:{PHONE.port}"
    assert notify.headers.get("Call-ID") == phone.call_id
    assert to_of(notify).tag == "phone" and f"tag={to_of(ok).tag}" in (notify.headers.get("From") or "")
    assert notify.headers.get("Event") == "message-summary"
    assert notify.headers.get("Subscription-State") == "active;expires=3600"
    assert notify.headers.get("Content-Type") == "application/simple-message-summary"
    assert notify.body == (
        b"Messages-Waiting: no\r\nMessage-Account: sip:+33999000001@sip.tonalite.test\r\nVoice-Message: 0/0\r\n"
    )


def test_a_box_is_named_by_number_too(node: Node) -> None:
    notify = Phone().accepted(node, Phone().subscribe(box="0999000001"))
    assert summary(notify).account == f"sip:{ALICE.number}@{DOMAIN}"


def test_each_change_of_the_counts_is_notified_once(node: Node) -> None:
    subscribed(node)
    node.change(ALICE, 1, 0)
    (notify,) = node.sent()
    assert isinstance(notify, Request) and summary(notify) == MessageSummary(1, 0, f"sip:{ALICE.number}@{DOMAIN}")
    assert notify.body.startswith(b"Messages-Waiting: yes\r\n")
    assert notify.headers.get("CSeq") == "2 NOTIFY"
    node.receive(response_to(notify, 200))
    node.message_waiting.box_changed(ALICE.line_id)  # a change that left the counts as they were
    node.change(BOB, 3, 0)  # another line's box, which nobody watches
    assert node.sent() == []


def test_a_refresh_is_answered_with_the_new_duration_and_a_notify(node: Node) -> None:
    phone, _ = subscribed(node)
    node.advance(1000)
    notify = phone.accepted(node, phone.subscribe(expires=600))
    assert notify.headers.get("Subscription-State") == "active;expires=600"
    node.receive(response_to(notify, 200))
    node.advance(599)
    assert node.sent() == [], "the first duration no longer counts"
    node.advance(1)
    (final,) = node.sent()
    assert isinstance(final, Request) and final.headers.get("Subscription-State") == "terminated;reason=timeout"


def test_unsubscribing_gets_a_final_notify_and_ends_the_subscription(node: Node) -> None:
    phone, _ = subscribed(node)
    node.boxes.counts[ALICE.line_id] = BoxCounts(ALICE.number, 2, 1)
    final = phone.accepted(node, phone.subscribe(expires=0))
    assert final.headers.get("Subscription-State") == "terminated;reason=timeout"
    assert summary(final).new == 2
    node.receive(response_to(final, 200))
    node.change(ALICE, 3, 1)
    assert node.sent() == []
    node.receive(phone.subscribe())
    (gone,) = node.sent()
    assert isinstance(gone, Response) and gone.status == 481


def test_a_subscription_not_refreshed_expires_with_a_final_notify(node: Node) -> None:
    subscribed(node)
    node.advance(3599)
    assert node.sent() == []
    node.advance(1)
    (final,) = node.sent()
    assert isinstance(final, Request) and final.headers.get("Subscription-State") == "terminated;reason=timeout"
    assert summary(final).new == 0
    node.change(ALICE, 1, 0)
    assert node.sent() == []


@pytest.mark.parametrize("failure", ["481", "503", "no answer"])
def test_a_notify_that_fails_drops_the_subscription(node: Node, failure: str) -> None:
    phone = Phone()
    notify = phone.accepted(node, phone.subscribe())
    if failure == "no answer":
        for _ in range(11):  # Timer E resends it, up to Timer F (64*T1)
            node.advance(4)
            assert all(isinstance(message, Request) for message in node.sent())
    else:
        node.receive(response_to(notify, int(failure)))
    node.change(ALICE, 1, 0)
    assert node.sent() == []
    node.receive(phone.subscribe())
    (gone,) = node.sent()
    assert isinstance(gone, Response) and gone.status == 481


@pytest.mark.parametrize(
    ("request_changes", "status"),
    [
        ({"event": "presence"}, 489),
        ({"box": "bob"}, 403),
        ({"box": "carol"}, 404),
        ({"box": "0999009999"}, 404),
        ({"expires": 59}, 423),
        ({"accept": "application/pidf+xml, text/plain"}, 406),
    ],
)
def test_a_subscription_that_cannot_be_granted_is_refused(
    node: Node, request_changes: dict[str, object], status: int
) -> None:
    node.receive(Phone().subscribe(**request_changes))  # type: ignore[arg-type]
    (refusal,) = node.sent()
    assert isinstance(refusal, Response) and refusal.status == status
    assert to_of(refusal).tag, "a final answer out of a dialog carries a To tag"
    if status == 489:
        assert refusal.headers.get("Allow-Events") == "message-summary"
    if status == 423:
        assert refusal.headers.get("Min-Expires") == "60"


def test_another_event_package_is_refused_before_any_challenge(node: Node) -> None:
    node.receive(Phone().subscribe(event="dialog;id=1", credentials=False))
    (refusal,) = node.sent()
    assert isinstance(refusal, Response) and refusal.status == 489


def test_a_duration_longer_than_the_maximum_is_cut_down(node: Node) -> None:
    node.receive(Phone().subscribe(expires=10**9))
    ok, _ = node.sent()
    assert isinstance(ok, Response) and ok.headers.get("Expires") == "86400"


@pytest.mark.parametrize("malformed", ["Expires", "Event", "Contact"])
def test_a_malformed_subscribe_gets_400(node: Node, malformed: str) -> None:
    request = Phone().subscribe()
    if malformed == "Expires":
        request.headers.replace_first_value("Expires", "soon")
    else:
        request.headers.remove(malformed)
    node.receive(request)
    (refusal,) = node.sent()
    assert isinstance(refusal, Response) and refusal.status == 400


def test_in_the_dialog_an_out_of_order_refresh_gets_500_and_an_unknown_dialog_481(node: Node) -> None:
    phone, _ = subscribed(node)
    phone.cseq = 0
    node.receive(phone.subscribe())
    (out_of_order,) = node.sent()
    assert isinstance(out_of_order, Response) and out_of_order.status == 500
    stranger = Phone(call_id="never-subscribed", remote_tag="guessed")
    node.receive(stranger.subscribe())
    (unknown,) = node.sent()
    assert isinstance(unknown, Response) and unknown.status == 481


def test_a_lines_oldest_subscription_makes_room_for_a_new_one(node: Node) -> None:
    phones = [Phone(call_id=f"restart-{index}") for index in range(SUBSCRIPTIONS_PER_LINE + 1)]
    for phone in phones:
        subscribed(node, phone)
    node.receive(phones[0].subscribe())
    (gone,) = node.sent()
    assert isinstance(gone, Response) and gone.status == 481
    node.change(ALICE, 1, 0)
    assert len(node.sent()) == SUBSCRIPTIONS_PER_LINE


def _registered(node: Node, line: SipLine, host: str = "192.0.2.20", port: int = 5070) -> None:
    now = node.clock.wall()
    node.bindings[line.line_id] = Binding(
        line_id=line.line_id,
        contact=f"<sip:{line.username}@{host}:{port};line=x>",
        call_id="registration",
        cseq=1,
        source_host=host,
        source_port=port,
        transport=Transport.UDP,
        user_agent="desk phone",
        registered_at=now,
        expires_at=now + timedelta(hours=1),
        node="test",
    )


def test_a_registered_phone_without_a_subscription_gets_unsolicited_notifies(node: Node) -> None:
    _registered(node, BOB)
    node.change(BOB, 1, 0)
    (notify,) = node.sent()
    assert isinstance(notify, Request) and notify.method == "NOTIFY"
    assert notify.uri == "sip:bob@192.0.2.20:5070;line=x"
    assert to_of(notify).tag is None, "out of any dialog"
    assert notify.headers.get("Subscription-State") == "active"
    assert notify.headers.get("Event") == "message-summary"
    assert summary(notify) == MessageSummary(1, 0, f"sip:{BOB.number}@{DOMAIN}")
    node.receive(response_to(notify, 200), Peer(Transport.UDP, "192.0.2.20", 5070))
    node.message_waiting.box_changed(BOB.line_id)
    assert node.sent() == [], "the counts did not change"
    node.change(BOB, 0, 1)
    (emptied,) = node.sent()
    assert isinstance(emptied, Request) and summary(emptied).new == 0


def test_a_registered_phone_that_subscribed_gets_only_its_subscriptions_notifies(node: Node) -> None:
    _registered(node, ALICE, PHONE.host, PHONE.port)
    subscribed(node)
    node.change(ALICE, 1, 0)
    (notify,) = node.sent()
    assert isinstance(notify, Request) and to_of(notify).tag == "phone"


def test_counts_read_while_the_box_changed_again_are_read_anew(node: Node) -> None:
    """Two reads of one box are never in flight at once, so an older answer never follows a newer one."""
    subscribed(node)
    node.boxes.hold = True
    node.change(ALICE, 1, 0)
    node.change(ALICE, 2, 0)
    assert len(node.boxes.held) == 1
    node.boxes.answer_reads()  # read before the second change: read again, nothing sent
    assert node.sent() == [] and len(node.boxes.held) == 1
    node.boxes.answer_reads()
    (notify,) = node.sent()
    assert isinstance(notify, Request) and summary(notify).new == 2


async def test_a_change_made_in_a_worker_thread_reaches_the_loop_thread() -> None:
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()
    threads: list[int] = []

    def box_changed(line_id: int) -> None:
        threads.append(threading.get_ident())
        changed.set()

    hook = changes_from_any_thread(loop, LoopTimers(after_each=lambda: None), box_changed)
    await asyncio.to_thread(hook, 7)
    await asyncio.wait_for(changed.wait(), 5)
    assert threads == [threading.get_ident()]


async def test_counts_are_read_in_a_worker_thread_and_delivered_on_the_loop() -> None:
    delivered: asyncio.Future[tuple[BoxCounts | None, int]] = asyncio.get_running_loop().create_future()
    reader_threads: list[int] = []

    def counts(line_id: int) -> BoxCounts:
        reader_threads.append(threading.get_ident())
        return BoxCounts("+33999000001", line_id, 0)

    reader = CountsInWorkerThreads(counts, LoopTimers(after_each=lambda: None))
    reader.read(4, lambda found: delivered.set_result((found, threading.get_ident())))
    found, thread = await asyncio.wait_for(delivered, 5)
    assert found == BoxCounts("+33999000001", 4, 0)
    assert thread == threading.get_ident() and reader_threads != [thread]
