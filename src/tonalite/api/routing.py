"""The API's routers: JSON errors raised inside any route, and JSON 404/405 for paths no route serves.

The errors are caught by the route class rather than by application-wide exception handlers, so that the panel,
mounted on the same application, keeps its own error pages.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from tonalite.api.errors import (
    ERROR_RESPONSES,
    http_error_response,
    service_error_response,
    validation_error_response,
)
from tonalite.services.errors import NotFound, ServiceError

PREFIX = "/v1"
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_MAX_ID = 2**31 - 1  # the largest id PostgreSQL's INTEGER holds; a larger one would fail in the database

GroupId = Annotated[int, Path(ge=1, le=_MAX_ID, description="The billing group's id.")]
MessageId = Annotated[int, Path(ge=1, le=_MAX_ID, description="The voicemail message's id.")]
ScreenEntryId = Annotated[int, Path(ge=1, le=_MAX_ID, description="The screen list entry's id.")]
LineNumber = Annotated[
    str, Path(description="The line's number in E.164, its + left out (33999001234) or URL-encoded (%2B33999001234).")
]


class ApiRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except ServiceError as error:
                return service_error_response(error)
            except RequestValidationError as error:
                return validation_error_response(error)
            except HTTPException as error:
                return http_error_response(error)

        return handle


def api_router(path: str, tag: str) -> APIRouter:
    """A router for one resource, under /v1."""
    return APIRouter(prefix=PREFIX + path, tags=[tag], route_class=ApiRoute, responses=ERROR_RESPONSES)


def unknown_routes(routers: Sequence[APIRouter]) -> APIRouter:
    """Answers every /v1 request no route of `routers` took: 405 if the path exists with other methods, else 404.

    Include it after them: its path matches everything under /v1.
    """
    router = APIRouter(route_class=ApiRoute, include_in_schema=False)

    @router.api_route(PREFIX + "/{path:path}", methods=_METHODS, response_model=None)
    def unknown_route(path: str) -> NoReturn:
        full_path = f"{PREFIX}/{path}"
        allowed = sorted(
            method
            for known in routers
            for route in known.routes
            if isinstance(route, APIRoute) and route.path_regex.match(full_path)
            for method in route.methods or ()
        )
        if allowed:
            raise HTTPException(405, headers={"Allow": ", ".join(allowed)})
        raise NotFound()

    return router
