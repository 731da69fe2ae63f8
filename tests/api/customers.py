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
"""The greeting named by the routes' `{kind}`."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A multipart/form-data body: one file in the field `file`."""

    filename: str
    content: bytes
    content_type: str


GREETING_UPLOAD = Upload("greeting.wav", encode_wav(tone(2 * SAMPLE_RATE)), "audio/wav")
Body = dict[str, Any] | Upload | None

# Every route that reads or changes something of a billing group, with a valid body: used to prove that each one
# needs a token and answers 404 to another account. tests/api/test_tenancy.py checks this list is complete.
GROUP_ROUTES: list[tuple[str, str, Body]] = [
    ("GET", "/v1/billing-groups/{group}/lines", None),
    ("GET", "/v1/billing-groups/{group}/lines/{number}", None),
    ("PATCH", "/v1/billing-groups/{group}/lines/{number}", {"displayName": "Hall"}),
    ("POST", "/v1/billing-groups/{group}/lines/{number}/password-reset", None),
    ("GET", "/v1/billing-groups/{group}/lines/{number}/options", None),
    ("PATCH", "/v1/billing-groups/{group}/lines/{number}/options", {"doNotDisturb": True}),
    ("GET", "/v1/billing-groups/{group}/lines/{number}/registrations", None),
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
NOT_JSON = {
    ("GET", f"{VOICEMAIL}/messages/{{message}}/audio"),
    ("DELETE", f"{VOICEMAIL}/messages/{{message}}"),
    ("GET", GREETING),
    ("DELETE", GREETING),
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

    @property
    def json_headers(self) -> dict[str, str]:
        """For a body sent as is: httpx's `json=` cannot send the lone surrogates that JSON allows."""
        return {**self.headers, "Content-Type": "application/json"}

    def path(self, template: str, number: str) -> str:
        return template.format(
            group=self.group, number=number.removeprefix("+"), message=self.voicemail_message, kind=GREETING_KIND
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
