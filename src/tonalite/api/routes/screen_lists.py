"""A line's screen lists: the numbers and prefixes its incoming and outgoing calls are let through or refused by."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from tonalite.api.routing import GroupId, LineNumber, ScreenEntryId, api_router
from tonalite.api.schemas import ItemList, ScreenListEntryBody, ScreenListEntryResource
from tonalite.api.security import Authenticated
from tonalite.app import Services
from tonalite.services.principal import Principal


def router(services: Services, authenticated: Authenticated) -> APIRouter:
    router = api_router("/billing-groups/{group}/lines/{number}/screen-lists", "lines")
    screen_lists = services.screen_lists

    @router.get("")
    def list_entries(
        group: GroupId, number: LineNumber, principal: Principal = Depends(authenticated)
    ) -> ItemList[ScreenListEntryResource]:
        entries = screen_lists.list(principal, group, number)
        return ItemList(items=[ScreenListEntryResource.model_validate(entry) for entry in entries])

    @router.post("", status_code=201)
    def add_entry(
        group: GroupId, number: LineNumber, body: ScreenListEntryBody, principal: Principal = Depends(authenticated)
    ) -> ScreenListEntryResource:
        """A whitelist with entries lets only its numbers through (and no anonymous caller); a blacklist refuses
        its numbers. A list holds at most 100 entries, each once (409)."""
        entry = screen_lists.add(principal, group, number, body.direction, body.kind, body.number, body.is_prefix)
        return ScreenListEntryResource.model_validate(entry)

    @router.delete("/{entry}", status_code=204, response_class=Response)
    def delete_entry(
        group: GroupId, number: LineNumber, entry: ScreenEntryId, principal: Principal = Depends(authenticated)
    ) -> Response:
        screen_lists.delete(principal, group, number, entry)
        return Response(status_code=204)

    return router
