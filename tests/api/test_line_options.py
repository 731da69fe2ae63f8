from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.customers import ALICE_LINE, Customer
from tonalite.api.schemas import LineOptionsChanges, LineOptionsResource
from tonalite.app import Platform
from tonalite.services.line_options import EDITABLE, PIN_FIELD
from tonalite.services.secrets import verify_password
from tonalite.store.models import ChangeOrigin, LineOptionChange

OPTIONS = "/v1/billing-groups/{group}/lines/{number}/options"


def _changes(platform: Platform) -> list[LineOptionChange]:
    with platform.db.session() as session:
        return list(session.scalars(select(LineOptionChange).order_by(LineOptionChange.id)))


def test_the_schemas_cover_exactly_the_editable_options() -> None:
    assert set(LineOptionsChanges.model_fields) == EDITABLE
    assert set(LineOptionsResource.model_fields) == EDITABLE - {PIN_FIELD}


def test_options_start_with_the_defaults(client: TestClient, alice: Customer) -> None:
    response = client.get(alice.path(OPTIONS, ALICE_LINE), headers=alice.headers)
    assert response.status_code == 200
    options = response.json()
    assert options["forwardNoReplyDelay"] == 20
    assert options["forwardUnconditionalNature"] == "number"
    assert options["callWaiting"] is True
    assert options["doNotDisturb"] is False
    assert options["lockOutCall"] is False
    assert "lockOutCallPassword" not in options


def test_options_round_trip_and_each_change_is_recorded_as_from_the_api(
    client: TestClient, platform: Platform, alice: Customer
) -> None:
    path = alice.path(OPTIONS, ALICE_LINE)
    sent = {
        "forwardNoReply": True,
        "forwardNoReplyNumber": "01 99 00 00 01",
        "forwardNoReplyDelay": 30,
        "forwardBusy": True,
        "forwardBusyNature": "voicemail",
        "doNotDisturb": True,
        "displayNumber": "09 99 00 11 11",
        "lockOutCall": True,
        "lockOutCallPassword": "8642",
    }
    response = client.patch(path, headers=alice.headers, json=sent)
    assert response.status_code == 200
    expected = {
        "forwardNoReply": True,
        "forwardNoReplyNumber": "+33199000001",
        "forwardNoReplyDelay": 30,
        "forwardBusy": True,
        "forwardBusyNature": "voicemail",
        "doNotDisturb": True,
        "displayNumber": "+33999001111",
        "lockOutCall": True,
    }
    assert response.json() | expected == response.json()
    assert "lockOutCallPassword" not in response.json()
    assert client.get(path, headers=alice.headers).json() == response.json()

    changes = _changes(platform)
    assert {change.origin for change in changes} == {ChangeOrigin.API}
    assert {change.field for change in changes} == {
        "forward_no_reply",
        "forward_no_reply_number",
        "forward_no_reply_delay",
        "forward_busy",
        "forward_busy_nature",
        "do_not_disturb",
        "display_number",
        "lock_out_call",
        "lock_out_call_password",
    }
    stored = platform.services.line_options.get(alice.principal, alice.group, ALICE_LINE)
    assert verify_password("8642", stored.lock_out_call_pin_hash)


def test_a_patch_changes_only_the_options_sent(client: TestClient, platform: Platform, alice: Customer) -> None:
    path = alice.path(OPTIONS, ALICE_LINE)
    client.patch(path, headers=alice.headers, json={"forwardBusy": True, "forwardBusyNumber": "0199000001"})
    before = client.get(path, headers=alice.headers).json()
    response = client.patch(path, headers=alice.headers, json={"anonymousCallRejection": True})
    assert response.status_code == 200
    assert response.json() == before | {"anonymousCallRejection": True}
    assert [change.field for change in _changes(platform)][-1] == "anonymous_call_rejection"
    assert len(_changes(platform)) == 3


