from __future__ import annotations

import random
from pathlib import Path

import pytest

from tonalite.sip.headers import HeaderError, Via, contacts_of, cseq_of, from_of, route_set, to_of
from tonalite.sip.message import Headers, Request, Response
from tonalite.sip.parser import ParseError, parse_message
from tonalite.sip.uri import AbsoluteUri, NameAddr, SipUri, TelUri, UriError, parse_uri

# text -> (scheme, user, password, host, port, params, headers); each prints back as written.
PARSED = {
    "sip:alice@atlanta.com": ("sip", "alice", None, "atlanta.com", None, (), ()),
    "sips:alice:secret@atlanta.com:5071": ("sips", "alice", "secret", "atlanta.com", 5071, (), ()),
    "sip:alice:@atlanta.com": ("sip", "alice", "", "atlanta.com", None, (), ()),
    "sip:192.0.2.4": ("sip", None, None, "192.0.2.4", None, (), ()),
    "sip:atlanta.com.": ("sip", None, None, "atlanta.com.", None, (), ()),
    "sip:[2001:db8::1]:5070;transport=tcp": ("sip", None, None, "2001:db8::1", 5070, (("transport", "tcp"),), ()),
    "sip:bob@[::ffff:192.0.2.1]": ("sip", "bob", None, "::ffff:192.0.2.1", None, (), ()),
    "sip:proxy.example.com;lr": ("sip", None, None, "proxy.example.com", None, (("lr", None),), ()),
    "sip:+12125551212;phone-context=example.com@gw.example.com;user=phone": (
        "sip",
        "+12125551212;phone-context=example.com",
        None,
        "gw.example.com",
        None,
        (("user", "phone"),),
        (),
    ),
    "sip:h.example.com;maddr=239.255.255.1;ttl=15;method=INVITE": (
        "sip",
        None,
        None,
        "h.example.com",
        None,
        (("maddr", "239.255.255.1"), ("ttl", "15"), ("method", "INVITE")),
        (),
    ),
    "sip:alice@atlanta.com?subject=project%20x&priority=urgent&empty=": (
        "sip",
        "alice",
        None,
        "atlanta.com",
        None,
        (),
        (("subject", "project%20x"), ("priority", "urgent"), ("empty", "")),
    ),
}

# RFC 3261 §19.1.4, and the escapes, IPv6 and parameter rules around it.
EQUIVALENT = [
    ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
    (
        "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
        "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
    ),
    (
        "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
    ),
    ("SIP:alice@atlanta.com", "sip:alice@atlanta.com"),
    ("sip:[2001:DB8:0::1]:5060", "sip:[2001:db8::1]:5060"),
    ("sip:alice@atlanta.com;%6C%72", "sip:alice@atlanta.com;lr"),
    ("sip:a%2cb@atlanta.com", "sip:a%2Cb@atlanta.com"),
]
NOT_EQUIVALENT = [
    ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
    ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
    ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"),
    ("sip:alice@atlanta.com", "sips:alice@atlanta.com"),
    ("sip:alice@atlanta.com", "sip:atlanta.com"),
    ("sip:alice:pw@atlanta.com", "sip:alice@atlanta.com"),
    ("sip:alice@atlanta.com", "sip:alice@atlanta.com;user=ip"),
    ("sip:alice@atlanta.com", "sip:alice@atlanta.com;ttl=1"),
    ("sip:alice@atlanta.com", "sip:alice@atlanta.com;method=INVITE"),
    ("sip:alice@atlanta.com", "sip:alice@atlanta.com;maddr=192.0.2.1"),
    ("sip:a%3Bb@atlanta.com", "sip:a;b@atlanta.com"),  # ";" is reserved: its escape is another character
    ("sip:alice@atlanta.com;name=valueA", "sip:alice@atlanta.com;name=value%2541"),
]

