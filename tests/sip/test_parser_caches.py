"""The parser remembers well-formed start lines and header names, and hands Headers its fields already keyed
and indexed: none of that may change what a message parses to, or the error it raises."""

from __future__ import annotations

import pytest

from tonalite.sip.message import Headers, Request
from tonalite.sip.parser import ParseError, parse_message

REGISTER = (
    b"REGISTER sip:example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"
    b"Via : SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK-2\r\n"
    b"From: <sip:a@example.com>;tag=1\r\n"
    b"To: <sip:a@example.com>\r\n"
    b"Call-ID: c1@example.com\r\n"
    b"CSeq: 7 REGISTER\r\n"
    b"Max-Forwards: 70\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)
NAMES = ["Via", "v", "From", "To", "Call-ID", "i", "CSeq", "Max-Forwards", "Content-Length", "l", "Contact"]


def _outcome(data: bytes) -> object:
    try:
        message = parse_message(data)
    except ParseError as error:
        return (error.reason, error.status, error.request is not None)
    lookups = [message.headers.get_all(name) for name in NAMES]
    return (message.start_line(), list(message.headers), lookups, message.body)


@pytest.mark.parametrize(
    "data",
    [
        REGISTER,
        REGISTER.replace(b"SIP/2.0\r\n", b"SIP/3.0\r\n", 1),
        REGISTER.replace(b"REGISTER sip", b"REGISTER  sip", 1),
        REGISTER.replace(b"sip:example.com SIP", b"example.com SIP", 1),
        REGISTER.replace(b"CSeq: 7 REGISTER", b"CSeq: 7 INVITE"),
        REGISTER.replace(b"CSeq: 7 REGISTER", b"CSeq: 2147483648 REGISTER"),
        REGISTER.replace(b"CSeq: 7 REGISTER", b"CSeq: 2147483647\t REGISTER"),
        REGISTER.replace(b"Max-Forwards: 70", b"Max-Forwards: 256"),
        REGISTER.replace(b"Max-Forwards: 70", b"Max-Forwards: 0255"),
        REGISTER.replace(b"To: <sip:a@example.com>", b"To: <sip:a@example.com>\r\nt: <sip:b@example.com>"),
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1\r\nContent-Length: 0\r\n\r\n",
        b"SIP/2.0 2000 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1\r\n\r\n",
    ],
)
def test_a_second_parse_gives_what_the_first_gave(data: bytes) -> None:
    assert _outcome(data) == _outcome(data)


def test_a_known_name_without_a_colon_is_still_malformed() -> None:
    parse_message(REGISTER)  # "Via" and "Via " are now known names
    for line in (b"Via", b"Via "):
        with pytest.raises(ParseError, match="Malformed Header Field"):
            parse_message(REGISTER.replace(b"Max-Forwards: 70", line))


def test_parsed_headers_answer_as_headers_built_from_their_fields() -> None:
    message = parse_message(REGISTER)
    assert isinstance(message, Request)
    built = Headers(list(message.headers))
    for name in NAMES:
        assert message.headers.get(name) == built.get(name)
        assert message.headers.count(name) == built.count(name)
        assert message.headers.get_all(name) == built.get_all(name)
    for headers in (message.headers, built):
        headers.prepend("Via", "SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-9")
        headers.replace_first_value("v", "SIP/2.0/UDP 192.0.2.8;branch=z9hG4bK-8")
        headers.add("Contact", "<sip:a@192.0.2.1>")
    assert list(message.headers) == list(built)
    assert [message.headers.get_all(name) for name in NAMES] == [built.get_all(name) for name in NAMES]
