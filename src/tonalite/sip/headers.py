"""Typed views of the headers the transaction and dialog layers read: Via, CSeq, From, To, Contact, Route and
Record-Route (RFC 3261 §20).

Each parses from a header value and prints back to one; a malformed value raises HeaderError, which the
endpoint answers with 400.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal, NamedTuple

from tonalite.sip.message import Message, Request, split_list, split_outside_quotes
from tonalite.sip.uri import NameAddr, UriError

BRANCH_MAGIC = "z9hG4bK"
_CSEQ = re.compile(r"\s*(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)\s*")
_SENT_PROTOCOL = re.compile(r"\s*SIP\s*/\s*2\.0\s*/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+", re.IGNORECASE)
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)(?:\s*:\s*(\d{1,5}))?\s*")
_USUAL_VIA = re.compile(
    r"SIP/2\.0/([A-Za-z]+) ([A-Za-z0-9\-.]+)(?::(\d{1,5}))?"
    r"((?:;[A-Za-z0-9\-.!%*_+`'~]+(?:=[A-Za-z0-9\-.!%*_+`'~:\[\]]+)?)*)"
)
"""A Via as phones and servers write it, `SIP/2.0/UDP host:port;branch=...;rport`: no spaces around the
separators, no IPv6 reference, no quoted parameter. One match reads it; anything else takes the general path."""


class HeaderError(ValueError):
    """A header value that does not follow its grammar."""


def parse_params(text: str) -> dict[str, str | None]:
    """`;a=1;b;c="x;y"` -> {"a": "1", "b": None, "c": '"x;y"'}; names are lower-cased, values kept as written.

    The leading `;` is optional; an empty parameter (`a;;b`, a trailing `;`) is malformed.
    """
    if not text.strip():
        return {}
    parts = _split_params(text)
    params: dict[str, str | None] = {}
    for part in parts[1:] if not parts[0] else parts:
        name, eq, value = part.partition("=")
        name = name.strip().lower()
        if not name:
            raise HeaderError("empty parameter name")
        params[name] = value.strip() if eq else None
    return params


def _split_params(text: str) -> list[str]:
    parts, unterminated = split_outside_quotes(text, ";", angle_brackets=False)
    if unterminated:
        raise HeaderError("unterminated quoted string")
    return parts


def format_params(params: dict[str, str | None]) -> str:
    return "".join(f";{name}" if value is None else f";{name}={value}" for name, value in params.items())


class Via(NamedTuple):
    """One Via element: `SIP/2.0/UDP host:port;branch=...;rport;received=...`.

    Parsed values are shared (the same Via is read by several layers): treat `params` as read-only and make
    a changed copy with `with_params`. A named tuple: two are made for every request (parsed, then stamped
    with `received`/`rport`), and a frozen dataclass costs three times as much to build.
    """

    transport: str
    host: str
    port: int | None
    params: dict[str, str | None]

    @classmethod
    def parse(cls, value: str) -> Via:
        return cls._parse_usual(value) or cls._parse_any(value)

    @classmethod
    def _parse_usual(cls, value: str) -> Via | None:
        """The usual form (_USUAL_VIA) read by one match, or None for the general path to judge. Its
        parameters are tokens without spaces or quotes: they split on `;` and `=` alone."""
        usual = _USUAL_VIA.fullmatch(value)
        if usual is None:
            return None
        transport, host, port_text, params_text = usual.groups()
        port = int(port_text) if port_text else None
        if port is not None and not 0 < port < 65536:
            return None
        params: dict[str, str | None] = {}
        for param in params_text.split(";")[1:]:
            name, eq, param_value = param.partition("=")
            params[name.lower()] = param_value if eq else None
        return cls(transport.upper(), host, port, params)

    @classmethod
    def _parse_any(cls, value: str) -> Via:
        protocol = _SENT_PROTOCOL.match(value)
        if protocol is None:
            raise HeaderError("malformed Via protocol")
        rest = value[protocol.end() :]
        sent_by, semicolon, params_text = rest.partition(";")
        host_port = _HOST_PORT.fullmatch(sent_by.strip())
        if host_port is None:
            raise HeaderError("malformed Via sent-by")
        port = int(host_port.group(2)) if host_port.group(2) else None
        if port is not None and not 0 < port < 65536:
            raise HeaderError("Via port out of range")
        host = host_port.group(1)
        return cls(protocol.group(1).upper(), host.strip("[]"), port, parse_params(semicolon + params_text))

    def with_params(self, **changes: str | None) -> Via:
        return Via(self.transport, self.host, self.port, {**self.params, **changes})

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def sent_by(self) -> tuple[str, int | None]:
        return self.host.lower(), self.port

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        return f"SIP/2.0/{self.transport} {host}{port}{format_params(self.params)}"


@dataclass(frozen=True, slots=True)
class CSeq:
    number: int
    method: str

    @classmethod
    def parse(cls, value: str) -> CSeq:
        match = _CSEQ.fullmatch(value)
        if match is None or int(match.group(1)) >= 2**31:
            raise HeaderError("malformed CSeq")
        return cls(int(match.group(1)), match.group(2))

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


def top_via(message: Message) -> Via:
    value = message.headers.first_value("Via")
    if value is None:
        raise HeaderError("missing Via")
    via = _VIAS.get(value)
    if via is None:
        via = Via.parse(value)
        remember_via(value, via)
    return via


def remember_via(value: str, via: Via) -> None:
    """Keep `via` as the parsed form of `value`: the endpoint gives the Vias it writes (its own, and a request's
    stamped with `received`/`rport`), so that the layers reading them next, and the responses echoing them,
    find them parsed. The oldest entry goes when the cache is full; long values are not kept."""
    if len(value) > _CACHED_VALUE_LENGTH:
        return
    if len(_VIAS) >= _VIAS_KEPT:
        _VIAS.popitem(last=False)
    _VIAS[value] = via


def cseq_of(message: Message) -> CSeq:
    value = message.headers.get("CSeq")
    if value is None:
        raise HeaderError("missing CSeq")
    if len(value) <= _CACHED_VALUE_LENGTH:
        return _cached_cseq(value)
    return CSeq.parse(value)


def from_of(message: Message) -> NameAddr:
    return _single_name_addr(message, "From")


def to_of(message: Message) -> NameAddr:
    return _single_name_addr(message, "To")


def contacts_of(message: Message) -> list[NameAddr] | Literal["*"]:
    """The Contact values in order; `*` (remove every binding) is only meaningful alone, in a REGISTER."""
    values = message.headers.get_all("Contact")
    if "*" not in values:
        return [_name_addr(value) for value in values]
    if values != ["*"] or not isinstance(message, Request) or message.method != "REGISTER":
        raise HeaderError("Contact * outside a REGISTER or beside other contacts")
    return "*"


def first_contact_of(message: Message) -> NameAddr | Literal["*"] | None:
    """The first Contact value alone, the others left unparsed: a check of bounded cost that any request can
    get before it is authenticated, however many contacts it lists."""
    value = message.headers.get("Contact")
    items = split_list(value) if value is not None else []
    if not items:
        return None
    return "*" if items[0] == "*" else _name_addr(items[0])


def route_set(message: Message, header: Literal["Route", "Record-Route"]) -> list[NameAddr]:
    """The Route or Record-Route values in order; each must be a `<uri>` (RFC 3261 §20.30, §20.34)."""
    return [_name_addr(value, addr_spec_allowed=False) for value in message.headers.get_all(header)]


def _single_name_addr(message: Message, name: str) -> NameAddr:
    values = message.headers.get_all(name)
    if len(values) != 1:
        raise HeaderError(f"{len(values)} {name} header fields instead of one")
    return _name_addr(values[0])


def _name_addr(value: str, *, addr_spec_allowed: bool = True) -> NameAddr:
    if len(value) <= _CACHED_VALUE_LENGTH:
        return _cached_name_addr(value, addr_spec_allowed)
    return _parse_name_addr(value, addr_spec_allowed)


# The same From, To and Contact values come back in every request and response of a registration or a call,
# and each is read at several layers: NameAddr is immutable, so a parsed value can be shared. Only short
# values are kept, so that hostile input cannot fill the memory.
_CACHED_VALUE_LENGTH = 512

_VIAS: OrderedDict[str, Via] = OrderedDict()
"""Top Via values parsed, oldest first: the endpoint, the transaction layer and the application each read a
request's top Via, and a response's is the one its request went out with. An OrderedDict: a dict whose oldest
entry is deleted at every insertion walks ever more deleted slots to find the next oldest (0.7 µs against
0.3 per insertion, measured at this size)."""
_VIAS_KEPT = 1024


@functools.lru_cache(maxsize=1024)
def _cached_cseq(value: str) -> CSeq:
    """Every layer reads the CSeq, and its values repeat (`1 REGISTER`, `2 INVITE`)."""
    return CSeq.parse(value)


@functools.lru_cache(maxsize=16384)
def _cached_name_addr(value: str, addr_spec_allowed: bool) -> NameAddr:
    return _parse_name_addr(value, addr_spec_allowed)


def _parse_name_addr(value: str, addr_spec_allowed: bool) -> NameAddr:
    try:
        return NameAddr.parse(value, addr_spec_allowed=addr_spec_allowed)
    except UriError as error:
        raise HeaderError(str(error)) from error