def test_an_empty_patch_changes_nothing(client: TestClient, platform: Platform, alice: Customer) -> None:
    path = alice.path(OPTIONS, ALICE_LINE)
    before = client.get(path, headers=alice.headers).json()
    response = client.patch(path, headers=alice.headers, json={})
    assert response.status_code == 200
    assert response.json() == before
    assert _changes(platform) == []


def test_a_null_number_clears_it(client: TestClient, alice: Customer) -> None:
    path = alice.path(OPTIONS, ALICE_LINE)
    client.patch(path, headers=alice.headers, json={"forwardBusyNumber": "0199000001"})
    response = client.patch(path, headers=alice.headers, json={"forwardBusyNumber": None})
    assert response.status_code == 200
    assert response.json()["forwardBusyNumber"] == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"doNotDisturb": True, "forwardNoReplyDelay": 500}, "forwardNoReplyDelay"),
        ({"doNotDisturb": True, "forwardNoReplyDelay": "20"}, "forwardNoReplyDelay"),
        ({"doNotDisturb": True, "forwardNoReplyDelay": 20.5}, "forwardNoReplyDelay"),
        ({"doNotDisturb": "yes"}, "doNotDisturb"),
        ({"callWaiting": 0}, "callWaiting"),
        ({"doNotDisturb": None}, "doNotDisturb"),
        ({"forwardUnconditional": True}, "forwardUnconditionalNumber"),
        ({"forwardBusy": True, "forwardBusyNumber": "not a number"}, "forwardBusyNumber"),
        ({"forwardBusyNature": "fax"}, "forwardBusyNature"),
        ({"doNotDisturb": True, "displayNumber": "09 99 00 99 99"}, "displayNumber"),
        ({"displayNumber": "\ud800"}, "displayNumber"),
        ({"lockOutCall": True}, "lockOutCallPassword"),
        ({"lockOutCall": True, "lockOutCallPassword": "12a4"}, "lockOutCallPassword"),
        ({"lockOutCall": True, "lockOutCallPassword": 1234}, "lockOutCallPassword"),
        ({"doNotDisturb": True, "colour": "red"}, "colour"),
        ({"do_not_disturb": True}, "do_not_disturb"),
        ({"lockOutCallPinHash": "x"}, "lockOutCallPinHash"),
    ],
)
def test_invalid_options_are_refused_and_nothing_is_written(
    client: TestClient, platform: Platform, alice: Customer, body: dict[str, Any], field: str
) -> None:
    path = alice.path(OPTIONS, ALICE_LINE)
    before = client.get(path, headers=alice.headers).json()
    response = client.patch(path, headers=alice.json_headers, content=json.dumps(body))
    assert response.status_code == 422
    assert response.json()["error"] == "invalid"
    assert response.json()["field"] == field
    assert response.json()["message"]
    assert client.get(path, headers=alice.headers).json() == before
    assert _changes(platform) == []


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"doNotDisturb": tru', "application/json", 422),
        (b'["doNotDisturb"]', "application/json", 422),
        (b'{"doNotDisturb": true}', "text/plain", 422),
        (b"", "application/json", 422),
        (b"\xff\xfe", "application/json", 422),
        (b"[" * 100_000, "application/json", 400),
    ],
    ids=["truncated", "array", "not-json-type", "empty", "not-utf8", "too-deep"],
)
def test_a_malformed_body_is_refused_and_nothing_is_written(
    client: TestClient, platform: Platform, alice: Customer, content: bytes, content_type: str, status: int
) -> None:
    path = alice.path(OPTIONS, ALICE_LINE)
    before = client.get(path, headers=alice.headers).json()
    response = client.patch(path, headers={**alice.headers, "Content-Type": content_type}, content=content)
    assert response.status_code == status
    assert response.json()["error"] == {400: "bad_request", 422: "invalid"}[status]
    assert response.json()["message"]
    assert client.get(path, headers=alice.headers).json() == before
    assert _changes(platform) == []
