"""Bytes -> SIP messages (RFC 3261 §7, §18.3, §20, §25), for datagrams and for streams.

A malformed message raises ParseError. When the request got far enough to be answered (its Via, From,
To, Call-ID and CSeq were read) the error carries them, so the endpoint can send the 400 (or 505); a
response or a message with nothing to answer is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tonalite.sip.message import Headers, Message, Request, Response

MAX_MESSAGE_BYTES = 65535
MAX_HEADER_FIELDS = 256
MAX_LINE_BYTES = 8192

_TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:\S+")
_VERSION = re.compile(r"SIP/\d+\.\d+", re.IGNORECASE)
_CSEQ = re.compile(r"(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)")
_ANSWERABLE = ("Via", "From", "To", "Call-ID", "CSeq")
_SINGLE_VALUED = ("From", "To", "Call-ID", "CSeq", "Max-Forwards")


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
    end = data.find(b"\r\n\r\n")
    if end >= 0:
        return data[:end], data[end + 4 :]
    end = data.find(b"\n\n")
    if end >= 0:
        return data[:end], data[end + 2 :]
    raise ParseError("Incomplete Message Header")


def _header_lines(head: str) -> list[str]:
    """Lines of the head with folded continuation lines joined (RFC 3261 §7.3.1).

    A field may not exceed MAX_LINE_BYTES, folded or not: what the server accepts, it can echo in a response
    that a peer with the same limit reads. Each field is joined once (joining line by line took time
    quadratic in the number of continuation lines).
    """
    if "\n" not in head.replace("\r\n", ""):  # the usual head: CRLF line ends, no bare LF
        lines = head.split("\r\n")
        if "\r\n " not in head and "\r\n\t" not in head:  # and no folding
            if max(map(len, lines)) > MAX_LINE_BYTES:
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


def _parse_headers(lines: list[str]) -> Headers:
    if len(lines) > MAX_HEADER_FIELDS:
        raise ParseError("Too Many Header Fields")
    fields: list[tuple[str, str]] = []
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or name not in _GOOD_NAMES:
            name = name.rstrip(" \t")
            if not colon or not _TOKEN.fullmatch(name):
                raise ParseError("Malformed Header Field")
            if len(_GOOD_NAMES) < _GOOD_NAMES_KEPT:
                _GOOD_NAMES.add(name)
        fields.append((name, value.strip(" \t")))
    return Headers(fields)


# Header names (as written before the colon) already found well-formed: most messages use the same few.
_GOOD_NAMES: set[str] = set()
_GOOD_NAMES_KEPT = 4096


def _parse_start_line(line: str) -> tuple[Request | Response, ParseError | None]:
    """The start line, and the error of a request line that is malformed but still shows its method and SIP
    version: that request is answered with 400 once its headers are read (RFC 4475 §3.1.2.7 to §3.1.2.10)."""
    if line.startswith(("SIP/", "sip/")) and not _SCHEME.match(line):
        version, _, rest = line.partition(" ")
        code, _, reason = rest.partition(" ")
        if not _VERSION.fullmatch(version) or not _is_number(code) or len(code) != 3 or not 100 <= int(code) <= 699:
            raise ParseError("Malformed Status Line")
        return Response(int(code), reason, version=version), None
    method, _, rest = line.partition(" ")
    uri, _, version = rest.strip(" ").rpartition(" ")
    if not _TOKEN.fullmatch(method) or not _VERSION.fullmatch(version):
        raise ParseError("Malformed Request Line")
    request = Request(method, uri.strip(" "), version=version)
    if request.start_line() != line or not _SCHEME.fullmatch(request.uri):
        return request, ParseError("Malformed Request Line")
    return request, None


def _content_length(headers: Headers) -> int | None:
    values = {value.strip() for value in headers.get_all("Content-Length")}
    if not values:
        return None
    if len(values) > 1:
        raise ParseError("Conflicting Content-Length")
    (value,) = values
    if not _is_number(value) or len(value) > 9:
        raise ParseError("Malformed Content-Length")
    return int(value)


def _check_request(request: Request) -> None:
    """The checks that make a request answerable and coherent; raise with the request attached."""
    missing = [name for name in _ANSWERABLE if request.headers.get(name) is None]
    if missing:
        raise ParseError(f"Missing {missing[0]}")
    repeated = [name for name in _SINGLE_VALUED if request.headers.count(name) > 1]
    if repeated:
        raise ParseError(f"More Than One {repeated[0]}", request=request)
    if request.version.upper() != "SIP/2.0":
        raise ParseError("Version Not Supported", 505, request)
    cseq = _CSEQ.fullmatch(request.headers.get("CSeq") or "")
    if cseq is None or int(cseq.group(1)) >= 2**31:
        raise ParseError("Malformed CSeq", request=request)
    if cseq.group(2) != request.method:
        raise ParseError("CSeq Method Does Not Match", request=request)
    max_forwards = request.headers.get("Max-Forwards")
    if max_forwards is not None and (not _is_number(max_forwards) or int(max_forwards) > 255):
        raise ParseError("Malformed Max-Forwards", request=request)


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
    message, start_line_error = _parse_start_line(lines[0])
    message.headers = _parse_headers(lines[1:])
    try:
        if start_line_error is not None:
            raise start_line_error
        length = _content_length(message.headers)
        if length is None:
            if framed:
                raise ParseError("Missing Content-Length")
            message.body = rest
        elif length > len(rest):
            raise ParseError("Content-Length Larger Than Body")
        else:
            message.body = rest[:length]
        if isinstance(message, Request):
            _check_request(message)
    except ParseError as error:
        if (
            isinstance(message, Request)
            and error.request is None
            and all(message.headers.get(name) is not None for name in _ANSWERABLE)
        ):
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
