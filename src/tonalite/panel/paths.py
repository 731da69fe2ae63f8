"""The panel's URLs: built in one place for the templates, the redirects and the tests."""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

HOME = "/"
LOGIN = "/login"
LINE_ROUTE = "/billing-groups/{group_id}/lines/{number}"
RENAME = "display-name"
RESET_PASSWORD = "sip-password"
VOICEMAIL_SETTINGS = "voicemail/settings"
VOICEMAIL_MESSAGE = "voicemail/messages/{message_id}"
VOICEMAIL_GREETING = "voicemail/greetings/{kind}"


class LineTab(StrEnum):
    """The tabs of a line's page, in the order they are shown; each is a page of its own."""

    DASHBOARD = "dashboard"
    CALLS = "calls"
    VOICEMAIL = "voicemail"
    SUPPORT = "support"


def group_path(group_id: int) -> str:
    return f"/billing-groups/{group_id}"


def line_path(group_id: int, number: str, page: str = LineTab.DASHBOARD) -> str:
    """A line's tab or form action; the number is written as its E.164 digits, which the services read back."""
    return f"{group_path(group_id)}/lines/{number.removeprefix('+')}/{page}"


def message_path(group_id: int, number: str, message_id: int, action: str) -> str:
    """A voicemail message's audio (`audio`) or form action (`read`, `delete`)."""
    return line_path(group_id, number, f"{VOICEMAIL_MESSAGE.format(message_id=message_id)}/{action}")


def greeting_path(group_id: int, number: str, kind: str, action: str) -> str:
    """A voicemail greeting's audio (`audio`) or form action (`upload`, `delete`)."""
    return line_path(group_id, number, f"{VOICEMAIL_GREETING.format(kind=kind)}/{action}")


def local_path(text: str) -> str:
    """`text` if it is a path of this site, else the home page: a redirect never leaves the panel."""
    parts = urlsplit(text)
    if parts.scheme or parts.netloc or not text.startswith("/") or text.startswith("//") or "\\" in text:
        return HOME
    return text
