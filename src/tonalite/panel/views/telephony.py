"""Télécom > Téléphonie: the account's billing groups, and a billing group's lines and alias numbers."""

# No `from __future__ import annotations`: FastAPI must evaluate the Annotated dependencies, which name
# this closure's local variables.

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from tonalite.panel.paths import HOME, group_path
from tonalite.panel.routing import Panel
from tonalite.panel.session import SignedIn


def routes(panel: Panel) -> APIRouter:
    router = panel.router()
    services = panel.services
    signed_in = Depends(panel.sessions.signed_in)

    @router.get(HOME)
    def billing_groups(member: Annotated[SignedIn, signed_in]) -> Response:
        groups = services.billing_groups.list(member.principal)
        return panel.templates.response("billing_groups.html", member.visitor, here=HOME, groups=groups)

    @router.get("/billing-groups/{group_id}")
    def billing_group(group_id: int, member: Annotated[SignedIn, signed_in]) -> Response:
        group = services.billing_groups.get(member.principal, group_id)
        return panel.templates.response(
            "billing_group.html",
            member.visitor,
            here=group_path(group_id),
            group=group,
            lines=services.lines.list(member.principal, group_id),
            aliases=services.numbers.list_alias_numbers(member.principal, group_id),
        )

    return router
