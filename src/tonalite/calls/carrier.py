"""What the call core writes to carrier trunks and reads from them, sans-IO: where an INVITE to a trunk goes,
the INVITE again with the credentials a trunk's challenge asks for, and the caller a trunk presents."""

from __future__ import annotations

import re
import secrets

from tonalite.calls.authentication import Challenge
from tonalite.services.trunks import CarrierTrunk
from tonalite.sip.auth import AuthHeaderError, answer_challenge, first_supported_challenge
from tonalite.sip.headers import CSeq, HeaderError, cseq_of, from_of
from tonalite.sip.message import Request, Response, split_list
from tonalite.sip.transport import Transport
from tonalite.sip.uri import NameAddr, SipUri, TelUri, UriError

MAX_PRESENTED = 32
"""Longest caller number or name passed on from a carrier (the call record keeps 32 characters)."""
ANONYMOUS = "anonymous"
# Characters a SIP URI's user part may hold unescaped (RFC 3261 §25.1), bar `;`, `?`, `/`, `&`, `=`, `$` and
# `,`: what a presented number can be made of, so it is printed back into our own URIs without escaping.
_PRESENTABLE = re.compile(rf"[A-Za-z0-9+*.\-()_!~']{{1,{MAX_PRESENTED}}}")


def trunk_uri(number: str, trunk: CarrierTrunk) -> str:
    """`sip:+33612345678@host:port`, the Request-URI (and To) of a call out through `trunk`."""
    host = f"[{trunk.host}]" if ":" in trunk.host else trunk.host
    transport = "" if trunk.transport == Transport.UDP else f";transport={trunk.transport.value}"
    return f"sip:{number}@{host}:{trunk.port}{transport}"


def with_credentials(sent: Request, challenged: Response, username: str, password: str) -> Request | None:
    """`sent` again, answering the challenge of `challenged` (401 or 407, RFC 3261 §22.2): the same Call-ID,
    From and To, the CSeq one higher, the Authorization or Proxy-Authorization the challenge asks for; the
    endpoint gives it a new Via (a new client transaction). None when no challenge in it can be answered."""
    kind = Challenge.PROXY if challenged.status == Challenge.PROXY.status else Challenge.REGISTRAR
    challenge = first_supported_challenge(challenged.headers.get_all(kind.challenge_header))
    if challenge is None:
        return None
    credentials = answer_challenge(
        challenge, sent.method, sent.uri, username, password, cnonce=secrets.token_urlsafe(16), nc=1
    )
    try:
        value = str(credentials)
    except AuthHeaderError:  # a realm or nonce with a control character: nothing to answer
        return None
    headers = sent.headers.copy()
    headers.remove("Via")
    headers.set("CSeq", str(CSeq(cseq_of(sent).number + 1, sent.method)))
    headers.set(kind.credentials_header, value)
    return Request(sent.method, sent.uri, headers, sent.body)


def presented_caller(request: Request) -> tuple[str, str]:
    """The number and the name a trunk presents for its caller: its P-Asserted-Identity's (the carrier vouches
    for it), else its From's; the number as sent (E.164, national, ...), or `anonymous` when it is none."""
    sender = from_of(request)
    identity = _asserted_identity(request) or sender
    uri = identity.uri
    number = uri.unescaped_user if isinstance(uri, SipUri) else uri.number if isinstance(uri, TelUri) else None
    if number is None or _PRESENTABLE.fullmatch(number) is None:
        number = ANONYMOUS
    return number, (identity.display_name or sender.display_name or "")[:MAX_PRESENTED]


def _asserted_identity(request: Request) -> NameAddr | None:
    """The first P-Asserted-Identity (RFC 3325); a malformed one is ignored, the From then says who calls."""
    value = request.headers.get("P-Asserted-Identity")
    items = split_list(value) if value is not None else []
    try:
        return NameAddr.parse(items[0]) if items else None
    except (HeaderError, UriError):
        return None
