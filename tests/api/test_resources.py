from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.customers import ALICE_ALIAS, ALICE_LINE, Customer
from tonalite.app import Platform
from tonalite.sip.auth import DigestAlgorithm, digest_ha1

LINE = "/v1/billing-groups/{group}/lines/{number}"


def test_me_is_the_callers_account(client: TestClient, alice: Customer) -> None:
    response = client.get("/v1/me", headers=alice.headers)
    assert response.status_code == 200
    assert response.json() == {
        "id": alice.principal.account_id,
        "login": "alice",
        "companyName": "Alice SA",
        "contactEmail": "alice@example.com",
        "mobileNumber": None,
        "language": "fr",
        "country": "FR",
    }


def test_billing_groups_are_the_callers_only(client: TestClient, alice: Customer, bob: Customer) -> None:
    response = client.get("/v1/billing-groups", headers=alice.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    [group] = body["items"]
    assert group["id"] == alice.group
    assert group["description"] == "Siège"
    assert group["createdAt"]


def test_lines_of_a_billing_group(client: TestClient, platform: Platform, alice: Customer) -> None:
    platform.services.lines.create(alice.group, "+33999001235", "Atelier")
    response = client.get(f"/v1/billing-groups/{alice.group}/lines", headers=alice.headers)
    assert response.status_code == 200
    assert response.json()["total"] == 2
    assert response.json()["items"][0] == {
        "number": ALICE_LINE,
        "sipUsername": "0033999001234",
        "displayName": "Accueil",
        "plan": "standard",
        "simultaneousCalls": 2,
        "sipDomain": platform.settings.sip_domain,
    }
    assert [line["number"] for line in response.json()["items"]] == [ALICE_LINE, "+33999001235"]


@pytest.mark.parametrize("number", ["33999001234", "%2B33999001234", "+33999001234", "0999001234"])
def test_a_line_is_found_by_its_number_with_or_without_plus(client: TestClient, alice: Customer, number: str) -> None:
    response = client.get(f"/v1/billing-groups/{alice.group}/lines/{number}", headers=alice.headers)
    assert response.status_code == 200
    assert response.json()["number"] == ALICE_LINE


@pytest.mark.parametrize("number", ["not-a-number", "33999009999", "1" * 300, "%2B"])
def test_a_malformed_or_unknown_number_is_not_found(client: TestClient, alice: Customer, number: str) -> None:
    response = client.get(f"/v1/billing-groups/{alice.group}/lines/{number}", headers=alice.headers)
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Not found."}


@pytest.mark.parametrize("number", ["33999001234", "%2B33999001234"])
def test_a_line_is_renamed(client: TestClient, platform: Platform, alice: Customer, number: str) -> None:
    path = f"/v1/billing-groups/{alice.group}/lines/{number}"
    response = client.patch(path, headers=alice.headers, json={"displayName": "  Hall  "})
    assert response.status_code == 200
    assert response.json()["displayName"] == "Hall"
    assert client.get(path, headers=alice.headers).json()["displayName"] == "Hall"
    assert platform.services.lines.get(alice.principal, alice.group, ALICE_LINE).display_name == "Hall"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"displayName": "x" * 101}, "displayName"),
        ({"displayName": "Hall\u0007"}, "displayName"),
        ({"displayName": 42}, "displayName"),
        ({"displayName": None}, "displayName"),
        ({"displayName": "\ud800"}, "displayName"),
        ({"displayName": "Hall", "plan": "gold"}, "plan"),
        ({"display_name": "Hall"}, "displayName"),
        ({}, "displayName"),
    ],
)
def test_an_invalid_rename_changes_nothing(
    client: TestClient, platform: Platform, alice: Customer, body: dict[str, Any], field: str
) -> None:
    response = client.patch(alice.path(LINE, ALICE_LINE), headers=alice.json_headers, content=json.dumps(body))
    assert response.status_code == 422
    assert response.json()["error"] == "invalid"
    assert response.json()["field"] == field
    assert response.json()["message"]
    assert platform.services.lines.get(alice.principal, alice.group, ALICE_LINE).display_name == "Accueil"


def test_a_password_reset_shows_the_new_password_once(client: TestClient, platform: Platform, alice: Customer) -> None:
    response = client.post(alice.path(LINE + "/password-reset", ALICE_LINE), headers=alice.headers)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    credentials = response.json()
    assert set(credentials) == {"number", "username", "password", "domain"}
    assert credentials["number"] == ALICE_LINE
    assert credentials["username"] == "0033999001234"
    assert credentials["domain"] == platform.settings.sip_domain
    assert credentials["password"] != alice.sip_password
    line = platform.services.lines.get(alice.principal, alice.group, ALICE_LINE)
    assert line.ha1_md5 == digest_ha1(
        DigestAlgorithm.MD5, credentials["username"], credentials["domain"], credentials["password"]
    )
    assert credentials["password"] not in client.get(alice.path(LINE, ALICE_LINE), headers=alice.headers).text


def test_alias_numbers_of_a_billing_group(client: TestClient, alice: Customer) -> None:
    response = client.get(f"/v1/billing-groups/{alice.group}/numbers", headers=alice.headers)
    assert response.status_code == 200
    assert response.json() == {
        "items": [{"number": ALICE_ALIAS, "description": "Standard", "featureType": "none"}],
        "total": 1,
    }
