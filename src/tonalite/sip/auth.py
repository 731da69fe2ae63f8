"""Digest authentication (RFC 3261 §22, RFC 7616, RFC 8760): stored hashes, headers, server and client sides.

What a line stores is `digest_ha1` for each algorithm, never the password. `DigestChallenge` is the value of a
WWW-Authenticate or Proxy-Authenticate header, `DigestCredentials` that of an Authorization or
Proxy-Authorization header: the syntax is the same, the caller picks the header (401 or 407). A
`DigestAuthenticator` issues challenges and judges credentials for the registrar and the proxy;
`answer_challenge` is the client side, for outbound trunks and for tests.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import itertools
import math
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, NamedTuple

from tonalite.redaction import repr_without


class DigestAlgorithm(StrEnum):
    MD5 = "MD5"
    SHA256 = "SHA-256"


_HASHES = {DigestAlgorithm.MD5: hashlib.md5, DigestAlgorithm.SHA256: hashlib.sha256}
_RESPONSE_LENGTHS = {algorithm: 2 * new().digest_size for algorithm, new in _HASHES.items()}
_ALGORITHM_PARAMS = {algorithm: f", algorithm={algorithm.value}" for algorithm in DigestAlgorithm}


def digest_ha1(algorithm: DigestAlgorithm, username: str, realm: str, password: str) -> str:
    """H(username:realm:password): all the server needs to verify a response, so the password is never kept."""
    return _HASHES[algorithm](f"{username}:{realm}:{password}".encode()).hexdigest()


MAX_HEADER_LENGTH = 4096
"""Longest authentication header value parsed; a real one is a few hundred characters."""

NC_WINDOW = 64
"""How far behind the highest nonce count seen a count may still be accepted (once)."""

_TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]+"  # RFC 3261 §25.1 token
_TOKEN_RE = re.compile(_TOKEN)
_SCHEME = re.compile(rf"({_TOKEN})[ \t]+")
# Control characters (a CR or LF would let a value inject a header) and lone surrogates (not text).
_FORBIDDEN_CHARS = r"\x00-\x08\x0a-\x1f\x7f\ud800-\udfff"
_FORBIDDEN = re.compile(rf"[{_FORBIDDEN_CHARS}]")
_PARAM = re.compile(rf'({_TOKEN})[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))')
_QDTEXT = rf'[^"\\{_FORBIDDEN_CHARS}]'
# One auth-param and what ends it (a comma, or the end of the value, group 4 then None), in a single match.
# A quoted string admits no forbidden character, so an accepted value holds none: no separate scan is needed.
_PARAM_ITEM = re.compile(
    rf'({_TOKEN})[ \t]*=[ \t]*(?:"({_QDTEXT}*(?:\\[^{_FORBIDDEN_CHARS}]{_QDTEXT}*)*)"|({_TOKEN}))'
    r"(?:[ \t]*(,)[ \t]*|\Z)"
)
_QUOTED_PAIR = re.compile(r"\\(.)")
_NC = re.compile(r"[0-9A-Fa-f]{8}")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_SIP_HOST_PART = re.compile(r"(sips?):(?:[^@]*@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)(?::(\d{1,5}))?(?:[;?].*)?", re.I)
_ALGORITHMS = {algorithm.value.upper(): algorithm for algorithm in DigestAlgorithm}


class AuthHeaderError(ValueError):
    """An authentication header this module cannot read, or a value it refuses to print."""


def _h(algorithm: DigestAlgorithm, text: str) -> str:
    # surrogatepass: verify must not raise, whatever a caller-built DigestCredentials holds.
    return _HASHES[algorithm](text.encode("utf-8", "surrogatepass")).hexdigest()


@functools.lru_cache(maxsize=256)
def _ha2(algorithm: DigestAlgorithm, method: str, uri: str) -> str:
    """H(method:uri), remembered: every phone of a realm registers with the same method and Request-URI."""
    return _h(algorithm, f"{method}:{uri}")


def _request_digest(
    algorithm: DigestAlgorithm,
    ha1: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None,
    nc: str | None,
    cnonce: str | None,
) -> str:
    """RFC 7616 §3.4.1 response: KD(HA1, nonce:nc:cnonce:qop:HA2), or KD(HA1, nonce:HA2) without qop (RFC 2069)."""
    ha2 = _ha2(algorithm, method, uri)
    if qop is None:
        return _h(algorithm, f"{ha1}:{nonce}:{ha2}")
    return _h(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def _parse_digest(value: str) -> dict[str, str]:
    """`Digest a="x\\"y", B=z` -> {"a": 'x"y', "b": "z"}: names lower-cased, quoted strings unescaped.

    Comma-separated auth-params only (no token68, no empty list elements); a repeated name is an error, since
    two values for one parameter leave it ambiguous which one was hashed.
    """
    if len(value) > MAX_HEADER_LENGTH:
        raise AuthHeaderError("authentication header too long")
    text = value.strip(" \t")
    scheme = _SCHEME.match(text)
    if scheme is None or scheme[1].lower() != "digest":
        raise AuthHeaderError("not a Digest authentication header")
    params: dict[str, str] = {}
    position = scheme.end()
    while True:
        param = _PARAM_ITEM.match(text, position)
        if param is None:
            raise _refusal(text, position)
        name = param[1].lower()
        if name in params:
            raise AuthHeaderError("repeated authentication parameter")
        quoted = param[2]
        if quoted is None:
            params[name] = param[3]
        else:
            params[name] = _QUOTED_PAIR.sub(r"\1", quoted) if "\\" in quoted else quoted
        if param[4] is None:
            return params
        position = param.end()


def _refusal(text: str, position: int) -> AuthHeaderError:
    """Why `_PARAM_ITEM` found no parameter at `position`; worked out only once a value is refused."""
    if _FORBIDDEN.search(text):
        return AuthHeaderError("control character in authentication header")
    if _PARAM.match(text, position):
        return AuthHeaderError("authentication parameters not separated by commas")
    return AuthHeaderError("malformed authentication parameter")


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if value is None:
        raise AuthHeaderError(f"missing {name} parameter")
    return value


def _algorithm(params: dict[str, str]) -> DigestAlgorithm:
    """Absent means MD5 (RFC 7616 §3.3). The -sess variants, rare in SIP, are not implemented: they raise."""
    name = params.get("algorithm")
    if name is None:
        return DigestAlgorithm.MD5
    algorithm = _ALGORITHMS.get(name.upper())
    if algorithm is None:
        raise AuthHeaderError("unsupported digest algorithm")
    return algorithm


def _quote(value: str) -> str:
    if _FORBIDDEN.search(value):
        raise AuthHeaderError("control character in authentication parameter")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _token(value: str) -> str:
    if _TOKEN_RE.fullmatch(value) is None:
        raise AuthHeaderError("authentication parameter is not a token")
    return value


def _format(params: list[tuple[str, str]]) -> str:
    return "Digest " + ", ".join(f"{name}={value}" for name, value in params)


def _challenge_tail(qop: tuple[str, ...], opaque: str | None, stale: bool) -> str:
    """What a challenge prints after its algorithm: `, qop="…"`, `, opaque="…"`, `, stale=true` as present."""
    tail = f", qop={_quote(','.join(map(_token, qop)))}" if qop else ""
    if opaque is not None:
        tail += f", opaque={_quote(opaque)}"
    if stale:
        tail += ", stale=true"
    return tail


@functools.lru_cache(maxsize=64)
def _server_challenge_affixes(realm: str, qop: str | None, stale: bool) -> tuple[str, str]:
    """`DigestAuthenticator.challenge`'s text before the nonce and after the algorithm, per realm and flags."""
    return f"Digest realm={_quote(realm)}, nonce=", _challenge_tail((qop,) if qop is not None else (), None, stale)


