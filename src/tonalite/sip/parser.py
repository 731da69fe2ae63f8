"""Bytes -> SIP messages (RFC 3261 §7, §18.3, §20, §25), for datagrams and for streams.

A malformed message raises ParseError. When the request got far enough to be answered (its Via, From,
To, Call-ID and CSeq were read) the error carries them, so the endpoint can send the 400 (or 505); a
response or a message with nothing to answer is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from tonalite.sip.message import Headers, Message, Request, Response, header_names

MAX_MESSAGE_BYTES = 65535
MAX_HEADER_FIELDS = 256
MAX_LINE_BYTES = 8192

_TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:\S+")
_VERSION = re.compile(r"SIP/\d+\.\d+", re.IGNORECASE)
_CSEQ = re.compile(r"(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)")
# Lookup key -> name, in the order the checks report them.
_ANSWERABLE = {name.lower(): name for name in ("Via", "From", "To", "Call-ID", "CSeq")}
_SINGLE_VALUED = {name.lower(): name for name in ("From", "To", "Call-ID", "CSeq", "Max-Forwards")}

_Fields = list[tuple[str, str, str]]
_Index = dict[str, list[str]]
_MessageMaker = Callable[[Headers], Message]


@dataclass
class ParseError(Exception):
    """Why a message was refused, and what to answer with when it can be answered."""

    reason: str
    status: int = 400
    request: Request | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return self.reason


def _is_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes "²", which int() refuses."""
    return text.isascii() and text.isdigit()


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    head, blank_line, rest = data.partition(b"\r\n\r\n")
    if not blank_line:
        head, blank_line, rest = data.partition(b"\n\n")
        if not blank_line:
            raise ParseError("Incomplete Message Header")
    return head, rest


def _header_lines(head: str) -> list[str]:
    """Lines of the head with folded continuation lines joined (RFC 3261 §7.3.1).

    A field may not exceed MAX_LINE_BYTES, folded or not: what the server accepts, it can echo in a response
    that a peer with the same limit reads. Each field is joined once (joining line by line took time
    quadratic in the number of continuation lines).
    """
    lines = head.split("\r\n")
    if "\n" not in "".join(lines):  # the usual head: CRLF line ends, no bare LF
        if "\r\n " not in head and ("\t" not in head or "\r\n\t" not in head):  # and no folding
            if len(head) > MAX_LINE_BYTES and max(map(len, lines)) > MAX_LINE_BYTES:
                raise ParseError("Header Line Too Long")
            return lines
    else:
        lines = head.replace("\r\n", "\n").split("\n")
    fields: list[list[str]] = []
    for raw in lines:
        if len(raw) > MAX_LINE_BYTES:
            raise ParseError("Header Line Too Long")
        if raw[:1] in (" ", "\t") and fields:
            fields[-1].append(raw.strip())
        else:
            fields.append([raw])
    joined = [parts[0] if len(parts) == 1 else _unfold(parts) for parts in fields]
    if any(len(line) > MAX_LINE_BYTES for line in joined):
        raise ParseError("Header Line Too Long")
    return joined


def _unfold(parts: list[str]) -> str:
    """The first line and its continuations (already stripped) joined by one space; an empty continuation
    adds nothing but a trailing space when it is the last."""
    return parts[0].rstrip() + "".join(" " + part for part in parts[1:] if part) + ("" if parts[-1] else " ")


def _parse_headers(lines: list[str]) -> tuple[_Fields, _Index]:
    """The fields as Headers keeps them, (key, canonical name, value), and the index from key to values,
    built in one pass."""
    if len(lines) > MAX_HEADER_FIELDS:
        raise ParseError("Too Many Header Fields")
    known = _GOOD_NAMES.get
    fields: _Fields = []
    index: _Index = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon:
            raise ParseError("Malformed Header Field")
        key, canonical = known(name) or _check_name(name)
        value = value.strip(" \t")
        fields.append((key, canonical, value))
        if key in index:
            index[key].append(value)
        else:
            index[key] = [value]
    return fields, index


