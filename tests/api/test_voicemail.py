"""A line's voicemail messages through the API: listed, moved between folders, played with byte ranges (a
browser seeking in the page's player), deleted."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.customers import ALICE_LINE, VOICEMAIL, Customer
from tonalite.app import Platform

MESSAGES = f"{VOICEMAIL}/messages"
MESSAGE = f"{VOICEMAIL}/messages/{{message}}"
AUDIO = f"{VOICEMAIL}/messages/{{message}}/audio"


def test_the_message_is_listed_with_its_caller_time_and_length(client: TestClient, alice: Customer) -> None:
    response = client.get(alice.path(MESSAGES, ALICE_LINE), headers=alice.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    (item,) = body["items"]
    assert set(item) == {"id", "folder", "caller", "receivedAt", "duration"}
    assert (item["id"], item["folder"], item["caller"], item["duration"]) == (
        alice.voicemail_message,
        "new",
        "+33999005555",
        2.0,
    )
    single = client.get(alice.path(MESSAGE, ALICE_LINE), headers=alice.headers)
    assert single.json() == item


def test_reading_moves_the_message_to_saved_and_back(client: TestClient, alice: Customer) -> None:
    path = alice.path(MESSAGE, ALICE_LINE)
    assert client.patch(path, headers=alice.headers, json={"folder": "saved"}).json()["folder"] == "saved"
    assert client.get(alice.path(MESSAGES, ALICE_LINE), headers=alice.headers).json()["items"][0]["folder"] == "saved"
    assert client.patch(path, headers=alice.headers, json={"folder": "new"}).json()["folder"] == "new"
    refused = client.patch(path, headers=alice.headers, json={"folder": "archive"})
    assert refused.status_code == 422
    assert refused.json()["field"] == "folder"


def test_the_audio_is_served_whole_and_by_ranges(client: TestClient, platform: Platform, alice: Customer) -> None:
    message = platform.services.voicemail.message(alice.principal, alice.group, ALICE_LINE, alice.voicemail_message)
    stored = platform.services.voicemail.audio_path(message.box_id, message.id).read_bytes()
    path = alice.path(AUDIO, ALICE_LINE)
    whole = client.get(path, headers=alice.headers)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["cache-control"] == "private, no-store"
    assert whole.content == stored
    assert len(stored) == 44 + 2 * 2 * 8000  # two seconds, 16-bit
    part = client.get(path, headers={**alice.headers, "Range": "bytes=44-1043"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 44-1043/{len(stored)}"
    assert part.content == stored[44:1044]
    beyond = client.get(path, headers={**alice.headers, "Range": f"bytes={len(stored) + 10}-"})
    assert beyond.status_code == 416


def test_the_audio_is_served_as_mp3_on_request(client: TestClient, alice: Customer) -> None:
    path = alice.path(AUDIO, ALICE_LINE)
    mp3 = client.get(f"{path}?format=mp3", headers=alice.headers)
    assert mp3.status_code == 200
    assert mp3.headers["content-type"] == "audio/mpeg"
    assert mp3.headers["content-disposition"] == f'inline; filename="message-{alice.voicemail_message}.mp3"'
    assert mp3.content[:3] == b"ID3" or mp3.content[0] == 0xFF
    refused = client.get(f"{path}?format=flac", headers=alice.headers)
    assert (refused.status_code, refused.json()["field"]) == (422, "format")


def test_a_deleted_message_is_gone_with_its_audio(client: TestClient, platform: Platform, alice: Customer) -> None:
    message = platform.services.voicemail.message(alice.principal, alice.group, ALICE_LINE, alice.voicemail_message)
    audio = platform.services.voicemail.audio_path(message.box_id, message.id)
    response = client.delete(alice.path(MESSAGE, ALICE_LINE), headers=alice.headers)
    assert (response.status_code, response.content) == (204, b"")
    assert not audio.exists()
    for path in (MESSAGE, AUDIO):
        assert client.get(alice.path(path, ALICE_LINE), headers=alice.headers).status_code == 404
    assert client.get(alice.path(MESSAGES, ALICE_LINE), headers=alice.headers).json() == {"items": [], "total": 0}
    assert client.delete(alice.path(MESSAGE, ALICE_LINE), headers=alice.headers).status_code == 404


def test_message_ids_that_cannot_exist(client: TestClient, alice: Customer) -> None:
    template = f"{VOICEMAIL}/messages/{{id}}"
    for message_id, status in (("999", 404), ("0", 422), ("abc", 422), (str(2**31), 422)):
        path = template.format(group=alice.group, number=ALICE_LINE.removeprefix("+"), id=message_id)
        assert client.get(path, headers=alice.headers).status_code == status, message_id