BAD_URIS = [
    "",
    "sip:",
    "sip:alice@",
    "sip:@atlanta.com",
    "sip:alice@atlanta.com:",
    "sip:alice@atlanta.com:0",
    "sip:alice@atlanta.com:65536",
    "sip:alice@atlanta.com:\uff15\uff10\uff16\uff10",  # full-width digits
    "sip:alice@at lanta.com",
    "sip:alice@-atlanta.com",
    "sip:alice@atlanta.123",
    "sip:alice@256.1.1.1",
    "sip:alice@[2001:db8::1",
    "sip:alice@[2001:db8::g]",
    "sip:alice@[fe80::1%eth0]",
    "sip:alice@2001:db8::1",
    "sip:ali%zz@atlanta.com",
    "sip:alice%4@atlanta.com",
    "sip:ali ce@atlanta.com",
    "sip:alice@bob@atlanta.com",
    "sip:alice:p:w@atlanta.com",
    "sip:atlanta.com;;lr",
    "sip:atlanta.com;",
    "sip:atlanta.com;lr=",
    "sip:atlanta.com;lr;LR",
    "sip:atlanta.com;ttl=256",
    "sip:atlanta.com;ttl=abc",
    "sip:atlanta.com;transport",
    "sip:atlanta.com;maddr=not_a_host",
    'sip:atlanta.com;p=a"b',
    "sip:atlanta.com?",
    "sip:atlanta.com?novalue",
    "sip:atlanta.com?a=b&",
    "sip:atlanta.com?a=<b>",
    "tel:",
    "tel:5551234",
    "tel:+",
    "tel:+1-212;=x",
    "tel:+1212;a b",
    "1sip:alice@atlanta.com",
    "http:",
    "http:a b",
    "no-colon",
]


@pytest.mark.parametrize(("text", "fields"), PARSED.items())
def test_sip_uri_parses_and_prints_back(text: str, fields: tuple[object, ...]) -> None:
    uri = SipUri.parse(text)
    assert (uri.scheme, uri.user, uri.password, uri.host, uri.port, uri.params, uri.headers) == fields
    assert str(uri) == text
    assert parse_uri(text) == uri


@pytest.mark.parametrize(("left", "right"), EQUIVALENT)
def test_equivalent(left: str, right: str) -> None:
    assert SipUri.parse(left).equivalent(SipUri.parse(right))
    assert SipUri.parse(right).equivalent(SipUri.parse(left))


@pytest.mark.parametrize(("left", "right"), NOT_EQUIVALENT)
def test_not_equivalent(left: str, right: str) -> None:
    assert not SipUri.parse(left).equivalent(SipUri.parse(right))
    assert not SipUri.parse(right).equivalent(SipUri.parse(left))


def test_a_sip_uri_is_never_equivalent_to_another_kind() -> None:
    assert not SipUri.parse("sip:5551234@example.com").equivalent(TelUri.parse("tel:+15551234"))


@pytest.mark.parametrize("text", BAD_URIS)
def test_malformed_uris_raise_uri_error(text: str) -> None:
    with pytest.raises(UriError):
        parse_uri(text)


def test_escaped_parts_decode_for_meaning_and_print_as_received() -> None:
    uri = SipUri.parse("sip:%61lice%20b@atlanta.com;n%61me=v%61lue%25%34%31?Route=%3Csip:x%3E")
    assert (uri.user, uri.unescaped_user) == ("%61lice%20b", "alice b")
    assert uri.param("NAME") == "value%41"
    assert uri.header("route") == "<sip:x>"
    assert uri.header("Subject") is None
    assert str(uri) == "sip:%61lice%20b@atlanta.com;n%61me=v%61lue%25%34%31?Route=%3Csip:x%3E"


def test_host_port_defaults_by_scheme() -> None:
    assert SipUri.parse("sip:atlanta.com").host_port == ("atlanta.com", 5060)
    assert SipUri.parse("sips:atlanta.com").host_port == ("atlanta.com", 5061)
    assert SipUri.parse("sips:[2001:db8::1]:5071").host_port == ("2001:db8::1", 5071)


