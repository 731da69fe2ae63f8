from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.customers import ACCOUNT_ROUTES, GROUP_ROUTES, PASSWORD, Customer, send
from tonalite.clock import ManualClock
from tonalite.services.sign_in import API_TOKEN_LIFETIME


def test_a_token_from_login_and_password_opens_the_api(client: TestClient, alice: Customer) -> None:
    response = client.post("/v1/auth/token", json={"login": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    token = response.json()["token"]
    assert PASSWORD not in response.text

    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["login"] == "alice"


def test_unknown_login_and_wrong_password_get_the_same_answer(client: TestClient, alice: Customer) -> None:
    wrong_password = client.post("/v1/auth/token", json={"login": "alice", "password": "not-the-password"})
    unknown_login = client.post("/v1/auth/token", json={"login": "mallory", "password": PASSWORD})
    for response in (wrong_password, unknown_login):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "token" not in response.json()
    assert wrong_password.json() == unknown_login.json()
    assert wrong_password.json() == {"error": "unauthorized", "message": "Wrong login or password."}


@pytest.mark.parametrize(
    ("body", "field"),
    [({"login": "alice"}, "password"), ({"login": "alice", "password": 42}, "password"), ({}, "login")],
)
def test_a_malformed_sign_in_is_a_validation_error(
    client: TestClient, alice: Customer, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/auth/token", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert field in response.json()["message"]


def test_every_route_needs_a_token(client: TestClient, alice: Customer) -> None:
    for method, template, body in ACCOUNT_ROUTES + GROUP_ROUTES:
        response = send(client, method, alice.path(template, "33999001234"), body)
        assert response.status_code == 401, (method, template)
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json() == {
            "error": "unauthorized",
            "message": "Your session has expired, please sign in again.",
        }


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer not-a-token", "Basic YWxpY2U6c2VjcmV0LXBhc3N3b3Jk", "not-a-token", b"Bearer \xe9t\xe9"],
    ids=["empty", "garbage", "basic", "no-scheme", "latin-1"],
)
def test_a_bad_token_is_refused(client: TestClient, alice: Customer, authorization: str | bytes) -> None:
    response = client.get("/v1/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthorized"


def test_a_token_expires(client: TestClient, alice: Customer, clock: ManualClock) -> None:
    assert client.get("/v1/me", headers=alice.headers).status_code == 200
    clock.advance(API_TOKEN_LIFETIME.total_seconds() + 1)
    response = client.get("/v1/me", headers=alice.headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
