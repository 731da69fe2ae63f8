"""The back-to-back user agent: each call is two SIP dialogs, the caller's and the callee's, relayed.

It turns what one side says into what the other side hears: provisional and final responses with their
SDP, the ACK of the 2xx, BYE from either side, CANCEL, and in-dialog re-INVITE / UPDATE / INFO. It decides
nothing itself: the dial plan says where a call goes and, at a line, what the line's options make of it
(features.forwarding: ring, forward, voicemail, an announcement, a refusal), asked again when the phone does not
answer in time or refuses; the location service says where a line's phone is. The B2BUA carries it out. The
caller sees only the platform's identity for the callee, and the callee sees the caller's line number (or its
display number; From and P-Asserted-Identity), never what the caller's phone wrote.

Calls to and from the public network go through carrier trunks with the same machinery: a call out is a
callee leg towards the trunk (which may challenge it once), a call in is a caller leg from the trunk, known
by its source address rather than by digest credentials.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tonalite.calls.authentication import Challenge, RequestAuthenticator
from tonalite.calls.call import RESULT_OF_STATUS, Call, CallState
from tonalite.calls.carrier import ANONYMOUS as ANONYMOUS_NUMBER
from tonalite.calls.carrier import presented_caller, trunk_uri, with_credentials
from tonalite.calls.local_media import (
    LocalMedia,
    OfferTerms,
    OpenMedia,
    late_offer_stream,
    local_answer,
    local_offer,
    offer_terms,
)
from tonalite.calls.location import LocationService
from tonalite.calls.media_anchor import (
    AnchorPolicy,
    OpenRelay,
    PhoneAddresses,
    Relay,
    Side,
    anchored,
    anchors,
    relayed_remote,
)
from tonalite.calls.media_port import MediaPort
from tonalite.calls.timers import TimerHandle, Timers
from tonalite.clock import Clock
from tonalite.features.dialled import normalise_dialled
from tonalite.features.dialplan import (
    Arrival,
    BarReason,
    Barred,
    DialPlan,
    NoRoute,
    ToFeatureCode,
    ToLine,
    ToOutside,
    ToOwnVoicemail,
    ToVoicemailAccess,
    Unassigned,
)
from tonalite.features.feature_codes import AnsweredCode, Presentation
from tonalite.features.forwarding import Announce, ForwardReason, ForwardTo, Ring, Situation, ToVoicemail
from tonalite.media.dtmf import DtmfError, parse_info_body
from tonalite.services.line_directory import SipLine
from tonalite.services.registrations import Binding
from tonalite.services.trunks import CarrierTrunk, TrunkService
from tonalite.sip.dialog import Dialog, DialogId
from tonalite.sip.endpoint import (
    IncomingAck,
    IncomingCancel,
    IncomingRequest,
    IncomingResponse,
    Peer,
    SipEndpoint,
    TransactionFailed,
)
from tonalite.sip.headers import HeaderError, first_contact_of, from_of, to_of
from tonalite.sip.message import Headers, Request, Response
from tonalite.sip.responses import response_to
from tonalite.sip.sdp import SdpError, SessionDescription
from tonalite.sip.sdp import answer as sdp_answer
from tonalite.sip.transaction import TimerValues
from tonalite.sip.transport import Transport, contact_uri
from tonalite.sip.uri import SipUri, TelUri, UriError, parse_uri
from tonalite.store.models import CallDirection, CallResult

log = logging.getLogger(__name__)

RING_TIMEOUT_S = 180.0
FORGET_SWEEP_S = 1.0
"""The shortest time between two sweeps of the ended calls: under load, one timer a second forgets them all."""
RELAYED_IN_DIALOG = frozenset({"INVITE", "UPDATE", "INFO"})
ANONYMOUS = '"Anonymous" <sip:anonymous@anonymous.invalid>'
"""The From of a caller who hides their number (RFC 3323 §4.1.1.3)."""
REFUSED_AS_BUSY = frozenset({486, 600, 603})
REFUSED_AS_UNREACHABLE = frozenset({408, 480, 503})
"""A line's phone that is busy or declines the call is busy; one that is unreachable (no answer at all, a
transport error) or unavailable is as if not registered: the line's options decide again (its busy or backup
forward, its voicemail), and without either the caller hears what the phone said."""
UNASSIGNED = ("unassigned_number", 404)
BARRED = {BarReason.LOCKED: ("outgoing_calls_locked", 403), BarReason.SCREENED: ("number_barred", 403)}
INFO_DTMF_TYPES = frozenset({"application/dtmf-relay", "application/dtmf"})
_BODY_HEADERS = ("Content-Type", "Content-Disposition", "Content-Encoding", "Content-Language")
_INFO_PACKAGE_HEADERS = ("Info-Package", "Recv-Info")
"""RFC 6086: the package an INFO's body belongs to, and the packages a phone accepts (in INVITE, UPDATE and
their responses), so that each phone learns the other's. Every field goes across as written: an empty
`Recv-Info:` says the phone accepts none."""


class Voicemail(Protocol):
    """Where a call goes that its line cannot take (features.voicemail.VoicemailDeposit)."""

    async def takes_messages(self, line_id: int) -> object | None: ...

    async def take_message(self, port: MediaPort, box: Any, line_id: int, number: str, caller: str) -> int | None: ...


class StarCodes(Protocol):
    """What a star code dialled on a line's phone does (features.star_codes.StarCodes)."""

    async def answer(self, port: MediaPort, line_id: int, code: AnsweredCode) -> None: ...


class Announcements(Protocol):
    """Spoken messages a call ends with (features.announcements.Announcements)."""

    async def announce(self, port: MediaPort, *, line_id: int, prompt: str) -> None: ...


class VoicemailMenu(Protocol):
    """Where a line's owner consults its voicemail (features.voicemail_menu.VoicemailMenu)."""

    async def consult_own(self, port: MediaPort, line_id: int) -> None: ...

    async def consult_remote(self, port: MediaPort, caller_line_id: int | None) -> None: ...


@dataclass(slots=True)
class _Leg:
    """One side of a call: the transaction that opened it, where its phone is, and its dialog."""

    peer: Peer
    invite: Request
    transaction: int
    dialog: Dialog | None = None


@dataclass(slots=True)
class _Relay:
    """A request relayed inside the call: the other side's server transaction waits for our answer."""

    bridge: _Bridge
    origin_is_caller: bool
    origin_transaction: int
    origin_request: Request


@dataclass(slots=True)
class _Retransmission:
    """A 2xx we keep sending until its ACK comes (RFC 3261 §13.3.1.4)."""

    transaction: int
    response: Response
    interval: float
    elapsed: float = 0.0
    handle: TimerHandle | None = None


