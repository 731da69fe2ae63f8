from __future__ import annotations

import ast
import base64
import dataclasses
import gc
import hashlib
import random
from pathlib import Path

import pytest

from tonalite.sip import auth
from tonalite.sip.auth import (
    MAX_HEADER_LENGTH,
    NC_WINDOW,
    AuthHeaderError,
    DigestAlgorithm,
    DigestAuthenticator,
    DigestChallenge,
    DigestCredentials,
    DigestResult,
    UriCheck,
    answer_challenge,
    digest_ha1,
    first_supported_challenge,
)

MD5, SHA256 = DigestAlgorithm.MD5, DigestAlgorithm.SHA256
SECRET = bytes(range(32))
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z: nonces carry wall-clock time
REALM = "tonalite.example"
USER = "0999000101"
PASSWORD = "correct horse"
URI = "sip:tonalite.example"


def new_challenge(
    authenticator: DigestAuthenticator,
    now: float = T0,
    algorithm: DigestAlgorithm = SHA256,
    *,
    qop: bool = True,
    realm: str = REALM,
) -> DigestChallenge:
    values = authenticator.challenge(realm, now, qop="auth" if qop else None)
    return next(c for c in map(DigestChallenge.parse, values) if c.algorithm is algorithm)


def answer(
    challenge: DigestChallenge, nc: int = 1, *, username: str = USER, password: str = PASSWORD, uri: str = URI
) -> DigestCredentials:
    """Answers as a phone would, and sends it through the header text the server parses."""
    credentials = answer_challenge(challenge, "REGISTER", uri, username, password, f"cnonce-{nc}", nc)
    return DigestCredentials.parse(str(credentials))


def verify(
    authenticator: DigestAuthenticator,
    credentials: DigestCredentials,
    now: float = T0,
    *,
    password: str = PASSWORD,
    request_uri: str = URI,
    uri_check: UriCheck = UriCheck.EXACT,
) -> DigestResult:
    def stored_ha1(algorithm: DigestAlgorithm) -> str:
        return digest_ha1(algorithm, credentials.username, REALM, password)

    return authenticator.verify(credentials, "REGISTER", stored_ha1, now, request_uri, uri_check=uri_check)


