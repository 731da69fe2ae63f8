"""SIP messages (RFC 3261 §7): requests, responses, and an ordered header multidict.

Header values stay text until a caller asks for a typed view (headers.py): most messages are relayed or
answered on a handful of headers, so parsing every header eagerly would be wasted work.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

SIP_VERSION = "SIP/2.0"

# RFC 3261 §7.3.3 and the registries of later RFCs: the compact forms a parser must accept.
COMPACT_FORMS = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "n": "Identity-Info",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}

_CANONICAL = {
    name.lower(): name
    for name in (
        *COMPACT_FORMS.values(),
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
        "Alert-Info",
        "Allow",
        "Authentication-Info",
        "Authorization",
        "Call-Info",
        "Content-Disposition",
        "Content-Language",
        "CSeq",
        "Date",
        "Error-Info",
        "Expires",
        "In-Reply-To",
        "Max-Forwards",
        "Min-Expires",
        "MIME-Version",
        "Organization",
        "P-Asserted-Identity",
        "P-Preferred-Identity",
        "Path",
        "Priority",
        "Privacy",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Proxy-Require",
        "RAck",
        "Reason",
        "Record-Route",
        "Reply-To",
        "Require",
        "Retry-After",
        "Route",
        "RSeq",
        "Server",
        "Subscription-State",
        "Timestamp",
        "Unsupported",
        "User-Agent",
        "Warning",
        "WWW-Authenticate",
    )
}

# Headers whose value is a comma-separated list (RFC 3261 §7.3.1); others (e.g. WWW-Authenticate,
# Authorization, Date) contain commas that do not separate values.
LIST_HEADERS = frozenset(
    name.lower()
    for name in (
        "Via",
        "Contact",
        "Route",
        "Record-Route",
        "Path",
        "Allow",
        "Supported",
        "Require",
        "Proxy-Require",
        "Unsupported",
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
        "Allow-Events",
        "Content-Encoding",
        "Content-Language",
        "P-Asserted-Identity",
        "Privacy",
    )
)


def canonical_name(name: str) -> str:
    """`v` -> `Via`, `call-id` -> `Call-ID`; unknown names keep the case they came with."""
    return _names(name)[1]


def header_names(name: str) -> tuple[str, str]:
    """The lookup key and the canonical name of a header name: `v` -> (`via`, `Via`)."""
    return _NAMES.get(name) or _names(name)


# Every spelling a message used so far, with its key and canonical name: most messages use the same few
# dozen. Bounded, so that a peer inventing header names cannot grow it without end.
_NAMES: dict[str, tuple[str, str]] = {}
_NAMES_KEPT = 4096


def _names(name: str) -> tuple[str, str]:
    names = _NAMES.get(name)
    if names is None:
        lowered = name.lower()
        if len(lowered) == 1 and lowered in COMPACT_FORMS:
            canonical = COMPACT_FORMS[lowered]
        else:
            canonical = _CANONICAL.get(lowered, name)
        names = (canonical.lower(), canonical)
        if len(_NAMES) < _NAMES_KEPT:
            _NAMES[name] = names
    return names


def split_outside_quotes(value: str, separator: str, *, angle_brackets: bool) -> tuple[list[str], bool]:
    """Split on `separator` where it stands outside quoted strings (and, if asked, outside `<...>`).

    Returns the stripped parts, empty ones included, and whether a quoted string was left open.
    """
    if '"' not in value:
        if separator not in value:  # the usual single value
            return [value.strip()], False
        if not (angle_brackets and "<" in value):  # nothing can hide a separator
            return [part.strip() for part in value.split(separator)], False
    parts: list[str] = []
    depth_angle = 0
    in_quotes = False
    escaped = False
    start = 0
    for index, char in enumerate(value):
        if in_quotes:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_quotes = False
        elif char == '"':
            in_quotes = True
        elif angle_brackets and char == "<":
            depth_angle += 1
        elif angle_brackets and char == ">":
            depth_angle = max(0, depth_angle - 1)
        elif char == separator and depth_angle == 0:
            parts.append(value[start:index].strip())
            start = index + 1
    parts.append(value[start:].strip())
    return parts, in_quotes


def split_list(value: str) -> list[str]:
    """Split a list header's value on the commas outside quotes and angle brackets."""
    parts, _ = split_outside_quotes(value, ",", angle_brackets=True)
    return [part for part in parts if part]