@dataclass(slots=True)
class _Bridge:
    call: Call
    caller: _Leg
    caller_tag: str
    callee: _Leg | None = None
    ack_for_callee: Request | None = None
    """The ACK we sent for the callee's 2xx, sent again if the callee repeats its 2xx."""
    callee_2xx_waiting: Response | None = None
    """The callee's 2xx, acknowledged only when the caller's ACK brings its body (a late offer's answer)."""
    unacked: dict[DialogId, _Retransmission] = field(default_factory=dict)
    trunk: CarrierTrunk | None = None
    """The trunk the callee leg goes to, for a call out."""
    challenge_answered: bool = False
    """The trunk's challenge is answered once: a second one means the credentials are wrong."""
    local: asyncio.Task[None] | None = None
    """The voicemail answering the caller itself, when the call went there."""
    media: LocalMedia | None = None
    local_answer: tuple[OfferTerms, bytes] | None = None
    """The terms and the SDP the node answered the caller with, when it answered the call itself."""
    late_answer: asyncio.Future[bytes] | None = None
    """The body of the ACK, awaited when the node made the offer (the caller's INVITE had none)."""
    no_reply: TimerHandle | None = None
    """When the callee's phone has rung long enough and the call goes to its voicemail."""
    relay: Relay | None = None
    """The RTP relay of a call whose media is anchored here: both phones send to it."""
    line: SipLine | None = None
    """The line the call is at now: the one called, or where its forwards brought it."""
    forwarded_through: tuple[str, ...] = ()
    """The lines whose forwards brought the call to `line`, in order (features.forwarding ends loops)."""
    diversions: list[tuple[str, ForwardReason]] = field(default_factory=list)
    """The same, most recent first, as the Diversion header says them (RFC 5806)."""
    lines: list[int] = field(default_factory=list)
    """The lines the call occupies, for their simultaneous-calls limit: the caller's, the ringing one's, a
    forwarding line's whose forward went out through a trunk."""

    @property
    def answered_result(self) -> CallResult:
        return CallResult.VOICEMAIL if self.local is not None else CallResult.ANSWERED