@dataclass(frozen=True, slots=True)
class DigestChallenge:
    """A WWW-Authenticate or Proxy-Authenticate value (RFC 7616 §3.3); `str()` prints it back.

    Printing raises AuthHeaderError if a value holds a control character (it would inject a header).
    """

    realm: str
    nonce: str
    algorithm: DigestAlgorithm = DigestAlgorithm.MD5
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False

    @classmethod
    def parse(cls, value: str) -> DigestChallenge:
        """Raises AuthHeaderError for a malformed challenge and for one we cannot answer (another algorithm, or a
        qop list without "auth"): RFC 8760 §2.4 has a client skip those and take the next one."""
        params = _parse_digest(value)
        qop = tuple(option.strip(" \t") for option in params["qop"].split(",")) if "qop" in params else ()
        if any(_TOKEN_RE.fullmatch(option) is None for option in qop):
            raise AuthHeaderError("malformed qop parameter")
        if qop and "auth" not in qop:
            raise AuthHeaderError("no supported qop")
        stale = params.get("stale", "false").lower()
        if stale not in ("true", "false"):
            raise AuthHeaderError("malformed stale parameter")
        return cls(
            realm=_required(params, "realm"),
            nonce=_required(params, "nonce"),
            algorithm=_algorithm(params),
            qop=qop,
            opaque=params.get("opaque"),
            stale=stale == "true",
        )

    def __str__(self) -> str:
        realm, nonce, algorithm = _quote(self.realm), _quote(self.nonce), _ALGORITHM_PARAMS[self.algorithm]
        return f"Digest realm={realm}, nonce={nonce}{algorithm}{_challenge_tail(self.qop, self.opaque, self.stale)}"


