"""No response gives away a password hash, a digest HA1, a SIP password or a lock PIN."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.customers import ACCOUNT_ROUTES, ALICE_LINE, GROUP_ROUTES, NOT_JSON, PASSWORD, Customer, send
from tonalite.app import Platform
from tonalite.store.models import Account

PIN = "8642"
RESET = "/v1/billing-groups/{group}/lines/{number}/password-reset"


def _values(document: Any) -> list[Any]:
    if isinstance(document, dict):
        return [value for item in document.values() for value in _values(item)]
    if isinstance(document, list):
        return [value for item in document for value in _values(item)]
    return [document]


def test_no_response_holds_a_secret(client: TestClient, platform: Platform, alice: Customer) -> None:
    options = alice.path("/v1/billing-groups/{group}/lines/{number}/options", ALICE_LINE)
    locked = client.patch(options, headers=alice.headers, json={"lockOutCall": True, "lockOutCallPassword": PIN})
    assert locked.status_code == 200
    line = platform.services.lines.get(alice.principal, alice.group, ALICE_LINE)
    with platform.db.session() as session:
        account_hash = session.scalars(select(Account.password_hash).where(Account.login == "alice")).one()
    hidden = [
        PASSWORD,
        account_hash,
        alice.sip_password,
        line.ha1_md5,
        line.ha1_sha256,
        line.options.lock_out_call_pin_hash,
    ]

    responses = [locked] + [
        send(client, method, alice.path(template, ALICE_LINE), body, alice.headers)
        for method, template, body in ACCOUNT_ROUTES + GROUP_ROUTES
        if template != RESET and (method, template) not in NOT_JSON
    ]
    for response in responses:
        assert response.status_code in (200, 201), response.request.url
        text = response.text.lower()
        assert "ha1" not in text and "hash" not in text and "password" not in text, response.request.url
        assert not any(secret.lower() in text for secret in hidden), response.request.url
        assert PIN not in _values(json.loads(response.text)), response.request.url


def test_the_password_reset_shows_the_new_password_and_nothing_else(
    client: TestClient, platform: Platform, alice: Customer
) -> None:
    response = client.post(alice.path(RESET, ALICE_LINE), headers=alice.headers)
    line = platform.services.lines.get(alice.principal, alice.group, ALICE_LINE)
    text = response.text.lower()
    assert "ha1" not in text and "hash" not in text
    assert line.ha1_md5 not in text and line.ha1_sha256 not in text
    assert alice.sip_password.lower() not in text
    assert response.json()["password"]
