"""Two customer accounts that must never see each other, and the routes every test walks through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.peers.rtp_phone import tone
from tonalite.app import Platform
from tonalite.media.g711 import SAMPLE_RATE
from tonalite.media.wav import encode_wav
from tonalite.services.principal import Principal

PASSWORD = "secret-password"
ALICE_LINE = "+33999001234"
ALICE_ALIAS = "+33999001111"
BOB_LINE = "+33999002222"
VOICEMAIL = "/v1/billing-groups/{group}/lines/{number}/voicemail"
GREETING = f"{VOICEMAIL}/greetings/{{kind}}"
GREETING_KIND = "full"
SCREEN_LISTS = "/v1/billing-groups/{group}/lines/{number}/screen-lists"
"""The greeting named by the routes' `{kind}`."""
ABBREVIATED = "/v1/billing-groups/{group}/abbreviated-numbers"
LINE_ABBREVIATED = "/v1/billing-groups/{group}/lines/{number}/abbreviated-numbers"
GROUP_SHORT = "7001"
LINE_SHORT = "2001"
"""The abbreviated numbers named by the routes' `{short}`: one in the billing group's list, one in the line's."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A multipart/form-data body: one file in the field `file`."""

    filename: str
    content: bytes
    content_type: str


GREETING_UPLOAD = Upload("greeting.wav", encode_wav(tone(2 * SAMPLE_RATE)), "audio/wav")
Body = dict[str, Any] | Upload | None


def _abbreviated_routes(path: str, first_digit: str) -> list[tuple[str, str, Body]]:
    """The routes of a list of abbreviated numbers, whose numbers start with `first_digit`."""
    upload = Upload("numbers.csv", f"{first_digit}003,0199001003,Dupont,Jean\r\n".encode(), "text/csv")
    return [
        ("GET", path, None),
        ("POST", path, {"abbreviatedNumber": f"{first_digit}002", "destinationNumber": "0199001002"}),
        ("DELETE", path, None),
        ("POST", f"{path}/import", upload),
        ("GET", f"{path}/export", None),
        ("GET", f"{path}/{{short}}", None),
        ("PUT", f"{path}/{{short}}", {"destinationNumber": "+33199001004", "surname": "Martin"}),
        ("DELETE", f"{path}/{{short}}", None),
    ]


# Every route that reads or changes something of a billing group, with a valid body: used to prove that each one
# needs a token and answers 404 to another account. tests/api/test_tenancy.py checks this list is complete.
GROUP_ROUTES: list[tuple[str, str, Body]] = [
    ("GET", "/v1/billing-groups/{group}/lines", None),
    ("GET", "/v1/billing-groups/{group}/lines/{number}", None),
    ("PATCH", "/v1/billing-groups/{group}/lines/{number}", {"displayName": "Hall"}),
    ("POST", "/v1/billing-groups/{group}/lines/{number}/password-reset", None),
    ("GET", "/v1/billing-groups/{group}/lines/{number}/options", None),
    ("PATCH", "/v1/billing-groups/{group}/lines/{number}/options", {"doNotDisturb": True}),
    ("POST", "/v1/billing-groups/{group}/lines/options", {"lines": [ALICE_LINE], "changes": {"doNotDisturb": True}}),
    ("GET", SCREEN_LISTS, None),
    ("POST", SCREEN_LISTS, {"direction": "incoming", "kind": "blacklist", "number": "+44", "isPrefix": True}),
    ("DELETE", f"{SCREEN_LISTS}/{{entry}}", None),
    ("GET", "/v1/billing-groups/{group}/lines/{number}/registrations", None),
    *_abbreviated_routes(ABBREVIATED, GROUP_SHORT[0]),
    *_abbreviated_routes(LINE_ABBREVIATED, LINE_SHORT[0]),
    ("GET", "/v1/billing-groups/{group}/numbers", None),
    ("GET", f"{VOICEMAIL}/messages", None),
    ("GET", f"{VOICEMAIL}/messages/{{message}}", None),
    ("PATCH", f"{VOICEMAIL}/messages/{{message}}", {"folder": "saved"}),
    ("GET", f"{VOICEMAIL}/messages/{{message}}/audio", None),
    ("DELETE", f"{VOICEMAIL}/messages/{{message}}", None),
    ("GET", f"{VOICEMAIL}/settings", None),
    ("PATCH", f"{VOICEMAIL}/settings", {"doNotRecord": True}),
    ("PUT", GREETING, GREETING_UPLOAD),
    ("GET", GREETING, None),
    ("DELETE", GREETING, None),
]
NOT_JSON_TAILS = [("DELETE", ""), ("GET", "/export"), ("DELETE", "/{short}")]
"""The abbreviated number routes that answer a DELETE's 204 or CSV."""
NOT_JSON = {
    ("GET", f"{VOICEMAIL}/messages/{{message}}/audio"),
    ("DELETE", f"{VOICEMAIL}/messages/{{message}}"),
    ("GET", GREETING),
    ("DELETE", GREETING),
    ("DELETE", f"{SCREEN_LISTS}/{{entry}}"),
    *((method, f"{path}{tail}") for path in (ABBREVIATED, LINE_ABBREVIATED) for method, tail in NOT_JSON_TAILS),
}
"""Routes whose success is not a JSON body: audio, and a DELETE's 204."""
ACCOUNT_ROUTES: list[tuple[str, str, Body]] = [
    ("GET", "/v1/me", None),
    ("GET", "/v1/billing-groups", None),
]


@dataclass(frozen=True, slots=True)
class Customer:
    principal: Principal
    group: int
    headers: dict[str, str]
    sip_password: str
    voicemail_message: int = 0
    """A message in the voicemail of the customer's line, for the routes that name one."""
    screen_entry: int = 0
    """An entry on a screen list of the customer's line, for the routes that name one."""

    @property
    def json_headers(self) -> dict[str, str]:
        """For a body sent as is: httpx's `json=` cannot send the lone surrogates that JSON allows."""
        return {**self.headers, "Content-Type": "application/json"}

    def path(self, template: str, number: str) -> str:
        return template.format(
            group=self.group,
            number=number.removeprefix("+"),
            message=self.voicemail_message,
            kind=GREETING_KIND,
            entry=self.screen_entry,
            short=LINE_SHORT if template.startswith(LINE_ABBREVIATED) else GROUP_SHORT,
        )


def send(
    client: TestClient, method: str, path: str, body: Body, headers: dict[str, str] | None = None
) -> httpx.Response:
    """A request with a JSON body, or a multipart one for an upload."""
    response: httpx.Response
    if isinstance(body, Upload):
        files = {"file": (body.filename, body.content, body.content_type)}
        response = client.request(method, path, headers=headers, files=files)
    else:
        response = client.request(method, path, headers=headers, json=body)
    return response


def open_account(platform: Platform, login: str, line_number: str) -> Customer:
    services = platform.services
    services.accounts.create(login, PASSWORD, f"{login.title()} SA", f"{login}@example.com")
    principal = services.accounts.authenticate(login, PASSWORD)
    group = services.billing_groups.create(principal.account_id, "Siège").id
    _, credentials = services.lines.create(group, line_number, "Accueil")
    token = services.sign_in.issue_api_token(principal)
    return Customer(principal, group, {"Authorization": f"Bearer {token}"}, credentials.password)