class DigestCredentials(NamedTuple):
    """An Authorization or Proxy-Authorization value (RFC 7616 §3.4); `str()` prints it back.

    `parse` checks the grammar and that the mandatory parameters are there; whether the values make sense
    (qop, nc, response) is `DigestAuthenticator.verify`'s judgement, which answers MALFORMED rather than raising.
    `response` is kept out of the repr: with the nonce it is enough for an offline guess of the password.
    A named tuple, made for every authenticated request: a frozen dataclass of ten fields costs four times as
    much to build.
    """

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: DigestAlgorithm = DigestAlgorithm.MD5
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None
    opaque: str | None = None

    @classmethod
    def parse(cls, value: str) -> DigestCredentials:
        """Unknown parameters are ignored; a missing mandatory one or an unsupported algorithm raises."""
        params = _parse_digest(value)
        return cls(
            username=_required(params, "username"),
            realm=_required(params, "realm"),
            nonce=_required(params, "nonce"),
            uri=_required(params, "uri"),
            response=_required(params, "response"),
            algorithm=_algorithm(params),
            qop=params.get("qop"),
            nc=params.get("nc"),
            cnonce=params.get("cnonce"),
            opaque=params.get("opaque"),
        )

    def __repr__(self) -> str:
        return repr_without(self, {"response"})

    def __str__(self) -> str:
        params = [
            ("username", _quote(self.username)),
            ("realm", _quote(self.realm)),
            ("nonce", _quote(self.nonce)),
            ("uri", _quote(self.uri)),
            ("response", _quote(self.response)),
            ("algorithm", self.algorithm.value),
        ]
        if self.cnonce is not None:
            params.append(("cnonce", _quote(self.cnonce)))
        if self.opaque is not None:
            params.append(("opaque", _quote(self.opaque)))
        if self.qop is not None:
            params.append(("qop", _token(self.qop)))
        if self.nc is not None:
            params.append(("nc", _token(self.nc)))
        return _format(params)