def test_with_and_without_params() -> None:
    uri = SipUri.parse("sip:bob@biloxi.com;transport=udp;x=1")
    changed = uri.with_params(transport="tcp", lr=None, note="a b;c")
    assert str(changed) == "sip:bob@biloxi.com;transport=tcp;x=1;lr;note=a%20b%3Bc"
    assert changed.param("note") == "a b;c" and changed.has_param("LR")
    assert str(changed.without_params("X", "note", "absent")) == "sip:bob@biloxi.com;transport=tcp;lr"
    assert str(uri) == "sip:bob@biloxi.com;transport=udp;x=1"
    with pytest.raises(UriError):
        uri.with_params(ttl="300")
    with pytest.raises(UriError):
        uri.with_params(**{"bad name": "1"})


def test_tel_and_other_schemes() -> None:
    tel = parse_uri("tel:+1-201-555-0123;ext=42")
    assert tel == TelUri("+1-201-555-0123", (("ext", "42"),))
    assert str(tel) == "tel:+1-201-555-0123;ext=42"
    local = parse_uri("TEL:7042;phone-context=example.com")
    assert isinstance(local, TelUri) and str(local) == "tel:7042;phone-context=example.com"
    other = parse_uri("urn:service:sos")
    assert other == AbsoluteUri("urn", "service:sos") and str(other) == "urn:service:sos"


# text -> (display name, URI as printed, header params, printed form)
NAME_ADDRS = {
    '"Alice, \\"the\\" caller" <sip:alice@atlanta.com>;tag=1928301774': (
        'Alice, "the" caller',
        "sip:alice@atlanta.com",
        (("tag", "1928301774"),),
        '"Alice, \\"the\\" caller" <sip:alice@atlanta.com>;tag=1928301774',
    ),
    'Bob <sips:bob@biloxi.com> ;Expires = 3600; q=0.5 ;+sip.instance="<urn:uuid:1>"': (
        "Bob",
        "sips:bob@biloxi.com",
        (("expires", "3600"), ("q", "0.5"), ("+sip.instance", '"<urn:uuid:1>"')),
        '"Bob" <sips:bob@biloxi.com>;expires=3600;q=0.5;+sip.instance="<urn:uuid:1>"',
    ),
    "<sip:proxy.example.com;lr>": (None, "sip:proxy.example.com;lr", (), "<sip:proxy.example.com;lr>"),
    "sip:carol@chicago.com;tag=88;received=[2001:db8::9]": (
        None,
        "sip:carol@chicago.com",
        (("tag", "88"), ("received", "[2001:db8::9]")),
        "<sip:carol@chicago.com>;tag=88;received=[2001:db8::9]",
    ),
    '"" <tel:+15551234>': ("", "tel:+15551234", (), '"" <tel:+15551234>'),
    "Two  Words<sip:a@b.example>": ("Two Words", "sip:a@b.example", (), '"Two Words" <sip:a@b.example>'),
}

BAD_NAME_ADDRS = [
    "",
    '"unterminated <sip:a@b.example>',
    '"quoted" sip:a@b.example',
    "Bell, Alexander <sip:a@b.example>",
    'Tokens "then quoted" <sip:a@b.example>',
    "< sip:a@b.example >",
    "<sip:a@b.example",
    "<sip:a@b.example>;;",
    "<sip:a@b.example>;tag=",
    "<sip:a@b.example> junk",
    "<sip:a@b.example>;q=a b",
    "sip:a@b.example?Route=%3Csip:x%3E",
    "sip:a,b@b.example",
    "sip:a@b.example;tag=1;",
    '"bell \x07 raw" <sip:a@b.example>',
    "<>",
]


@pytest.mark.parametrize(("text", "expected"), NAME_ADDRS.items())
def test_name_addr_parses_and_prints(text: str, expected: tuple[object, ...]) -> None:
    value = NameAddr.parse(text)
    assert (value.display_name, str(value.uri), value.params, str(value)) == expected
    assert NameAddr.parse(str(value)) == value