def _check_name(name: str) -> tuple[str, str]:
    """The lookup key and canonical name of a header name as written before the colon, if it is a token."""
    stripped = name.rstrip(" \t")
    if not _TOKEN.fullmatch(stripped):
        raise ParseError("Malformed Header Field")
    names = header_names(stripped)
    if len(_GOOD_NAMES) < _GOOD_NAMES_KEPT:
        _GOOD_NAMES[name] = names
    return names


# Header names (as written before the colon) already found well-formed, with their lookup key and canonical
# name: most messages use the same few.
_GOOD_NAMES: dict[str, tuple[str, str]] = {}
_GOOD_NAMES_KEPT = 4096


def _parse_start_line(line: str) -> tuple[_MessageMaker, ParseError | None]:
    """What makes the message once its headers are read, and the error of a request line that is malformed
    but still shows its method and SIP version: that request is answered with 400 once its headers are read
    (RFC 4475 §3.1.2.7 to §3.1.2.10)."""
    maker = _GOOD_START_LINES.get(line)
    if maker is not None:
        return maker, None
    if line.startswith(("SIP/", "sip/")) and not _SCHEME.match(line):
        version, _, rest = line.partition(" ")
        code, _, reason = rest.partition(" ")
        if not _VERSION.fullmatch(version) or not _is_number(code) or len(code) != 3 or not 100 <= int(code) <= 699:
            raise ParseError("Malformed Status Line")
        maker = partial(Response, int(code), reason, version=version)
    else:
        method, _, rest = line.partition(" ")
        uri, _, version = rest.strip(" ").rpartition(" ")
        if not _TOKEN.fullmatch(method) or not _VERSION.fullmatch(version):
            raise ParseError("Malformed Request Line")
        uri = uri.strip(" ")
        maker = partial(Request, method, uri, version=version)
        if f"{method} {uri} {version}" != line or not _SCHEME.fullmatch(uri):
            return maker, ParseError("Malformed Request Line")
    if len(_GOOD_START_LINES) < _GOOD_START_LINES_KEPT and len(line) <= _GOOD_START_LINE_BYTES:
        _GOOD_START_LINES[line] = maker
    return maker, None


# Well-formed start lines already seen: a server gets the same REGISTER and response lines over and over.
_GOOD_START_LINES: dict[str, _MessageMaker] = {}
_GOOD_START_LINES_KEPT = 1024
_GOOD_START_LINE_BYTES = 512


def _content_length(index: _Index) -> int | None:
    values = index.get("content-length")
    if values is None:
        return None
    value = values[0].strip()
    if len(values) > 1 and any(other.strip() != value for other in values[1:]):
        raise ParseError("Conflicting Content-Length")
    if not _is_number(value) or len(value) > 9:
        raise ParseError("Malformed Content-Length")
    return int(value)


def _check_request(request: Request, index: _Index, field_count: int) -> None:
    """The checks that make a request answerable and coherent; raise with the request attached."""
    for key, name in _ANSWERABLE.items():
        if key not in index:
            raise ParseError(f"Missing {name}")
    if len(index) < field_count:  # some name is repeated
        for key, name in _SINGLE_VALUED.items():
            if len(index.get(key, ())) > 1:
                raise ParseError(f"More Than One {name}", request=request)
    if request.version != "SIP/2.0" and request.version.upper() != "SIP/2.0":
        raise ParseError("Version Not Supported", 505, request)
    _check_cseq(request, index["cseq"][0])
    max_forwards = index.get("max-forwards")
    if max_forwards is not None:
        value = max_forwards[0]
        if not _is_number(value) or (len(value) > 2 and int(value) > 255):  # two digits are below 256
            raise ParseError("Malformed Max-Forwards", request=request)


def _check_cseq(request: Request, value: str) -> None:
    number, space, method = value.partition(" ")
    if space and method == request.method and len(number) <= 9 and _is_number(number):
        return  # the usual "<digits> SP <method>", below 2**31
    cseq = _CSEQ.fullmatch(value)
    if cseq is None or int(cseq.group(1)) >= 2**31:
        raise ParseError("Malformed CSeq", request=request)
    if cseq.group(2) != request.method:
        raise ParseError("CSeq Method Does Not Match", request=request)


def _answerable(index: _Index) -> bool:
    return all(key in index for key in _ANSWERABLE)


