"""What the call core writes to carrier trunks and reads from them: pure functions over SIP messages."""

from __future__ import annotations

import pytest

from tonalite.calls.carrier import ANONYMOUS, presented_caller, trunk_uri, with_credentials
from tonalite.services.trunks import CarrierTrunk
from tonalite.sip.auth import DigestAlgorithm, DigestAuthenticator, DigestCredentials, DigestResult, digest_ha1
from tonalite.sip.message import Headers, Request, Response
from tonalite.sip.transport import Transport

REALM = "carrier.test"


def _trunk(host: str = "192.0.2.1", transport: Transport = Transport.UDP) -> CarrierTrunk:
    return CarrierTrunk("carrier", host, 5060, transport, "tonalite", "secret", (), ())


def _invite(*extra: tuple[str, str]) -> Request:
    headers = Headers(
        [
            ("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfirst"),
            ("From", '"Accueil" <sip:+33199001001@sip.tonalite.test>;tag=ours'),
            ("To", "<sip:+33612345678@192.0.2.1:5060>"),
            ("Call-ID", "call-1"),
            ("CSeq", "1 INVITE"),
            ("Content-Type", "application/sdp"),
            *extra,
        ]
    )
    return Request("INVITE", "sip:+33612345678@192.0.2.1:5060", headers, b"v=0\r\n")


def _challenged(status: int, header: str, *values: str) -> Response:
    return Response(status, "Challenged", Headers([(header, value) for value in values]))


@pytest.mark.parametrize(
    ("host", "transport", "uri"),
    [
        ("192.0.2.1", Transport.UDP, "sip:+33612345678@192.0.2.1:5060"),
        ("2001:db8::1", Transport.TCP, "sip:+33612345678@[2001:db8::1]:5060;transport=tcp"),
        ("sip.carrier.example", Transport.TLS, "sip:+33612345678@sip.carrier.example:5060;transport=tls"),
    ],
)
def test_the_request_uri_of_a_call_out(host: str, transport: Transport, uri: str) -> None:
    assert trunk_uri("+33612345678", _trunk(host, transport)) == uri


@pytest.mark.parametrize(
    ("status", "challenge_header", "credentials_header"),
    [(407, "Proxy-Authenticate", "Proxy-Authorization"), (401, "WWW-Authenticate", "Authorization")],
)
def test_the_invite_again_answers_the_challenge(status: int, challenge_header: str, credentials_header: str) -> None:
    server = DigestAuthenticator(b"0123456789abcdef", algorithms=(DigestAlgorithm.MD5,))
    sent = _invite()
    retry = with_credentials(
        sent, _challenged(status, challenge_header, *server.challenge(REALM, 0.0)), "tonalite", "secret"
    )
    assert retry is not None
    assert (retry.method, retry.uri, retry.body) == ("INVITE", sent.uri, sent.body)
    assert retry.headers.get("Via") is None  # the endpoint adds the new transaction's
    assert (retry.headers.get("Call-ID"), retry.headers.get("From")) == (
        sent.headers.get("Call-ID"),
        sent.headers.get("From"),
    )
    assert retry.headers.get("CSeq") == "2 INVITE"
    assert sent.headers.get("CSeq") == "1 INVITE"  # the INVITE sent is left as it was
    value = retry.headers.get(credentials_header)
    assert value is not None
    ha1 = digest_ha1(DigestAlgorithm.MD5, "tonalite", REALM, "secret")
    verdict = server.verify(DigestCredentials.parse(value), "INVITE", lambda _: ha1, 1.0, retry.uri)
    assert verdict == DigestResult.OK


def test_a_challenge_that_cannot_be_answered_gives_nothing() -> None:
    assert with_credentials(_invite(), _challenged(407, "Proxy-Authenticate"), "tonalite", "secret") is None
    unsupported = 'Digest realm="carrier.test", nonce="n", algorithm=SHA-512-256'
    assert with_credentials(_invite(), _challenged(407, "Proxy-Authenticate", unsupported), "u", "p") is None


def test_credentials_already_in_the_invite_are_replaced() -> None:
    server = DigestAuthenticator(b"0123456789abcdef")
    sent = _invite(("Proxy-Authorization", 'Digest username="old"'))
    retry = with_credentials(sent, _challenged(407, "Proxy-Authenticate", *server.challenge(REALM, 0.0)), "u", "p")
    assert retry is not None
    (value,) = retry.headers.get_all("Proxy-Authorization")
    assert 'username="u"' in value


@pytest.mark.parametrize(
    ("headers", "presented"),
    [
        ([("P-Asserted-Identity", '"Carrier Name" <sip:+33612345678@carrier.test>')], ("+33612345678", "Carrier Name")),
        (
            [("P-Asserted-Identity", "<tel:+33612345678>, <sip:+33699999999@carrier.test>")],
            ("+33612345678", "From Name"),
        ),
        ([("P-Asserted-Identity", "<not a uri")], ("0612345678", "From Name")),
        ([], ("0612345678", "From Name")),
    ],
)
def test_the_caller_a_trunk_presents(headers: list[tuple[str, str]], presented: tuple[str, str]) -> None:
    request = Request(
        "INVITE",
        "sip:+33199001001@127.0.0.1",
        Headers([("From", '"From Name" <sip:0612345678@carrier.test>;tag=x'), *headers]),
    )
    assert presented_caller(request) == presented


@pytest.mark.parametrize("user", ["anonymous", "%3Cscript%3E", "1" * 33])
def test_a_caller_that_is_no_presentable_number_is_anonymous_or_kept_as_a_word(user: str) -> None:
    request = Request("INVITE", "sip:+33199001001@127.0.0.1", Headers([("From", f"<sip:{user}@carrier.test>;tag=x")]))
    number, _ = presented_caller(request)
    assert number == (user if user == "anonymous" else ANONYMOUS)
