"""The alias numbers of a billing group."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tonalite.api.routing import GroupId, api_router
from tonalite.api.schemas import AliasNumberResource, ItemList
from tonalite.api.security import Authenticated
from tonalite.app import Services
from tonalite.services.principal import Principal


def router(services: Services, authenticated: Authenticated) -> APIRouter:
    router = api_router("/billing-groups/{group}/numbers", "numbers")

    @router.get("")
    def list_alias_numbers(
        group: GroupId, principal: Principal = Depends(authenticated)
    ) -> ItemList[AliasNumberResource]:
        aliases = services.numbers.list_alias_numbers(principal, group)
        return ItemList(items=[AliasNumberResource.model_validate(alias) for alias in aliases])

    return router