class B2bua:
    def __init__(
        self,
        endpoint: SipEndpoint,
        authenticator: RequestAuthenticator,
        location: LocationService,
        dial_plan: DialPlan,
        trunks: TrunkService,
        clock: Clock,
        timers: Timers,
        domain: str,
        on_call_ended: Callable[[Call], None],
        timer_values: TimerValues | None = None,
        ring_timeout_s: float = RING_TIMEOUT_S,
        voicemail: Voicemail | None = None,
        voicemail_menu: VoicemailMenu | None = None,
        star_codes: StarCodes | None = None,
        announcements: Announcements | None = None,
        open_media: OpenMedia | None = None,
        media_anchor: AnchorPolicy = AnchorPolicy.NEVER,
        open_relay: OpenRelay | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._authenticator = authenticator
        self._location = location
        self._dial_plan = dial_plan
        self._trunks = trunks
        self._clock = clock
        self._timers = timers
        self._domain = domain
        self._on_call_ended = on_call_ended
        self._t = timer_values or endpoint.timers
        self._ring_timeout_s = ring_timeout_s
        self._voicemail = voicemail if open_media is not None else None
        self._voicemail_menu = voicemail_menu if open_media is not None else None
        self._star_codes = star_codes if open_media is not None else None
        self._announcements = announcements if open_media is not None else None
        self._open_media = open_media
        self._media_anchor = media_anchor if open_relay is not None else AnchorPolicy.NEVER
        self._open_relay = open_relay
        # What the node's addresses make of every call, worked out once: they are fixed at start.
        self._hosts = {transport: endpoint.sent_by(transport).rpartition(":")[0].strip("[]") for transport in Transport}
        self._own_hosts = frozenset({domain.lower()} | {host.lower() for host in self._hosts.values()})
        self._contacts = {transport: contact_uri(endpoint.sent_by(transport), transport) for transport in Transport}
        self._by_caller_transaction: dict[int, _Bridge] = {}
        self._by_callee_transaction: dict[int, _Bridge] = {}
        self._abandoned: dict[int, _Leg] = {}
        """Callee legs left ringing (a forward on no reply), by transaction, until their final response."""
        self._dialogs: dict[DialogId, tuple[_Bridge, bool]] = {}
        self._relays: dict[int, _Relay] = {}
        self._calls_per_line: dict[int, int] = {}
        self._ended: deque[tuple[float, _Bridge]] = deque()
        self._sweep: TimerHandle | None = None
        self._ringing: dict[int, tuple[float, _Bridge]] = {}
        """Calls not yet answered, by the caller's transaction, in the order their ring timeout is due."""
        self._ring_sweep: TimerHandle | None = None

    # Events from the endpoint.

    def on_request(self, event: IncomingRequest) -> None:
        request = event.request
        try:
            to_tag = to_of(request).tag
            if to_tag:
                self._in_dialog(event, to_tag)
            elif request.method == "INVITE":
                self._new_call(event)
            else:
                self._answer(event.transaction, response_to(request, 481))
        except (HeaderError, UriError) as error:
            self._answer(event.transaction, response_to(request, 400, f"Bad Header: {error}"[:80]))

    def on_ack(self, event: IncomingAck) -> None:
        try:
            dialog_id = _dialog_id(event.request, to_of(event.request).tag or "")
        except (HeaderError, UriError):
            return
        found = self._dialogs.get(dialog_id)
        if found is None:
            return
        bridge, from_caller = found
        retransmission = bridge.unacked.pop(dialog_id, None)
        if retransmission is not None and retransmission.handle is not None:
            retransmission.handle.cancel()
        if from_caller and bridge.late_answer is not None and not bridge.late_answer.done():
            bridge.late_answer.set_result(event.request.body)
        if from_caller and bridge.callee_2xx_waiting is not None and bridge.callee is not None:
            body = self._carried_body(bridge, event.request, True, bridge.callee.peer)
            self._ack_callee(bridge, body, event.request.headers.get("Content-Type"))

    def on_cancel(self, event: IncomingCancel) -> None:
        bridge = self._by_caller_transaction.get(event.invite_transaction)
        if bridge is None or bridge.call.state in (CallState.ANSWERED, CallState.ENDED):
            return
        self._answer(bridge.caller.transaction, self._to_caller(bridge, 487))
        self._cancel_callee(bridge)
        self._end(bridge, CallResult.CANCELLED, 487)

    def on_response(self, event: IncomingResponse) -> None:
        relay = self._relays.get(event.transaction)
        if relay is not None:
            self._relay_response(relay, event.response, final=event.response.status >= 200)
            if event.response.status >= 200:
                del self._relays[event.transaction]
            return
        bridge = self._by_callee_transaction.get(event.transaction)
        if bridge is not None:
            self._callee_answered(bridge, event.response)
            return
        abandoned = self._abandoned.get(event.transaction)
        if abandoned is not None and event.response.status >= 200:
            del self._abandoned[event.transaction]
            if event.response.status < 300:
                self._hang_up_abandoned(abandoned, event.response)

    def on_failure(self, event: TransactionFailed) -> None:
        self._abandoned.pop(event.transaction, None)
        relay = self._relays.pop(event.transaction, None)
        if relay is not None:
            self._answer(relay.origin_transaction, response_to(relay.origin_request, 408))
            return
        bridge = self._by_callee_transaction.get(event.transaction)
        if bridge is not None and bridge.call.state in (CallState.ROUTING, CallState.RINGING) and bridge.local is None:
            self._callee_failed(bridge, 408 if event.timed_out else 503)  # §8.1.3.1: no response, transport error

    # A new call.

    def _new_call(self, event: IncomingRequest) -> None:
        """Phones prove who they are with digest credentials (407); carriers are known by the address they
        send from. A request that claims a line (our domain in its From, or credentials) is a phone's even
        from a trunk's address, so that a phone sharing an address with a trunk (behind one NAT, on one host)
        is still challenged and never passes for the carrier; from elsewhere, anything else gets 403."""
        request = event.request
        if self._claims_a_line(request):
            self._call_from_line(event)
            return
        if self._trunks.by_source(event.peer.host) is None:
            self._answer(event.transaction, response_to(request, 403))
            return
        self._call_from_trunk(event)

    def _claims_a_line(self, request: Request) -> bool:
        """Our domain in the From, or our own address (a phone set up with the server's IP rather than the
        domain), or credentials."""
        uri = from_of(request).uri
        return (isinstance(uri, SipUri) and uri.host.lower() in self._own_hosts) or (
            Challenge.PROXY.credentials_header in request.headers
        )

    def _call_from_line(self, event: IncomingRequest) -> None:
        request = event.request
        caller = self._authenticator.authenticate(request, Challenge.PROXY)
        if isinstance(caller, Response):  # a challenge, or a 400 for malformed credentials: no state kept
            self._endpoint.send_response_statelessly(event.transaction, caller, self._clock.now())
            return
        now = self._clock.wall()
        if self._location.current(caller.line_id, now) is None:
            self._answer(event.transaction, response_to(request, 403, "Not Registered"))
            return
        if self._looping(event):
            return
        dialled = _dialled(request.uri)
        decision = self._dial_plan.route(dialled, caller)
        if isinstance(decision, ToLine):
            call = Call(
                caller.number, decision.line.number, now, caller, decision.line, caller_name=caller.display_name
            )
            call.caller_hidden = decision.presentation is Presentation.HIDDEN
            call.presented_number = decision.display_number or caller.number
            self._reach_line(self._new_bridge(event, call), decision.line)
        elif isinstance(decision, ToOwnVoicemail | ToVoicemailAccess | ToFeatureCode):
            call = Call(caller.number, dialled, now, caller, None, caller_name=caller.display_name)
            self._answer_feature(event, call, decision)
        elif isinstance(decision, ToOutside):
            call = Call(caller.number, decision.number, now, caller, None, CallDirection.OUTGOING, caller.display_name)
            call.caller_hidden = decision.presentation is Presentation.HIDDEN
            call.presented_number = decision.display_number or caller.number
            self._dial_out(self._new_bridge(event, call), decision.number, decision.trunk)
        elif isinstance(decision, NoRoute):
            call = Call(caller.number, decision.number, now, caller, None, CallDirection.OUTGOING, caller.display_name)
            self._refuse(event, call, 404, "No Route to Destination")
        else:  # Barred, Unassigned: said to the caller, in its account's language
            callee, (prompt, status) = (
                (dialled, UNASSIGNED)
                if isinstance(decision, Unassigned)
                else (decision.number, BARRED[decision.reason])
            )
            call = Call(caller.number, callee, now, caller, None, CallDirection.OUTGOING, caller.display_name)
            self._announce(self._new_bridge(event, call), caller, prompt, status)

    def _call_from_trunk(self, event: IncomingRequest) -> None:
        """A call from the public network: to a line of the platform, presenting the caller the carrier sent."""
        request = event.request
        if self._looping(event):
            return
        decision = self._dial_plan.route_incoming(_dialled(request.uri))
        number, name = presented_caller(request)
        now = self._clock.wall()
        if isinstance(decision, ToLine):
            call = Call(number, decision.line.number, now, None, decision.line, CallDirection.INCOMING, name)
            call.caller_hidden = number == ANONYMOUS_NUMBER or _withholds_identity(request)
            self._reach_line(self._new_bridge(event, call), decision.line)
        elif isinstance(decision, ToVoicemailAccess):
            call = Call(number, _dialled(request.uri), now, None, None, CallDirection.INCOMING, name)
            self._answer_feature(event, call, decision)
        else:
            self._answer(event.transaction, response_to(request, 404))

    def _looping(self, event: IncomingRequest) -> bool:
        """Max-Forwards exhausted (RFC 3261 §16.3): 483, and the call goes no further."""
        max_forwards = event.request.headers.get("Max-Forwards")
        if max_forwards is not None and int(max_forwards) == 0:
            self._answer(event.transaction, response_to(event.request, 483))
            return True
        return False

    # A call reaching a line: its options decide (features.forwarding), this carries the decision out.

    def _reach_line(self, bridge: _Bridge, line: SipLine, situation: Situation | None = None, status: int = 0) -> None:
        """The call arrives at `line` (situation None), or its phone did not answer (NO_REPLY) or refused with
        `status` (BUSY, NOT_REGISTERED): ring its phone, forward, take a message, or end the call."""
        call = bridge.call
        bridge.line = line
        binding = self._location.current(line.line_id, call.started_at) if situation is None else None
        arrival = Arrival(binding is not None, self._calls_per_line.get(line.line_id, 0))
        caller = None if call.caller_hidden else normalise_dialled(call.caller_number)
        decision = self._dial_plan.at_line(line, situation or arrival, caller, bridge.forwarded_through)
        if isinstance(decision, Ring):
            if situation is None and binding is not None:
                self._ring(bridge, line, binding, decision.no_reply_s)
            return  # no reply: the phone rings on
        if situation is Situation.NO_REPLY:
            if isinstance(decision, ToVoicemail) and self._voicemail is None:
                return  # a node without media has no voicemail to send the call to: it rings on
            self._abandon_callee(bridge)
        if isinstance(decision, ForwardTo):
            self._forward(bridge, line, decision)
        elif isinstance(decision, ToVoicemail):
            self._to_voicemail(bridge, self._dial_plan.box_line(decision.line, line), status or 480)
        elif isinstance(decision, Announce):
            self._announce(bridge, line, decision.prompt, decision.status)
        else:
            self._timers.call_later(0, lambda: self._refuse_locally(bridge, status or decision.status))

    def _ring(self, bridge: _Bridge, line: SipLine, binding: Binding, no_reply_s: int | None) -> None:
        """Invite the line's registered phone; after `no_reply_s` unanswered, its options decide again."""
        self._occupy(bridge, line.line_id)
        peer = Peer(binding.transport, binding.source_host, binding.source_port)
        target, to = binding.contact.strip("<>"), f"<sip:{line.number}@{self._domain}>"

        def ring_phone() -> None:
            if _over(bridge.call):
                return
            self._call_callee(bridge, peer, target, to)
            if no_reply_s is not None:
                bridge.no_reply = self._timers.call_later(no_reply_s, lambda: self._no_reply(bridge, line))

        if bridge.relay is None and self._anchors(bridge.caller.invite, bridge.caller.peer, binding):
            task = self._open_anchored(bridge, peer, ring_phone)
            asyncio.get_running_loop().create_task(task)
        else:
            ring_phone()

    def _no_reply(self, bridge: _Bridge, line: SipLine) -> None:
        bridge.no_reply = None
        if bridge.call.state in (CallState.ROUTING, CallState.RINGING) and bridge.local is None:
            self._reach_line(bridge, line, Situation.NO_REPLY)

    def _forward(self, bridge: _Bridge, line: SipLine, forward: ForwardTo) -> None:
        """The call leaves `line` for the forward's number: another line, whose options decide in turn; out of
        `line`'s account (a trunk, another account's line), it is an outgoing call of `line`: it occupies one of
        its calls, and its lock and outgoing screen list apply. A forward that cannot go on ends on `line`'s
        voicemail, or the caller hears why."""
        bridge.forwarded_through = (*bridge.forwarded_through, line.number)
        bridge.diversions.insert(0, (line.number, forward.reason))
        self._release(bridge, line.line_id)
        target = self._dial_plan.route_forward(forward.number, line)
        if isinstance(target, ToLine) and not target.outgoing:
            self._reach_line(bridge, target.line)
            return
        outgoing = isinstance(target, ToLine | ToOutside)
        if outgoing and self._calls_per_line.get(line.line_id, 0) < line.simultaneous_calls:
            self._occupy(bridge, line.line_id)
            if isinstance(target, ToLine):
                self._reach_line(bridge, target.line)
            elif isinstance(target, ToOutside):
                self._dial_out(bridge, target.number, target.trunk)
            return
        status = 486 if outgoing else 403 if isinstance(target, Barred) else 404
        log.info("call %s: the forward of %s cannot go on (%s)", bridge.call.id, line.number, status)
        self._to_voicemail(bridge, line, status)

    def _to_voicemail(self, bridge: _Bridge, line: SipLine, status: int) -> None:
        """The voicemail of `line` takes the call, when the node has voicemail and the box is on; else the caller
        hears `status`."""
        if self._voicemail is None:
            self._timers.call_later(0, lambda: self._refuse_locally(bridge, status))
            return
        bridge.local = asyncio.get_running_loop().create_task(self._answer_locally(bridge, line, status))

    def _announce(self, bridge: _Bridge, line: SipLine, prompt: str, status: int) -> None:
        """The caller hears `prompt` in `line`'s account language as early media (183), then `status`; a caller
        that made no offer, or a node without media, gets `status` alone."""
        announcements = self._announcements
        if announcements is None or not bridge.caller.invite.body:
            self._timers.call_later(0, lambda: self._refuse_locally(bridge, status))
            return
        application = functools.partial(announcements.announce, line_id=line.line_id, prompt=prompt)
        bridge.local = asyncio.get_running_loop().create_task(self._serve_locally(bridge, application, status))

    def _anchors(self, invite: Request, peer: Peer, binding: Binding) -> bool:
        """Whether a line-to-line call's media goes through this node (calls.media_anchor)."""
        if self._media_anchor is AnchorPolicy.NEVER:
            return False
        caller = PhoneAddresses(peer.host, _contact_host(invite), _sdp(invite.body))
        callee = PhoneAddresses(binding.source_host, _uri_host(binding.contact.strip("<>")))
        return anchors(self._media_anchor, caller, callee)

    async def _open_anchored(self, bridge: _Bridge, callee: Peer, then: Callable[[], None]) -> None:
        """Open the call's relay, then go on with `then` on the loop; without a relay (no RTP port free), the
        phones send to each other, which is the call as it would be unanchored rather than no call."""
        assert self._open_relay is not None
        try:
            relay = await self._open_relay(self._hosts[bridge.caller.peer.transport], self._hosts[callee.transport])
        except Exception:
            log.warning("call %s: no relay for its media, the phones send to each other", bridge.call.id, exc_info=True)
        else:
            if _over(bridge.call):
                relay.close()
                return
            bridge.relay = relay
        self._timers.call_later(0, then)

    def _abandon_callee(self, bridge: _Bridge) -> None:
        """The ringing phone is left for elsewhere: it gets a CANCEL, its timers stop, and its transaction is
        set apart, so that nothing of the call reaches it any more and a 2xx that crosses the CANCEL is
        acknowledged and hung up (`_hang_up_abandoned`)."""
        self._ringing.pop(bridge.caller.transaction, None)
        self._stop_no_reply(bridge)
        leg = bridge.callee
        if leg is None:
            return
        self._endpoint.cancel(leg.transaction, self._clock.now())
        self._drop_callee(bridge)
        self._abandoned[leg.transaction] = leg

    def _drop_callee(self, bridge: _Bridge) -> None:
        """Forget the callee leg (it refused the call, or was abandoned) and free its line."""
        leg = bridge.callee
        if leg is None:
            return
        self._by_callee_transaction.pop(leg.transaction, None)
        if leg.dialog is not None:
            self._dialogs.pop(leg.dialog.id, None)
        bridge.callee = None
        bridge.ack_for_callee = bridge.callee_2xx_waiting = None
        if bridge.line is not None:
            self._release(bridge, bridge.line.line_id)

    def _hang_up_abandoned(self, leg: _Leg, response: Response) -> None:
        """An abandoned phone answered all the same: acknowledged (RFC 3261 §13.2.2.4), then hung up."""
        try:
            dialog = Dialog.as_uac(leg.invite, response)
        except (HeaderError, UriError):
            return
        self._endpoint.send_stateless(dialog.new_request("ACK"), leg.peer)
        self._endpoint.send_request(dialog.new_request("BYE"), leg.peer, self._clock.now())

    @staticmethod
    def _stop_no_reply(bridge: _Bridge) -> None:
        if bridge.no_reply is not None:
            bridge.no_reply.cancel()
            bridge.no_reply = None

    async def _answer_locally(self, bridge: _Bridge, line: SipLine, status: int) -> None:
        """`line`'s voicemail takes a message; `status` is the caller's answer when the line's box is off."""
        assert self._voicemail is not None
        voicemail = self._voicemail
        call = bridge.call
        box = None
        try:
            box = await voicemail.takes_messages(line.line_id)
        except Exception:
            log.exception("the voicemail of call %s could not be looked up", call.id)
            status = 500
        if box is None:
            self._timers.call_later(0, lambda: self._refuse_locally(bridge, status))
            return

        async def take_message(port: MediaPort) -> None:
            await voicemail.take_message(port, box, line.line_id, line.number, call.caller_number)

        await self._serve_locally(bridge, take_message)

    def _answer_feature(
        self, event: IncomingRequest, call: Call, decision: ToOwnVoicemail | ToVoicemailAccess | ToFeatureCode
    ) -> None:
        """123, the voicemail access number or a star code: the node answers the caller with the feature."""
        application = self._feature_for(call, decision)
        if application is None:
            self._answer(event.transaction, response_to(event.request, 404))
            return
        bridge = self._new_bridge(event, call)
        bridge.local = asyncio.get_running_loop().create_task(self._serve_locally(bridge, application))

    def _feature_for(
        self, call: Call, decision: ToOwnVoicemail | ToVoicemailAccess | ToFeatureCode
    ) -> Callable[[MediaPort], Awaitable[None]] | None:
        """What answers the call, None when this node has no such feature (no media)."""
        menu, star_codes = self._voicemail_menu, self._star_codes
        caller_line = call.caller_line.line_id if call.caller_line is not None else None
        if isinstance(decision, ToFeatureCode):
            if star_codes is None or caller_line is None:
                return None
            return lambda port: star_codes.answer(port, caller_line, decision.code)
        if menu is None:
            return None
        if isinstance(decision, ToOwnVoicemail):
            return lambda port: menu.consult_own(port, decision.line.line_id)
        return lambda port: menu.consult_remote(port, caller_line)

    async def _serve_locally(
        self, bridge: _Bridge, application: Callable[[MediaPort], Awaitable[None]], early: int | None = None
    ) -> None:
        """Answer the caller with our own media and run `application` on it (488 to an offer it cannot take); on
        the way out, hang up if the caller has not. With `early`, the call is not answered: our media goes as
        early media (183 with our SDP), and the call ends with that status."""
        assert self._open_media is not None
        call = bridge.call
        try:
            offer = _sdp(bridge.caller.invite.body)
            terms = offer_terms(offer) if offer is not None else None
            late = not bridge.caller.invite.body
            if _over(call):
                return
            if terms is None and not late:
                self._timers.call_later(0, lambda: self._refuse_locally(bridge, 488))
                return
            host = self._hosts[bridge.caller.peer.transport]
            media = await self._open_media(terms.stream() if terms is not None else late_offer_stream(), host)
            bridge.media = media
            if _over(call):
                return
            if offer is not None and terms is not None:
                sdp = local_answer(offer, terms, host, media.port).serialise()
                bridge.local_answer = (terms, sdp)
                accept = self._accept_locally if early is None else self._progress_locally
                self._timers.call_later(0, lambda: accept(bridge, sdp))
            elif not await self._agree_late_offer(bridge, media, local_offer(host, media.port).serialise()):
                return
            await application(MediaPort(media))
        except Exception:
            log.exception("what the node answered call %s with failed", call.id)
        finally:
            if bridge.media is not None:
                bridge.media.close()
            if early is None:
                self._timers.call_later(0, lambda: self._hang_up_locally(bridge))
            else:
                self._timers.call_later(0, lambda: self._refuse_locally(bridge, early))

    async def _agree_late_offer(self, bridge: _Bridge, media: LocalMedia, sdp: bytes) -> bool:
        """The caller made no offer: ours goes in the 200 and its answer comes in the ACK (RFC 3264 §4), which the
        stream then takes. False when the call ended meanwhile, or the ACK brought no answer we can use (the
        call is then hung up, RFC 3261 §13.2.2.4 says with a BYE)."""
        answered = asyncio.get_running_loop().create_future()
        bridge.late_answer = answered
        self._timers.call_later(0, lambda: self._accept_locally(bridge, sdp))
        body: bytes = await answered
        answer = _sdp(body)
        terms = offer_terms(answer) if answer is not None else None
        if _over(bridge.call):
            return False
        if terms is None:
            log.info("call %s: the ACK brought no answer to our offer that we can use", bridge.call.id)
            return False
        media.stream.agree(terms.codec, terms.telephone_event, terms.remote)
        bridge.local_answer = (terms, sdp)
        return True

    def _key_press_info(self, transaction: int, request: Request, media: LocalMedia) -> None:
        """SIP INFO DTMF (application/dtmf-relay or dtmf) on a call the node answered: a key press for the
        voicemail, as if it came in RTP; 415 for another body, 400 for a malformed one."""
        content_type = request.headers.get("Content-Type") or ""
        if content_type.partition(";")[0].strip().lower() not in INFO_DTMF_TYPES:
            response = response_to(request, 415)
            response.headers.add("Accept", ", ".join(sorted(INFO_DTMF_TYPES)))
            self._answer(transaction, response)
            return
        try:
            press = parse_info_body(content_type, request.body)
        except DtmfError as error:
            self._answer(transaction, response_to(request, 400, f"Bad DTMF: {error}"[:80]))
            return
        if media.listener is not None:
            media.listener.key_pressed(press)
        self._answer(transaction, response_to(request, 200))

    def _offer_again_locally(self, transaction: int, request: Request, bridge: _Bridge, dialog_id: DialogId) -> None:
        """A re-INVITE or an UPDATE on a call the node answered (a session refresh, a hold): the session stays as
        it is. An offer our codec is still in gets the same answer again (the same SDP, so the same version:
        nothing changed); one it is not in gets 488, and the call goes on as before (RFC 3261 §14.2). A
        re-INVITE without an offer gets our SDP as the offer, which its ACK answers; an UPDATE without one, 200."""
        assert bridge.local_answer is not None
        terms, sdp = bridge.local_answer
        if request.body:
            offer = _sdp(request.body)
            offered = offer_terms(offer) if offer is not None else None
            if offered is None or offered.codec != terms.codec:
                self._answer(transaction, response_to(request, 488))
                return
        response = response_to(request, 200)
        response.headers.add("Contact", self._contact(bridge.caller.peer.transport))
        if request.method == "UPDATE":
            if request.body:
                response.headers.add("Content-Type", "application/sdp")
                response.body = sdp
            self._answer(transaction, response)
            return
        response.headers.add("Content-Type", "application/sdp")
        response.body = sdp
        self._send_2xx(bridge, dialog_id, transaction, response)

    def _refuse_locally(self, bridge: _Bridge, status: int) -> None:
        if bridge.call.state == CallState.ENDED:
            return
        self._answer(bridge.caller.transaction, self._to_caller(bridge, status))
        self._end(bridge, RESULT_OF_STATUS.get(status, CallResult.FAILED), status)

    def _accept_locally(self, bridge: _Bridge, answer: bytes) -> None:
        if bridge.call.state == CallState.ENDED:
            return
        bridge.call.answer(self._clock.wall())
        response = self._to_caller(bridge, 200)
        response.headers.add("Content-Type", "application/sdp")
        response.body = answer
        dialog = Dialog.as_uas(bridge.caller.invite, bridge.caller_tag, self._contact(bridge.caller.peer.transport))
        dialog.confirmed = True
        bridge.caller.dialog = dialog
        self._dialogs[dialog.id] = (bridge, True)
        self._send_2xx(bridge, dialog.id, bridge.caller.transaction, response)

    def _progress_locally(self, bridge: _Bridge, answer: bytes) -> None:
        if bridge.call.state == CallState.ENDED:
            return
        response = self._to_caller(bridge, 183)
        response.headers.add("Content-Type", "application/sdp")
        response.body = answer
        self._answer(bridge.caller.transaction, response)

    def _hang_up_locally(self, bridge: _Bridge) -> None:
        if bridge.call.state == CallState.ENDED:
            return
        if bridge.call.state == CallState.ANSWERED:
            self._bye(bridge, to_caller=True)
            self._end(bridge, CallResult.VOICEMAIL, 200)
        else:
            self._refuse_locally(bridge, 500)

    def _dial_out(self, bridge: _Bridge, number: str, trunk: CarrierTrunk) -> None:
        uri = trunk_uri(number, trunk)
        bridge.trunk = trunk
        self._call_callee(bridge, Peer(trunk.transport, trunk.host, trunk.port), uri, f"<{uri}>")

    def _call_callee(self, bridge: _Bridge, peer: Peer, target: str, to: str) -> None:
        """The callee's leg: the INVITE sent to `target`, with the caller's offer (anchored, if the call is)."""
        self._invite_callee(bridge, self._callee_invite(bridge, target, to, peer), peer)
        self._ring_later(bridge)

    def _new_bridge(self, event: IncomingRequest, call: Call) -> _Bridge:
        """The call's state, from the caller's INVITE on; it counts against the caller's line's simultaneous
        calls (a called line's when its phone rings)."""
        bridge = _Bridge(call, _Leg(event.peer, event.request, event.transaction), secrets.token_hex(8))
        self._by_caller_transaction[event.transaction] = bridge
        if call.caller_line is not None:
            self._occupy(bridge, call.caller_line.line_id)
        return bridge

    def _occupy(self, bridge: _Bridge, line_id: int) -> None:
        bridge.lines.append(line_id)
        self._calls_per_line[line_id] = self._calls_per_line.get(line_id, 0) + 1

    def _release(self, bridge: _Bridge, line_id: int) -> None:
        if line_id not in bridge.lines:
            return
        bridge.lines.remove(line_id)
        remaining = self._calls_per_line.get(line_id, 1) - 1
        if remaining > 0:
            self._calls_per_line[line_id] = remaining
        else:
            self._calls_per_line.pop(line_id, None)

    def _invite_callee(self, bridge: _Bridge, invite: Request, peer: Peer) -> None:
        transaction = self._endpoint.send_request(invite, peer, self._clock.now())
        bridge.callee = _Leg(peer, invite, transaction)
        self._by_callee_transaction[transaction] = bridge

    def _refuse(self, event: IncomingRequest, call: Call, status: int, reason: str) -> None:
        """A call that fails before any callee is asked, yet is recorded (an outside number nobody carries)."""
        self._answer(event.transaction, response_to(event.request, status, reason))
        call.end(self._clock.wall(), CallResult.FAILED, status)
        self._record(call)

    def _callee_invite(self, bridge: _Bridge, target: str, to: str, peer: Peer) -> Request:
        request, call = bridge.caller.invite, bridge.call
        number = call.presented_number or call.caller_number
        identity = f"<sip:{number}@{self._domain}>"
        display = call.caller_name or number
        display = display.replace("\\", "").replace('"', "")
        presented = f'"{display}" {identity}'
        headers = Headers(
            [
                ("Max-Forwards", str(max(int(request.headers.get("Max-Forwards") or 70) - 1, 0))),
                ("From", f"{ANONYMOUS if call.caller_hidden else presented};tag={secrets.token_hex(8)}"),
                ("To", to),
                ("Call-ID", secrets.token_hex(16)),
                ("CSeq", "1 INVITE"),
                ("Contact", self._contact(peer.transport)),
                *_asserted_identity(presented, call.caller_hidden, towards_carrier=bridge.trunk is not None),
                *(
                    ("Diversion", f"<sip:{line}@{self._domain}>;reason={reason};counter=1")
                    for line, reason in bridge.diversions
                ),
                ("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO"),
                *_body_headers(request),
            ]
        )
        return Request("INVITE", target, headers, self._carried_body(bridge, request, True, peer))

    # The callee's answers to the INVITE.

    def _callee_answered(self, bridge: _Bridge, response: Response) -> None:
        assert bridge.callee is not None
        status = response.status
        if status == 100:
            return
        if bridge.call.state == CallState.ENDED or bridge.local is not None:
            if 200 <= status < 300:  # too late: the call ended, or its voicemail has it
                self._ensure_callee_dialog(bridge, response)
                self._ack_callee(bridge, b"", None)
                self._bye(bridge, to_caller=False)
            return
        if status < 200:
            if response.headers.get("To") and to_of(response).tag and response.headers.get("Contact"):
                self._ensure_callee_dialog(bridge, response)
            if status in (180, 183):
                bridge.call.state = CallState.RINGING
            self._answer(bridge.caller.transaction, self._to_caller(bridge, status, response))
            return
        if status < 300:
            self._callee_accepted(bridge, response)
            return
        if status in (401, 407) and self._answer_challenge(bridge, response):
            return
        self._callee_failed(bridge, _relayed_failure(status))

    def _callee_failed(self, bridge: _Bridge, status: int) -> None:
        """The callee's side will not take the call: a line's options decide again (see REFUSED_AS_BUSY), or
        the caller hears `status`."""
        line = bridge.line
        refused = REFUSED_AS_BUSY if status in REFUSED_AS_BUSY else REFUSED_AS_UNREACHABLE
        if bridge.trunk is None and line is not None and status in refused:
            self._ringing.pop(bridge.caller.transaction, None)
            self._stop_no_reply(bridge)
            self._drop_callee(bridge)
            situation = Situation.BUSY if refused is REFUSED_AS_BUSY else Situation.NOT_REGISTERED
            self._reach_line(bridge, line, situation, status)
            return
        self._answer(bridge.caller.transaction, self._to_caller(bridge, status))
        self._end(bridge, RESULT_OF_STATUS.get(status, CallResult.FAILED), status)

    def _answer_challenge(self, bridge: _Bridge, response: Response) -> bool:
        """A trunk with credentials asked for them: the INVITE again, in a new client transaction."""
        trunk, callee = bridge.trunk, bridge.callee
        if trunk is None or callee is None or not trunk.username or bridge.challenge_answered:
            return False
        retry = with_credentials(callee.invite, response, trunk.username, trunk.password)
        if retry is None:
            return False
        bridge.challenge_answered = True
        self._by_callee_transaction.pop(callee.transaction, None)
        self._invite_callee(bridge, retry, callee.peer)
        return True

    def _callee_accepted(self, bridge: _Bridge, response: Response) -> None:
        """The callee answered: confirm both dialogs, pass the 2xx on, and ACK the callee once the caller
        has acknowledged (its ACK may carry the answer to an offer the callee made in its 2xx)."""
        assert bridge.callee is not None
        if bridge.call.state == CallState.ANSWERED:
            if bridge.ack_for_callee is not None:
                self._endpoint.send_stateless(bridge.ack_for_callee, bridge.callee.peer)
            return
        self._ringing.pop(bridge.caller.transaction, None)
        self._stop_no_reply(bridge)
        dialog = self._ensure_callee_dialog(bridge, response)
        dialog.confirmed = True
        dialog.update_target(response)
        bridge.callee_2xx_waiting = response
        bridge.call.answer(self._clock.wall())
        answer = self._to_caller(bridge, response.status, response)
        caller_dialog = Dialog.as_uas(
            bridge.caller.invite, bridge.caller_tag, self._contact(bridge.caller.peer.transport)
        )
        caller_dialog.confirmed = True
        bridge.caller.dialog = caller_dialog
        self._dialogs[caller_dialog.id] = (bridge, True)
        self._send_2xx(bridge, caller_dialog.id, bridge.caller.transaction, answer)

    def _ensure_callee_dialog(self, bridge: _Bridge, response: Response) -> Dialog:
        assert bridge.callee is not None
        if bridge.callee.dialog is None or bridge.callee.dialog.remote_tag != (to_of(response).tag or ""):
            dialog = Dialog.as_uac(bridge.callee.invite, response)
            bridge.callee.dialog = dialog
            self._dialogs[dialog.id] = (bridge, False)
        return bridge.callee.dialog

    def _ack_callee(self, bridge: _Bridge, body: bytes, content_type: str | None) -> None:
        assert bridge.callee is not None and bridge.callee.dialog is not None
        ack = bridge.callee.dialog.new_request("ACK", body, content_type)
        bridge.ack_for_callee = ack
        bridge.callee_2xx_waiting = None
        self._endpoint.send_stateless(ack, bridge.callee.peer)

    # Inside a call.

    def _in_dialog(self, event: IncomingRequest, to_tag: str) -> None:
        request = event.request
        found = self._dialogs.get(_dialog_id(request, to_tag))
        if found is None:
            self._answer(event.transaction, response_to(request, 481))
            return
        bridge, from_caller = found
        own = bridge.caller if from_caller else bridge.callee
        other = bridge.callee if from_caller else bridge.caller
        assert own is not None and own.dialog is not None
        if not own.dialog.accepts(request):
            self._answer(event.transaction, response_to(request, 500, "Out of Order CSeq"))
            return
        if request.method == "BYE":
            self._answer(event.transaction, response_to(request, 200))
            self._bye(bridge, to_caller=not from_caller)
            self._end(bridge, bridge.answered_result, 200)
            return
        if request.method == "OPTIONS":
            self._answer(event.transaction, response_to(request, 200))
            return
        if request.method == "INFO" and bridge.media is not None:
            self._key_press_info(event.transaction, request, bridge.media)
            return
        if request.method in ("INVITE", "UPDATE") and bridge.local_answer is not None:
            own.dialog.update_target(request)
            self._offer_again_locally(event.transaction, request, bridge, own.dialog.id)
            return
        if request.method not in RELAYED_IN_DIALOG or other is None or other.dialog is None:
            response = response_to(request, 501)
            response.headers.add("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO")
            self._answer(event.transaction, response)
            return
        if request.method in ("INVITE", "UPDATE"):
            own.dialog.update_target(request)
        body = self._carried_body(bridge, request, from_caller, other.peer)
        relayed = other.dialog.new_request(request.method, body, request.headers.get("Content-Type"))
        for name, value in _body_headers(request, _BODY_HEADERS[1:]):  # Content-Type: new_request adds it
            relayed.headers.add(name, value)
        transaction = self._endpoint.send_request(relayed, other.peer, self._clock.now())
        self._relays[transaction] = _Relay(bridge, from_caller, event.transaction, request)

    def _relay_response(self, relay: _Relay, response: Response, final: bool) -> None:
        if response.status == 100:
            return
        bridge = relay.bridge
        origin = bridge.caller if relay.origin_is_caller else bridge.callee
        target = bridge.callee if relay.origin_is_caller else bridge.caller
        assert origin is not None and origin.dialog is not None and target is not None and target.dialog is not None
        answer = response_to(relay.origin_request, response.status, response.reason)
        _copy_body(response, answer)
        answer.body = self._carried_body(bridge, response, not relay.origin_is_caller, origin.peer)
        if relay.origin_request.method in ("INVITE", "UPDATE"):
            answer.headers.add("Contact", origin.dialog.local_contact)
        if relay.origin_request.method == "INVITE" and 200 <= response.status < 300:
            target.dialog.update_target(response)
            self._endpoint.send_stateless(target.dialog.new_request("ACK"), target.peer)
            self._send_2xx(bridge, origin.dialog.id, relay.origin_transaction, answer)
            return
        self._answer(relay.origin_transaction, answer)

    def _bye(self, bridge: _Bridge, to_caller: bool) -> None:
        leg = bridge.caller if to_caller else bridge.callee
        if leg is None or leg.dialog is None:
            return
        if not to_caller and bridge.callee_2xx_waiting is not None:
            self._ack_before_bye(bridge, bridge.callee_2xx_waiting)
        self._endpoint.send_request(leg.dialog.new_request("BYE"), leg.peer, self._clock.now())

    def _ack_before_bye(self, bridge: _Bridge, answered: Response) -> None:
        """The callee's 2xx, still waiting for the caller's ACK, is acknowledged before the callee is hung up
        (RFC 3261 §13.2.2.4: every 2xx is). A 2xx that made an offer (the caller's INVITE had none) must be
        answered in the ACK: with every stream rejected (port 0), since the call is ending."""
        assert bridge.callee is not None
        if answered.body and not bridge.callee.invite.body:
            try:
                offer = SessionDescription.parse(answered.body)
            except SdpError:
                offer = None  # nothing an answer could be made to: a bare ACK, then the BYE
            if offer is not None:
                host = self._hosts[bridge.callee.peer.transport]
                refusal = sdp_answer(offer, (), host, [0] * len(offer.media), secrets.randbits(32))
                self._ack_callee(bridge, refusal.serialise(), "application/sdp")
                return
        self._ack_callee(bridge, b"", None)

    def _cancel_callee(self, bridge: _Bridge) -> None:
        if bridge.callee is not None:
            self._endpoint.cancel(bridge.callee.transaction, self._clock.now())

    def _ring_later(self, bridge: _Bridge) -> None:
        """Every call rings for the same time, so the ringing ones are due in the order they started: one loop
        timer at a time, for the first of them, rather than one per call (most are answered long before)."""
        self._ringing[bridge.caller.transaction] = (self._clock.now() + self._ring_timeout_s, bridge)
        if self._ring_sweep is None:
            self._ring_sweep = self._timers.call_later(self._ring_timeout_s, self._ring_timeouts_due)

    def _ring_timeouts_due(self) -> None:
        now = self._clock.now()
        self._ring_sweep = None
        while self._ringing:
            transaction, (due, bridge) = next(iter(self._ringing.items()))
            if due > now:
                self._ring_sweep = self._timers.call_later(due - now, self._ring_timeouts_due)
                return
            del self._ringing[transaction]
            self._ring_timeout(bridge)

    def _ring_timeout(self, bridge: _Bridge) -> None:
        """Nobody picked up: 480 if the phone rang (RFC 3398's "no answer"), 408 if it never responded at all
        (its CANCEL then waits in the endpoint for a provisional response, RFC 3261 §9.1)."""
        if bridge.call.state not in (CallState.ROUTING, CallState.RINGING) or bridge.local is not None:
            return
        rang = bridge.call.state == CallState.RINGING
        self._cancel_callee(bridge)
        status = 480 if rang else 408
        self._answer(bridge.caller.transaction, self._to_caller(bridge, status, reason="No Answer" if rang else None))
        self._end(bridge, CallResult.NO_ANSWER, status)

    # Sending.

    def _to_caller(
        self, bridge: _Bridge, status: int, relayed: Response | None = None, reason: str | None = None
    ) -> Response:
        """A response to the caller's INVITE, in the caller's dialog (our tag), carrying the callee's SDP."""
        response = response_to(bridge.caller.invite, status, reason, to_tag=bridge.caller_tag)
        if 100 < status < 300:
            response.headers.add("Contact", self._contact(bridge.caller.peer.transport))
        if relayed is not None:
            _copy_body(relayed, response)
            response.body = self._carried_body(bridge, relayed, False, bridge.caller.peer)
        return response

    def _send_2xx(self, bridge: _Bridge, dialog_id: DialogId, transaction: int, response: Response) -> None:
        """Send a 2xx to an INVITE and keep sending it, T1 doubling up to T2, until its ACK comes; after
        64*T1 without one the call is hung up (RFC 3261 §13.3.1.4)."""
        retransmission = _Retransmission(transaction, response, self._t.t1)
        bridge.unacked[dialog_id] = retransmission
        self._answer(transaction, response)
        self._schedule_2xx(bridge, dialog_id, retransmission)

    def _schedule_2xx(self, bridge: _Bridge, dialog_id: DialogId, retransmission: _Retransmission) -> None:
        def again() -> None:
            if bridge.unacked.get(dialog_id) is not retransmission:
                return
            retransmission.elapsed += retransmission.interval
            if retransmission.elapsed >= self._t.timeout:
                del bridge.unacked[dialog_id]
                self._bye(bridge, to_caller=True)
                self._bye(bridge, to_caller=False)
                self._end(bridge, CallResult.FAILED, 408)
                return
            self._answer(retransmission.transaction, retransmission.response)
            retransmission.interval = min(retransmission.interval * 2, self._t.t2)
            self._schedule_2xx(bridge, dialog_id, retransmission)

        retransmission.handle = self._timers.call_later(retransmission.interval, again)

    def _carried_body(self, bridge: _Bridge, message: Request | Response, from_caller: bool, towards: Peer) -> bytes:
        """The body of `message`, from the caller's side or the callee's, as passed to the other phone (at
        `towards`): as it came, unless the call's media is anchored and it is SDP, whose relayed stream then
        names the relay's port for the other phone's leg (and tells the relay where its author receives)."""
        relay = bridge.relay
        body = message.body
        content_type = (message.headers.get("Content-Type") or "").partition(";")[0].strip().lower()
        if relay is None or not body or content_type != "application/sdp":
            return body
        try:
            sdp = SessionDescription.parse(body)
        except SdpError:
            return body  # the other phone refuses what nobody can read
        relay.set_remote(Side.CALLER if from_caller else Side.CALLEE, relayed_remote(sdp))
        port = relay.port_for(Side.CALLEE if from_caller else Side.CALLER)
        return anchored(sdp, self._hosts[towards.transport], port).serialise()

    def _answer(self, transaction: int, response: Response) -> None:
        self._endpoint.send_response(transaction, response, self._clock.now())

    def _contact(self, transport: Transport) -> str:
        return self._contacts[transport]

    # Book-keeping.

    def _end(self, bridge: _Bridge, result: CallResult, sip_code: int | None) -> None:
        if not bridge.call.end(self._clock.wall(), result, sip_code):
            return
        if bridge.media is not None:
            bridge.media.close()  # the voicemail's recording ends with what it has
        if bridge.late_answer is not None and not bridge.late_answer.done():
            bridge.late_answer.set_result(b"")  # no ACK will come
        if bridge.relay is not None:
            log.info("call %s media relayed: %s", bridge.call.id, bridge.relay.statistics)
            bridge.relay.close()
        self._stop_no_reply(bridge)
        self._ringing.pop(bridge.caller.transaction, None)
        self._stop_2xx_retransmissions(bridge)  # an ended call waits for no ACK
        callee_invite = bridge.callee.invite if bridge.callee is not None else None
        for kept in (bridge.caller.invite, callee_invite, bridge.ack_for_callee):
            if kept is not None:  # kept 64*T1 for late messages, hardly read again
                kept.headers.drop_index()
        for line_id in list(bridge.lines):
            self._release(bridge, line_id)
        self._forget_later(bridge)
        self._record(bridge.call)

    def _record(self, call: Call) -> None:
        try:
            self._on_call_ended(call)
        except Exception:
            log.exception("recording call %s failed", call.id)

    def _forget_later(self, bridge: _Bridge) -> None:
        """Calls are kept the same time after their end, so the ended ones form a queue in the order they are
        due: one loop timer at a time sweeps it, rather than one per call."""
        self._ended.append((self._clock.now() + self._t.timeout, bridge))
        if self._sweep is None:
            self._sweep = self._timers.call_later(self._t.timeout, self._forget_due)

    def _forget_due(self) -> None:
        now = self._clock.now()
        while self._ended and self._ended[0][0] <= now:
            self._forget(self._ended.popleft()[1])
        self._sweep = None
        if self._ended:
            wait = max(self._ended[0][0] - now, FORGET_SWEEP_S)
            self._sweep = self._timers.call_later(wait, self._forget_due)

    def _forget(self, bridge: _Bridge) -> None:
        """Drop a call's indexes once late retransmissions can no longer arrive (64*T1 after its end)."""
        self._by_caller_transaction.pop(bridge.caller.transaction, None)
        if bridge.callee is not None:
            self._by_callee_transaction.pop(bridge.callee.transaction, None)
        for leg in (bridge.caller, bridge.callee):
            if leg is not None and leg.dialog is not None:
                self._dialogs.pop(leg.dialog.id, None)
        self._stop_2xx_retransmissions(bridge)

    @staticmethod
    def _stop_2xx_retransmissions(bridge: _Bridge) -> None:
        for retransmission in bridge.unacked.values():
            if retransmission.handle is not None:
                retransmission.handle.cancel()
        bridge.unacked.clear()


def _asserted_identity(asserted: str, hidden: bool, towards_carrier: bool) -> list[tuple[str, str]]:
    """Who calls, asserted (RFC 3325): to a phone, unless the caller hides it (CLIR), for the callee sees it; to
    a carrier, always (it must know, for emergency calls and the law), with `Privacy: id` asking it not to
    pass it on when the caller hides it (RFC 3323)."""
    if not hidden:
        return [("P-Asserted-Identity", asserted)]
    return [("P-Asserted-Identity", asserted), ("Privacy", "id")] if towards_carrier else []


def _relayed_failure(status: int) -> int:
    """What the caller hears of the callee side's failure: a redirection is not followed (480), and a challenge
    the platform could not answer is no question for the caller's phone, whose credentials are not asked
    (503: the platform failed, not the caller)."""
    if status < 400:
        return 480
    return 503 if status in (401, 407) else status


def _dialog_id(request: Request, to_tag: str) -> DialogId:
    """The dialog a request names, seen from us: its To tag (`to_tag`) is ours, its From tag the other side's."""
    return (request.headers.get("Call-ID") or "", to_tag, from_of(request).tag or "")


def _withholds_identity(request: Request) -> bool:
    """A carrier's caller who asked for their identity to be withheld (RFC 3323 `Privacy: id`)."""
    return any(
        value.strip().lower() == "id"
        for field_value in request.headers.get_all("Privacy")
        for value in field_value.split(";")
    )


def _dialled(request_uri: str) -> str:
    """What the caller dialled: the user part of a SIP Request-URI, or the number of a tel URI."""
    uri = parse_uri(request_uri)
    if isinstance(uri, SipUri):
        return uri.unescaped_user or ""
    if isinstance(uri, TelUri):
        return uri.number
    return ""


def _copy_body(source: Request | Response, target: Response) -> None:
    """The body of `source`, the headers that describe it and its info package headers, onto a new response
    (which has none of them)."""
    target.body = source.body
    for name, value in _body_headers(source):
        target.headers.add(name, value)


def _body_headers(message: Request | Response, names: tuple[str, ...] = _BODY_HEADERS) -> list[tuple[str, str]]:
    """The first field of each of `names` that describe the body, then every info package field."""
    return [
        *((name, value) for name in names if (value := message.headers.get(name)) is not None),
        *((name, value) for name in _INFO_PACKAGE_HEADERS for value in message.headers.get_all(name)),
    ]


def _sdp(body: bytes) -> SessionDescription | None:
    """A message's SDP (an INVITE's offer, an ACK's answer), None without one or when it cannot be read."""
    if not body:
        return None
    try:
        return SessionDescription.parse(body)
    except SdpError:
        return None


def _over(call: Call) -> bool:
    """Whether the call has ended: read anew after each await, since the caller may hang up meanwhile."""
    return call.state == CallState.ENDED


def _contact_host(request: Request) -> str | None:
    """The host of a request's first Contact, None without one (or a malformed one)."""
    try:
        contact = first_contact_of(request)
    except (HeaderError, UriError):
        return None
    if contact is None or contact == "*":
        return None
    return contact.uri.host if isinstance(contact.uri, SipUri) else None


def _uri_host(uri: str) -> str | None:
    try:
        parsed = parse_uri(uri)
    except UriError:
        return None
    return parsed.host if isinstance(parsed, SipUri) else None