class DigestResult(StrEnum):
    """What `DigestAuthenticator.verify` found, and what the registrar or proxy answers."""

    OK = "ok"
    STALE_NONCE = "stale-nonce"
    """Right password, but the nonce expired (or its counts were forgotten): challenge again with stale=true."""
    BAD_NONCE = "bad-nonce"
    """Not a nonce issued with our secret for this realm (forged, altered, another secret): challenge again."""
    BAD_RESPONSE = "bad-response"
    """Wrong password, or unknown user (same answer, same work): challenge again, or 403 after a few tries."""
    REPLAYED = "replayed"
    """A nonce count already used, or too far behind the highest one seen: challenge again."""
    MALFORMED = "malformed"
    """Values that break the digest rules (qop, nc, cnonce, response shape): 400 Bad Request."""
    URI_MISMATCH = "uri-mismatch"
    """The digest uri is not the Request-URI (RFC 2617 §3.2.2.5): 400 Bad Request."""


class UriCheck(StrEnum):
    """How `verify` compares the digest `uri` with the Request-URI (RFC 3261 §22.4, RFC 2617 §3.2.2.5).

    EXACT, the default, is string equality: a client hashes the Request-URI it puts in its request line, so a
    correct client matches, and a response captured for one request cannot serve another URI. SIP URI
    equivalence (RFC 3261 §19.1.4) is deliberately not used: it would add ways to match without adding a
    client that needs them. SAME_HOST only compares scheme, host and port (case-insensitively, port
    absent != 5060): the relaxation for clients such as sipp, which without -auth_uri puts
    `sip:<remote ip:port>` as the digest uri; it lets a response made for one URI on our host serve another,
    so the registrar enables it per deployment, not by default.
    """

    EXACT = "exact"
    SAME_HOST = "same-host"


def _host_part(uri: str) -> tuple[str, str, int | None] | None:
    match = _SIP_HOST_PART.fullmatch(uri)
    if match is None:
        return None
    return match[1].lower(), match[2].lower(), int(match[3]) if match[3] else None


def _uri_matches(digest_uri: str, request_uri: str, check: UriCheck) -> bool:
    if check is UriCheck.EXACT:
        return digest_uri == request_uri
    host_part = _host_part(digest_uri)
    return host_part is not None and host_part == _host_part(request_uri)


def _well_formed(credentials: DigestCredentials) -> bool:
    """RFC 7616 §3.4: qop=auth (the only qop we offer) comes with a cnonce and an 8-hex-digit nc from 1; without
    qop (RFC 2069) there is neither; the response is hex (either case) of the algorithm's size."""
    response, qop, nc = credentials.response, credentials.qop, credentials.nc
    if len(response) != _RESPONSE_LENGTHS[credentials.algorithm] or _HEX.fullmatch(response) is None:
        return False
    if qop is None:
        return nc is None and credentials.cnonce is None
    return (
        qop == "auth"
        and credentials.cnonce is not None
        and nc is not None
        and _NC.fullmatch(nc) is not None
        and nc != "00000000"
    )


_WINDOW_MASK = (1 << NC_WINDOW) - 1


_NonceCounts = tuple[float, int, int]
"""The nonce counts used with one nonce: (issue time, the highest count, a bitmap of the NC_WINDOW counts up to
it, bit i for highest - i), so that requests overtaking each other (UDP, parallel transactions) are still
accepted once. A plain tuple of numbers, which the garbage collector stops tracking: up to `max_nonces` of
them are alive, and an object each would be walked by every full collection."""


def _counted(counts: _NonceCounts, nc: int) -> _NonceCounts | None:
    """The counts once `nc` is used, or None if it was used already or is too far behind the highest."""
    issued, highest, seen = counts
    if nc > highest:
        shift = nc - highest
        return issued, nc, 1 if shift >= NC_WINDOW else (seen << shift | 1) & _WINDOW_MASK
    offset = highest - nc
    if offset >= NC_WINDOW or seen >> offset & 1:
        return None
    return issued, highest, seen | 1 << offset


