"""Dialogs (RFC 3261 §12), sans-IO: the state two user agents share, and the requests sent inside it.

A B2BUA holds two dialogs per call: the caller's, where it acts as UAS, and the callee's, where it acts
as UAC. Each builds its in-dialog requests (BYE, re-INVITE, UPDATE, the ACK of a 2xx) and checks the
CSeq of the requests it receives.
"""

from __future__ import annotations

from dataclasses import dataclass

from tonalite.sip.headers import HeaderError, contacts_of, cseq_of, from_of, route_set, to_of
from tonalite.sip.message import Headers, Request, Response
from tonalite.sip.uri import NameAddr, SipUri

DialogId = tuple[str, str, str]
"""(Call-ID, local tag, remote tag)."""


@dataclass(slots=True)
class Dialog:
    call_id: str
    local_tag: str
    remote_tag: str
    local_party: NameAddr
    """Our From (UAC) or To (UAS) with our tag, as it appears in the requests we send."""
    remote_party: NameAddr
    remote_target: str
    route_set: list[str]
    local_seq: int
    remote_seq: int | None
    local_contact: str
    confirmed: bool = False
    invite_seq: int = 0
    """CSeq of the INVITE (or re-INVITE) whose 2xx the next ACK acknowledges."""

    @property
    def id(self) -> DialogId:
        return (self.call_id, self.local_tag, self.remote_tag)

    @classmethod
    def as_uas(cls, request: Request, local_tag: str, local_contact: str) -> Dialog:
        """§12.1.1: the dialog a response with our To tag creates for a request we received."""
        caller = from_of(request)
        contacts = contacts_of(request)
        if contacts == "*" or len(contacts) != 1:
            raise HeaderError("a dialog-creating request needs exactly one Contact")
        sequence = cseq_of(request).number
        return cls(
            call_id=request.headers.get("Call-ID") or "",
            local_tag=local_tag,
            remote_tag=caller.tag or "",
            local_party=to_of(request).with_tag(local_tag),
            remote_party=caller,
            remote_target=str(contacts[0].uri),
            route_set=[str(route) for route in route_set(request, "Record-Route")],
            local_seq=0,
            remote_seq=sequence,
            local_contact=local_contact,
            invite_seq=sequence,
        )

    @classmethod
    def as_uac(cls, request: Request, response: Response) -> Dialog:
        """§12.1.2: the dialog a 1xx/2xx with a To tag creates for a request we sent."""
        callee = to_of(response)
        contacts = contacts_of(response)
        if contacts == "*" or len(contacts) != 1:
            raise HeaderError("a dialog-creating response needs exactly one Contact")
        ours = from_of(request)
        sequence = cseq_of(request).number
        return cls(
            call_id=request.headers.get("Call-ID") or "",
            local_tag=ours.tag or "",
            remote_tag=callee.tag or "",
            local_party=ours,
            remote_party=callee,
            remote_target=str(contacts[0].uri),
            route_set=[str(route) for route in reversed(route_set(response, "Record-Route"))],
            local_seq=sequence,
            remote_seq=None,
            local_contact=request.headers.get("Contact") or "",
            invite_seq=sequence,
        )

    def update_target(self, message: Request | Response) -> None:
        """§12.2: a target refresh (re-INVITE, UPDATE, or its 2xx) may move the remote target."""
        contacts = contacts_of(message)
        if contacts != "*" and len(contacts) == 1:
            self.remote_target = str(contacts[0].uri)

    def accepts(self, request: Request) -> bool:
        """§12.2.2: a request whose CSeq is lower than the last one is out of order (500); ACK and CANCEL
        carry the CSeq of what they acknowledge or cancel."""
        number = cseq_of(request).number
        if request.method in ("ACK", "CANCEL"):
            return True
        if self.remote_seq is not None and number <= self.remote_seq:
            return False
        self.remote_seq = number
        return True

    def new_request(self, method: str, body: bytes = b"", content_type: str | None = None) -> Request:
        """§12.2.1.1: a request inside the dialog; the ACK of a 2xx reuses the INVITE's CSeq number."""
        if method == "ACK":
            sequence = self.invite_seq
        else:
            self.local_seq += 1
            sequence = self.local_seq
            if method == "INVITE":
                self.invite_seq = sequence
        uri, routes = self._request_target()
        headers = Headers(
            [
                ("Max-Forwards", "70"),
                ("From", str(self.local_party)),
                ("To", str(self.remote_party)),
                ("Call-ID", self.call_id),
                ("CSeq", f"{sequence} {method}"),
            ]
        )
        for route in routes:
            headers.add("Route", route)
        if method in ("INVITE", "UPDATE") and self.local_contact:
            headers.add("Contact", self.local_contact)
        if body and content_type:
            headers.add("Content-Type", content_type)
        return Request(method, uri, headers, body)

    def _request_target(self) -> tuple[str, list[str]]:
        """§12.2.1.1: loose routing sends to the remote target through the route set; a strict router (no
        `lr`) takes the Request-URI and the remote target goes last in the Route set."""
        if not self.route_set:
            return self.remote_target, []
        first = NameAddr.parse(self.route_set[0])
        if not isinstance(first.uri, SipUri) or first.uri.has_param("lr"):
            return self.remote_target, list(self.route_set)
        return str(first.uri), [*self.route_set[1:], f"<{self.remote_target}>"]
