"""The registrar (RFC 3261 §10.3) for lines: digest authentication, one device per line, expiry bounds.

A REGISTER without credentials, with a wrong password, or for a user nobody has, gets the same 401 with a
fresh challenge: the answers and the work done do not tell a known user from an unknown one. Bindings are
stored through the RegistrationService, so they survive a restart; a REGISTER from another device than the
bound one replaces it (and the replacement is kept in the line's history).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from tonalite.calls.authentication import Challenge, RequestAuthenticator, stable_to_tag
from tonalite.calls.location import LocationService
from tonalite.clock import Clock
from tonalite.services.errors import InvalidInput
from tonalite.services.line_directory import SipLine
from tonalite.services.numbering import parse_number
from tonalite.services.registrations import Binding
from tonalite.sip.endpoint import Peer
from tonalite.sip.headers import HeaderError, contacts_of, cseq_of, to_of
from tonalite.sip.message import Request, Response
from tonalite.sip.responses import response_to
from tonalite.sip.uri import NameAddr, SipUri


@dataclass(frozen=True, slots=True)
class ExpiryBounds:
    minimum: int
    default: int
    maximum: int


class Registrar:
    def __init__(
        self,
        location: LocationService,
        authenticator: RequestAuthenticator,
        clock: Clock,
        bounds: ExpiryBounds,
        node: str,
    ) -> None:
        self._location = location
        self._authenticator = authenticator
        self._clock = clock
        self._bounds = bounds
        self._node = node

    def handle(self, request: Request, peer: Peer) -> Response:
        """The final response to a REGISTER; never raises on what the phone sent."""
        line = self._authenticator.authenticate(request, Challenge.REGISTRAR)
        if isinstance(line, Response):
            return line
        try:
            return self._bind(request, peer, line)
        except HeaderError as error:
            return response_to(request, 400, f"Bad Header: {error}"[:80])

    def _bind(self, request: Request, peer: Peer, line: SipLine) -> Response:
        if not self._is_address_of(to_of(request), line):
            return response_to(request, 403, "Not Your Address", to_tag=stable_to_tag(request))
        contacts = contacts_of(request)
        now = self._clock.wall()
        current = self._location.current(line.line_id, now)
        if contacts == "*":
            if self._expires_header(request) != 0:
                return response_to(request, 400, "Contact * Needs Expires 0")
            self._location.unbind(line.line_id, now)
            return self._ok(request, None, now)
        if not contacts:
            return self._ok(request, current, now)
        contact = contacts[0]
        expires = self._expires(request, contact)
        cseq = cseq_of(request).number
        call_id = request.headers.get("Call-ID") or ""
        if current is not None and current.call_id == call_id and cseq <= current.cseq:
            return response_to(request, 500, "Out of Order REGISTER")
        if expires == 0:
            if current is not None and current.contact == _contact_key(contact):
                self._location.unbind(line.line_id, now)
                current = None
            return self._ok(request, current, now)
        if expires < self._bounds.minimum:
            response = response_to(request, 423, to_tag=stable_to_tag(request))
            response.headers.add("Min-Expires", str(self._bounds.minimum))
            return response
        binding = Binding(
            line_id=line.line_id,
            contact=_contact_key(contact),
            call_id=call_id,
            cseq=cseq,
            source_host=peer.host,
            source_port=peer.port,
            transport=peer.transport,
            user_agent=(request.headers.get("User-Agent") or "")[:255],
            registered_at=now,
            expires_at=now + timedelta(seconds=min(expires, self._bounds.maximum)),
            node=self._node,
        )
        self._location.bind(binding)
        return self._ok(request, binding, now)

    def _ok(self, request: Request, binding: Binding | None, now: datetime) -> Response:
        response = response_to(request, 200, to_tag=stable_to_tag(request))
        if binding is not None:
            remaining = max(0, int((binding.expires_at - now).total_seconds()))
            response.headers.add("Contact", f"{binding.contact};expires={remaining}")
        response.headers.add("Date", _http_date(int(now.timestamp())))
        return response

    def _expires(self, request: Request, contact: NameAddr) -> int:
        value = contact.param("expires")
        if value is None:
            header = self._expires_header(request)
            return self._bounds.default if header is None else header
        return _seconds(value)

    @staticmethod
    def _expires_header(request: Request) -> int | None:
        value = request.headers.get("Expires")
        return None if value is None else _seconds(value)

    @staticmethod
    def _is_address_of(to: NameAddr, line: SipLine) -> bool:
        """The To URI names the line: by its SIP username or by its number, written in any usual way."""
        if not isinstance(to.uri, SipUri) or to.uri.user is None:
            return False
        user = to.uri.unescaped_user or ""
        if user == line.username:
            return True
        try:
            return parse_number(user) == line.number
        except InvalidInput:
            return False


@functools.lru_cache(maxsize=4)
def _http_date(seconds: int) -> str:
    """The Date header (RFC 3261 §20.17), worked out once a second rather than once a REGISTER."""
    return format_datetime(datetime.fromtimestamp(seconds, UTC), usegmt=True)


def _contact_key(contact: NameAddr) -> str:
    """The contact as stored and answered: `<uri>`, without its header parameters (expires, q, …)."""
    return f"<{contact.uri}>"


def _seconds(value: str) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        raise HeaderError("malformed expires")
    return min(int(text), 2**32 - 1)