_NONCE_LABEL = b"tonalite digest nonce v1\x00"
_TIME_BYTES, _ISSUER_BYTES, _SERIAL_BYTES, _TAG_BYTES = 8, 4, 8, 16
# 36 bytes, a multiple of 3: the base64url text has no padding, so each nonce has exactly one spelling.
_NONCE_CHARS = 4 * (_TIME_BYTES + _ISSUER_BYTES + _SERIAL_BYTES + _TAG_BYTES) // 3
_NONCE = re.compile(rf"[A-Za-z0-9_-]{{{_NONCE_CHARS}}}")
_FROM_BASE64URL = bytes.maketrans(b"-_", b"+/")
_HMAC_BLOCK = 64  # SHA-256's block size
_IPAD, _OPAD = bytes(byte ^ 0x36 for byte in range(256)), bytes(byte ^ 0x5C for byte in range(256))


class _NonceTag:
    """HMAC-SHA256(secret, _NONCE_LABEL | message)[:_TAG_BYTES], the RFC 2104 construction with the keyed inner
    and outer hash states (and the label) computed once: one nonce then costs two hash copies, not a key setup.
    Byte for byte `hmac.digest(secret, _NONCE_LABEL + message, "sha256")[:_TAG_BYTES]`."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, secret: bytes) -> None:
        key = hashlib.sha256(secret).digest() if len(secret) > _HMAC_BLOCK else secret
        key = key.ljust(_HMAC_BLOCK, b"\x00")
        self._inner = hashlib.sha256(key.translate(_IPAD))
        self._inner.update(_NONCE_LABEL)
        self._outer = hashlib.sha256(key.translate(_OPAD))

    def __call__(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:_TAG_BYTES]


class DigestAuthenticator:
    """The server side of digest authentication: issues nonces, challenges, and verifies credentials.

    Named for its role rather than "NonceIssuer": it also judges responses and remembers nonce counts.

    A nonce is base64url(issue time in ms | issuer | serial | HMAC-SHA256(secret, time | issuer | serial |
    realm)[:16]), where the issuer is 4 random bytes drawn when this authenticator is made and the serial counts
    its nonces (8 bytes): no two are alike, none costs a system call for randomness, and the HMAC keeps every one
    unpredictable. It needs no server state to verify, cannot be forged or moved to another realm without the
    secret, and expires `lifetime` seconds after issue. Nodes behind a load balancer share the secret, so a
    nonce issued by one verifies on another; for that, every `now` here is wall-clock seconds since the epoch
    (`clock.wall().timestamp()`), not the monotonic clock, which differs between nodes.

    Nonce-count replay protection (RFC 7616 §3.4, §5) keeps, per (nonce, username), the highest nc and a
    NC_WINDOW-wide bitmap, in an LRU of at most `max_nonces` entries; entries expire with their nonce. This
    state is per node: a request replayed to another node is only limited by the nonce lifetime. When an entry
    is evicted before it expires, any nonce as old as it that has no entry is answered STALE_NONCE, so eviction
    never reopens a replay; a real client simply retries with the fresh nonce. A response without qop (RFC
    2069, which RFC 3261 keeps for backwards compatibility) has no nc: it can be replayed, for the same method
    and URI, until its nonce expires.
    """

    __slots__ = (
        "_counts",
        "_dummy_ha1",
        "_forgotten_until",
        "_issuer",
        "_serials",
        "_tag",
        "algorithms",
        "lifetime",
        "max_nonces",
    )

    def __init__(
        self,
        secret: bytes,
        *,
        lifetime: float = 300.0,
        max_nonces: int = 100_000,
        algorithms: tuple[DigestAlgorithm, ...] = (DigestAlgorithm.SHA256, DigestAlgorithm.MD5),
    ) -> None:
        if not algorithms or len(set(algorithms)) != len(algorithms):
            raise ValueError("offer each digest algorithm once, and at least one")
        if len(secret) < 16:
            raise ValueError("the digest nonce secret must be at least 16 bytes")
        if lifetime <= 0 or max_nonces < 1:
            raise ValueError("the nonce lifetime and the number of nonces remembered must be positive")
        self._tag = _NonceTag(secret)
        self._issuer = secrets.token_bytes(_ISSUER_BYTES)
        self._serials = itertools.count(secrets.randbits(32))
        self.algorithms = algorithms
        self.lifetime = lifetime
        self.max_nonces = max_nonces
        self._dummy_ha1 = {a: secrets.token_hex(_HASHES[a]().digest_size) for a in DigestAlgorithm}
        self._counts: OrderedDict[tuple[str, str], _NonceCounts] = OrderedDict()
        self._forgotten_until = -math.inf

    def challenge(
        self, realm: str, now: float, *, stale: bool = False, qop: Literal["auth"] | None = "auth"
    ) -> list[str]:
        """WWW-Authenticate (or Proxy-Authenticate) values to send, one header each (RFC 8760 §2.4): one per
        offered algorithm in the order of `algorithms` (SHA-256 first by default, since the client takes the
        topmost it supports; an operator whose phones wrongly take the first one only may put MD5 first), all
        with the same new nonce. qop=None makes an RFC 2069 challenge, for tests of old clients."""
        head, tail = _server_challenge_affixes(realm, qop, stale)
        nonce = self._new_nonce(realm, now)  # base64url: as a quoted string it needs no escaping
        return [f'{head}"{nonce}"{_ALGORITHM_PARAMS[algorithm]}{tail}' for algorithm in self.algorithms]

    def dummy_ha1(self, algorithm: DigestAlgorithm) -> str:
        """An HA1 no password produces (random, fixed for this authenticator), for `verify` on an unknown user:
        the caller passes `authenticator.dummy_ha1` as `ha1_for`, so that an unknown user and a wrong password
        take the same path and give the same BAD_RESPONSE, and the username cannot be probed."""
        return self._dummy_ha1[algorithm]

    @property
    def remembered_nonces(self) -> int:
        """How many (nonce, username) count records this node holds (at most `max_nonces`)."""
        return len(self._counts)

    def verify(
        self,
        credentials: DigestCredentials,
        method: str,
        ha1_for: Callable[[DigestAlgorithm], str],
        now: float,
        request_uri: str,
        *,
        uri_check: UriCheck = UriCheck.EXACT,
    ) -> DigestResult:
        """Judge credentials sent with a request; never raises on what a client sent.

        `ha1_for` gives the stored HA1 of the user named by (credentials.username, credentials.realm) for the
        algorithm the client chose (a line's ha1_md5 or ha1_sha256), or `self.dummy_ha1` for an unknown user.
        The nonce count is recorded only for a correct response, so forged requests cannot use up a client's
        counts; stale is reported only for a correct response, as RFC 7616 §3.3 asks.
        """
        if not _well_formed(credentials):
            return DigestResult.MALFORMED
        if credentials.algorithm not in self.algorithms:  # never let a client downgrade to one not offered
            return DigestResult.BAD_RESPONSE
        issued = self._issue_time(credentials.nonce, credentials.realm)
        if issued is None:
            return DigestResult.BAD_NONCE
        if not _uri_matches(credentials.uri, request_uri, uri_check):
            return DigestResult.URI_MISMATCH
        expected = _request_digest(
            credentials.algorithm,
            ha1_for(credentials.algorithm),
            method,
            credentials.uri,
            credentials.nonce,
            credentials.qop,
            credentials.nc,
            credentials.cnonce,
        )
        if not hmac.compare_digest(expected, credentials.response.lower()):
            return DigestResult.BAD_RESPONSE
        if now - issued > self.lifetime:
            return DigestResult.STALE_NONCE
        if credentials.nc is None:
            return DigestResult.OK
        return self._count(credentials.nonce, credentials.username, int(credentials.nc, 16), issued, now)

    def _new_nonce(self, realm: str, now: float) -> str:
        serial = next(self._serials).to_bytes(_SERIAL_BYTES, "big")
        head = int(now * 1000).to_bytes(_TIME_BYTES, "big") + self._issuer + serial
        tag = self._tag(head + realm.encode("utf-8", "surrogatepass"))
        return base64.urlsafe_b64encode(head + tag).decode("ascii")

    def _issue_time(self, nonce: str, realm: str) -> float | None:
        """When a node sharing our secret issued `nonce` for `realm`, in seconds; None if none did."""
        if _NONCE.fullmatch(nonce) is None:
            return None
        raw = binascii.a2b_base64(nonce.encode("ascii").translate(_FROM_BASE64URL))  # urlsafe_b64decode, inlined
        head = raw[:-_TAG_BYTES]
        if not hmac.compare_digest(raw[-_TAG_BYTES:], self._tag(head + realm.encode("utf-8", "surrogatepass"))):
            return None
        return int.from_bytes(head[:_TIME_BYTES], "big") / 1000

    def _count(self, nonce: str, username: str, nc: int, issued: float, now: float) -> DigestResult:
        self._purge(now)
        key = (nonce, username)
        counts = self._counts.get(key)
        if counts is None:
            if issued <= self._forgotten_until:
                return DigestResult.STALE_NONCE
            counts = (issued, 0, 0)
        else:
            self._counts.move_to_end(key)
        counted = _counted(counts, nc)
        if counted is None:
            return DigestResult.REPLAYED
        self._counts[key] = counted  # a new entry goes last, as the most recently used
        while len(self._counts) > self.max_nonces:
            _, evicted = self._counts.popitem(last=False)
            self._forgotten_until = max(self._forgotten_until, evicted[0])
        return DigestResult.OK

    def _purge(self, now: float) -> None:
        """Drop expired entries from the least recently used end; one still live stops the sweep, so an expired
        entry behind it waits for a later call (memory stays bounded by max_nonces meanwhile)."""
        while self._counts:
            oldest = next(iter(self._counts.values()))
            if now - oldest[0] <= self.lifetime:
                return
            self._counts.popitem(last=False)


def answer_challenge(
    challenge: DigestChallenge, method: str, uri: str, username: str, password: str, cnonce: str, nc: int
) -> DigestCredentials:
    """Credentials for a request answering `challenge` (RFC 7616 §3.4): qop=auth when offered, else the RFC 2069
    form, where `cnonce` and `nc` are unused. `uri` is the Request-URI of the request; `nc` counts the requests
    made with this nonce, from 1; `cnonce` should be fresh random text (e.g. `secrets.token_urlsafe(16)`)."""
    if not 0 < nc < 2**32:
        raise ValueError("the nonce count must be between 1 and 2**32 - 1")
    ha1 = digest_ha1(challenge.algorithm, username, challenge.realm, password)
    qop = "auth" if "auth" in challenge.qop else None
    nc_text = f"{nc:08x}" if qop else None
    client_nonce = cnonce if qop else None
    response = _request_digest(challenge.algorithm, ha1, method, uri, challenge.nonce, qop, nc_text, client_nonce)
    return DigestCredentials(
        username=username,
        realm=challenge.realm,
        nonce=challenge.nonce,
        uri=uri,
        response=response,
        algorithm=challenge.algorithm,
        qop=qop,
        nc=nc_text,
        cnonce=client_nonce,
        opaque=challenge.opaque,
    )


def first_supported_challenge(values: Iterable[str]) -> DigestChallenge | None:
    """RFC 8760 §2.4: the topmost challenge a client supports; those it cannot read or answer are skipped."""
    for value in values:
        try:
            return DigestChallenge.parse(value)
        except AuthHeaderError:
            continue
    return None
