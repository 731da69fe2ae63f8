"""Building a response to a request (RFC 3261 §8.2.6) and the standard reason phrases."""

from __future__ import annotations

from tonalite.sip.message import Headers, Request, Response, header_names

REASONS = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    423: "Interval Too Brief",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    484: "Address Incomplete",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    489: "Bad Event",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    513: "Message Too Large",
    603: "Decline",
}

_VIA = header_names("Via")
_COPIED_ONCE = tuple(header_names(name) for name in ("From", "To", "Call-ID", "CSeq"))
"""(lookup key, canonical name) of the fields copied once: the response's fields are built keyed."""


def response_to(request: Request, status: int, reason: str | None = None, to_tag: str | None = None) -> Response:
    """A response carrying the request's Via, From, To, Call-ID and CSeq; `to_tag` is added to a To without one."""
    copied = request.headers
    via_key, via_name = _VIA
    fields = [(via_key, via_name, value) for value in copied.get_all(via_name)]
    for key, name in _COPIED_ONCE:
        fields.append((key, name, copied.get(name) or ""))
    if to_tag is not None and status != 100:
        key, name, to_value = fields[-3]
        if ";tag=" not in to_value.replace(" ", "").lower():
            fields[-3] = (key, name, f"{to_value};tag={to_tag}")
    return Response(status, reason or REASONS.get(status, "Unknown"), Headers.keyed(fields))
