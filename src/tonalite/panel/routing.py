"""What every panel page is built from, and the route class that turns refusals into pages.

The handling is scoped to the panel's own routes, so the REST API keeps its JSON errors.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from tonalite.app import Services
from tonalite.panel.paths import HOME, LOGIN
from tonalite.panel.session import CsrfRefused, PanelSessions, SignInRequired, forget_session, is_htmx
from tonalite.panel.templating import PanelTemplates
from tonalite.services.errors import NotFound

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True, slots=True)
class Panel:
    services: Services
    sip_domain: str
    templates: PanelTemplates
    sessions: PanelSessions

    def router(self) -> APIRouter:
        return APIRouter(route_class=_route_class(self), include_in_schema=False)

    def error_page(self, request: Request, status: int, title_key: str, message_key: str) -> Response:
        visitor = self.sessions.visitor(request)
        here = request.url.path if request.method == "GET" else HOME
        response = self.templates.response(
            "error.html", visitor, status, here=here, title_key=title_key, message_key=message_key
        )
        if is_htmx(request):
            response.headers["HX-Refresh"] = "true"
        return response


def _sign_in_page(request: Request, refusal: SignInRequired) -> Response:
    target = f"{LOGIN}?expired=1" if refusal.expired else LOGIN
    response = (
        Response(status_code=204, headers={"HX-Redirect": target})
        if is_htmx(request)
        else RedirectResponse(target, status_code=303)
    )
    if refusal.expired:
        forget_session(response)
    return response


def _route_class(panel: Panel) -> type[APIRoute]:
    class PanelRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                try:
                    response = await handler(request)
                except SignInRequired as refusal:
                    response = _sign_in_page(request, refusal)
                except (NotFound, RequestValidationError):
                    response = await run_in_threadpool(
                        panel.error_page, request, 404, "page.not_found_title", "page.not_found_text"
                    )
                except CsrfRefused:
                    response = await run_in_threadpool(
                        panel.error_page, request, 403, "page.refused_title", "error.csrf"
                    )
                response.headers.update(SECURITY_HEADERS)
                return response

            return guarded

    return PanelRoute
