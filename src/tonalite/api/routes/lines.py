"""The SIP lines of a billing group: reading, renaming, and a new SIP password."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tonalite.api.routing import GroupId, LineNumber, api_router
from tonalite.api.schemas import (
    ItemList,
    LineChanges,
    LineCredentialsResource,
    LineResource,
    RegistrationResource,
)
from tonalite.api.security import Authenticated, no_store
from tonalite.app import Platform
from tonalite.services.principal import Principal


def router(platform: Platform, authenticated: Authenticated) -> APIRouter:
    router = api_router("/billing-groups/{group}/lines", "lines")
    lines = platform.services.lines
    registrations = platform.services.registrations
    domain = platform.settings.sip_domain

    @router.get("")
    def list_lines(group: GroupId, principal: Principal = Depends(authenticated)) -> ItemList[LineResource]:
        return ItemList(items=[LineResource.of(line, domain) for line in lines.list(principal, group)])

    @router.get("/{number}")
    def get_line(group: GroupId, number: LineNumber, principal: Principal = Depends(authenticated)) -> LineResource:
        return LineResource.of(lines.get(principal, group, number), domain)

    @router.patch("/{number}")
    def change_line(
        group: GroupId, number: LineNumber, changes: LineChanges, principal: Principal = Depends(authenticated)
    ) -> LineResource:
        return LineResource.of(lines.rename(principal, group, number, changes.display_name), domain)

    @router.post("/{number}/password-reset", dependencies=[Depends(no_store)])
    def reset_password(
        group: GroupId, number: LineNumber, principal: Principal = Depends(authenticated)
    ) -> LineCredentialsResource:
        """A new SIP password, shown in this response only; the phone must be set up again with it."""
        return LineCredentialsResource.model_validate(lines.reset_password(principal, group, number))

    @router.get("/{number}/registrations")
    def list_registrations(
        group: GroupId, number: LineNumber, principal: Principal = Depends(authenticated)
    ) -> ItemList[RegistrationResource]:
        """The line's live registration: one device at most, none when the phone is not registered."""
        binding = registrations.for_line(principal, group, number)
        return ItemList(items=[RegistrationResource.model_validate(binding)] if binding else [])

    return router
