"""What the digest code puts on the wire and accepts from it, pinned byte for byte: the challenge text, the nonce
format (nodes of different versions behind one edge proxy verify each other's nonces), and the values the
parser must refuse wherever a forbidden character hides."""

from __future__ import annotations

import base64
import hmac

import pytest

from tonalite.sip.auth import (
    AuthHeaderError,
    DigestAlgorithm,
    DigestAuthenticator,
    DigestChallenge,
    DigestCredentials,
    DigestResult,
    answer_challenge,
    digest_ha1,
)

MD5, SHA256 = DigestAlgorithm.MD5, DigestAlgorithm.SHA256
SECRET = bytes(range(32))
T0 = 1_767_225_600.0
REALM = "tonalite.example"
URI = "sip:tonalite.example"
NONCE_LABEL = b"tonalite digest nonce v1\x00"


def nonce_of(value: str) -> str:
    return DigestChallenge.parse(value).nonce


@pytest.mark.parametrize("stale", [False, True])
@pytest.mark.parametrize("qop", ["auth", None])
def test_challenge_text_is_pinned(stale: bool, qop: str | None) -> None:
    values = DigestAuthenticator(SECRET).challenge(REALM, T0, stale=stale, qop="auth" if qop else None)
    nonce = nonce_of(values[0])
    tail = (', qop="auth"' if qop else "") + (", stale=true" if stale else "")
    assert values == [
        f'Digest realm="tonalite.example", nonce="{nonce}", algorithm=SHA-256{tail}',
        f'Digest realm="tonalite.example", nonce="{nonce}", algorithm=MD5{tail}',
    ]


@pytest.mark.parametrize("realm", [REALM, 'a "quoted" realm', "back\\slash", "é", ""])
@pytest.mark.parametrize("algorithms", [(SHA256, MD5), (MD5, SHA256), (MD5,)])
def test_challenge_prints_as_digest_challenge_does(realm: str, algorithms: tuple[DigestAlgorithm, ...]) -> None:
    authenticator = DigestAuthenticator(SECRET, algorithms=algorithms)
    for stale in (False, True):
        for qop in ("auth", None):
            values = authenticator.challenge(realm, T0, stale=stale, qop="auth" if qop else None)
            nonce = nonce_of(values[0])
            qops = (qop,) if qop else ()
            assert values == [str(DigestChallenge(realm, nonce, a, qops, stale=stale)) for a in algorithms]
            assert [DigestChallenge.parse(value).realm for value in values] == [realm] * len(algorithms)


@pytest.mark.parametrize("secret_length", [16, 32, 64, 65, 200])
def test_nonce_is_time_issuer_serial_and_truncated_hmac_sha256(secret_length: int) -> None:
    """base64url(ms | issuer | serial | HMAC-SHA256(secret, label | ms | issuer | serial | realm)[:16]),
    whatever the secret's length (one longer than SHA-256's block is hashed first, as RFC 2104 says)."""
    secret = bytes(i % 256 for i in range(secret_length))
    nonce = nonce_of(DigestAuthenticator(secret).challenge(REALM, T0 + 0.1234)[0])
    raw = base64.urlsafe_b64decode(nonce)
    head, tag = raw[:20], raw[20:]
    assert int.from_bytes(head[:8], "big") == int((T0 + 0.1234) * 1000)
    assert tag == hmac.digest(secret, NONCE_LABEL + head + REALM.encode(), "sha256")[:16]


def test_nonces_are_unique_per_authenticator_and_across_nodes() -> None:
    """The same millisecond, the same secret: the serial tells one authenticator's nonces apart, the issuer
    (random per authenticator) two nodes'."""
    secret = bytes(range(32))
    nodes = [DigestAuthenticator(secret) for _ in range(2)]
    heads = [
        base64.urlsafe_b64decode(nonce_of(node.challenge(REALM, T0)[0]))[:20] for node in nodes for _ in range(500)
    ]
    assert len(set(heads)) == 1000
    first, second = heads[0], heads[1]
    assert int.from_bytes(second[12:20], "big") == int.from_bytes(first[12:20], "big") + 1
    assert heads[0][8:12] != heads[500][8:12]


