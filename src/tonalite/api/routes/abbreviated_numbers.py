"""Abbreviated numbers: a billing group's list (`/billing-groups/{group}/abbreviated-numbers`) and each line's
(`…/lines/{number}/abbreviated-numbers`), with the same routes: list, add, read, change, delete, clear, and CSV
import and export."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from starlette.datastructures import UploadFile

from tonalite.api.errors import error_body
from tonalite.api.routing import GroupId, LineNumber, api_router
from tonalite.api.schemas import (
    AbbreviatedImportResource,
    AbbreviatedNumberBody,
    AbbreviatedNumberChanges,
    AbbreviatedNumberResource,
    ErrorBody,
    ItemList,
    RejectedRowResource,
    SavedAbbreviatedNumber,
)
from tonalite.api.security import Authenticated
from tonalite.app import Services
from tonalite.i18n import translate
from tonalite.services.abbreviated_numbers import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    AbbreviatedEntry,
    AbbreviatedList,
    AbbreviatedNumberService,
    advice,
)
from tonalite.services.errors import InvalidInput
from tonalite.services.principal import Principal
from tonalite.store.models import AbbreviatedNumber, Language

ShortNumber = Annotated[str, Path(description="The abbreviated number, 3 or 4 digits.")]
IMPORT_DESCRIPTION = (
    "Add the numbers of a CSV file (the request body as text/csv, or the multipart/form-data field `file`) to the "
    "list, one a line with no header: abbreviated number, destination number, surname, name (`7890,0033123456789,"
    f"Smith,John`), separated by commas or semicolons, in UTF-8 (or Windows-1252); at most {MAX_IMPORT_ROWS} lines "
    f"and {MAX_IMPORT_BYTES // 1024} KB. A number already in the list is updated. Every row is checked: the good "
    "ones are saved, the others left out and reported with their line and reason (a number repeated in the file, "
    "at its second line). A file over the limits, or not text, changes nothing."
)
IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
        },
    }
}
IMPORT_ERRORS: dict[int | str, dict[str, object]] = {
    413: {"model": ErrorBody, "description": "The file is over its size or line limit"},
    415: {"model": ErrorBody, "description": "The file is not text"},
}
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def group_list(group: GroupId) -> AbbreviatedList:
    return AbbreviatedList(group)


def line_list(group: GroupId, number: LineNumber) -> AbbreviatedList:
    return AbbreviatedList(group, number)


def router(services: Services, authenticated: Authenticated) -> APIRouter:
    router = api_router("/billing-groups/{group}", "abbreviated numbers")
    _add_routes(router, "/abbreviated-numbers", group_list, services.abbreviated_numbers, authenticated)
    _add_routes(router, "/lines/{number}/abbreviated-numbers", line_list, services.abbreviated_numbers, authenticated)
    return router


def _add_routes(
    router: APIRouter,
    path: str,
    scope: Callable[..., AbbreviatedList],
    service: AbbreviatedNumberService,
    authenticated: Authenticated,
) -> None:
    """The routes of one kind of list, at `path`; `scope` names the list from the path's parameters."""

    @router.get(path)
    def list_abbreviated_numbers(
        where: AbbreviatedList = Depends(scope), principal: Principal = Depends(authenticated)
    ) -> ItemList[AbbreviatedNumberResource]:
        """Ordered by abbreviated number."""
        return ItemList(items=[AbbreviatedNumberResource.of(entry) for entry in service.list(principal, where)])

    @router.post(path, status_code=201, responses={409: {"model": ErrorBody, "description": "Already in the list"}})
    def add_abbreviated_number(
        body: AbbreviatedNumberBody,
        where: AbbreviatedList = Depends(scope),
        principal: Principal = Depends(authenticated),
    ) -> SavedAbbreviatedNumber:
        return _saved(
            service.add(
                principal,
                where,
                AbbreviatedEntry(body.abbreviated_number, body.destination_number, body.surname, body.name),
            )
        )

    @router.delete(path, status_code=204, response_class=Response)
    def clear_abbreviated_numbers(
        where: AbbreviatedList = Depends(scope), principal: Principal = Depends(authenticated)
    ) -> Response:
        """Delete every number of the list."""
        service.clear(principal, where)
        return Response(status_code=204)

    @router.post(f"{path}/import", description=IMPORT_DESCRIPTION, openapi_extra=IMPORT_BODY, responses=IMPORT_ERRORS)
    async def import_abbreviated_numbers(
        request: Request, where: AbbreviatedList = Depends(scope), principal: Principal = Depends(authenticated)
    ) -> AbbreviatedImportResource:
        report = await asyncio.to_thread(service.import_csv, principal, where, await _uploaded(request))
        return AbbreviatedImportResource(
            added=report.added,
            updated=report.updated,
            unchanged=report.unchanged,
            rejected=[
                RejectedRowResource(line=row.line, **error_body(row.error).model_dump()) for row in report.rejected
            ],
        )

    @router.get(f"{path}/export", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
    def export_abbreviated_numbers(
        where: AbbreviatedList = Depends(scope), principal: Principal = Depends(authenticated)
    ) -> Response:
        """The list as CSV, in the import's format, ordered by abbreviated number; destinations as 00 and the E.164
        digits (`7890,0033123456789,Smith,John`)."""
        return Response(
            service.export_csv(principal, where),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="abbreviated-numbers.csv"'},
        )

    @router.get(f"{path}/{{short}}")
    def get_abbreviated_number(
        short: ShortNumber, where: AbbreviatedList = Depends(scope), principal: Principal = Depends(authenticated)
    ) -> AbbreviatedNumberResource:
        return AbbreviatedNumberResource.of(service.get(principal, where, short))

    @router.put(f"{path}/{{short}}")
    def change_abbreviated_number(
        short: ShortNumber,
        changes: AbbreviatedNumberChanges,
        where: AbbreviatedList = Depends(scope),
        principal: Principal = Depends(authenticated),
    ) -> SavedAbbreviatedNumber:
        """Replace the number's destination and names."""
        return _saved(
            service.update(
                principal, where, AbbreviatedEntry(short, changes.destination_number, changes.surname, changes.name)
            )
        )

    @router.delete(f"{path}/{{short}}", status_code=204, response_class=Response)
    def delete_abbreviated_number(
        short: ShortNumber, where: AbbreviatedList = Depends(scope), principal: Principal = Depends(authenticated)
    ) -> Response:
        service.delete(principal, where, short)
        return Response(status_code=204)


def _saved(entry: AbbreviatedNumber) -> SavedAbbreviatedNumber:
    message_id = advice(entry.short_number)
    return SavedAbbreviatedNumber(
        **AbbreviatedNumberResource.of(entry).model_dump(),
        warning=translate(Language.EN, message_id) if message_id else None,
    )


async def _uploaded(request: Request) -> bytes:
    """The CSV file sent as the body, or as the multipart/form-data field `file`: at most one byte more than the
    import takes, enough for it to refuse a larger file."""
    limit = MAX_IMPORT_BYTES + 1
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=10) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InvalidInput("error.abbreviated.import_file_missing", "file")
            return await upload.read(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])
