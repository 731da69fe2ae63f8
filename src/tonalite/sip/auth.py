"""Digest authentication (RFC 7616, RFC 8760): what is stored for a SIP user, and its verification."""

from __future__ import annotations

import hashlib
from enum import StrEnum


class DigestAlgorithm(StrEnum):
    MD5 = "MD5"
    SHA256 = "SHA-256"


_HASHES = {DigestAlgorithm.MD5: hashlib.md5, DigestAlgorithm.SHA256: hashlib.sha256}


def digest_ha1(algorithm: DigestAlgorithm, username: str, realm: str, password: str) -> str:
    """H(username:realm:password): all the server needs to verify a response, so the password is never kept."""
    return _HASHES[algorithm](f"{username}:{realm}:{password}".encode()).hexdigest()