class Headers:
    """Ordered header fields; lookups ignore case and compact forms.

    Each field is kept with its lookup key, computed once. An index from key to values is built at the first
    lookup and dropped by any change, since a message is searched many times and changed seldom.
    """

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        known = _NAMES.get
        self._fields: list[tuple[str, str, str]] = [(*(known(n) or _names(n)), v) for n, v in fields]
        self._index: dict[str, list[str]] | None = None

    @classmethod
    def keyed(cls, fields: list[tuple[str, str, str]], index: dict[str, list[str]] | None = None) -> Headers:
        """Headers over fields already keyed as (key, canonical name, value), with their index from key to
        values if one was built in the same pass (a parser's); both are taken over, not copied."""
        headers = cls.__new__(cls)
        headers._fields = fields
        headers._index = index
        return headers

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((name, value) for _, name, value in self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def _indexed(self) -> dict[str, list[str]]:
        """The index, built if this is the first lookup; callers try `self._index or` first, which saves this
        call once it is built (an empty index is simply returned again)."""
        index = self._index
        if index is None:
            index = {}
            for field_key, _, value in self._fields:
                values = index.get(field_key)
                if values is None:
                    index[field_key] = [value]
                else:
                    values.append(value)
            self._index = index
        return index

    def drop_index(self) -> None:
        """Forget the lookup index until the next lookup rebuilds it: for a message kept long and seldom read,
        whose index (a list per header name) would otherwise stay in memory, and in the collector's walks."""
        self._index = None

    def get(self, name: str) -> str | None:
        """The first field's value; for a list header, the first field as written (not split)."""
        values = (self._index or self._indexed()).get((_NAMES.get(name) or _names(name))[0])
        return None if values is None else values[0]

    def get_all(self, name: str) -> list[str]:
        """Every value of `name` in order, list headers split into their elements."""
        wanted = (_NAMES.get(name) or _names(name))[0]
        values = (self._index or self._indexed()).get(wanted)
        if values is None:
            return []
        if wanted in LIST_HEADERS:
            return [item for value in values for item in split_list(value)]
        return list(values)

    def count(self, name: str) -> int:
        """How many fields of that name the message has (list elements not counted apart)."""
        values = (self._index or self._indexed()).get((_NAMES.get(name) or _names(name))[0])
        return 0 if values is None else len(values)

    def first_value(self, name: str) -> str | None:
        """The first element of a list header (the topmost Via), without splitting the rest."""
        value = self.get(name)
        if value is None:
            return None
        if "," not in value:
            return value.strip() or None
        items = split_list(value)
        return items[0] if items else None

    def add(self, name: str, value: str) -> None:
        key, canonical = _NAMES.get(name) or _names(name)
        self._fields.append((key, canonical, value))
        if self._index is not None:
            self._index.setdefault(key, []).append(value)

    def prepend(self, name: str, value: str) -> None:
        """Insert before the first field of that name (a new topmost Via), else at the top."""
        key, canonical = _NAMES.get(name) or _names(name)
        if self._index is not None:
            self._index.setdefault(key, []).insert(0, value)
        for index, (field_key, _, _) in enumerate(self._fields):
            if field_key == key:
                self._fields.insert(index, (key, canonical, value))
                return
        self._fields.insert(0, (key, canonical, value))

    def set(self, name: str, value: str) -> None:
        """Replace every field of that name by one, keeping the first one's place."""
        field = (*_names(name), value)
        kept: list[tuple[str, str, str]] = []
        placed = False
        for existing in self._fields:
            if existing[0] == field[0]:
                if not placed:
                    kept.append(field)
                    placed = True
            else:
                kept.append(existing)
        if not placed:
            kept.append(field)
        self._fields = kept
        self._index = None

    def remove(self, name: str) -> None:
        wanted = _names(name)[0]
        self._fields = [existing for existing in self._fields if existing[0] != wanted]
        self._index = None

    def replace_first_value(self, name: str, value: str) -> None:
        """Put `value` in place of the first element of a list header (the topmost Via, stamped by the
        endpoint), in its field; nothing happens if there is no such header."""
        wanted = (_NAMES.get(name) or _names(name))[0]
        for position, (key, field_name, old) in enumerate(self._fields):
            if key == wanted:
                new = value if "," not in old else ", ".join([value, *split_list(old)[1:]])
                self._fields[position] = (key, field_name, new)
                if self._index is not None:
                    self._index[key][0] = new
                return

    def copy(self) -> Headers:
        copied = Headers()
        copied._fields = list(self._fields)
        return copied


@dataclass(slots=True)
class Request:
    method: str
    uri: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = SIP_VERSION

    def start_line(self) -> str:
        return f"{self.method} {self.uri} {self.version}"


@dataclass(slots=True)
class Response:
    status: int
    reason: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = SIP_VERSION

    def start_line(self) -> str:
        return f"{self.version} {self.status} {self.reason}"


Message = Request | Response


def serialise(message: Message) -> bytes:
    """Wire form with a Content-Length that matches the body, whatever the headers said."""
    lines = [message.start_line()]
    lines.extend(f"{name}: {value}" for name, value in message.headers if name != "Content-Length")
    lines.append(f"Content-Length: {len(message.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + message.body
