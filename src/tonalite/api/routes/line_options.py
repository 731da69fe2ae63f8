"""A line's call options: forwards, do not disturb, presentation, call waiting, outgoing-call lock."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tonalite.api.routing import GroupId, LineNumber, api_router
from tonalite.api.schemas import (
    ItemList,
    LineOptionsBulkChanges,
    LineOptionsChanges,
    LineOptionsOfLine,
    LineOptionsResource,
)
from tonalite.api.security import Authenticated
from tonalite.app import Services
from tonalite.services.principal import Principal
from tonalite.store.models import ChangeOrigin


def router(services: Services, authenticated: Authenticated) -> APIRouter:
    router = api_router("/billing-groups/{group}/lines", "lines")
    options = services.line_options

    @router.get("/{number}/options")
    def get_options(
        group: GroupId, number: LineNumber, principal: Principal = Depends(authenticated)
    ) -> LineOptionsResource:
        return LineOptionsResource.model_validate(options.get(principal, group, number))

    @router.patch("/{number}/options")
    def change_options(
        group: GroupId, number: LineNumber, changes: LineOptionsChanges, principal: Principal = Depends(authenticated)
    ) -> LineOptionsResource:
        """Changes only the options sent, all together or none if one is invalid; each change is recorded."""
        updated = options.update(principal, group, number, changes.model_dump(exclude_unset=True), ChangeOrigin.API)
        return LineOptionsResource.model_validate(updated)

    @router.post("/options")
    def change_several_lines(
        group: GroupId, body: LineOptionsBulkChanges, principal: Principal = Depends(authenticated)
    ) -> ItemList[LineOptionsOfLine]:
        """The same changes on several lines of the billing group: on all of them, or on none if one line is not
        found or one change is invalid on one of them; each change is recorded on its line."""
        changes = body.changes.model_dump(exclude_unset=True)
        updated = options.update_many(principal, group, body.lines, changes, ChangeOrigin.API)
        return ItemList(
            items=[
                LineOptionsOfLine(number=number, **LineOptionsResource.model_validate(each).model_dump())
                for number, each in updated.items()
            ]
        )

    return router
