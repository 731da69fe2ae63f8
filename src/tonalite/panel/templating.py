"""The Jinja environment of the panel: templates from the package, `t(key, **params)` and the `national` filter."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from tonalite.i18n import format_length, format_moment, translate
from tonalite.panel.paths import (
    CALL_OPTIONS,
    RENAME,
    RESET_PASSWORD,
    SCREEN_LISTS,
    SCREEN_LISTS_CLEAR,
    VOICEMAIL_SETTINGS,
    LineTab,
    abbreviated_path,
    forward_path,
    greeting_path,
    group_path,
    line_path,
    message_path,
    screen_entry_path,
)
from tonalite.panel.session import CSRF_FIELD, Visitor, keep_form_token
from tonalite.services.numbering import format_national
from tonalite.store.models import Language


@pass_context
def moment(context: Context, value: datetime) -> str:
    return format_moment(context["language"], value)


class PanelTemplates:
    def __init__(self) -> None:
        self._environment = Environment(
            loader=PackageLoader("tonalite.panel", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._environment.filters["national"] = format_national
        self._environment.filters["moment"] = moment
        self._environment.filters["minutes"] = format_length
        self._environment.globals.update(
            group_path=group_path,
            abbreviated_path=abbreviated_path,
            line_path=line_path,
            line_tabs=list(LineTab),
            rename=RENAME,
            reset_password=RESET_PASSWORD,
            voicemail_settings=VOICEMAIL_SETTINGS,
            message_path=message_path,
            greeting_path=greeting_path,
            call_options=CALL_OPTIONS,
            forward_path=forward_path,
            screen_lists=SCREEN_LISTS,
            screen_lists_clear=SCREEN_LISTS_CLEAR,
            screen_entry_path=screen_entry_path,
            languages=list(Language),
            csrf_field=CSRF_FIELD,
        )

    def response(self, template: str, visitor: Visitor, status: int = 200, **context: object) -> HTMLResponse:
        """The page (or htmx fragment) in the visitor's language, with the cookie of its form token if new."""
        html = self._environment.get_template(template).render(
            context, visitor=visitor, language=visitor.language, t=partial(translate, visitor.language)
        )
        response = HTMLResponse(html, status_code=status)
        keep_form_token(response, visitor)
        return response
