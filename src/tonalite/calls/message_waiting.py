"""Message waiting indication (RFC 3842, on RFC 6665's SUBSCRIBE/NOTIFY): a line's phone learns when the count
of new messages in its voicemail changes, and lights its lamp.

A phone SUBSCRIBEs to its own line's box (`Event: message-summary`, the Request-URI naming the line by number
or SIP username) with digest credentials, as it REGISTERs (401). The subscription is a dialog in which this node
sends a NOTIFY at once, after each refresh, and whenever the box's counts change, until the phone ends it
(Expires: 0), lets it expire, or a NOTIFY fails (RFC 6665 §4.2.2: a 481, any other failure, or no answer). A
registered phone that has not subscribed gets an out-of-dialog ("unsolicited") NOTIFY instead, with
`Subscription-State: active`, as Asterisk and operators' platforms send them.

Sans-IO as the B2BUA: requests come in as endpoint events, time from the injected clock, timers through
`Timers`; reading a box's counts (a database query) is asked of a `CountsReader`, whose answer comes back
later, on the loop. The voicemail service reports changes from worker threads: `changes_from_any_thread`
hops them to the loop.

Subscriptions live in this node's memory: a box changed through another node (its API, its call core) does not
reach them, nor the unsolicited NOTIFYs of the phones registered here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Protocol

from tonalite.calls.authentication import Challenge, stable_to_tag
from tonalite.calls.timers import TimerHandle, Timers
from tonalite.clock import Clock
from tonalite.services.errors import InvalidInput
from tonalite.services.line_directory import SipLine
from tonalite.services.numbering import parse_number
from tonalite.services.registrations import Binding
from tonalite.services.voicemail import BoxCounts
from tonalite.sip.dialog import Dialog, DialogId
from tonalite.sip.endpoint import IncomingRequest, IncomingResponse, Peer, SipEndpoint, TransactionFailed
from tonalite.sip.headers import HeaderError, from_of, to_of
from tonalite.sip.message import Headers, Request, Response, split_list
from tonalite.sip.message_summary import CONTENT_TYPE, EVENT_PACKAGE, MessageSummary
from tonalite.sip.responses import response_to
from tonalite.sip.transport import Transport, contact_uri
from tonalite.sip.uri import SipUri, UriError, parse_uri

log = logging.getLogger(__name__)

SUBSCRIPTIONS_PER_LINE = 8
"""A line's subscriptions at most: a phone that restarts subscribes anew, and the oldest goes to make room."""
_ACCEPTED_RANGES = frozenset({CONTENT_TYPE, "application/*", "*/*"})


@dataclass(frozen=True, slots=True)
class SubscriptionBounds:
    """The subscription durations granted, in seconds; below the minimum is 423 (RFC 6665 §4.2.1.1)."""

    minimum: int = 60
    default: int = 3600
    maximum: int = 86400


Deliver = Callable[[BoxCounts | None], None]


class CountsReader(Protocol):
    """Reads a line's box counts off the loop, then calls `deliver` on the loop (None: they could not be read)."""

    def read(self, line_id: int, deliver: Deliver) -> None: ...


class Authenticator(Protocol):
    """The line a request comes from, or the challenge to send (calls.authentication.RequestAuthenticator)."""

    def authenticate(self, request: Request, kind: Challenge) -> SipLine | Response: ...


class Lines(Protocol):
    """The lines by SIP username and by number (services.line_directory.LineDirectory)."""

    def by_username(self, username: str) -> SipLine | None: ...

    def by_number(self, number: str) -> SipLine | None: ...


class Location(Protocol):
    """Where each line's phone is registered (calls.location.LocationService)."""

    def current(self, line_id: int, now: datetime) -> Binding | None: ...


@dataclass(slots=True)
class _Subscription:
    dialog: Dialog
    line_id: int
    peer: Peer
    expires_at: float
    expiry: TimerHandle | None = None
    sent: BoxCounts | None = None
    """The counts of the last NOTIFY sent: the next goes out when they differ."""
    due: bool = True
    """A NOTIFY must go out with the next counts read, changed or not: the first one, or a refresh's."""
    ending: bool = False
    """Expires 0 was asked: the next NOTIFY is the final one."""


