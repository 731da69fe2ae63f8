"""Hands each SIP event to whoever handles it: REGISTER to the registrar, SUBSCRIBE (in and out of its dialog)
and the answers to our NOTIFYs to message waiting, an out-of-dialog OPTIONS is answered here, calls and
everything inside them go to the B2BUA; methods the platform does not handle get 501 with the Allow list, as
RFC 3261 §8.2.1 asks.
"""

from __future__ import annotations

import secrets

from tonalite.calls.b2bua import B2bua
from tonalite.calls.message_waiting import MessageWaiting
from tonalite.calls.registrar import Registrar
from tonalite.clock import Clock
from tonalite.sip.endpoint import (
    Event,
    IncomingAck,
    IncomingCancel,
    IncomingRequest,
    IncomingResponse,
    SipEndpoint,
    TransactionFailed,
)
from tonalite.sip.headers import HeaderError, to_of
from tonalite.sip.message import Request, Response
from tonalite.sip.message_summary import EVENT_PACKAGE
from tonalite.sip.responses import response_to
from tonalite.sip.uri import UriError

ALLOWED_METHODS = "REGISTER, OPTIONS, INVITE, ACK, CANCEL, BYE, UPDATE, INFO, SUBSCRIBE"
CALL_METHODS = frozenset({"INVITE", "BYE", "UPDATE", "INFO"})


class Signalling:
    def __init__(
        self,
        endpoint: SipEndpoint,
        registrar: Registrar,
        b2bua: B2bua,
        message_waiting: MessageWaiting,
        clock: Clock,
        user_agent: str,
    ) -> None:
        self._endpoint = endpoint
        self._registrar = registrar
        self._b2bua = b2bua
        self._message_waiting = message_waiting
        self._clock = clock
        self._user_agent = user_agent

    def on_event(self, event: Event) -> None:
        match event:
            case IncomingRequest(request=request) if request.method == "SUBSCRIBE":
                self._message_waiting.on_subscribe(event)
            case IncomingRequest(request=request) if request.method in CALL_METHODS or _in_dialog(request):
                self._b2bua.on_request(event)
            case IncomingRequest():
                self._answer(event, self._out_of_dialog(event))
            case IncomingAck():
                self._b2bua.on_ack(event)
            case IncomingCancel():
                self._b2bua.on_cancel(event)
            case IncomingResponse(transaction=transaction) if self._message_waiting.owns(transaction):
                self._message_waiting.on_response(event)
            case IncomingResponse():
                self._b2bua.on_response(event)
            case TransactionFailed(transaction=transaction) if self._message_waiting.owns(transaction):
                self._message_waiting.on_failure(event)
            case TransactionFailed():
                self._b2bua.on_failure(event)

    def _out_of_dialog(self, event: IncomingRequest) -> Response:
        request = event.request
        if request.method == "REGISTER":
            return self._registrar.handle(request, event.peer)
        if request.method == "OPTIONS":
            return self._options(request)
        response = response_to(request, 501, to_tag=secrets.token_hex(6))
        response.headers.add("Allow", ALLOWED_METHODS)
        response.headers.add("Allow-Events", EVENT_PACKAGE)
        return response

    def _answer(self, event: IncomingRequest, response: Response) -> None:
        response.headers.add("Server", self._user_agent)
        self._endpoint.send_response(event.transaction, response, self._clock.now())

    @staticmethod
    def _options(request: Request) -> Response:
        """RFC 3261 §11.2: what this server supports; phones and edge proxies use it as a keep-alive ping."""
        response = response_to(request, 200, to_tag=secrets.token_hex(6))
        response.headers.add("Allow", ALLOWED_METHODS)
        response.headers.add("Allow-Events", EVENT_PACKAGE)
        response.headers.add("Accept", "application/sdp")
        return response


def _in_dialog(request: Request) -> bool:
    """A request with a To tag belongs to a dialog (RFC 3261 §12.2.2): the B2BUA answers it, or says 481."""
    try:
        return to_of(request).tag is not None
    except (HeaderError, UriError):
        return False
