"""A line's call options: forwards, do not disturb, presentation, call waiting, outgoing-call lock."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tonalite.api.routing import GroupId, LineNumber, api_router
from tonalite.api.schemas import LineOptionsChanges, LineOptionsResource
from tonalite.api.security import Authenticated
from tonalite.app import Services
from tonalite.services.principal import Principal
from tonalite.store.models import ChangeOrigin


def router(services: Services, authenticated: Authenticated) -> APIRouter:
    router = api_router("/billing-groups/{group}/lines/{number}/options", "lines")
    options = services.line_options

    @router.get("")
    def get_options(
        group: GroupId, number: LineNumber, principal: Principal = Depends(authenticated)
    ) -> LineOptionsResource:
        return LineOptionsResource.model_validate(options.get(principal, group, number))

    @router.patch("")
    def change_options(
        group: GroupId, number: LineNumber, changes: LineOptionsChanges, principal: Principal = Depends(authenticated)
    ) -> LineOptionsResource:
        """Changes only the options sent, all together or none if one is invalid; each change is recorded."""
        updated = options.update(principal, group, number, changes.model_dump(exclude_unset=True), ChangeOrigin.API)
        return LineOptionsResource.model_validate(updated)

    return router
