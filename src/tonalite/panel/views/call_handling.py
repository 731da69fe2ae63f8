"""A line's "Gestion des appels" tab: its forwards (each can be applied to other lines of the billing group at
once), its other call options, its screen lists; every change is made as coming from the panel."""

# No `from __future__ import annotations`: FastAPI must evaluate the Annotated dependencies, which name
# this closure's local variables.

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Response
from fastapi.responses import RedirectResponse

from tonalite.panel.paths import (
    CALL_FORWARD,
    CALL_OPTIONS,
    LINE_ROUTE,
    SCREEN_ENTRY_DELETE,
    SCREEN_LISTS,
    SCREEN_LISTS_CLEAR,
    LineTab,
    line_path,
)
from tonalite.panel.routing import Panel
from tonalite.panel.session import SignedIn
from tonalite.panel.views.line_page import LinePage
from tonalite.services.errors import Conflict, InvalidInput
from tonalite.services.line_options import NO_REPLY_DELAY_RANGE, PIN_FIELD
from tonalite.store.models import ChangeOrigin, ForwardNature, ScreenDirection, ScreenListKind


class Forward(StrEnum):
    """A forward, as its form's URL names it."""

    UNCONDITIONAL = "unconditional"
    NO_REPLY = "no_reply"
    BUSY = "busy"
    BACKUP = "backup"

    @property
    def option(self) -> str:
        return f"forward_{self.value}"


Checked = Annotated[bool, Form()]


def routes(panel: Panel) -> APIRouter:
    router = panel.router()
    options = panel.services.line_options
    screen_lists = panel.services.screen_lists
    signed_in_form = Depends(panel.sessions.signed_in_form)
    page = LinePage(panel)

    def refused(
        member: SignedIn,
        group_id: int,
        number: str,
        error: InvalidInput | Conflict,
        typed: dict[str, object],
        form: str = "",
    ) -> Response:
        """The tab again, as typed, with the error next to its field (`form` + its name); nothing was changed."""
        errors = {f"{form}{error.field}": error.message(member.visitor.language)}
        return page.render(member, group_id, number, LineTab.CALLS, status=422, typed=typed, errors=errors)

    def back_to_tab(group_id: int, number: str) -> Response:
        return RedirectResponse(line_path(group_id, number, LineTab.CALLS), status_code=303)

    @router.post(f"{LINE_ROUTE}/{CALL_FORWARD}")
    def change_forward(
        group_id: int,
        number: str,
        forward: Forward,
        member: Annotated[SignedIn, signed_in_form],
        active: Checked = False,
        nature: Annotated[ForwardNature, Form()] = ForwardNature.NUMBER,
        target: Annotated[str, Form()] = "",
        delay: Annotated[str, Form()] = "",
        also: Annotated[list[str] | None, Form()] = None,
    ) -> Response:
        """The forward on this line and on the lines ticked in `also`: on all of them, or on none."""
        name = forward.option
        typed: dict[str, object] = {name: active, f"{name}_nature": nature, f"{name}_number": target}
        try:
            changes = dict(typed)
            if forward == Forward.NO_REPLY:
                typed["forward_no_reply_delay"] = delay
                changes["forward_no_reply_delay"] = _delay(delay)
            options.update_many(member.principal, group_id, [number, *(also or [])], changes, ChangeOrigin.PANEL)
        except InvalidInput as error:
            return refused(member, group_id, number, error, {**typed, f"{name}_also": also or []})
        return page.render(member, group_id, number, LineTab.CALLS, saved=name)

    @router.post(f"{LINE_ROUTE}/{CALL_OPTIONS}")
    def change_options(
        group_id: int,
        number: str,
        member: Annotated[SignedIn, signed_in_form],
        do_not_disturb: Checked = False,
        absent_subscriber: Checked = False,
        anonymous_call_rejection: Checked = False,
        identification_restriction: Checked = False,
        call_waiting: Checked = False,
        lock_out_call: Checked = False,
        lock_out_call_password: Annotated[str, Form()] = "",
        display_number: Annotated[str, Form()] = "",
    ) -> Response:
        typed: dict[str, object] = {
            "do_not_disturb": do_not_disturb,
            "absent_subscriber": absent_subscriber,
            "anonymous_call_rejection": anonymous_call_rejection,
            "identification_restriction": identification_restriction,
            "call_waiting": call_waiting,
            "lock_out_call": lock_out_call,
            "display_number": display_number,
        }
        changes = {**typed, PIN_FIELD: lock_out_call_password} if lock_out_call_password else typed
        try:
            options.update(member.principal, group_id, number, changes, ChangeOrigin.PANEL)
        except InvalidInput as error:
            return refused(member, group_id, number, error, typed)
        return page.render(member, group_id, number, LineTab.CALLS, saved="options")

    @router.post(f"{LINE_ROUTE}/{SCREEN_LISTS}")
    def add_screen_entry(
        group_id: int,
        number: str,
        member: Annotated[SignedIn, signed_in_form],
        direction: Annotated[ScreenDirection, Form()],
        kind: Annotated[ScreenListKind, Form()],
        value: Annotated[str, Form()] = "",
        is_prefix: Checked = False,
    ) -> Response:
        try:
            screen_lists.add(member.principal, group_id, number, direction, kind, value, is_prefix)
        except (InvalidInput, Conflict) as error:
            typed = {"screen_direction": direction, "screen_kind": kind, "screen_is_prefix": is_prefix}
            return refused(member, group_id, number, error, {**typed, "screen_number": value}, form="screen_")
        return page.render(member, group_id, number, LineTab.CALLS, saved="screen_lists")

    @router.post(f"{LINE_ROUTE}/{SCREEN_ENTRY_DELETE}")
    def delete_screen_entry(
        group_id: int, number: str, entry_id: int, member: Annotated[SignedIn, signed_in_form]
    ) -> Response:
        screen_lists.delete(member.principal, group_id, number, entry_id)
        return back_to_tab(group_id, number)

    @router.post(f"{LINE_ROUTE}/{SCREEN_LISTS_CLEAR}")
    def clear_screen_list(
        group_id: int,
        number: str,
        member: Annotated[SignedIn, signed_in_form],
        direction: Annotated[ScreenDirection, Form()],
        kind: Annotated[ScreenListKind, Form()],
    ) -> Response:
        screen_lists.clear(member.principal, group_id, number, direction, kind)
        return back_to_tab(group_id, number)

    return router


def _delay(text: str) -> int:
    """The no-reply delay as typed; the service checks its range."""
    if not (text.strip().isascii() and text.strip().isdigit()):
        low, high = NO_REPLY_DELAY_RANGE
        raise InvalidInput("error.delay_range", "forward_no_reply_delay", min=low, max=high)
    return int(text)