class MessageWaiting:
    def __init__(
        self,
        endpoint: SipEndpoint,
        authenticator: Authenticator,
        lines: Lines,
        location: Location,
        counts: CountsReader,
        clock: Clock,
        timers: Timers,
        domain: str,
        bounds: SubscriptionBounds = SubscriptionBounds(),
    ) -> None:
        self._endpoint = endpoint
        self._authenticator = authenticator
        self._lines = lines
        self._location = location
        self._counts = counts
        self._clock = clock
        self._timers = timers
        self._domain = domain
        self._bounds = bounds
        self._contacts = {transport: contact_uri(endpoint.sent_by(transport), transport) for transport in Transport}
        self._subscriptions: dict[DialogId, _Subscription] = {}
        self._by_line: dict[int, dict[DialogId, _Subscription]] = {}
        """Each line's subscriptions, oldest first."""
        self._notifies: dict[int, DialogId | None] = {}
        """Our NOTIFY transactions waiting for their answer: the subscription's dialog, None for a NOTIFY that
        leaves no subscription behind (out of dialog, or the final one)."""
        self._unsolicited: dict[int, BoxCounts] = {}
        """The counts of the last out-of-dialog NOTIFY sent for each line."""
        self._reading: set[int] = set()
        self._stale: set[int] = set()
        """Lines whose box changed while its counts were being read: they are read again when those come."""

    # Events from the endpoint.

    def on_subscribe(self, event: IncomingRequest) -> None:
        request = event.request
        try:
            to_tag = to_of(request).tag
            if to_tag:
                self._refresh(event, to_tag)
            else:
                self._subscribe(event)
        except (HeaderError, UriError) as error:
            self._answer(event.transaction, _refusal(request, 400, f"Bad Header: {error}"[:80]))

    def owns(self, transaction: int) -> bool:
        """Whether a client transaction is one of our NOTIFYs (its answer and failure come here)."""
        return transaction in self._notifies

    def on_response(self, event: IncomingResponse) -> None:
        if event.response.status < 200:
            return
        dialog_id = self._notifies.pop(event.transaction, None)
        if event.response.status >= 300 and dialog_id is not None:
            self._drop(dialog_id)

    def on_failure(self, event: TransactionFailed) -> None:
        dialog_id = self._notifies.pop(event.transaction, None)
        if dialog_id is not None:
            self._drop(dialog_id)

    def box_changed(self, line_id: int) -> None:
        """The counts of the line's box may have changed: the phones watching it hear of it if they did."""
        if self._by_line.get(line_id) or self._location.current(line_id, self._clock.wall()) is not None:
            self._read(line_id)

    # Subscribing.

    def _subscribe(self, event: IncomingRequest) -> None:
        request = event.request
        refusal = _unacceptable(request)
        if refusal is not None:
            self._answer(event.transaction, refusal)
            return
        line = self._authenticator.authenticate(request, Challenge.REGISTRAR)
        if isinstance(line, Response):  # a challenge, or a 400 for malformed credentials: no state kept
            self._endpoint.send_response_statelessly(event.transaction, line, self._clock.now())
            return
        box_line = self._box_line(request)
        if box_line is None:
            self._answer(event.transaction, _refusal(request, 404, "No Such Voicemail Box"))
            return
        if box_line.line_id != line.line_id:
            self._answer(event.transaction, _refusal(request, 403, "Not Your Voicemail Box"))
            return
        expires = self._expires(request)
        if expires is None:
            self._answer(event.transaction, self._too_brief(request))
            return
        dialog = Dialog.as_uas(request, secrets.token_hex(8), self._contacts[event.peer.transport])
        subscription = _Subscription(dialog, line.line_id, event.peer, self._clock.now())
        subscriptions = self._by_line.setdefault(line.line_id, {})
        if len(subscriptions) >= SUBSCRIPTIONS_PER_LINE:
            self._drop(next(iter(subscriptions)))
        subscriptions[dialog.id] = subscription
        self._subscriptions[dialog.id] = subscription
        self._accept(event, subscription, expires)

    def _refresh(self, event: IncomingRequest, to_tag: str) -> None:
        request = event.request
        dialog_id = (request.headers.get("Call-ID") or "", to_tag, from_of(request).tag or "")
        subscription = self._subscriptions.get(dialog_id)
        if subscription is None:
            self._answer(event.transaction, response_to(request, 481))
            return
        refusal = _unacceptable(request)
        if refusal is not None:
            self._answer(event.transaction, refusal)
            return
        if not subscription.dialog.accepts(request):
            self._answer(event.transaction, response_to(request, 500, "Out of Order CSeq"))
            return
        expires = self._expires(request)
        if expires is None:
            self._answer(event.transaction, self._too_brief(request))
            return
        subscription.dialog.update_target(request)
        subscription.peer = event.peer
        self._accept(event, subscription, expires)

    def _accept(self, event: IncomingRequest, subscription: _Subscription, expires: int) -> None:
        """200 with the duration granted, then a NOTIFY as soon as the counts are read (RFC 6665 §4.2.1.2)."""
        response = response_to(event.request, 200, to_tag=subscription.dialog.local_tag)
        response.headers.add("Expires", str(expires))
        response.headers.add("Contact", subscription.dialog.local_contact)
        self._answer(event.transaction, response)
        if subscription.expiry is not None:
            subscription.expiry.cancel()
        subscription.expires_at = self._clock.now() + expires
        subscription.ending = expires == 0
        subscription.expiry = (
            None if expires == 0 else self._timers.call_later(expires, partial(self._expire, subscription))
        )
        subscription.due = True
        self._read(subscription.line_id)

    def _box_line(self, request: Request) -> SipLine | None:
        """The line whose box the Request-URI names, by SIP username or by number."""
        uri = parse_uri(request.uri)
        user = uri.unescaped_user if isinstance(uri, SipUri) else None
        if not user:
            return None
        found = self._lines.by_username(user)
        if found is not None:
            return found
        try:
            return self._lines.by_number(parse_number(user))
        except InvalidInput:
            return None

    def _expires(self, request: Request) -> int | None:
        """The duration granted: the one asked, within the bounds; 0 ends the subscription; None: too brief."""
        value = request.headers.get("Expires")
        if value is None:
            return self._bounds.default
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 10:
            raise HeaderError("malformed Expires")
        asked = int(text)
        if 0 < asked < self._bounds.minimum:
            return None
        return min(asked, self._bounds.maximum)

    def _too_brief(self, request: Request) -> Response:
        response = _refusal(request, 423)
        response.headers.add("Min-Expires", str(self._bounds.minimum))
        return response

    def _expire(self, subscription: _Subscription) -> None:
        if self._subscriptions.get(subscription.dialog.id) is not subscription:
            return
        subscription.ending = True
        self._notify(subscription, subscription.sent)

    # Notifying.

    def _read(self, line_id: int) -> None:
        """Ask for the line's counts, one read at a time per line, so that answers never arrive out of order."""
        if line_id in self._reading:
            self._stale.add(line_id)
            return
        self._reading.add(line_id)
        self._counts.read(line_id, partial(self._counts_read, line_id))

    def _counts_read(self, line_id: int, counts: BoxCounts | None) -> None:
        self._reading.discard(line_id)
        if line_id in self._stale:
            self._stale.discard(line_id)
            self._read(line_id)
            return
        for subscription in list(self._by_line.get(line_id, {}).values()):
            if counts is None:
                if subscription.ending:  # the final NOTIFY goes out all the same, with what was last said
                    self._notify(subscription, subscription.sent)
            elif subscription.due or subscription.sent != counts:
                self._notify(subscription, counts)
        if counts is not None:
            self._notify_unsubscribed(line_id, counts)

    def _notify(self, subscription: _Subscription, counts: BoxCounts | None) -> None:
        """A NOTIFY in the subscription's dialog; the final one (`ending`) ends the subscription."""
        if subscription.ending:
            state = "terminated;reason=timeout"
        else:
            state = f"active;expires={max(0, round(subscription.expires_at - self._clock.now()))}"
        body = b"" if counts is None else self._summary(counts).serialise()
        request = subscription.dialog.new_request("NOTIFY", body, CONTENT_TYPE)
        request.headers.add("Contact", subscription.dialog.local_contact)
        request.headers.add("Event", EVENT_PACKAGE)
        request.headers.add("Subscription-State", state)
        transaction = self._endpoint.send_request(request, subscription.peer, self._clock.now())
        subscription.sent = counts
        subscription.due = False
        if subscription.ending:
            self._drop(subscription.dialog.id)
        self._notifies[transaction] = None if subscription.ending else subscription.dialog.id

    def _notify_unsubscribed(self, line_id: int, counts: BoxCounts) -> None:
        """The line's registered phone, unless it subscribed, hears of new counts out of dialog."""
        binding = self._location.current(line_id, self._clock.wall())
        if binding is None or self._unsolicited.get(line_id) == counts or self._subscribed(binding):
            return
        self._unsolicited[line_id] = counts
        summary = self._summary(counts)
        headers = Headers(
            [
                ("Max-Forwards", "70"),
                ("From", f"<{summary.account}>;tag={secrets.token_hex(8)}"),
                ("To", f"<{summary.account}>"),
                ("Call-ID", secrets.token_hex(16)),
                ("CSeq", "1 NOTIFY"),
                ("Contact", self._contacts[binding.transport]),
                ("Event", EVENT_PACKAGE),
                ("Subscription-State", "active"),
                ("Content-Type", CONTENT_TYPE),
            ]
        )
        request = Request("NOTIFY", binding.contact.strip("<>"), headers, summary.serialise())
        peer = Peer(binding.transport, binding.source_host, binding.source_port)
        self._notifies[self._endpoint.send_request(request, peer, self._clock.now())] = None

    def _subscribed(self, binding: Binding) -> bool:
        """Whether the registered phone holds a subscription: one from its address, or to its contact."""
        contact = binding.contact.strip("<>")
        return any(
            (subscription.peer.host, subscription.peer.port) == (binding.source_host, binding.source_port)
            or subscription.dialog.remote_target == contact
            for subscription in self._by_line.get(binding.line_id, {}).values()
        )

    def _summary(self, counts: BoxCounts) -> MessageSummary:
        return MessageSummary(counts.new, counts.saved, f"sip:{counts.number}@{self._domain}")

    def _drop(self, dialog_id: DialogId) -> None:
        subscription = self._subscriptions.pop(dialog_id, None)
        if subscription is None:
            return
        if subscription.expiry is not None:
            subscription.expiry.cancel()
        line = self._by_line.get(subscription.line_id, {})
        line.pop(dialog_id, None)
        if not line:
            self._by_line.pop(subscription.line_id, None)

    def _answer(self, transaction: int, response: Response) -> None:
        self._endpoint.send_response(transaction, response, self._clock.now())


