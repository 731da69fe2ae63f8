"""A line's pages: one per tab; the dashboard renames the line and resets its SIP password."""

# No `from __future__ import annotations`: FastAPI must evaluate the Annotated dependencies, which name
# this closure's local variables.

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from tonalite.panel.paths import LINE_ROUTE, RENAME, RESET_PASSWORD, LineTab, line_path
from tonalite.panel.routing import Panel
from tonalite.panel.session import SignedIn, is_htmx
from tonalite.panel.views.line_page import LinePage
from tonalite.services.errors import InvalidInput


def routes(panel: Panel) -> APIRouter:
    router = panel.router()
    services = panel.services
    signed_in = Depends(panel.sessions.signed_in)
    signed_in_form = Depends(panel.sessions.signed_in_form)

    page = LinePage(panel)

    @router.get(LINE_ROUTE)
    def line_home(group_id: int, number: str, member: Annotated[SignedIn, signed_in]) -> Response:
        line = services.lines.get(member.principal, group_id, number)
        return RedirectResponse(line_path(group_id, line.number), status_code=303)

    @router.get(LINE_ROUTE + "/{tab}")
    def line_tab(group_id: int, number: str, tab: LineTab, member: Annotated[SignedIn, signed_in]) -> Response:
        return page.render(member, group_id, number, tab)

    @router.post(f"{LINE_ROUTE}/{RENAME}")
    def rename(
        group_id: int,
        number: str,
        member: Annotated[SignedIn, signed_in_form],
        display_name: Annotated[str, Form()] = "",
    ) -> Response:
        try:
            services.lines.rename(member.principal, group_id, number, display_name)
        except InvalidInput as error:
            return page.render(
                member,
                group_id,
                number,
                status=422,
                typed_name=display_name,
                name_error=error.message(member.visitor.language),
            )
        return page.render(member, group_id, number, renamed=True)

    @router.post(f"{LINE_ROUTE}/{RESET_PASSWORD}")
    def reset_password(
        request: Request, group_id: int, number: str, member: Annotated[SignedIn, signed_in_form]
    ) -> Response:
        credentials = services.lines.reset_password(member.principal, group_id, number)
        if is_htmx(request):
            return panel.templates.response("_sip_password.html", member.visitor, credentials=credentials)
        return page.render(member, group_id, number, credentials=credentials)

    return router
