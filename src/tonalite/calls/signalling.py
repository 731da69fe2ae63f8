"""Hands each SIP request to whoever answers it: the registrar, OPTIONS here, the rest to the call core.

The call core (B2BUA) is not built yet: an INVITE is refused with 480 until it is, rather than left to
time out; methods the platform does not handle get 501 with the Allow list, as RFC 3261 §8.2.1 asks.
"""

from __future__ import annotations

from tonalite.calls.registrar import Registrar
from tonalite.clock import Clock
from tonalite.sip.endpoint import Event, IncomingRequest, SipEndpoint
from tonalite.sip.message import Request, Response
from tonalite.sip.responses import response_to

ALLOWED_METHODS = "REGISTER, OPTIONS, INVITE, ACK, CANCEL, BYE"


class Signalling:
    def __init__(self, endpoint: SipEndpoint, registrar: Registrar, clock: Clock, user_agent: str) -> None:
        self._endpoint = endpoint
        self._registrar = registrar
        self._clock = clock
        self._user_agent = user_agent

    def on_event(self, event: Event) -> None:
        if isinstance(event, IncomingRequest):
            response = self._answer(event)
            response.headers.add("Server", self._user_agent)
            self._endpoint.send_response(event.transaction, response, self._clock.now())

    def _answer(self, event: IncomingRequest) -> Response:
        request = event.request
        if request.method == "REGISTER":
            return self._registrar.handle(request, event.peer)
        if request.method == "OPTIONS":
            return self._options(request)
        if request.method in ("INVITE", "BYE"):
            return response_to(request, 480 if request.method == "INVITE" else 481, to_tag="00")
        response = response_to(request, 501, to_tag="00")
        response.headers.add("Allow", ALLOWED_METHODS)
        return response

    @staticmethod
    def _options(request: Request) -> Response:
        """RFC 3261 §11.2: what this server supports; phones and edge proxies use it as a keep-alive ping."""
        response = response_to(request, 200, to_tag="00")
        response.headers.add("Allow", ALLOWED_METHODS)
        response.headers.add("Accept", "application/sdp")
        return response
