"""Digest authentication of requests from lines: REGISTER (401) and INVITE and others (407).

No credentials, a wrong password, and a user nobody has all get the same challenge, by the same work:
an unknown user is checked against a dummy HA1, so the answers cannot be used to find usernames.
"""

from __future__ import annotations

import hashlib
from enum import Enum

from tonalite.clock import Clock
from tonalite.services.line_directory import LineDirectory, SipLine
from tonalite.sip.auth import AuthHeaderError, DigestAlgorithm, DigestAuthenticator, DigestCredentials, DigestResult
from tonalite.sip.message import Request, Response
from tonalite.sip.responses import response_to

_RECHALLENGE = {DigestResult.BAD_NONCE, DigestResult.BAD_RESPONSE, DigestResult.REPLAYED}


class Challenge(Enum):
    """Who asks: the registrar (401, WWW-Authenticate) or the server a call goes through (407)."""

    REGISTRAR = (401, "Authorization", "WWW-Authenticate")
    PROXY = (407, "Proxy-Authorization", "Proxy-Authenticate")

    def __init__(self, status: int, credentials_header: str, challenge_header: str) -> None:
        self.status = status
        self.credentials_header = credentials_header
        self.challenge_header = challenge_header


class RequestAuthenticator:
    def __init__(self, realm: str, lines: LineDirectory, digest: DigestAuthenticator, clock: Clock) -> None:
        self._realm = realm
        self._lines = lines
        self._digest = digest
        self._clock = clock

    def authenticate(self, request: Request, kind: Challenge) -> SipLine | Response:
        """The line that sent the request, or the response to send instead (a challenge, or 400)."""
        try:
            credentials = self._credentials(request, kind)
        except AuthHeaderError:
            return response_to(request, 400, f"Malformed {kind.credentials_header}")
        if credentials is None:
            return self.challenge(request, kind)
        line = self._lines.by_username(credentials.username)
        known = line if line is not None and line.realm == self._realm else None

        def ha1_for(algorithm: DigestAlgorithm) -> str:
            if known is None:
                return self._digest.dummy_ha1(algorithm)
            return known.ha1_sha256 if algorithm == DigestAlgorithm.SHA256 else known.ha1_md5

        now = self._clock.wall().timestamp()
        result = self._digest.verify(credentials, request.method, ha1_for, now, request.uri)
        if result == DigestResult.STALE_NONCE:
            return self.challenge(request, kind, stale=True)
        if result in _RECHALLENGE:
            return self.challenge(request, kind)
        if result != DigestResult.OK or known is None:
            return response_to(request, 400, f"Malformed {kind.credentials_header}")
        return known

    def challenge(self, request: Request, kind: Challenge, stale: bool = False) -> Response:
        response = response_to(request, kind.status, to_tag=stable_to_tag(request))
        for value in self._digest.challenge(self._realm, self._clock.wall().timestamp(), stale=stale):
            response.headers.add(kind.challenge_header, value)
        return response

    def _credentials(self, request: Request, kind: Challenge) -> DigestCredentials | None:
        for value in request.headers.get_all(kind.credentials_header):
            credentials = DigestCredentials.parse(value)
            if credentials.realm == self._realm:
                return credentials
        return None


def stable_to_tag(request: Request) -> str:
    """A To tag that is the same for every response to this request (RFC 3261 §8.2.6.2), without state."""
    call_id = (request.headers.get("Call-ID") or "").encode()
    return hashlib.blake2b(call_id, digest_size=8, person=b"tonalite-to-tag").hexdigest()
