"""Another account's billing group or line answers exactly like one that does not exist, on every route."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.customers import ACCOUNT_ROUTES, ALICE_LINE, GROUP_ROUTES, Customer
from tonalite.app import Platform

NOT_FOUND = {"error": "not_found", "message": "Not found."}


def _alice_line_state(platform: Platform, alice: Customer) -> tuple[object, ...]:
    line = platform.services.lines.get(alice.principal, alice.group, ALICE_LINE)
    messages = platform.services.voicemail.messages(alice.principal, alice.group, ALICE_LINE)
    return (
        line.display_name,
        line.ha1_md5,
        line.ha1_sha256,
        line.options.do_not_disturb,
        [(message.id, message.folder) for message in messages],
    )


@pytest.mark.parametrize(("method", "template", "body"), GROUP_ROUTES)
def test_another_account_gets_404_and_changes_nothing(
    client: TestClient,
    platform: Platform,
    alice: Customer,
    bob: Customer,
    method: str,
    template: str,
    body: dict[str, Any] | None,
) -> None:
    before = _alice_line_state(platform, alice)
    attempts = {
        "alice's group": alice.path(template, ALICE_LINE),
        "no such group": template.format(group=999_999, number="33999001234", message=alice.voicemail_message),
    }
    if "{number}" in template:
        attempts["alice's line in bob's group"] = replace(bob, voicemail_message=alice.voicemail_message).path(
            template, ALICE_LINE
        )
    for attempt, path in attempts.items():
        response = client.request(method, path, headers=bob.headers, json=body)
        assert (response.status_code, response.json()) == (404, NOT_FOUND), attempt
    assert _alice_line_state(platform, alice) == before
    assert client.request(method, alice.path(template, ALICE_LINE), headers=alice.headers, json=body).is_success


def test_the_tenancy_and_token_tests_cover_every_route(client: TestClient) -> None:
    documented = {
        (method.upper(), path)
        for path, operations in client.get("/openapi.json").json()["paths"].items()
        for method in operations
        if path.startswith("/v1/")
    }
    covered = {(method, template) for method, template, _ in GROUP_ROUTES + ACCOUNT_ROUTES}
    assert documented == covered | {("POST", "/v1/auth/token")}