def _unacceptable(request: Request) -> Response | None:
    """489 for another event package (RFC 6665 §8.3.2), 406 for a subscriber that takes no summary."""
    event = request.headers.get("Event")
    if event is None:
        return _refusal(request, 400, "Missing Event")
    if event.partition(";")[0].strip().lower() != EVENT_PACKAGE:
        response = _refusal(request, 489)
        response.headers.add("Allow-Events", EVENT_PACKAGE)
        return response
    ranges = {
        item.partition(";")[0].strip().lower()
        for value in request.headers.get_all("Accept")
        for item in split_list(value)
    }
    if ranges and not ranges & _ACCEPTED_RANGES:
        response = _refusal(request, 406, "Not Acceptable")
        response.headers.add("Accept", CONTENT_TYPE)
        return response
    return None


def _refusal(request: Request, status: int, reason: str | None = None) -> Response:
    """A response to a SUBSCRIBE; one outside a dialog gets the same To tag for each retransmission."""
    return response_to(request, status, reason, to_tag=stable_to_tag(request))


# The asyncio side.


class CountsInWorkerThreads:
    """The CountsReader of a running node: the query runs in a worker thread, and its answer is handed over on
    the loop through the timers, which send what it produced."""

    def __init__(self, counts: Callable[[int], BoxCounts | None], timers: Timers) -> None:
        self._counts = counts
        self._timers = timers
        self._tasks: set[asyncio.Task[None]] = set()

    def read(self, line_id: int, deliver: Deliver) -> None:
        task = asyncio.get_running_loop().create_task(self._read(line_id, deliver))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, line_id: int, deliver: Deliver) -> None:
        try:
            counts = await asyncio.to_thread(self._counts, line_id)
        except Exception:
            log.exception("reading the voicemail counts of line %d failed", line_id)
            counts = None
        self._timers.call_later(0, partial(deliver, counts))


def changes_from_any_thread(
    loop: asyncio.AbstractEventLoop, timers: Timers, box_changed: Callable[[int], None]
) -> Callable[[int], None]:
    """The voicemail service's change hook: services run in worker threads, message waiting on the loop."""

    def changed(line_id: int) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: the node has stopped
            loop.call_soon_threadsafe(timers.call_later, 0, partial(box_changed, line_id))

    return changed
