"""Screen lists through the API, and the same option changes on several lines at once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.customers import ALICE_LINE, BOB_LINE, SCREEN_LISTS, Customer
from tonalite.app import Platform
from tonalite.services.screen_lists import screened
from tonalite.store.models import ScreenDirection

BULK = "/v1/billing-groups/{group}/lines/options"
SECOND_LINE = "+33999001235"


def test_entries_are_added_listed_and_deleted(client: TestClient, platform: Platform, alice: Customer) -> None:
    path = alice.path(SCREEN_LISTS, ALICE_LINE)
    added = client.post(
        path, headers=alice.headers, json={"direction": "incoming", "kind": "whitelist", "number": "01 99 00 00 01"}
    )
    assert added.status_code == 201
    entry = added.json()
    assert entry | {"number": "+33199000001", "isPrefix": False, "screenListType": "incomingWhiteList"} == entry
    listed = client.get(path, headers=alice.headers).json()
    assert listed["total"] == 2  # with the fixture's blacklisted 0899 prefix
    assert {(each["number"], each["isPrefix"], each["screenListType"]) for each in listed["items"]} == {
        ("+33899", True, "incomingBlackList"),
        ("+33199000001", False, "incomingWhiteList"),
    }

    line_id = platform.services.lines.get(alice.principal, alice.group, ALICE_LINE).id
    incoming = platform.services.line_directory.screen_entries(line_id)
    assert not screened(incoming, "+33199000001", ScreenDirection.INCOMING)
    assert screened(incoming, None, ScreenDirection.INCOMING)

    deleted = client.delete(f"{path}/{entry['id']}", headers=alice.headers)
    assert deleted.status_code == 204
    assert client.delete(f"{path}/{entry['id']}", headers=alice.headers).status_code == 404
    assert client.get(path, headers=alice.headers).json()["total"] == 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"direction": "incoming", "kind": "blacklist", "number": "0899", "isPrefix": True}, 409, "number"),
        ({"direction": "incoming", "kind": "blacklist", "number": "0899"}, 422, "number"),
        ({"direction": "incoming", "kind": "blacklist", "number": "abc", "isPrefix": True}, 422, "number"),
        ({"direction": "sideways", "kind": "blacklist", "number": "+44", "isPrefix": True}, 422, "direction"),
        ({"direction": "incoming", "kind": "greylist", "number": "+44", "isPrefix": True}, 422, "kind"),
        ({"direction": "incoming", "kind": "blacklist", "number": "+44", "isPrefix": "yes"}, 422, "isPrefix"),
        ({"direction": "incoming", "kind": "blacklist"}, 422, "number"),
        ({"direction": "incoming", "kind": "blacklist", "number": "+44", "is_prefix": True}, 422, "is_prefix"),
    ],
)
def test_invalid_entries_are_refused(
    client: TestClient, alice: Customer, body: dict[str, Any], status: int, field: str
) -> None:
    path = alice.path(SCREEN_LISTS, ALICE_LINE)
    response = client.post(path, headers=alice.json_headers, content=json.dumps(body))
    assert (response.status_code, response.json()["field"]) == (status, field)
    assert response.json()["message"]
    assert client.get(path, headers=alice.headers).json()["total"] == 1


def test_another_accounts_entry_cannot_be_deleted_through_ones_own_line(
    client: TestClient, alice: Customer, bob: Customer
) -> None:
    response = client.delete(f"{bob.path(SCREEN_LISTS, BOB_LINE)}/{alice.screen_entry}", headers=bob.headers)
    assert response.status_code == 404
    assert client.get(alice.path(SCREEN_LISTS, ALICE_LINE), headers=alice.headers).json()["total"] == 1


def test_options_are_changed_on_several_lines_at_once(client: TestClient, platform: Platform, alice: Customer) -> None:
    platform.services.lines.create(alice.group, SECOND_LINE)
    body = {
        "lines": [ALICE_LINE, "0999001235"],
        "changes": {"forwardUnconditional": True, "forwardUnconditionalNumber": "01 99 00 00 01"},
    }
    response = client.post(alice.path(BULK, ALICE_LINE), headers=alice.headers, json=body)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(item["number"], item["forwardUnconditionalNumber"]) for item in items] == [
        (ALICE_LINE, "+33199000001"),
        (SECOND_LINE, "+33199000001"),
    ]
    options = f"/v1/billing-groups/{alice.group}/lines/{SECOND_LINE.removeprefix('+')}/options"
    assert client.get(options, headers=alice.headers).json()["forwardUnconditional"] is True


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"lines": [ALICE_LINE, "+33999001235"], "changes": {"doNotDisturb": True}}, 404, None),
        ({"lines": [ALICE_LINE, BOB_LINE], "changes": {"doNotDisturb": True}}, 404, None),
        ({"lines": [ALICE_LINE], "changes": {"forwardBusy": True}}, 422, "forwardBusyNumber"),
        ({"lines": [], "changes": {"doNotDisturb": True}}, 422, "lines"),
        ({"lines": [ALICE_LINE], "changes": {"colour": "red"}}, 422, "changes.colour"),
        ({"lines": [ALICE_LINE]}, 422, "changes"),
    ],
)
def test_several_lines_change_all_or_nothing(
    client: TestClient, alice: Customer, bob: Customer, body: dict[str, Any], status: int, field: str | None
) -> None:
    options = alice.path("/v1/billing-groups/{group}/lines/{number}/options", ALICE_LINE)
    before = client.get(options, headers=alice.headers).json()
    response = client.post(alice.path(BULK, ALICE_LINE), headers=alice.headers, json=body)
    assert (response.status_code, response.json().get("field")) == (status, field)
    assert client.get(options, headers=alice.headers).json() == before