@pytest.mark.parametrize("text", BAD_NAME_ADDRS)
def test_malformed_name_addrs_raise_uri_error(text: str) -> None:
    with pytest.raises(UriError):
        NameAddr.parse(text)


def test_name_addr_tags_and_display_name_printing() -> None:
    value = NameAddr.parse("<sip:bob@biloxi.com>;tag=a;q=1")
    assert value.tag == "a" and value.param("Q") == "1" and value.param("expires") is None
    tagged = value.with_tag("b")
    assert tagged.tag == "b" and str(tagged) == "<sip:bob@biloxi.com>;q=1;tag=b"
    assert NameAddr.parse("<sip:bob@biloxi.com>").with_tag("c").tag == "c"
    with pytest.raises(UriError):
        value.with_tag("not a token")
    injected = NameAddr(SipUri("biloxi.com", "bob"), 'Eve\r\nVia: x "\\\x00')
    assert str(injected) == '"Eve  Via: x \\"\\\\\\\x00" <sip:bob@biloxi.com>'
    assert NameAddr.parse(str(injected)).display_name == 'Eve  Via: x "\\\x00'


def test_route_needs_brackets_only_where_the_grammar_says_so() -> None:
    with pytest.raises(UriError):
        NameAddr.parse("sip:proxy.example.com", addr_spec_allowed=False)
    assert NameAddr.parse("<sip:proxy.example.com>", addr_spec_allowed=False).uri == SipUri("proxy.example.com")


def request(*fields: tuple[str, str], method: str = "REGISTER") -> Request:
    return Request(method, "sip:example.com", Headers(fields))


def test_header_views() -> None:
    message = request(
        ("f", "<sip:a@example.com>;tag=1"),
        ("t", "sip:b@example.com"),
        ("m", '<sip:a@192.0.2.1>;expires=60, "A" <sip:a@[2001:db8::1]>'),
        ("Record-Route", "<sip:p2.example.com;lr>, <sip:p1.example.com;lr>"),
        ("Route", "<sip:p1.example.com;lr>"),
    )
    assert from_of(message).tag == "1" and to_of(message).tag is None
    contacts = contacts_of(message)
    assert contacts != "*" and [str(contact) for contact in contacts] == [
        "<sip:a@192.0.2.1>;expires=60",
        '"A" <sip:a@[2001:db8::1]>',
    ]
    assert [str(hop.uri) for hop in route_set(message, "Record-Route")] == [
        "sip:p2.example.com;lr",
        "sip:p1.example.com;lr",
    ]
    assert len(route_set(message, "Route")) == 1
    assert contacts_of(request()) == [] and route_set(request(), "Route") == []


def test_contact_star_only_alone_in_register() -> None:
    assert contacts_of(request(("Contact", " * "))) == "*"
    for message in (
        request(("Contact", "*"), method="INVITE"),
        request(("Contact", "*, <sip:a@example.com>")),
        Response(200, "OK", Headers([("Contact", "*")])),
    ):
        with pytest.raises(HeaderError):
            contacts_of(message)


@pytest.mark.parametrize(
    "message",
    [
        request(),
        request(("From", "<sip:a@example.com>;tag=1"), ("From", "<sip:b@example.com>;tag=2")),
        request(("From", "Bell, Alexander <sip:a@example.com>")),
    ],
)
def test_from_raises_header_error_when_missing_repeated_or_malformed(message: Request) -> None:
    with pytest.raises(HeaderError):
        from_of(message)


def test_route_and_record_route_must_be_bracketed() -> None:
    with pytest.raises(HeaderError):
        route_set(request(("Route", "sip:p1.example.com;lr")), "Route")


def test_via_refuses_empty_parameters() -> None:
    assert Via.parse("SIP/2.0/UDP h.example.com;branch=z9hG4bK1;rport").params == {"branch": "z9hG4bK1", "rport": None}
    for value in ("SIP/2.0/UDP h.example.com;", "SIP/2.0/UDP h.example.com;;branch=z9hG4bK1"):
        with pytest.raises(HeaderError):
            Via.parse(value)


