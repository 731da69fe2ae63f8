"""A voicemail box's settings through the API: defaults, changes applied all together or not at all, the PIN
write-only, and every refusal naming its field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.customers import ALICE_LINE, VOICEMAIL, Customer

SETTINGS = f"{VOICEMAIL}/settings"


def _settings(client: TestClient, alice: Customer) -> dict[str, Any]:
    response = client.get(alice.path(SETTINGS, ALICE_LINE), headers=alice.headers)
    assert response.status_code == 200
    return dict(response.json())


def test_a_new_line_has_an_active_box_with_the_default_greeting(client: TestClient, alice: Customer) -> None:
    assert _settings(client, alice) == {
        "active": True,
        "greetingType": "default",
        "doNotRecord": False,
        "audioFormat": "wav",
        "maxMessageSeconds": 180,
        "recipients": [],
        "pinSet": False,
        "greetings": ["default"],
    }


def test_changes_are_applied_together_and_the_pin_is_never_shown(client: TestClient, alice: Customer) -> None:
    changes = {
        "doNotRecord": True,
        "audioFormat": "mp3",
        "maxMessageSeconds": 120,
        "recipients": [{"email": "alice@example.com"}, {"email": "desk@example.com", "attachAudio": False}],
        "pin": "4321",
    }
    response = client.patch(alice.path(SETTINGS, ALICE_LINE), headers=alice.headers, json=changes)
    assert response.status_code == 200
    assert "4321" not in response.text
    expected = {
        "active": True,
        "greetingType": "default",
        "doNotRecord": True,
        "audioFormat": "mp3",
        "maxMessageSeconds": 120,
        "recipients": [
            {"email": "alice@example.com", "attachAudio": True},
            {"email": "desk@example.com", "attachAudio": False},
        ],
        "pinSet": True,
        "greetings": ["default"],
    }
    assert response.json() == expected
    assert _settings(client, alice) == expected


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pin": "12a4"}, "pin"),
        ({"pin": "12345"}, "pin"),
        ({"maxMessageSeconds": 5}, "maxMessageSeconds"),
        ({"maxMessageSeconds": 601}, "maxMessageSeconds"),
        ({"greetingType": "full"}, "greetingType"),  # nothing recorded for it
        ({"greetingType": "loud"}, "greetingType"),
        ({"audioFormat": "flac"}, "audioFormat"),
        ({"recipients": [{"email": "not an address"}]}, "recipients"),
        ({"recipients": [{"email": "a@example.com"}, {"email": "A@example.com"}]}, "recipients"),
        ({"recipients": [{"email": f"user{n}@example.com"} for n in range(11)]}, "recipients"),
        ({"doNotRecord": "yes"}, "doNotRecord"),
        ({"greeting": "default"}, "greeting"),
    ],
)
def test_a_refused_change_names_its_field_and_changes_nothing(
    client: TestClient, alice: Customer, changes: dict[str, Any], field: str
) -> None:
    before = _settings(client, alice)
    response = client.patch(
        alice.path(SETTINGS, ALICE_LINE), headers=alice.headers, json={"doNotRecord": True, **changes}
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"].split(".")[0] == field
    assert _settings(client, alice) == before