@pytest.mark.parametrize("secret_length", [16, 64, 65])
def test_a_nonce_made_with_the_hmac_module_verifies(secret_length: int) -> None:
    """A nonce as another node makes it (here with the standard library's HMAC) is accepted, and only for its
    realm."""
    secret = bytes(range(1, secret_length + 1))
    head = int(T0 * 1000).to_bytes(8, "big") + bytes(12)
    tag = hmac.digest(secret, NONCE_LABEL + head + REALM.encode(), "sha256")[:16]
    nonce = base64.urlsafe_b64encode(head + tag).decode()
    challenge = DigestChallenge(REALM, nonce, SHA256, ("auth",))
    credentials = answer_challenge(challenge, "REGISTER", URI, "u", "pw", "c", 1)
    authenticator = DigestAuthenticator(secret)
    result = authenticator.verify(credentials, "REGISTER", lambda a: digest_ha1(a, "u", REALM, "pw"), T0, URI)
    assert result is DigestResult.OK
    other = DigestChallenge("other.example", nonce, SHA256, ("auth",))
    moved = answer_challenge(other, "REGISTER", URI, "u", "pw", "c", 1)
    result = authenticator.verify(moved, "REGISTER", lambda a: digest_ha1(a, "u", "other.example", "pw"), T0, URI)
    assert result is DigestResult.BAD_NONCE


FIELDS = 'realm="r", nonce="n", uri="sip:x", response="ab"'


@pytest.mark.parametrize(
    "value",
    [
        f'Digest username="a\\\r\nVia: x", {FIELDS}',  # escaped CR LF
        f'Digest username="a\\\x00", {FIELDS}',  # escaped NUL
        f'Digest username="a\\\ud800", {FIELDS}',  # escaped lone surrogate
        f'Digest username="a\\\x7f", {FIELDS}',  # escaped DEL
        f'Digest username="a\x7fb", {FIELDS}',
        f'Digest username="\udfff", {FIELDS}',
        f'Digest username="a",\x0b{FIELDS}',  # between parameters
        f'Digest username="a", {FIELDS}\x00',  # after the last one
        f'Digest username="a", {FIELDS}, nc=0000\x0b0001',  # in a token value
        f'Digest\x0busername="a", {FIELDS}',  # after the scheme
        f'Digest username="a", {FIELDS}, qop=auth"',  # a token with a quote after it
        f'Digest username="a", {FIELDS}, qop="auth"x',
        f'Digest username="a\\\\"x", {FIELDS}',  # an escaped backslash closes nothing: the quote after it does
        f'Digest username="a", {FIELDS} ,',
        f'Digest ,username="a", {FIELDS}',
        f'Digest username=="a", {FIELDS}',
        f'Digest username="a"; {FIELDS}',
    ],
)
def test_parser_refuses_forbidden_characters_and_broken_lists_everywhere(value: str) -> None:
    with pytest.raises(AuthHeaderError):
        DigestCredentials.parse(value)


@pytest.mark.parametrize(
    ("value", "username"),
    [
        (f'Digest username="a\tb é", {FIELDS}', "a\tb é"),  # tab and non-ASCII text are allowed
        (f'Digest username="a\\\\", {FIELDS}', "a\\"),
        (f'Digest username="\\a\\"\\,", {FIELDS}', 'a",'),
        (f'Digest username="", {FIELDS}', ""),
        (f'Digest \t username \t = \t "a" \t , \t {FIELDS} \t ', "a"),
        (f"Digest username=a, {FIELDS}", "a"),
    ],
)
def test_parser_reads_quoted_pairs_and_whitespace(value: str, username: str) -> None:
    assert DigestCredentials.parse(value).username == username