# RFC 7616 §3.9.1 (username "Mufasa", password "Circle of Life" with a lower-case "of", errata 4495).
RFC7616_CHALLENGE = (
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


@pytest.mark.parametrize(
    ("algorithm", "response"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_section_3_9_1_example(algorithm: str, response: str) -> None:
    challenge = DigestChallenge.parse(RFC7616_CHALLENGE.format(algorithm=algorithm))
    assert challenge.qop == ("auth", "auth-int")
    credentials = answer_challenge(challenge, "GET", "/dir/index.html", "Mufasa", "Circle of Life", RFC7616_CNONCE, 1)
    assert credentials.response == response
    assert (credentials.qop, credentials.nc, credentials.cnonce) == ("auth", "00000001", RFC7616_CNONCE)
    assert credentials.opaque == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"


def test_rfc7616_section_3_9_1_authorization_header_parses() -> None:
    # The MD5 Authorization header of RFC 7616 §3.9.1, unfolded onto one line.
    parsed = DigestCredentials.parse(
        'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, '
        f'cnonce="{RFC7616_CNONCE}", qop=auth, response="8ca523f5e9506fed4657c9700eebdbec", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    )
    challenge = DigestChallenge.parse(RFC7616_CHALLENGE.format(algorithm="MD5"))
    assert parsed == answer_challenge(
        challenge, "GET", "/dir/index.html", "Mufasa", "Circle of Life", RFC7616_CNONCE, 1
    )


def test_rfc2617_section_3_5_example() -> None:
    challenge = DigestChallenge.parse(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    assert challenge.algorithm is MD5  # absent means MD5
    credentials = answer_challenge(challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", "0a4f113b", 1)
    assert credentials.response == "6629fae49393a05397450978507c4ef1"


def test_rfc2069_form_without_qop_hashes_nonce_and_ha2_only() -> None:
    challenge = DigestChallenge(realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093")
    credentials = answer_challenge(challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", "unused", 1)
    ha1 = digest_ha1(MD5, "Mufasa", "testrealm@host.com", "Circle Of Life")
    ha2 = hashlib.md5(b"GET:/dir/index.html").hexdigest()
    expected = hashlib.md5(f"{ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:{ha2}".encode()).hexdigest()
    assert credentials.response == expected
    assert (credentials.qop, credentials.nc, credentials.cnonce) == (None, None, None)
    assert "qop" not in str(credentials) and "nc=" not in str(credentials)


# Challenges


def test_challenge_lists_sha256_then_md5_with_one_nonce() -> None:
    values = DigestAuthenticator(SECRET).challenge(REALM, T0)
    assert len(values) == 2
    assert "algorithm=SHA-256" in values[0] and "algorithm=MD5" in values[1]
    assert all('qop="auth"' in value and "stale" not in value for value in values)
    sha256, md5 = map(DigestChallenge.parse, values)
    assert (sha256.algorithm, md5.algorithm) == (SHA256, MD5)
    assert sha256.nonce == md5.nonce
    assert sha256.realm == REALM and sha256.qop == ("auth",)


def test_each_challenge_has_a_new_nonce_and_stale_is_sent() -> None:
    authenticator = DigestAuthenticator(SECRET)
    first, second = (new_challenge(authenticator) for _ in range(2))
    assert first.nonce != second.nonce
    stale = authenticator.challenge(REALM, T0, stale=True)
    assert all("stale=true" in value for value in stale)
    assert DigestChallenge.parse(stale[0]).stale is True


def test_challenge_without_qop() -> None:
    values = DigestAuthenticator(SECRET).challenge(REALM, T0, qop=None)
    assert all("qop" not in value for value in values)
    assert DigestChallenge.parse(values[0]).qop == ()


def test_challenge_parse_reads_rfc8760_style_header() -> None:
    challenge = DigestChallenge.parse(
        'digest realm="atlanta.com", domain="sip:ss1.carrier.com", qop="auth", '
        'nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=sha-256'
    )
    assert challenge == DigestChallenge("atlanta.com", "f84f1cec41e6cbe5aea9c8e88d359", SHA256, ("auth",), "", False)


def test_first_supported_challenge_skips_what_it_cannot_answer() -> None:
    values = [
        'Digest realm="a", nonce="1", algorithm=SHA-512-256, qop="auth"',
        'Digest realm="a", nonce="2", algorithm=SHA-256, qop="auth-int"',
        'Basic realm="a"',
        'Digest realm="a", nonce="3", algorithm=MD5, qop="auth"',
        'Digest realm="a", nonce="4", algorithm=SHA-256, qop="auth"',
    ]
    chosen = first_supported_challenge(values)
    assert chosen is not None and chosen.nonce == "3"
    assert first_supported_challenge(values[:3]) is None


# Round trips and failures


@pytest.mark.parametrize("algorithm", [MD5, SHA256])
@pytest.mark.parametrize("qop", [True, False])
def test_round_trip(algorithm: DigestAlgorithm, qop: bool) -> None:
    authenticator = DigestAuthenticator(SECRET)
    credentials = answer(new_challenge(authenticator, algorithm=algorithm, qop=qop))
    assert credentials.algorithm is algorithm
    assert (credentials.qop is not None) is qop
    assert verify(authenticator, credentials, T0 + 1) is DigestResult.OK


def test_nonce_from_one_node_verifies_on_another_with_the_same_secret() -> None:
    credentials = answer(new_challenge(DigestAuthenticator(SECRET)))
    assert verify(DigestAuthenticator(SECRET), credentials) is DigestResult.OK
    assert verify(DigestAuthenticator(bytes(32)), credentials) is DigestResult.BAD_NONCE


def test_nonce_is_stale_after_its_lifetime_only_with_a_correct_response() -> None:
    authenticator = DigestAuthenticator(SECRET, lifetime=300)
    challenge = new_challenge(authenticator)
    assert verify(authenticator, answer(challenge, 1), T0 + 300) is DigestResult.OK
    assert verify(authenticator, answer(challenge, 2), T0 + 300.5) is DigestResult.STALE_NONCE
    wrong = answer(challenge, 3, password="guess")
    assert verify(authenticator, wrong, T0 + 300.5) is DigestResult.BAD_RESPONSE


def test_nonce_without_qop_is_reusable_until_it_expires() -> None:
    authenticator = DigestAuthenticator(SECRET, lifetime=60)
    credentials = answer(new_challenge(authenticator, qop=False))
    assert verify(authenticator, credentials, T0 + 1) is DigestResult.OK
    assert verify(authenticator, credentials, T0 + 2) is DigestResult.OK
    assert verify(authenticator, credentials, T0 + 61) is DigestResult.STALE_NONCE
    assert authenticator.remembered_nonces == 0


def _rewrite_nonce(nonce: str, edit: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(nonce))
    raw[edit] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("edit", [0, 7, 10, 35], ids=["time-high", "time-low", "random", "tag"])
def test_tampered_nonce_is_refused(edit: int) -> None:
    """The client hashes the altered nonce correctly: only the nonce's own integrity can catch it."""
    authenticator = DigestAuthenticator(SECRET)
    challenge = new_challenge(authenticator)
    altered = dataclasses.replace(challenge, nonce=_rewrite_nonce(challenge.nonce, edit))
    assert verify(authenticator, answer(altered)) is DigestResult.BAD_NONCE


@pytest.mark.parametrize(
    "nonce",
    [
        "A" * 48,
        "",
        "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "é" * 48,
        "AAAA" * 12 + "=",
        "\ud800" * 48,
    ],
)
def test_forged_nonce_is_refused(nonce: str) -> None:
    authenticator = DigestAuthenticator(SECRET)
    credentials = answer_challenge(
        DigestChallenge(REALM, "placeholder", SHA256, ("auth",)), "REGISTER", URI, USER, PASSWORD, "c", 1
    )
    forged = credentials._replace(nonce=nonce)
    assert verify(authenticator, forged) is DigestResult.BAD_NONCE


def test_nonce_is_bound_to_its_realm() -> None:
    authenticator = DigestAuthenticator(SECRET)
    challenge = new_challenge(authenticator, realm="other.example")
    moved = dataclasses.replace(challenge, realm=REALM)
    assert verify(authenticator, answer(moved)) is DigestResult.BAD_NONCE


def test_wrong_password_and_unknown_user_give_the_same_answer() -> None:
    authenticator = DigestAuthenticator(SECRET)
    challenge = new_challenge(authenticator)
    assert verify(authenticator, answer(challenge, password="guess")) is DigestResult.BAD_RESPONSE
    unknown = answer(challenge, username="nobody")
    result = authenticator.verify(unknown, "REGISTER", authenticator.dummy_ha1, T0, URI)
    assert result is DigestResult.BAD_RESPONSE


def test_dummy_ha1_is_fixed_per_authenticator_and_shaped_like_a_real_one() -> None:
    authenticator = DigestAuthenticator(SECRET)
    for algorithm in DigestAlgorithm:
        dummy = authenticator.dummy_ha1(algorithm)
        assert dummy == authenticator.dummy_ha1(algorithm)
        assert len(dummy) == len(digest_ha1(algorithm, "u", "r", "p"))
        assert dummy != DigestAuthenticator(SECRET).dummy_ha1(algorithm)


def test_method_is_part_of_the_response() -> None:
    authenticator = DigestAuthenticator(SECRET)
    credentials = answer(new_challenge(authenticator))
    result = authenticator.verify(credentials, "INVITE", lambda a: digest_ha1(a, USER, REALM, PASSWORD), T0, URI)
    assert result is DigestResult.BAD_RESPONSE


# The digest uri


def test_uri_must_equal_the_request_uri_by_default() -> None:
    authenticator = DigestAuthenticator(SECRET)
    credentials = answer(new_challenge(authenticator))
    assert verify(authenticator, credentials, request_uri="sip:TONALITE.example") is DigestResult.URI_MISMATCH
    assert verify(authenticator, credentials, request_uri="sip:other.example") is DigestResult.URI_MISMATCH
    assert verify(authenticator, credentials) is DigestResult.OK


@pytest.mark.parametrize(
    ("request_uri", "expected"),
    [
        ("sip:+33999000101@192.0.2.10:5060", DigestResult.OK),
        ("SIP:alice;npdi@192.0.2.10:5060;transport=udp?subject=x", DigestResult.OK),
        ("sip:+33999000101@192.0.2.10", DigestResult.URI_MISMATCH),
        ("sip:+33999000101@192.0.2.10:5070", DigestResult.URI_MISMATCH),
        ("sip:+33999000101@192.0.2.11:5060", DigestResult.URI_MISMATCH),
        ("sips:+33999000101@192.0.2.10:5060", DigestResult.URI_MISMATCH),
        ("tel:+33999000101", DigestResult.URI_MISMATCH),
    ],
)
def test_same_host_relaxation_for_sipp_style_uris(request_uri: str, expected: DigestResult) -> None:
    authenticator = DigestAuthenticator(SECRET)
    sipp_style = answer(new_challenge(authenticator), uri="sip:192.0.2.10:5060")
    assert verify(authenticator, sipp_style, request_uri=request_uri) is DigestResult.URI_MISMATCH
    relaxed = verify(authenticator, sipp_style, request_uri=request_uri, uri_check=UriCheck.SAME_HOST)
    assert relaxed is expected


# Nonce counts


def test_repeated_nonce_count_is_a_replay() -> None:
    authenticator = DigestAuthenticator(SECRET)
    challenge = new_challenge(authenticator)
    assert verify(authenticator, answer(challenge, 1)) is DigestResult.OK
    assert verify(authenticator, answer(challenge, 1)) is DigestResult.REPLAYED
    assert verify(authenticator, answer(challenge, 2)) is DigestResult.OK
    assert verify(authenticator, answer(challenge, 1)) is DigestResult.REPLAYED  # still known after moving on


def test_out_of_order_counts_within_the_window_are_accepted_once() -> None:
    authenticator = DigestAuthenticator(SECRET)
    challenge = new_challenge(authenticator)
    assert verify(authenticator, answer(challenge, 3)) is DigestResult.OK
    assert verify(authenticator, answer(challenge, 2)) is DigestResult.OK
    assert verify(authenticator, answer(challenge, 2)) is DigestResult.REPLAYED
    assert verify(authenticator, answer(challenge, 3 + NC_WINDOW)) is DigestResult.OK
    assert verify(authenticator, answer(challenge, 3)) is DigestResult.REPLAYED  # NC_WINDOW behind: too old
    assert verify(authenticator, answer(challenge, 4)) is DigestResult.OK  # NC_WINDOW - 1 behind
    assert verify(authenticator, answer(challenge, 4)) is DigestResult.REPLAYED
    assert verify(authenticator, answer(challenge, 2**32 - 1)) is DigestResult.OK
    assert verify(authenticator, answer(challenge, 5)) is DigestResult.REPLAYED


def test_a_forged_request_does_not_use_up_a_count() -> None:
    authenticator = DigestAuthenticator(SECRET)
    challenge = new_challenge(authenticator)
    assert verify(authenticator, answer(challenge, 5, password="guess")) is DigestResult.BAD_RESPONSE
    assert verify(authenticator, answer(challenge, 5)) is DigestResult.OK


def test_counts_are_kept_per_username() -> None:
    authenticator = DigestAuthenticator(SECRET)
    challenge = new_challenge(authenticator)
    assert verify(authenticator, answer(challenge, 1)) is DigestResult.OK
    assert verify(authenticator, answer(challenge, 1, username="0999000102")) is DigestResult.OK
    assert verify(authenticator, answer(challenge, 1, username="0999000102")) is DigestResult.REPLAYED


def test_memory_is_bounded_and_an_evicted_nonce_cannot_be_replayed() -> None:
    authenticator = DigestAuthenticator(SECRET, max_nonces=50)
    challenges = [new_challenge(authenticator, T0 + i / 100) for i in range(200)]
    for challenge in challenges:
        assert verify(authenticator, answer(challenge, 1), T0 + 5) is DigestResult.OK
    assert authenticator.remembered_nonces == 50
    # The first nonce's counts are gone: its nc=1 must not be accepted again, so it is sent for a new nonce.
    assert verify(authenticator, answer(challenges[0], 1), T0 + 5) is DigestResult.STALE_NONCE
    assert verify(authenticator, answer(challenges[0], 2), T0 + 5) is DigestResult.STALE_NONCE
    assert verify(authenticator, answer(challenges[-1], 1), T0 + 5) is DigestResult.REPLAYED
    assert verify(authenticator, answer(challenges[-1], 2), T0 + 5) is DigestResult.OK
    assert authenticator.remembered_nonces == 50


def test_remembered_counts_drop_out_of_the_collectors_walks() -> None:
    """Up to max_nonces counts are alive: once a collection has seen them, no full collection walks them."""
    authenticator = DigestAuthenticator(SECRET)
    for _ in range(20):
        assert verify(authenticator, answer(new_challenge(authenticator))) is DigestResult.OK
    gc.collect()
    counts = list(authenticator._counts.items())
    assert len(counts) == 20 and not any(gc.is_tracked(item) for pair in counts for item in pair)


def test_recently_used_nonces_are_evicted_last() -> None:
    authenticator = DigestAuthenticator(SECRET, max_nonces=3)
    a, b, c, d = (new_challenge(authenticator, T0 + i) for i in range(4))
    for challenge in (a, b, c):
        assert verify(authenticator, answer(challenge, 1), T0 + 5) is DigestResult.OK
    assert verify(authenticator, answer(a, 2), T0 + 5) is DigestResult.OK
    assert verify(authenticator, answer(d, 1), T0 + 5) is DigestResult.OK  # evicts b, the least recently used
    assert verify(authenticator, answer(a, 2), T0 + 5) is DigestResult.REPLAYED
    assert verify(authenticator, answer(a, 3), T0 + 5) is DigestResult.OK
    assert verify(authenticator, answer(c, 2), T0 + 5) is DigestResult.OK
    assert verify(authenticator, answer(b, 2), T0 + 5) is DigestResult.STALE_NONCE


def test_expired_counts_are_purged_as_time_passes() -> None:
    authenticator = DigestAuthenticator(SECRET, lifetime=300)
    for i in range(10):
        assert verify(authenticator, answer(new_challenge(authenticator, T0 + i)), T0 + 10) is DigestResult.OK
    assert authenticator.remembered_nonces == 10
    later = new_challenge(authenticator, T0 + 400)
    assert verify(authenticator, answer(later), T0 + 400) is DigestResult.OK
    assert authenticator.remembered_nonces == 1


# Hostile input


VALID_HEADER = (
    'Digest username="0999000101", realm="tonalite.example", nonce="n", uri="sip:tonalite.example", '
    'response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="c"'
)


def test_parser_reads_escapes_case_insensitive_names_and_ignores_unknown_parameters() -> None:
    parsed = DigestCredentials.parse(
        'DIGEST USERNAME="Mu\\"fa\\\\sa" ,Realm=r,nonce="n",uri="sip:x",response="ab",'
        'Qop="auth",nc=00000001,cnonce="c",userhash=false,x-vendor="a, b=c"\t'
    )
    assert (parsed.username, parsed.realm, parsed.qop, parsed.algorithm) == ('Mu"fa\\sa', "r", "auth", MD5)


def test_valid_header_parses_and_hex_case_does_not_matter() -> None:
    assert DigestCredentials.parse(VALID_HEADER).nc == "00000001"
    authenticator = DigestAuthenticator(SECRET)
    credentials = answer(new_challenge(authenticator))
    upper = credentials._replace(response=credentials.response.upper())
    assert verify(authenticator, upper) is DigestResult.OK


def test_printing_escapes_and_parses_back() -> None:
    credentials = DigestCredentials('Mu"fa\\sa é', 'r,e=a"lm', "n", "sip:x;a=b", "ab", SHA256, "auth", "00000001", "c")
    assert DigestCredentials.parse(str(credentials)) == credentials
    challenge = DigestChallenge('r"e', "n", SHA256, ("auth",), 'o"p', True)
    assert DigestChallenge.parse(str(challenge)) == challenge


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Digest",
        "Digest ",
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        VALID_HEADER + "".join(f', p{i}="{"x" * 20}"' for i in range(200)),
        VALID_HEADER.replace('username="', 'username="' + "a" * MAX_HEADER_LENGTH),
        'Digest username="0999000101, realm="tonalite.example", nonce="n", uri="sip:x", response="ab"',
        'Digest username="a\\", realm="r", nonce="n", uri="sip:x", response="ab"',
        'Digest username="a", realm="r", nonce="n", uri="sip:x", response="ab',
        'Digest username="a", username="b", realm="r", nonce="n", uri="sip:x", response="ab"',
        'Digest username="a", USERNAME="a", realm="r", nonce="n", uri="sip:x", response="ab"',
        'Digest realm="r", nonce="n", uri="sip:x", response="ab"',
        'Digest username="a", realm="r", uri="sip:x", response="ab"',
        'Digest username="a", realm="r", nonce="n", uri="sip:x"',
        'Digest username="a", realm="r", nonce="n", uri="sip:x", response="ab", algorithm=SHA-512-256',
        'Digest username="a", realm="r", nonce="n", uri="sip:x", response="ab", algorithm=MD5-sess',
        'Digest username="a", realm="r", nonce="n", uri="sip:x", response="ab", algorithm=',
        'Digest username="a" realm="r", nonce="n", uri="sip:x", response="ab"',
        'Digest username="a",, realm="r", nonce="n", uri="sip:x", response="ab"',
        'Digest username="a", realm="r", nonce="n", uri="sip:x", response="ab",',
        'Digest username, realm="r", nonce="n", uri="sip:x", response="ab"',
        'Digest username="a", realm="r", nonce="n", uri=sip:x, response="ab"',
        'Digest username="a\r\nVia: SIP/2.0/UDP evil", realm="r", nonce="n", uri="sip:x", response="ab"',
        'Digest username="a\x00", realm="r", nonce="n", uri="sip:x", response="ab"',
        'Digest username="\ud800", realm="r", nonce="n", uri="sip:x", response="ab"',
    ],
)
def test_malformed_credentials_raise_auth_header_error(value: str) -> None:
    with pytest.raises(AuthHeaderError):
        DigestCredentials.parse(value)


@pytest.mark.parametrize(
    "value",
    [
        'Digest realm="r"',
        'Digest nonce="n"',
        'Digest realm="r", nonce="n", qop="auth-int"',
        'Digest realm="r", nonce="n", qop="auth,"',
        'Digest realm="r", nonce="n", stale=maybe',
        'Digest realm="r", nonce="n", algorithm=SHA-256-sess',
    ],
)
def test_malformed_or_unanswerable_challenges_raise(value: str) -> None:
    with pytest.raises(AuthHeaderError):
        DigestChallenge.parse(value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"nc": "0000000g"}, DigestResult.MALFORMED),
        ({"nc": "1"}, DigestResult.MALFORMED),
        ({"nc": "000000001"}, DigestResult.MALFORMED),
        ({"nc": "00000000"}, DigestResult.MALFORMED),
        ({"nc": None}, DigestResult.MALFORMED),
        ({"cnonce": None}, DigestResult.MALFORMED),
        ({"qop": "auth-int"}, DigestResult.MALFORMED),
        ({"qop": None}, DigestResult.MALFORMED),  # nc and cnonce without qop
        ({"qop": None, "nc": None}, DigestResult.MALFORMED),
        ({"response": "x" * 64}, DigestResult.MALFORMED),
        ({"response": "0" * 32}, DigestResult.MALFORMED),  # MD5-sized for SHA-256
        ({"response": "é" * 64}, DigestResult.MALFORMED),
        ({"response": "0" * 64}, DigestResult.BAD_RESPONSE),
        ({"algorithm": MD5}, DigestResult.MALFORMED),
        ({"uri": "\ud800"}, DigestResult.URI_MISMATCH),
        ({"cnonce": "\ud800"}, DigestResult.BAD_RESPONSE),
    ],
)
def test_bad_values_give_a_result_not_an_exception(change: dict[str, object], expected: DigestResult) -> None:
    authenticator = DigestAuthenticator(SECRET)
    credentials = answer(new_challenge(authenticator))._replace(**change)  # type: ignore[arg-type]
    assert verify(authenticator, credentials) is expected


def test_mutated_headers_never_raise_anything_but_auth_header_error() -> None:
    authenticator = DigestAuthenticator(SECRET)
    valid = str(answer(new_challenge(authenticator)))
    alphabet = ['"', "\\", ",", "=", " ", "\t", "a", "0", ":", "\x00", "\r\n", "é", "\ud800", "Digest "]
    rng = random.Random(7616)
    parsed = 0
    for _ in range(3000):
        text = list(valid)
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(text) + 1)
            operation = rng.choice(("insert", "delete", "replace"))
            if operation == "insert":
                text.insert(position, rng.choice(alphabet))
            elif text and position < len(text):
                if operation == "delete":
                    del text[position]
                else:
                    text[position] = rng.choice(alphabet)
        try:
            credentials = DigestCredentials.parse("".join(text))
        except AuthHeaderError:
            continue
        parsed += 1
        assert isinstance(verify(authenticator, credentials), DigestResult)
    assert parsed > 100  # the mutations did reach verify


def test_printing_refuses_values_that_would_inject_a_header() -> None:
    credentials = DigestCredentials("a\r\nVia: x", REALM, "n", URI, "ab")
    with pytest.raises(AuthHeaderError):
        str(credentials)
    with pytest.raises(AuthHeaderError):
        str(credentials._replace(username="a", nc="1\r\nVia: x"))
    with pytest.raises(AuthHeaderError):
        DigestAuthenticator(SECRET).challenge("r\n", T0)


def test_secrets_stay_out_of_reprs() -> None:
    authenticator = DigestAuthenticator(SECRET)
    credentials = answer(new_challenge(authenticator))
    assert credentials.response not in repr(credentials) and "response" not in repr(credentials)
    text = repr(authenticator)
    assert SECRET.hex() not in text and repr(SECRET) not in text
    assert all(authenticator.dummy_ha1(a) not in text for a in DigestAlgorithm)


def test_constructor_and_client_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        DigestAuthenticator(b"short")
    with pytest.raises(ValueError):
        DigestAuthenticator(SECRET, lifetime=0)
    with pytest.raises(ValueError):
        DigestAuthenticator(SECRET, max_nonces=0)
    challenge = DigestChallenge(REALM, "n", SHA256, ("auth",))
    for nc in (0, 2**32):
        with pytest.raises(ValueError):
            answer_challenge(challenge, "REGISTER", URI, USER, PASSWORD, "c", nc)
    assert answer_challenge(challenge, "REGISTER", URI, USER, PASSWORD, "c", 255).nc == "000000ff"


def test_auth_module_is_sans_io() -> None:
    tree = ast.parse(Path(auth.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    roots = {name.split(".")[0] for name in imported} | imported
    assert not roots & {"asyncio", "socket", "time", "sqlalchemy", "tonalite.store", "tonalite.net"}


def test_the_offer_follows_the_configured_order_and_refuses_what_it_does_not_offer() -> None:
    md5_first = DigestAuthenticator(SECRET, algorithms=(MD5, SHA256))
    offered = [DigestChallenge.parse(value).algorithm for value in md5_first.challenge(REALM, T0)]
    assert offered == [MD5, SHA256]

    sha256_only = DigestAuthenticator(SECRET, algorithms=(SHA256,))
    (value,) = sha256_only.challenge(REALM, T0)
    downgraded = dataclasses.replace(DigestChallenge.parse(value), algorithm=MD5)
    assert verify(sha256_only, answer(downgraded)) is DigestResult.BAD_RESPONSE
    assert verify(sha256_only, answer(new_challenge(sha256_only))) is DigestResult.OK
