"""Sign-in: a login and password exchanged for a bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tonalite.api.routing import api_router
from tonalite.api.schemas import ErrorBody, Token, TokenRequest
from tonalite.api.security import no_store
from tonalite.app import Services


def router(services: Services) -> APIRouter:
    router = api_router("/auth", "auth")

    @router.post(
        "/token",
        dependencies=[Depends(no_store)],
        responses={401: {"model": ErrorBody, "description": "Wrong login or password"}},
    )
    def issue_token(credentials: TokenRequest) -> Token:
        """A bearer token valid for 30 days; an unknown login and a wrong password give the same 401."""
        principal = services.accounts.authenticate(credentials.login, credentials.password)
        return Token(token=services.sign_in.issue_api_token(principal))

    return router
