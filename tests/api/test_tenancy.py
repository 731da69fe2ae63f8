"""Another account's billing group or line answers exactly like one that does not exist, on every route."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.customers import ACCOUNT_ROUTES, ALICE_LINE, GREETING_KIND, GROUP_ROUTES, Body, Customer, send
from tests.peers.rtp_phone import tone
from tonalite.app import Platform
from tonalite.media.g711 import SAMPLE_RATE
from tonalite.media.wav import write_wav
from tonalite.services.abbreviated_numbers import AbbreviatedList
from tonalite.store.models import GreetingType

NOT_FOUND = {"error": "not_found", "message": "Not found."}


@pytest.fixture
def alice(alice: Customer, platform: Platform, tmp_path: Path) -> Customer:
    """Alice with a greeting too, for the routes that name one."""
    line = platform.services.lines.get(alice.principal, alice.group, ALICE_LINE)
    write_wav(tmp_path / "greeting.wav", tone(2 * SAMPLE_RATE))
    assert platform.services.voicemail_greetings.keep_recording(
        line.id, GreetingType(GREETING_KIND), tmp_path / "greeting.wav"
    )
    return alice


def _alice_line_state(platform: Platform, alice: Customer) -> tuple[object, ...]:
    line = platform.services.lines.get(alice.principal, alice.group, ALICE_LINE)
    messages = platform.services.voicemail.messages(alice.principal, alice.group, ALICE_LINE)
    greetings = platform.services.voicemail_greetings.greetings(alice.principal, alice.group, ALICE_LINE)
    abbreviated = [
        (entry.short_number, entry.destination_number, entry.surname)
        for where in (AbbreviatedList(alice.group), AbbreviatedList(alice.group, ALICE_LINE))
        for entry in platform.services.abbreviated_numbers.list(alice.principal, where)
    ]
    return (
        line.display_name,
        line.ha1_md5,
        line.ha1_sha256,
        line.options.do_not_disturb,
        [(message.id, message.folder) for message in messages],
        greetings,
        abbreviated,
    )


@pytest.mark.parametrize(("method", "template", "body"), GROUP_ROUTES)
def test_another_account_gets_404_and_changes_nothing(
    client: TestClient,
    platform: Platform,
    alice: Customer,
    bob: Customer,
    method: str,
    template: str,
    body: Body,
) -> None:
    before = _alice_line_state(platform, alice)
    attempts = {
        "alice's group": alice.path(template, ALICE_LINE),
        "no such group": replace(alice, group=999_999).path(template, ALICE_LINE),
    }
    if "{number}" in template:
        attempts["alice's line in bob's group"] = replace(
            bob, voicemail_message=alice.voicemail_message, screen_entry=alice.screen_entry
        ).path(template, ALICE_LINE)
    for attempt, path in attempts.items():
        response = send(client, method, path, body, bob.headers)
        assert (response.status_code, response.json()) == (404, NOT_FOUND), attempt
    assert _alice_line_state(platform, alice) == before
    assert send(client, method, alice.path(template, ALICE_LINE), body, alice.headers).is_success


def test_the_tenancy_and_token_tests_cover_every_route(client: TestClient) -> None:
    documented = {
        (method.upper(), path)
        for path, operations in client.get("/openapi.json").json()["paths"].items()
        for method in operations
        if path.startswith("/v1/")
    }
    covered = {(method, template) for method, template, _ in GROUP_ROUTES + ACCOUNT_ROUTES}
    assert documented == covered | {("POST", "/v1/auth/token")}
