"""The caller's own account."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tonalite.api.routing import api_router
from tonalite.api.schemas import AccountResource
from tonalite.api.security import Authenticated
from tonalite.app import Services
from tonalite.services.principal import Principal


def router(services: Services, authenticated: Authenticated) -> APIRouter:
    router = api_router("", "account")

    @router.get("/me")
    def get_account(principal: Principal = Depends(authenticated)) -> AccountResource:
        return AccountResource.model_validate(services.accounts.get(principal))

    return router
