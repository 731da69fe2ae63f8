from __future__ import annotations

import pytest

from tonalite.sip.message import Headers, Request, Response, serialise, split_list
from tonalite.sip.parser import MAX_MESSAGE_BYTES, ParseError, StreamFramer, parse_message

INVITE = (
    b"INVITE sip:bob@example.com SIP/2.0\r\n"
    b"v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"
    b"Max-Forwards: 70\r\n"
    b'f: "Alice, \\"the\\" caller" <sip:alice@example.com>;tag=1928301774\r\n'
    b"t: <sip:bob@example.com>\r\n"
    b"i: a84b4c76e66710@pc33.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"m: <sip:alice@192.0.2.1>, <sip:alice@[2001:db8::1]:5070;transport=tcp>\r\n"
    b"Subject: a folded\r\n"
    b"\t  subject\r\n"
    b"c: application/sdp\r\n"
    b"l: 5\r\n"
    b"\r\n"
    b"v=0\r\n"
)


def test_compact_forms_folding_and_lists() -> None:
    request = parse_message(INVITE)
    assert isinstance(request, Request)
    assert (request.method, request.uri) == ("INVITE", "sip:bob@example.com")
    assert request.headers.get("Call-ID") == "a84b4c76e66710@pc33.example.com"
    assert request.headers.get("call-id") == request.headers.get("i")
    assert request.headers.get("Subject") == "a folded subject"
    assert request.headers.get_all("Contact") == [
        "<sip:alice@192.0.2.1>",
        "<sip:alice@[2001:db8::1]:5070;transport=tcp>",
    ]
    assert request.headers.get_all("From") == ['"Alice, \\"the\\" caller" <sip:alice@example.com>;tag=1928301774']
    assert request.body == b"v=0\r\n"


def test_a_datagram_body_is_cut_at_content_length() -> None:
    assert parse_message(INVITE.replace(b"l: 5", b"l: 3")).body == b"v=0"
    assert parse_message(INVITE.replace(b"l: 5\r\n", b"")).body == b"v=0\r\n"


def test_serialise_round_trip_uses_full_names_and_a_true_content_length() -> None:
    request = parse_message(INVITE)
    request.body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"
    wire = serialise(request)
    assert b"\r\nCall-ID: a84b4c76e66710@pc33.example.com\r\n" in wire
    assert wire.count(b"Content-Length") == 1
    again = parse_message(wire)
    assert again.body == request.body

    def without_length(headers: Headers) -> list[tuple[str, str]]:
        return [field for field in headers if field[0] != "Content-Length"]

    assert without_length(again.headers) == without_length(request.headers)


def test_response_parses() -> None:
    response = parse_message(
        b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
        b"To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    )
    assert isinstance(response, Response)
    assert (response.status, response.reason) == (180, "Ringing")


def _broken(data: bytes) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse_message(data)
    return caught.value


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (INVITE.replace(b"CSeq: 314159 INVITE", b"CSeq: 314159 ACK"), 400),
        (INVITE.replace(b"CSeq: 314159 INVITE", b"CSeq: 99999999999 INVITE"), 400),
        (INVITE.replace(b"l: 5", b"l: 400"), 400),
        (INVITE.replace(b"l: 5", b"l: -4"), 400),
        (INVITE.replace(b"l: 5", b"l: 4\r\nContent-Length: 5"), 400),
        (INVITE.replace(b"Max-Forwards: 70", b"Max-Forwards: seventy"), 400),
        (INVITE.replace(b"SIP/2.0\r\n", b"SIP/7.0\r\n", 1), 505),
    ],
)
def test_answerable_errors_carry_the_request(data: bytes, status: int) -> None:
    error = _broken(data)
    assert error.status == status
    assert error.request is not None
    assert error.request.headers.get("Call-ID") == "a84b4c76e66710@pc33.example.com"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n\r\n",
        b"INVITE sip:bob@example.com SIP/2.0\r\nVia: x\r\n",
        b"INVITE  sip:bob@example.com SIP/2.0\r\n\r\n",
        b"INVITE bob SIP/2.0\r\n\r\n",
        b"SIP/2.0 99 Odd\r\n\r\n",
        b"SIP/2.0 abc Odd\r\n\r\n",
        INVITE.replace(b"i: a84b4c76e66710@pc33.example.com\r\n", b""),
        INVITE.replace(b"Max-Forwards: 70", b"Max Forwards: 70"),
        INVITE.replace(b"Max-Forwards: 70", b"no colon here"),
        INVITE.replace(b"Subject", "Sübject".encode("latin-1")),
        b"INVITE sip:a@b SIP/2.0\r\n" + b"X-A: b\r\n" * 300 + b"\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nX-A: " + b"b" * 9000 + b"\r\n\r\n",
        b"x" * (MAX_MESSAGE_BYTES + 1),
    ],
)
def test_malformed_messages_raise_parse_error_only(data: bytes) -> None:
    _broken(data)


def test_missing_header_means_nothing_to_answer() -> None:
    assert _broken(INVITE.replace(b"i: a84b4c76e66710@pc33.example.com\r\n", b"")).request is None


def test_stream_framer_cuts_by_content_length_and_counts_keepalives() -> None:
    framer = StreamFramer()
    stream = b"\r\n\r\n" + INVITE + INVITE + b"\r\n\r\n"
    messages = [m for i in range(0, len(stream), 7) for m in framer.feed(stream[i : i + 7])]
    assert messages == [INVITE, INVITE]
    assert framer.pings == 2
    assert framer.feed(b"\r\n") == []


@pytest.mark.parametrize(
    "broken",
    [
        INVITE.replace(b"l: 5\r\n", b""),
        INVITE.replace(b"l: 5", b"l: 999999"),
        b"INVITE sip:a@b SIP/2.0\r\n" + b"X" * MAX_MESSAGE_BYTES,
    ],
)
def test_stream_framer_keeps_what_came_before_a_framing_error(broken: bytes) -> None:
    framer = StreamFramer()
    assert framer.feed(INVITE + broken) == [INVITE]
    assert isinstance(framer.error, ParseError)
    assert framer.feed(INVITE) == [], "nothing is cut once the framing is lost"


def test_split_list_respects_quotes_and_brackets() -> None:
    assert split_list('"a, b" <sip:x@y;p=a,b>, <sip:z@w>,, ') == ['"a, b" <sip:x@y;p=a,b>', "<sip:z@w>"]


def test_headers_edit_keeps_order() -> None:
    headers = Headers([("Via", "a, b"), ("To", "t"), ("Via", "c")])
    headers.replace_first_value("v", "z")
    assert headers.get_all("Via") == ["z", "b", "c"]
    headers.prepend("Via", "new")
    assert headers.get_all("Via") == ["new", "z", "b", "c"]
    headers.set("Via", "only")
    assert list(headers) == [("Via", "only"), ("To", "t")]
    assert "to" in headers and "Route" not in headers
