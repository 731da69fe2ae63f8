"""The panel's URLs: built in one place for the templates, the redirects and the tests."""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

HOME = "/"
LOGIN = "/login"
LINE_ROUTE = "/billing-groups/{group_id}/lines/{number}"
ABBREVIATED_ROUTE = "/billing-groups/{group_id}/abbreviated-numbers"
RENAME = "display-name"
RESET_PASSWORD = "sip-password"
VOICEMAIL_SETTINGS = "voicemail/settings"
VOICEMAIL_MESSAGE = "voicemail/messages/{message_id}"
VOICEMAIL_GREETING = "voicemail/greetings/{kind}"
CALL_FORWARD = "calls/forwards/{forward}"
CALL_OPTIONS = "calls/options"
SCREEN_LISTS = "calls/screen-lists"
SCREEN_LISTS_CLEAR = f"{SCREEN_LISTS}/clear"
SCREEN_ENTRY_DELETE = f"{SCREEN_LISTS}/{{entry_id}}/delete"


class LineTab(StrEnum):
    """The tabs of a line's page, in the order they are shown; each is a page of its own."""

    DASHBOARD = "dashboard"
    CALLS = "calls"
    VOICEMAIL = "voicemail"
    SUPPORT = "support"


def group_path(group_id: int) -> str:
    return f"/billing-groups/{group_id}"


def abbreviated_path(group_id: int, line_number: str | None = None, action: str = "") -> str:
    """The abbreviated numbers of a billing group, or of one of its lines (`?line=` and its E.164 digits), or a
    form action of that list (`add`, `7001/edit`, `export`)."""
    path = ABBREVIATED_ROUTE.format(group_id=group_id) + (f"/{action}" if action else "")
    return f"{path}?line={line_number.removeprefix('+')}" if line_number else path


def line_path(group_id: int, number: str, page: str = LineTab.DASHBOARD) -> str:
    """A line's tab or form action; the number is written as its E.164 digits, which the services read back."""
    return f"{group_path(group_id)}/lines/{number.removeprefix('+')}/{page}"


def message_path(group_id: int, number: str, message_id: int, action: str) -> str:
    """A voicemail message's audio (`audio`) or form action (`read`, `delete`)."""
    return line_path(group_id, number, f"{VOICEMAIL_MESSAGE.format(message_id=message_id)}/{action}")


def greeting_path(group_id: int, number: str, kind: str, action: str) -> str:
    """A voicemail greeting's audio (`audio`) or form action (`upload`, `delete`)."""
    return line_path(group_id, number, f"{VOICEMAIL_GREETING.format(kind=kind)}/{action}")


def forward_path(group_id: int, number: str, option: str) -> str:
    """The form action of a forward, named by its option (`forward_no_reply`)."""
    return line_path(group_id, number, CALL_FORWARD.format(forward=option.removeprefix("forward_")))


def screen_entry_path(group_id: int, number: str, entry_id: int) -> str:
    """The form action that takes an entry off its screen list."""
    return line_path(group_id, number, SCREEN_ENTRY_DELETE.format(entry_id=entry_id))


def local_path(text: str) -> str:
    """`text` if it is a path of this site, else the home page: a redirect never leaves the panel."""
    parts = urlsplit(text)
    if parts.scheme or parts.netloc or not text.startswith("/") or text.startswith("//") or "\\" in text:
        return HOME
    return text
