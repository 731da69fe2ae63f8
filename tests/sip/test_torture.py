"""RFC 4475 torture messages (fixtures/rfc4475, bit-exact from the RFC's appendix A; see its README).

Each message has the outcome the RFC describes, as the parser and the typed views let a server reach it:
processed, answered with a status, or dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tonalite.sip.headers import (
    BRANCH_MAGIC,
    HeaderError,
    Via,
    contacts_of,
    cseq_of,
    from_of,
    route_set,
    to_of,
    top_via,
)
from tonalite.sip.message import Message, Request, Response
from tonalite.sip.parser import ParseError, parse_message
from tonalite.sip.uri import AbsoluteUri, NameAddr, SipUri, UriError, parse_uri

FIXTURES = Path(__file__).parent / "fixtures" / "rfc4475"
# SHA-256 over the sorted file names, each followed by NUL and the file's bytes, as decoded from the archive.
FIXTURES_DIGEST = "cc2d7fb7a8f8d60aec9e86023d3962611b64accb26e9734da4b62f6ae0274af3"
DROP = 0


@dataclass(frozen=True)
class Expected:
    section: str
    status: int | None = None  # None: processed normally; DROP: discarded; else the status to answer
    by: str = ""  # "parser" (ParseError) or the typed view that decides


EXPECTED = {
    "wsinv": Expected("3.1.1.1"),
    "intmeth": Expected("3.1.1.2"),
    "esc01": Expected("3.1.1.3"),
    "escnull": Expected("3.1.1.4"),
    "esc02": Expected("3.1.1.5"),
    "lwsdisp": Expected("3.1.1.6"),
    "longreq": Expected("3.1.1.7"),
    "dblreq": Expected("3.1.1.8"),
    "semiuri": Expected("3.1.1.9"),
    "transports": Expected("3.1.1.10"),
    "mpart01": Expected("3.1.1.11"),
    "unreason": Expected("3.1.1.12"),
    "noreason": Expected("3.1.1.13"),
    "badinv01": Expected("3.1.2.1", 400, "via"),
    "clerr": Expected("3.1.2.2", 400, "parser"),
    "ncl": Expected("3.1.2.3", 400, "parser"),
    "scalar02": Expected("3.1.2.4", 400, "parser"),
    "scalarlg": Expected("3.1.2.5", DROP, "cseq"),
    "quotbal": Expected("3.1.2.6", 400, "to"),
    "ltgtruri": Expected("3.1.2.7", 400, "parser"),
    "lwsruri": Expected("3.1.2.8", 400, "parser"),
    "lwsstart": Expected("3.1.2.9", 400, "parser"),
    "trws": Expected("3.1.2.10", 400, "parser"),
    "escruri": Expected("3.1.2.11", 400, "request-uri"),
    "baddate": Expected("3.1.2.12"),  # the RFC allows accepting it when Date does not matter, as here
    "regbadct": Expected("3.1.2.13", 400, "contact"),
    "badaspec": Expected("3.1.2.14", 400, "to"),
    "baddn": Expected("3.1.2.15", DROP, "parser"),  # the archived copy lacks the empty line: see below
    "badvers": Expected("3.1.2.16", 505, "parser"),
    "mismatch01": Expected("3.1.2.17", 400, "parser"),
    "mismatch02": Expected("3.1.2.18", 400, "parser"),  # 501 is preferred, 400 acceptable
    "bigcode": Expected("3.1.2.19", DROP, "parser"),
    "badbranch": Expected("3.2.1"),  # the transaction layer sees the bare magic cookie: see below
    "insuf": Expected("3.3.1", DROP, "parser"),  # no From, To or Call-ID to answer with
    "unkscm": Expected("3.3.2", 416, "request-uri"),
    "novelsc": Expected("3.3.3", 416, "request-uri"),
    "unksm2": Expected("3.3.4"),
    "bext01": Expected("3.3.5"),
    "invut": Expected("3.3.6"),
    "regaut01": Expected("3.3.7"),
    "multi01": Expected("3.3.8", 400, "parser"),
    "mcl01": Expected("3.3.9", 400, "parser"),
    "bcast": Expected("3.3.10"),
    "zeromf": Expected("3.3.11"),
    "cparam01": Expected("3.3.12"),
    "cparam02": Expected("3.3.13"),
    "regescrt": Expected("3.3.14"),
    "sdp01": Expected("3.3.15"),
    "inv2543": Expected("3.4.1"),
}

VIEWS: dict[str, Callable[[Message], object]] = {
    "request-uri": lambda message: parse_uri(message.uri) if isinstance(message, Request) else None,
    "via": lambda message: [Via.parse(value) for value in message.headers.get_all("Via")],
    "cseq": cseq_of,
    "from": from_of,
    "to": to_of,
    "contact": contacts_of,
    "route": lambda message: route_set(message, "Route"),
    "record-route": lambda message: route_set(message, "Record-Route"),
}


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.dat").read_bytes()


def outcome(data: bytes) -> tuple[int | None, str]:
    """What a server can decide from the parser and the typed views alone, and which of them decided."""
    try:
        message = parse_message(data)
    except ParseError as error:
        return (DROP if error.request is None else error.status), "parser"
    for name, view in VIEWS.items():
        try:
            view(message)
        except (HeaderError, UriError):
            return (400 if isinstance(message, Request) else DROP), name
    if isinstance(message, Request):
        uri = parse_uri(message.uri)
        if isinstance(uri, AbsoluteUri):
            return 416, "request-uri"
        if isinstance(uri, SipUri) and uri.headers:  # RFC 3261 §19.1.1: no headers in a Request-URI
            return 400, "request-uri"
    return None, ""


def parsed(name: str) -> Message:
    return parse_message(fixture(name))


def test_the_fixtures_are_the_rfc_bytes_and_all_have_an_outcome() -> None:
    digest = hashlib.sha256()
    for path in sorted(FIXTURES.glob("*.dat")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    assert digest.hexdigest() == FIXTURES_DIGEST
    assert sorted(path.stem for path in FIXTURES.glob("*.dat")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_outcome_is_what_rfc_4475_describes(name: str) -> None:
    expected = EXPECTED[name]
    assert outcome(fixture(name)) == (expected.status, expected.by), f"RFC 4475 §{expected.section}"


@pytest.mark.parametrize("name", sorted(name for name, expected in EXPECTED.items() if expected.status is None))
def test_accepted_messages_print_back_through_their_views(name: str) -> None:
    message = parsed(name)
    if isinstance(message, Request) and isinstance(uri := parse_uri(message.uri), SipUri):
        assert str(uri) == message.uri
    contacts = contacts_of(message)
    assert contacts != "*"
    for value in [from_of(message), to_of(message), *contacts, *route_set(message, "Route")]:
        assert NameAddr.parse(str(value)) == value


@pytest.mark.parametrize("name", sorted(name for name, expected in EXPECTED.items() if expected.by == "parser"))
def test_refused_requests_carry_what_the_answer_needs(name: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_message(fixture(name))
    if caught.value.request is not None:
        assert caught.value.request.headers.get("Call-ID") is not None
        assert caught.value.request.headers.get("Via") is not None


def test_wsinv_reads_through_folding_lws_and_escapes() -> None:
    message = parsed("wsinv")
    assert isinstance(message, Request)
    uri = parse_uri(message.uri)
    assert isinstance(uri, SipUri) and uri.has_param("unknownparam") and uri.param("unknownparam") is None
    assert to_of(message).tag == "1918181833n"
    sender = from_of(message)
    assert (sender.display_name, sender.tag) == ('J Rosenberg \\"', "98asjd8")
    assert message.headers.get("Max-Forwards") == "0068"
    assert cseq_of(message).number == 9
    assert [via.transport for via in map(Via.parse, message.headers.get_all("Via"))] == ["UDP", "TCP", "UDP"]
    assert top_via(message).branch == "390skdjuw"
    contacts = contacts_of(message)
    assert contacts != "*"
    (contact,) = contacts
    assert contact.display_name == 'Quoted string ""'
    assert contact.params == (("newparam", "newvalue"), ("secondparam", None), ("q", "0.33"))
    (route,) = route_set(message, "Route")
    assert isinstance(route.uri, SipUri) and route.uri.has_param("lr")
    assert route.uri.has_param("unknown-no-value") and route.uri.param("unknownwith") == "value"
    assert message.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    assert len(message.body) == 150


def test_intmeth_wide_range_of_valid_characters() -> None:
    message = parsed("intmeth")
    assert isinstance(message, Request)
    assert message.method == "!interesting-Method0123456789_*+`.%indeed'~"
    uri = parse_uri(message.uri)
    assert isinstance(uri, SipUri)
    assert uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert (uri.host, uri.params, uri.headers) == ("example.com", (), ())
    assert top_via(message).branch == "z9hG4bK-.!%66*_+`'~"
    assert to_of(message).display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    sender = from_of(message)
    assert sender.display_name == "token1~` token2'+_ token3*%!.-"
    assert sender.tag == "_token~1'+`*%!-."
    assert sender.param("fromParam''~+*_!.-%") == '"работающий"'
    assert message.headers.get("Call-ID") == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert message.headers.get("extensionHeader-!.%*+_`'~") == "\ufeff大停電"


def test_esc01_escapes_are_decoded_only_for_meaning() -> None:
    message = parsed("esc01")
    assert isinstance(message, Request)
    uri = parse_uri(message.uri)
    assert isinstance(uri, SipUri) and uri.unescaped_user == "sips:user@example.com"
    recipient = to_of(message).uri
    assert isinstance(recipient, SipUri) and recipient.unescaped_user == "user"
    assert recipient.equivalent(SipUri.parse("sip:user@example.com"))
    sender = from_of(message).uri
    assert isinstance(sender, SipUri) and sender.unescaped_user == "I have spaces"
    contacts = contacts_of(message)
    assert contacts != "*"
    contact = contacts[0].uri
    assert isinstance(contact, SipUri) and contact.unescaped_user == "caller"
    assert contact.has_param("lr")
    assert contact.param("name") == "value%41"  # never unescaped twice (RFC 3986)
    assert not contact.equivalent(contact.without_params("name").with_params(name="valueA"))
    assert str(contact) == "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31"


def test_escnull_registers_two_distinct_contacts() -> None:
    message = parsed("escnull")
    recipient = to_of(message).uri
    assert isinstance(recipient, SipUri) and recipient.unescaped_user == "null-\x00-null"
    contacts = contacts_of(message)
    assert contacts != "*"
    first, second = (contact.uri for contact in contacts)
    assert isinstance(first, SipUri) and isinstance(second, SipUri)
    assert (first.unescaped_user, second.unescaped_user) == ("\x00", "\x00\x00")
    assert not first.equivalent(second)


def test_esc02_percent_that_is_not_an_escape() -> None:
    message = parsed("esc02")
    assert isinstance(message, Request) and message.method == "RE%47IST%45R"
    assert to_of(message).display_name == from_of(message).display_name == "%Z%45"
    assert top_via(message).branch == "z9hG4bK209%fzsnel234"
    contacts = contacts_of(message)
    assert contacts != "*" and [str(contact.uri) for contact in contacts] == [
        "sip:alias1@host1.example.com",
        "sip:alias3@host3.example.com",
    ]
    assert message.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"


def test_lwsdisp_token_display_name_glued_to_the_uri() -> None:
    assert from_of(parsed("lwsdisp")).display_name == "caller"


def test_longreq_long_values() -> None:
    message = parsed("longreq")
    assert len(message.headers.get_all("Via")) == 34
    assert from_of(message).tag == "12" + "982" * 50 + "424"
    recipient = to_of(message).uri
    assert isinstance(recipient, SipUri) and recipient.port == 6000
    assert recipient.param("unknownparam1") == "very" + "long" * 20 + "value"
    assert recipient.has_param("very" + "long" * 25 + "ParameterNameWithNoValue")


def test_dblreq_ignores_the_octets_after_the_body() -> None:
    message = parsed("dblreq")
    assert isinstance(message, Request) and message.method == "REGISTER"
    assert message.body == b""


def test_semiuri_user_part_holds_a_semicolon() -> None:
    message = parsed("semiuri")
    assert isinstance(message, Request)
    uri = parse_uri(message.uri)
    assert isinstance(uri, SipUri)
    assert (uri.unescaped_user, uri.host, uri.params) == ("user;par=u@example.net", "example.com", ())


def test_transports_known_and_unknown() -> None:
    vias = [Via.parse(value) for value in parsed("transports").headers.get_all("Via")]
    assert [via.transport for via in vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]


def test_mpart01_binary_body_is_framed_by_content_length() -> None:
    message = parsed("mpart01")
    assert len(message.body) == 553 and b"\x00" in message.body
    assert message.body.endswith(b"--7a9cbec02ceef655--\r\n")


def test_reason_phrases_unusual_and_empty() -> None:
    unusual, empty = parsed("unreason"), parsed("noreason")
    assert isinstance(unusual, Response) and isinstance(empty, Response)
    assert unusual.reason == "= 2**3 * 5**2 но сто девяносто девять - простое"
    assert (empty.status, empty.reason) == (100, "")


def test_baddn_with_its_empty_line_restored_is_answered_400() -> None:
    message = parse_message(fixture("baddn") + b"\r\n")
    for view in (from_of, to_of):
        with pytest.raises(HeaderError):
            view(message)


def test_badbranch_gives_the_transaction_layer_a_bare_magic_cookie() -> None:
    assert top_via(parsed("badbranch")).branch == BRANCH_MAGIC


def test_unksm2_non_sip_uris_in_headers_parse_opaquely() -> None:
    message = parsed("unksm2")
    assert to_of(message).uri == AbsoluteUri("isbn", "2983792873")
    assert from_of(message).uri == AbsoluteUri("http", "//www.example.com")
    contacts = contacts_of(message)
    assert contacts != "*" and contacts[0].uri == AbsoluteUri("name", "John_Smith")


def test_bcast_second_via_is_the_broadcast_address() -> None:
    vias = parsed("bcast").headers.get_all("Via")
    assert Via.parse(vias[1]).host == "255.255.255.255"


def test_contact_parameter_or_uri_parameter() -> None:
    header_param, uri_param = contacts_of(parsed("cparam01")), contacts_of(parsed("cparam02"))
    assert header_param != "*" and uri_param != "*"
    assert header_param[0].params == (("unknownparam", None),)
    assert isinstance(header_param[0].uri, SipUri) and header_param[0].uri.params == ()
    assert uri_param[0].params == ()
    assert isinstance(uri_param[0].uri, SipUri) and uri_param[0].uri.params == (("unknownparam", None),)


def test_regescrt_keeps_the_escaped_route_header_of_the_contact() -> None:
    contacts = contacts_of(parsed("regescrt"))
    assert contacts != "*"
    uri = contacts[0].uri
    assert isinstance(uri, SipUri) and uri.header("Route") == "<sip:sip.example.com>"
    assert str(uri) == "sip:user@example.com?Route=%3Csip:sip.example.com%3E"


def test_inv2543_rfc_2543_request() -> None:
    message = parsed("inv2543")
    assert top_via(message).branch is None and from_of(message).tag is None
    assert "Max-Forwards" not in message.headers
    assert to_of(message).params == (("user", "phone"),)  # a bare addr-spec: the parameter is the header's
    (record_route,) = route_set(message, "Record-Route")
    assert isinstance(record_route.uri, SipUri) and record_route.uri.param("maddr") == "ss1.example.com"
    assert message.body.startswith(b"v=0\r\n") and len(message.body) == 105
