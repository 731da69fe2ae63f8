"""Every API failure as JSON `{"error": code, "message": text[, "field": camelCaseName]}`, in English."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic.alias_generators import to_camel
from starlette.exceptions import HTTPException

from tonalite.api.schemas import ErrorBody
from tonalite.services.errors import (
    AuthenticationFailed,
    Conflict,
    InputTooLarge,
    InvalidInput,
    NotFound,
    ServiceError,
    UnsupportedFormat,
)
from tonalite.store.models import Language

_SERVICE_STATUS: dict[type[ServiceError], int] = {
    NotFound: 404,
    InputTooLarge: 413,
    UnsupportedFormat: 415,
    InvalidInput: 422,  # after its subclasses: the first match wins
    Conflict: 409,
    AuthenticationFailed: 401,
}
_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
_PARAMETER_SOURCES = {"body", "path", "query", "header", "cookie"}

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in [
        (401, "Missing, unknown or expired token"),
        (404, "No such object in the caller's account"),
        (422, "Invalid input; nothing was changed"),
    ]
}


def error_response(
    status: int, code: str, message: str, field: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=code, message=message, field=field)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def error_body(error: ServiceError) -> ErrorBody:
    """A service's refusal as the API tells it: its code, its English message, the camelCase field it is about."""
    return ErrorBody(
        error=error.code, message=error.message(Language.EN), field=to_camel(error.field) if error.field else None
    )


def service_error_response(error: ServiceError) -> JSONResponse:
    status = next((status for kind, status in _SERVICE_STATUS.items() if isinstance(error, kind)), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = error_body(error)
    return error_response(status, body.error, body.message, body.field, headers)


def validation_error_response(error: RequestValidationError) -> JSONResponse:
    """The first problem, named by the field it is about (`forwardNoReplyDelay`, `group`)."""
    first = error.errors()[0]
    if first["type"] == "json_invalid":
        return error_response(422, InvalidInput.code, f"Malformed JSON body: {first['ctx']['error']}.")
    location = first["loc"][1:] if first["loc"] and first["loc"][0] in _PARAMETER_SOURCES else first["loc"]
    field = ".".join(str(part) for part in location) or None
    message = f"{field}: {first['msg']}" if field else f"Request body: {first['msg']}"
    return error_response(422, InvalidInput.code, message, field)


def http_error_response(error: HTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(error.status_code, "error")
    return error_response(error.status_code, code, str(error.detail), headers=error.headers)
