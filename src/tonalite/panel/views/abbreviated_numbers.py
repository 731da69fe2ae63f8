"""A billing group's "Numéros abrégés" page: its list (7…) or one of its lines' (2…, `?line=`), with an Actions
menu to add, edit, delete, clear, import a CSV file and export one."""

# No `from __future__ import annotations`: FastAPI must evaluate the Annotated dependencies, which name
# this closure's local variables.

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile

from tonalite.i18n import translate
from tonalite.panel.paths import ABBREVIATED_ROUTE, abbreviated_path
from tonalite.panel.routing import Panel
from tonalite.panel.session import SignedIn
from tonalite.services.abbreviated_numbers import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    AbbreviatedEntry,
    AbbreviatedList,
    advice,
)
from tonalite.services.errors import Conflict, InvalidInput, ServiceError
from tonalite.services.numbering import format_national

EDIT_ROUTE = ABBREVIATED_ROUTE + "/{short}/edit"
EMPTY_FORM = AbbreviatedEntry("", "")


class AbbreviatedPage:
    def __init__(self, panel: Panel) -> None:
        self._panel = panel
        self._services = panel.services

    def render(self, member: SignedIn, where: AbbreviatedList, status: int = 200, **form_state: object) -> Response:
        """The list's page; `form_state` replaces its defaults (what was typed, errors, a notice, a report)."""
        services, principal = self._services, member.principal
        group = services.billing_groups.get(principal, where.group_id)
        line = services.lines.get(principal, where.group_id, where.line_number) if where.line_number else None
        context: dict[str, object] = {
            "editing": None,
            "typed": EMPTY_FORM,
            "form_errors": {},
            "notice": None,
            "advice": None,
            "report": None,
            "import_error": None,
            "clear_error": None,
        }
        context.update(form_state)
        return self._panel.templates.response(
            "abbreviated_numbers.html",
            member.visitor,
            status,
            here=abbreviated_path(where.group_id, where.line_number),
            group=group,
            line=line,
            line_number=line.number if line else None,
            lines=services.lines.list(principal, where.group_id),
            entries=services.abbreviated_numbers.list(principal, where),
            first_digit=where.first_digit,
            limits={"rows": MAX_IMPORT_ROWS, "size": MAX_IMPORT_BYTES // 1024, "example": _example(where)},
            **context,
        )


def routes(panel: Panel) -> APIRouter:
    router = panel.router()
    service = panel.services.abbreviated_numbers
    signed_in = Depends(panel.sessions.signed_in)
    signed_in_form = Depends(panel.sessions.signed_in_form)
    page = AbbreviatedPage(panel)

    @router.get(ABBREVIATED_ROUTE)
    def abbreviated_numbers(group_id: int, member: Annotated[SignedIn, signed_in], line: str | None = None) -> Response:
        return page.render(member, AbbreviatedList(group_id, line))

    @router.post(f"{ABBREVIATED_ROUTE}/add")
    def add(
        group_id: int,
        member: Annotated[SignedIn, signed_in_form],
        line: str | None = None,
        abbreviated_number: Annotated[str, Form()] = "",
        destination_number: Annotated[str, Form()] = "",
        surname: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
    ) -> Response:
        """A refusal re-shows the form as typed, with the error at its field."""
        where = AbbreviatedList(group_id, line)
        typed = AbbreviatedEntry(abbreviated_number, destination_number, surname, name)
        try:
            saved = service.add(member.principal, where, typed)
        except (InvalidInput, Conflict) as error:
            return page.render(member, where, 422, typed=typed, form_errors=_at_field(error, member))
        return _saved(page, member, where, saved.short_number)

    @router.get(EDIT_ROUTE)
    def edit_form(
        group_id: int, short: str, member: Annotated[SignedIn, signed_in], line: str | None = None
    ) -> Response:
        where = AbbreviatedList(group_id, line)
        stored = service.get(member.principal, where, short)
        destination = format_national(stored.destination_number)
        typed = AbbreviatedEntry(stored.short_number, destination, stored.surname, stored.name)
        return page.render(member, where, editing=stored.short_number, typed=typed)

    @router.post(EDIT_ROUTE)
    def edit(
        group_id: int,
        short: str,
        member: Annotated[SignedIn, signed_in_form],
        line: str | None = None,
        destination_number: Annotated[str, Form()] = "",
        surname: Annotated[str, Form()] = "",
        name: Annotated[str, Form()] = "",
    ) -> Response:
        where = AbbreviatedList(group_id, line)
        typed = AbbreviatedEntry(short, destination_number, surname, name)
        try:
            saved = service.update(member.principal, where, typed)
        except InvalidInput as error:
            errors = _at_field(error, member)
            return page.render(member, where, 422, editing=short, typed=typed, form_errors=errors)
        return _saved(page, member, where, saved.short_number)

    @router.post(ABBREVIATED_ROUTE + "/{short}/delete")
    def delete(
        group_id: int, short: str, member: Annotated[SignedIn, signed_in_form], line: str | None = None
    ) -> Response:
        where = AbbreviatedList(group_id, line)
        service.delete(member.principal, where, short)
        notice = translate(member.visitor.language, "abbreviated.deleted", short=short)
        return page.render(member, where, notice=notice)

    @router.post(f"{ABBREVIATED_ROUTE}/clear")
    def clear(
        group_id: int,
        member: Annotated[SignedIn, signed_in_form],
        line: str | None = None,
        confirm: Annotated[bool, Form()] = False,
    ) -> Response:
        where = AbbreviatedList(group_id, line)
        language = member.visitor.language
        if not confirm:
            return page.render(
                member, where, 422, clear_error=translate(language, "error.abbreviated.clear_unconfirmed")
            )
        count = service.clear(member.principal, where)
        return page.render(member, where, notice=translate(language, "abbreviated.cleared", count=count))

    @router.post(f"{ABBREVIATED_ROUTE}/import")
    def import_csv(
        group_id: int,
        member: Annotated[SignedIn, signed_in_form],
        line: str | None = None,
        file: Annotated[UploadFile | None, File()] = None,
    ) -> Response:
        """The good rows are saved and counted, the bad ones listed with their line and reason; a refused file is
        said next to the file field."""
        where = AbbreviatedList(group_id, line)
        try:
            if file is None or not file.filename:
                raise InvalidInput("error.abbreviated.import_file_missing", "file")
            report = service.import_csv(member.principal, where, file.file.read(MAX_IMPORT_BYTES + 1))
        except InvalidInput as error:
            return page.render(member, where, 422, import_error=error.message(member.visitor.language))
        return page.render(member, where, report=report)

    @router.get(f"{ABBREVIATED_ROUTE}/export")
    def export_csv(group_id: int, member: Annotated[SignedIn, signed_in], line: str | None = None) -> Response:
        where = AbbreviatedList(group_id, line)
        exported = service.export_csv(member.principal, where)
        filename = f"numeros-abreges-{''.join(filter(str.isdigit, line)) if line else group_id}.csv"
        return Response(
            exported,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    return router


def _saved(page: AbbreviatedPage, member: SignedIn, where: AbbreviatedList, short: str) -> Response:
    """The list again, saying the number is saved, with the advice about 3-digit numbers when it has 3."""
    language = member.visitor.language
    advice_id = advice(short)
    return page.render(
        member,
        where,
        notice=translate(language, "abbreviated.saved", short=short),
        advice=translate(language, advice_id) if advice_id else None,
    )


def _at_field(error: ServiceError, member: SignedIn) -> dict[str | None, str]:
    return {error.field: error.message(member.visitor.language)}


def _example(where: AbbreviatedList) -> str:
    return f"{where.first_digit}890,0033123456789,Dupont,Jean"
