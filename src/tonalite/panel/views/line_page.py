"""A line's page, one tab at a time, with what each tab shows; the views of each tab add their form state."""

from __future__ import annotations

from fastapi import Response

from tonalite.panel.paths import LineTab, line_path
from tonalite.panel.routing import Panel
from tonalite.panel.session import SignedIn
from tonalite.services.line_options import FLAGS, FORWARDS, NO_REPLY_DELAY_RANGE
from tonalite.services.screen_lists import MAX_ENTRIES_PER_LIST
from tonalite.services.voicemail import GREETING_SOUNDS
from tonalite.services.voicemail_greetings import GREETING_MS, MAX_UPLOAD_BYTES
from tonalite.store.models import ForwardNature, ScreenDirection, ScreenListKind

GREETING_LIMITS = {
    "size": MAX_UPLOAD_BYTES // (1024 * 1024),
    "min": GREETING_MS[0] // 1000,
    "max": GREETING_MS[1] // 1000,
}


class LinePage:
    def __init__(self, panel: Panel) -> None:
        self._panel = panel
        self._services = panel.services

    def render(
        self,
        member: SignedIn,
        group_id: int,
        number: str,
        tab: LineTab = LineTab.DASHBOARD,
        status: int = 200,
        **form_state: object,
    ) -> Response:
        """The tab's page; `form_state` replaces the tab's defaults (what was typed, an error, a notice)."""
        services, principal = self._services, member.principal
        group = services.billing_groups.get(principal, group_id)
        line = services.lines.get(principal, group_id, number)
        context: dict[str, object] = {}
        if tab == LineTab.DASHBOARD:
            context.update(
                registration=services.registrations.for_line(principal, group_id, number),
                typed_name=line.display_name,
                name_error=None,
                renamed=False,
                credentials=None,
            )
        elif tab == LineTab.CALLS:
            context.update(
                options=line.options,
                forwards=FORWARDS,
                flags=FLAGS,
                natures=list(ForwardNature),
                no_reply_delay=NO_REPLY_DELAY_RANGE,
                group_lines=services.lines.list(principal, group_id),
                group_aliases=services.numbers.list_alias_numbers(principal, group_id),
                screen_entries=services.screen_lists.list(principal, group_id, number),
                screen_list_max=MAX_ENTRIES_PER_LIST,
                directions=list(ScreenDirection),
                kinds=list(ScreenListKind),
                history=services.line_options.history(principal, group_id, number),
                typed={},
                errors={},
                saved=None,
            )
        elif tab == LineTab.VOICEMAIL:
            context.update(
                messages=services.voicemail.messages(principal, group_id, number),
                settings=services.voicemail_settings.get(principal, group_id, number),
                settings_form=None,
                settings_errors={},
                settings_saved=False,
                greetings=services.voicemail_greetings.greetings(principal, group_id, number),
                greeting_kinds=list(GREETING_SOUNDS),
                greeting_limits=GREETING_LIMITS,
                greeting_errors={},
                greeting_saved=None,
            )
        context.update(form_state)
        return self._panel.templates.response(
            "line.html",
            member.visitor,
            status,
            here=line_path(group_id, line.number, tab),
            group=group,
            line=line,
            tab=tab,
            sip_domain=self._panel.sip_domain,
            **context,
        )