def parse_message(data: bytes, *, framed: bool = False) -> Message:
    """Parse one whole message: a datagram, or (framed=True) a message a stream framer cut out.

    In a datagram a Content-Length shorter than what follows the head cuts the body; a longer one is an
    error (RFC 3261 §18.3). A datagram without Content-Length takes the rest as its body.
    """
    if len(data) > MAX_MESSAGE_BYTES:
        raise ParseError("Message Too Large", 513)
    head_bytes, rest = _split_head(data.lstrip(b"\r\n"))
    try:
        head = head_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError("Header Is Not UTF-8") from None
    lines = _header_lines(head)
    make, start_line_error = _parse_start_line(lines[0])
    fields, index = _parse_headers(lines[1:])
    message = make(Headers.keyed(fields, index))
    try:
        if start_line_error is not None:
            raise start_line_error
        length = _content_length(index)
        if length is None:
            if framed:
                raise ParseError("Missing Content-Length")
            message.body = rest
        elif length > len(rest):
            raise ParseError("Content-Length Larger Than Body")
        else:
            message.body = rest[:length]
        if isinstance(message, Request):
            _check_request(message, index, len(fields))
    except ParseError as error:
        if isinstance(message, Request) and error.request is None and _answerable(index):
            error.request = message
        raise
    return message


class StreamFramer:
    """Cuts a TCP/TLS byte stream into messages by Content-Length (RFC 3261 §18.3).

    `feed` returns the complete messages (as bytes, for parse_message(framed=True)) and counts the
    CRLF CRLF keep-alive pings (RFC 5626 §4.4.1) that each want a CRLF pong. When the stream breaks the
    framing rules (no Content-Length, over the size limits), `error` is set: the messages cut before it
    are still returned, and the connection should then be closed, since framing is lost.

    `in_message` says whether part of a message is waiting for the rest (keep-alive CRLFs aside), so that
    the caller can bound the time a message may take to arrive. A message fed in small pieces costs time
    linear in its size: the search for the end of the head resumes where it stopped, and the head is read
    once.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._searched = 0  # bytes of the buffer known to hold no CRLF CRLF ending the head
        self._total: int | None = None  # the size of the message at the front, once its head is read
        self.pings = 0
        self.error: ParseError | None = None

    @property
    def in_message(self) -> bool:
        """Bytes of a message are buffered: more than the start of a keep-alive."""
        return bool(self._buffer) and not b"\r\n\r\n".startswith(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        if self.error is not None:
            return []
        self._buffer += data
        messages: list[bytes] = []
        try:
            self._cut(messages)
        except ParseError as error:
            self.error = error
            self._buffer.clear()
        return messages

    def _cut(self, messages: list[bytes]) -> None:
        while True:
            if self._total is None:
                self._skip_keepalives()
                end = self._buffer.find(b"\r\n\r\n", self._searched)
                if end < 0:
                    if len(self._buffer) > MAX_MESSAGE_BYTES:
                        raise ParseError("Message Too Large", 513)
                    self._searched = max(0, len(self._buffer) - 3)
                    return
                self._total = end + 4 + self._declared_length(bytes(self._buffer[:end]))
                if self._total > MAX_MESSAGE_BYTES:
                    raise ParseError("Message Too Large", 513)
            total = self._total
            if len(self._buffer) < total:
                return
            messages.append(bytes(self._buffer[:total]))
            del self._buffer[:total]
            self._searched = 0
            self._total = None

    def _skip_keepalives(self) -> None:
        while self._buffer.startswith(b"\r\n"):
            if self._buffer.startswith(b"\r\n\r\n"):
                self.pings += 1
                del self._buffer[:4]
            elif len(self._buffer) >= 4 or self._buffer == b"\r\n":
                del self._buffer[:2]
            else:
                return
            self._searched = 0

    @staticmethod
    def _declared_length(head: bytes) -> int:
        for line in head.split(b"\r\n")[1:]:
            name, colon, value = line.partition(b":")
            if colon and name.strip().lower() in (b"content-length", b"l"):
                text = value.strip()
                if not text.isdigit() or len(text) > 9:
                    raise ParseError("Malformed Content-Length")
                return int(text)
        raise ParseError("Missing Content-Length")
