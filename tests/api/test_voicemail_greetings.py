"""A line's greetings through the API: uploaded as multipart/form-data, played with byte ranges, chosen in the
settings, deleted; refused uploads answer 413, 415 or 422 with a message and change nothing."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.customers import ALICE_LINE, GREETING, VOICEMAIL, Customer, Upload, send
from tests.sound_files import sox_tone
from tonalite.app import Platform
from tonalite.media.g711 import SAMPLE_RATE
from tonalite.media.wav import decode_wav
from tonalite.services.voicemail_greetings import MAX_UPLOAD_BYTES

SETTINGS = f"{VOICEMAIL}/settings"
SHORT_GREETING = GREETING.replace("{kind}", "short")


def _put(client: TestClient, alice: Customer, upload: Upload, template: str = GREETING) -> httpx.Response:
    return send(client, "PUT", alice.path(template, ALICE_LINE), upload, alice.headers)


def _settings(client: TestClient, alice: Customer) -> dict[str, object]:
    return dict(client.get(alice.path(SETTINGS, ALICE_LINE), headers=alice.headers).json())


def test_an_uploaded_greeting_is_played_chosen_and_deleted(
    client: TestClient, platform: Platform, alice: Customer, tmp_path: Path
) -> None:
    mp3 = sox_tone(tmp_path / "accueil.mp3", 2.0)
    uploaded = _put(client, alice, Upload("accueil.mp3", mp3.read_bytes(), "audio/mpeg"))
    assert uploaded.status_code == 200
    body = uploaded.json()
    assert set(body) == {"kind", "duration", "createdAt"}
    assert body["kind"] == "full" and 1.95 <= body["duration"] <= 2.1
    assert _settings(client, alice)["greetings"] == ["default", "full"]

    path = alice.path(GREETING, ALICE_LINE)
    whole = client.get(path, headers=alice.headers)
    assert (whole.status_code, whole.headers["content-type"]) == (200, "audio/wav")
    assert whole.headers["cache-control"] == "private, no-store"
    assert whole.headers["content-disposition"] == 'inline; filename="greeting-full.wav"'
    assert len(decode_wav(whole.content)) * 1000 // SAMPLE_RATE == round(body["duration"] * 1000)
    part = client.get(path, headers={**alice.headers, "Range": "bytes=0-43"})
    assert (part.status_code, part.content) == (206, whole.content[:44])

    chosen = client.patch(alice.path(SETTINGS, ALICE_LINE), headers=alice.headers, json={"greetingType": "full"})
    assert chosen.json()["greetingType"] == "full"
    deleted = client.delete(path, headers=alice.headers)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (_settings(client, alice)["greetingType"], _settings(client, alice)["greetings"]) == ("default", ["default"])
    assert client.get(path, headers=alice.headers).status_code == 404
    assert list((platform.settings.data_dir / "sounds").glob("*")) == []


@pytest.mark.parametrize(
    ("upload", "status", "error", "message"),
    [
        (
            Upload("notes.txt", b"not a sound at all\n" * 20, "text/plain"),
            415,
            "unsupported_format",
            "This file is not WAV, MP3 or Ogg Vorbis audio.",
        ),
        (
            Upload("cut.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav"),
            422,
            "invalid",
            "This audio file cannot be read: it is damaged or incomplete.",
        ),
        (
            Upload("huge.wav", b"RIFF" + bytes(MAX_UPLOAD_BYTES), "audio/wav"),
            413,
            "too_large",
            "The file is over 10 MB.",
        ),
    ],
    ids=["text", "truncated", "too-large"],
)
def test_a_refused_upload_says_why_and_keeps_the_greeting(
    client: TestClient, alice: Customer, tmp_path: Path, upload: Upload, status: int, error: str, message: str
) -> None:
    short = sox_tone(tmp_path / "name.ogg", 1.5)
    assert _put(client, alice, Upload("name.ogg", short.read_bytes(), "audio/ogg"), SHORT_GREETING).is_success
    kept = client.get(alice.path(SHORT_GREETING, ALICE_LINE), headers=alice.headers).content

    refused = _put(client, alice, upload, SHORT_GREETING)
    assert (refused.status_code, refused.json()) == (status, {"error": error, "message": message, "field": "file"})
    assert client.get(alice.path(SHORT_GREETING, ALICE_LINE), headers=alice.headers).content == kept


def test_a_greeting_too_short_or_too_long_is_refused(client: TestClient, alice: Customer, tmp_path: Path) -> None:
    for seconds in (0.5, 181.0):
        sound = sox_tone(tmp_path / f"{seconds}.wav", seconds, rate=8000, channels=1)
        refused = _put(client, alice, Upload(sound.name, sound.read_bytes(), "audio/wav"))
        assert refused.status_code == 422
        assert refused.json()["message"] == "A greeting may last between 1 and 180 seconds."
    assert _settings(client, alice)["greetings"] == ["default"]


def test_the_kind_and_the_file_are_checked(client: TestClient, alice: Customer) -> None:
    wav = Upload("a.wav", b"RIFF", "audio/wav")
    assert _put(client, alice, wav, GREETING.replace("{kind}", "default")).status_code == 404
    unknown = _put(client, alice, wav, GREETING.replace("{kind}", "loud"))
    assert (unknown.status_code, unknown.json()["field"]) == (422, "kind")
    missing = client.put(alice.path(GREETING, ALICE_LINE), headers=alice.headers, data={"other": "x"})
    assert (missing.status_code, missing.json()["field"]) == (422, "file")
    deleted = client.delete(alice.path(GREETING, ALICE_LINE), headers=alice.headers)
    assert deleted.status_code == 204  # none to delete: already as asked


def test_without_sox_an_upload_is_503_and_changes_nothing(
    client: TestClient, alice: Customer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sound = sox_tone(tmp_path / "accueil.wav", 1.5)
    monkeypatch.setenv("PATH", str(tmp_path))  # no sox to be found
    refused = _put(client, alice, Upload(sound.name, sound.read_bytes(), "audio/wav"))
    assert (refused.status_code, refused.json()["message"]) == (503, "The audio converter is not available.")
    assert _settings(client, alice)["greetings"] == ["default"]