VIAS = [
    "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport",
    "SIP/2.0/tls h.example.com;branch=z9hG4bKx;RPort=5062;received=192.0.2.1;maddr=::1",
    "SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK1",
    "SIP/2.0/UDP h:65535;branch=z9hG4bK1",
    "SIP/2.0/UDP h:0;branch=z9hG4bK1",
    "SIP/2.0/UDP h:65536",
    'SIP/2.0/UDP h;branch="quoted;value"',
    "SIP / 2.0 / UDP h ; branch = z9hG4bK1",
]


def test_usual_via_path_reads_what_the_general_one_reads() -> None:
    """The one-match path for the usual Via must agree with the general parser on everything it accepts, and
    leave the rest (and every error) to it."""
    rng = random.Random(5)
    values = list(VIAS)
    for _ in range(3000):
        text = list(rng.choice(VIAS))
        for _ in range(rng.randint(1, 3)):
            position = rng.randrange(len(text) + 1)
            text[position : position + rng.randint(0, 2)] = rng.choice(ALPHABET + "vV;=:")
        values.append("".join(text))
    usual = 0
    for value in values:
        try:
            expected: Via | str = Via._parse_any(value)
        except HeaderError as error:
            expected = str(error)
        fast = Via._parse_usual(value)
        if fast is not None:
            usual += 1
            assert fast == expected, value
        try:
            assert Via.parse(value) == expected, value
        except HeaderError as error:
            assert str(error) == expected, value
    assert usual > 200  # the mutations left many in the usual form


def test_parser_refuses_non_ascii_digits_without_crashing() -> None:
    head = b"OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:b@example.com>;tag=1"
    head += b"\r\nTo: <sip:a@example.com>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n"
    for extra in ("Content-Length: ²", "Max-Forwards: ²"):
        with pytest.raises(ParseError):
            parse_message(head + extra.encode() + b"\r\n\r\n")
    with pytest.raises(ParseError):
        parse_message("SIP/2.0 ¹²³ Odd\r\n\r\n".encode())


ALPHABET = "%:;@?&=<>\"\\[], \t.+-_*!~'()/$#0123456789abcdefABCDEF\x00\x7fé"
SEEDS = [
    *PARSED,
    *(text for pair in EQUIVALENT + NOT_EQUIVALENT for text in pair),
    *NAME_ADDRS,
    "tel:7042;phone-context=example.com",
]


def mutate(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        position = rng.randint(0, len(chars))
        action = rng.randrange(3)
        if action == 0:
            chars.insert(position, rng.choice(ALPHABET))
        elif chars and action == 1:
            del chars[min(position, len(chars) - 1)]
        elif chars:
            chars[min(position, len(chars) - 1)] = rng.choice(ALPHABET)
    return "".join(chars)


def test_fuzzed_uris_and_name_addrs_raise_only_uri_error() -> None:
    rng = random.Random(4475)
    for _ in range(5000):
        text = mutate(rng, rng.choice(SEEDS))
        for parse in (parse_uri, NameAddr.parse):
            try:
                value = parse(text)
            except UriError:
                continue
            assert parse(str(value)) == value, text


def test_fuzzed_messages_raise_only_parse_header_or_uri_errors() -> None:
    rng = random.Random(3261)
    fixtures = [path.read_bytes() for path in sorted((Path(__file__).parent / "fixtures" / "rfc4475").glob("*.dat"))]
    for _ in range(3000):
        data = bytearray(rng.choice(fixtures))
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.choice(b'%:;@?&=<>",\r\n \t0123456789\x00\xff')
        try:
            message = parse_message(bytes(data))
            if isinstance(message, Request):
                parse_uri(message.uri)
            for value in message.headers.get_all("Via"):
                Via.parse(value)
            cseq_of(message)
            from_of(message)
            to_of(message)
            contacts_of(message)
            route_set(message, "Route")
            route_set(message, "Record-Route")
        except (ParseError, HeaderError, UriError):
            pass
