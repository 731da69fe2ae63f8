"""Who is calling: the Principal behind an `Authorization: Bearer <token>` header."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tonalite.services.errors import AuthenticationFailed
from tonalite.services.principal import Principal
from tonalite.services.sign_in import SignInService

Authenticated = Callable[..., Principal]

# auto_error=False: a missing token is reported like a bad one, as a JSON 401 with WWW-Authenticate.
_bearer = HTTPBearer(auto_error=False, description="A token from POST /v1/auth/token")


def bearer_authentication(sign_in: SignInService) -> Authenticated:
    """The dependency every route but sign-in takes."""

    def principal(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
        if credentials is None:
            raise AuthenticationFailed("error.session_expired")
        return sign_in.principal_for_api_token(credentials.credentials)

    return principal


def no_store(response: Response) -> None:
    """A response that holds a secret must not be kept by caches (RFC 6749 §5.1)."""
    response.headers["Cache-Control"] = "no-store"
