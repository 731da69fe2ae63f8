"""Digest authentication (RFC 3261 §22, RFC 7616, RFC 8760): stored hashes, headers, server and client sides.

What a line stores is `digest_ha1` for each algorithm, never the password. `DigestChallenge` is the value of a
WWW-Authenticate or Proxy-Authenticate header, `DigestCredentials` that of an Authorization or
Proxy-Authorization header: the syntax is the same, the caller picks the header (401 or 407). A
`DigestAuthenticator` issues challenges and judges credentials for the registrar and the proxy;
`answer_challenge` is the client side, for outbound trunks and for tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal


class DigestAlgorithm(StrEnum):
    MD5 = "MD5"
    SHA256 = "SHA-256"


_HASHES = {DigestAlgorithm.MD5: hashlib.md5, DigestAlgorithm.SHA256: hashlib.sha256}


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
_PARAM = re.compile(rf'({_TOKEN})[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))')
_COMMA = re.compile(r"[ \t]*,[ \t]*")
_QUOTED_PAIR = re.compile(r"\\(.)")
# Control characters (a CR or LF would let a value inject a header) and lone surrogates (not text).
_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")
_NC = re.compile(r"[0-9A-Fa-f]{8}")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_SIP_HOST_PART = re.compile(r"(sips?):(?:[^@]*@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)(?::(\d{1,5}))?(?:[;?].*)?", re.I)
_ALGORITHMS = {algorithm.value.upper(): algorithm for algorithm in DigestAlgorithm}


class AuthHeaderError(ValueError):
    """An authentication header this module cannot read, or a value it refuses to print."""


def _h(algorithm: DigestAlgorithm, text: str) -> str:
    # surrogatepass: verify must not raise, whatever a caller-built DigestCredentials holds.
    return _HASHES[algorithm](text.encode("utf-8", "surrogatepass")).hexdigest()


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
    ha2 = _h(algorithm, f"{method}:{uri}")
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
    if _FORBIDDEN.search(value):
        raise AuthHeaderError("control character in authentication header")
    text = value.strip(" \t")
    scheme = _SCHEME.match(text)
    if scheme is None or scheme[1].lower() != "digest":
        raise AuthHeaderError("not a Digest authentication header")
    params: dict[str, str] = {}
    position = scheme.end()
    while True:
        param = _PARAM.match(text, position)
        if param is None:
            raise AuthHeaderError("malformed authentication parameter")
        name = param[1].lower()
        if name in params:
            raise AuthHeaderError("repeated authentication parameter")
        params[name] = _QUOTED_PAIR.sub(r"\1", param[2]) if param[2] is not None else param[3]
        position = param.end()
        if position == len(text):
            return params
        comma = _COMMA.match(text, position)
        if comma is None:
            raise AuthHeaderError("authentication parameters not separated by commas")
        position = comma.end()


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
        params = [("realm", _quote(self.realm)), ("nonce", _quote(self.nonce)), ("algorithm", self.algorithm.value)]
        if self.qop:
            params.append(("qop", _quote(",".join(_token(option) for option in self.qop))))
        if self.opaque is not None:
            params.append(("opaque", _quote(self.opaque)))
        if self.stale:
            params.append(("stale", "true"))
        return _format(params)


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    """An Authorization or Proxy-Authorization value (RFC 7616 §3.4); `str()` prints it back.

    `parse` checks the grammar and that the mandatory parameters are there; whether the values make sense
    (qop, nc, response) is `DigestAuthenticator.verify`'s judgement, which answers MALFORMED rather than raising.
    `response` is kept out of the repr: with the nonce it is enough for an offline guess of the password.
    """

    username: str
    realm: str
    nonce: str
    uri: str
    response: str = field(repr=False)
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
    size = 2 * _HASHES[credentials.algorithm]().digest_size
    if len(credentials.response) != size or _HEX.fullmatch(credentials.response) is None:
        return False
    if credentials.qop is None:
        return credentials.nc is None and credentials.cnonce is None
    return (
        credentials.qop == "auth"
        and credentials.cnonce is not None
        and credentials.nc is not None
        and _NC.fullmatch(credentials.nc) is not None
        and int(credentials.nc, 16) > 0
    )


_WINDOW_MASK = (1 << NC_WINDOW) - 1


@dataclass(slots=True)
class _NonceCounts:
    """The nonce counts used with one nonce: the highest, and a bitmap of the NC_WINDOW counts up to it (bit i is
    highest - i), so that requests overtaking each other (UDP, parallel transactions) are still accepted once."""

    issued: float
    highest: int = 0
    seen: int = 0

    def accept(self, nc: int) -> bool:
        if nc > self.highest:
            shift = nc - self.highest
            self.seen = 1 if shift >= NC_WINDOW else (self.seen << shift | 1) & _WINDOW_MASK
            self.highest = nc
            return True
        offset = self.highest - nc
        if offset >= NC_WINDOW or self.seen >> offset & 1:
            return False
        self.seen |= 1 << offset
        return True


_NONCE_LABEL = b"tonalite digest nonce v1\x00"
_TIME_BYTES, _RANDOM_BYTES, _TAG_BYTES = 8, 12, 16
# 36 bytes, a multiple of 3: the base64url text has no padding, so each nonce has exactly one spelling.
_NONCE_CHARS = 4 * (_TIME_BYTES + _RANDOM_BYTES + _TAG_BYTES) // 3
_NONCE = re.compile(rf"[A-Za-z0-9_-]{{{_NONCE_CHARS}}}")


class DigestAuthenticator:
    """The server side of digest authentication: issues nonces, challenges, and verifies credentials.

    Named for its role rather than "NonceIssuer": it also judges responses and remembers nonce counts.

    A nonce is base64url(issue time in ms | 12 random bytes | HMAC-SHA256(secret, time | random | realm)[:16]):
    it needs no server state to verify, cannot be forged or moved to another realm without the secret, and
    expires `lifetime` seconds after issue. Nodes behind a load balancer share the secret, so a nonce issued by
    one verifies on another; for that, every `now` here is wall-clock seconds since the epoch
    (`clock.wall().timestamp()`), not the monotonic clock, which differs between nodes.

    Nonce-count replay protection (RFC 7616 §3.4, §5) keeps, per (nonce, username), the highest nc and a
    NC_WINDOW-wide bitmap, in an LRU of at most `max_nonces` entries; entries expire with their nonce. This
    state is per node: a request replayed to another node is only limited by the nonce lifetime. When an entry
    is evicted before it expires, any nonce as old as it that has no entry is answered STALE_NONCE, so eviction
    never reopens a replay; a real client simply retries with the fresh nonce. A response without qop (RFC
    2069, which RFC 3261 keeps for backwards compatibility) has no nc: it can be replayed, for the same method
    and URI, until its nonce expires.
    """

    __slots__ = ("_counts", "_dummy_ha1", "_forgotten_until", "_secret", "algorithms", "lifetime", "max_nonces")

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
        self._secret = secret
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
        nonce = self._new_nonce(realm, now)
        qops = (qop,) if qop is not None else ()
        return [str(DigestChallenge(realm, nonce, algorithm, qops, stale=stale)) for algorithm in self.algorithms]

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
        head = int(now * 1000).to_bytes(_TIME_BYTES, "big") + secrets.token_bytes(_RANDOM_BYTES)
        return base64.urlsafe_b64encode(head + self._tag(head, realm)).decode("ascii")

    def _tag(self, head: bytes, realm: str) -> bytes:
        message = _NONCE_LABEL + head + realm.encode("utf-8", "surrogatepass")
        return hmac.digest(self._secret, message, "sha256")[:_TAG_BYTES]

    def _issue_time(self, nonce: str, realm: str) -> float | None:
        """When a node sharing our secret issued `nonce` for `realm`, in seconds; None if none did."""
        if _NONCE.fullmatch(nonce) is None:
            return None
        raw = base64.urlsafe_b64decode(nonce)
        head, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
        if not hmac.compare_digest(tag, self._tag(head, realm)):
            return None
        return int.from_bytes(head[:_TIME_BYTES], "big") / 1000

    def _count(self, nonce: str, username: str, nc: int, issued: float, now: float) -> DigestResult:
        self._purge(now)
        key = (nonce, username)
        counts = self._counts.get(key)
        if counts is None:
            if issued <= self._forgotten_until:
                return DigestResult.STALE_NONCE
            counts = self._counts[key] = _NonceCounts(issued)
            while len(self._counts) > self.max_nonces:
                _, evicted = self._counts.popitem(last=False)
                self._forgotten_until = max(self._forgotten_until, evicted.issued)
        else:
            self._counts.move_to_end(key)
        return DigestResult.OK if counts.accept(nc) else DigestResult.REPLAYED

    def _purge(self, now: float) -> None:
        """Drop expired entries from the least recently used end; one still live stops the sweep, so an expired
        entry behind it waits for a later call (memory stays bounded by max_nonces meanwhile)."""
        while self._counts:
            oldest = next(iter(self._counts.values()))
            if now - oldest.issued <= self.lifetime:
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
