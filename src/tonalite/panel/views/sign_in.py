"""Signing in and out, and the language switch every page shows."""

# No `from __future__ import annotations`: FastAPI must evaluate the Annotated dependencies, which name
# this closure's local variables.

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from tonalite.i18n import parse_language, translate
from tonalite.panel.paths import HOME, LOGIN, local_path
from tonalite.panel.routing import Panel
from tonalite.panel.session import SignedIn, Visitor, forget_session, keep_language, keep_session
from tonalite.services.errors import AuthenticationFailed


def routes(panel: Panel) -> APIRouter:
    router = panel.router()
    sessions, services = panel.sessions, panel.services
    visiting = Depends(sessions.visitor)
    visitor_form = Depends(sessions.visitor_form)
    signed_in_form = Depends(sessions.signed_in_form)

    @router.get(LOGIN)
    def login_page(visitor: Annotated[Visitor, visiting], expired: bool = False) -> Response:
        if visitor.principal is not None:
            return RedirectResponse(HOME, status_code=303)
        notice = translate(visitor.language, "error.session_expired") if expired else None
        return panel.templates.response("login.html", visitor, here=LOGIN, login="", error=None, notice=notice)

    @router.post(LOGIN)
    def open_session(
        visitor: Annotated[Visitor, visitor_form],
        login: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
    ) -> Response:
        try:
            principal = services.accounts.authenticate(login, password)
        except AuthenticationFailed as refusal:
            error = refusal.message(visitor.language)
            return panel.templates.response(
                "login.html", visitor, 422, here=LOGIN, login=login, error=error, notice=None
            )
        response = RedirectResponse(HOME, status_code=303)
        keep_session(response, visitor, services.sign_in.open_panel_session(principal).token)
        return response

    @router.post("/logout")
    def close_session(request: Request, _: Annotated[SignedIn, signed_in_form]) -> Response:
        sessions.close(request)
        response = RedirectResponse(LOGIN, status_code=303)
        forget_session(response)
        return response

    @router.post("/language")
    def switch_language(
        visitor: Annotated[Visitor, visitor_form],
        language: Annotated[str, Form()] = "",
        back_to: Annotated[str, Form(alias="next")] = HOME,
    ) -> Response:
        response = RedirectResponse(local_path(back_to), status_code=303)
        chosen = parse_language(language)
        if chosen is not None:
            keep_language(response, visitor, chosen)
            if visitor.principal is not None:
                services.accounts.set_language(visitor.principal, chosen)
        return response

    return router
