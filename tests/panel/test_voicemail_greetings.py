"""The voicemail tab's greetings through FastAPI's test client: uploaded from a form, played, chosen in the
settings and deleted; a refused file is said next to its form in the visitor's language and changes nothing."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from markupsafe import escape

from tests.panel.conftest import Customer, new_customer
from tests.panel.test_pages import _csrf, _post, _sign_in, _switch_language
from tests.sound_files import sox_tone
from tonalite.app import Platform
from tonalite.panel.paths import LineTab, greeting_path, line_path
from tonalite.services.principal import Principal
from tonalite.store.models import GreetingType, Language

NOT_AUDIO_FR = str(escape("Ce fichier n'est pas un son WAV, MP3 ou OGG (Vorbis)."))
NOTHING_RECORDED_FR = str(escape("Rien d'enregistré."))
SAVED_FR = str(escape("L'annonce est enregistrée."))
GREETING_TYPE_SELECT = 'name="greeting_type"'


def _upload(client: TestClient, alice: Customer, kind: str, name: str, content: bytes) -> httpx.Response:
    """The greeting form of `kind` sent with a file, as the browser sends it (multipart/form-data)."""
    response: httpx.Response = client.post(
        greeting_path(alice.group_id, alice.number, kind, "upload"),
        data={"csrf_token": _csrf(client, "/")},
        files={"file": (name, content, "application/octet-stream")},
        follow_redirects=False,
    )
    return response


def _principal(platform: Platform) -> Principal:
    return platform.services.accounts.authenticate("alice", "secret-password")


def _type_options(page: str) -> str:
    """The greeting type selector of the settings form."""
    select = page[page.index(GREETING_TYPE_SELECT) :]
    return select[: select.index("</select>")]


def test_a_greeting_is_uploaded_played_chosen_and_deleted(
    client: TestClient, panel_platform: Platform, alice: Customer, tmp_path: Path
) -> None:
    _sign_in(client, alice)
    tab = line_path(alice.group_id, alice.number, LineTab.VOICEMAIL)
    before = client.get(tab).text
    assert before.count(NOTHING_RECORDED_FR) == 3
    assert 'value="default"' in _type_options(before) and 'value="full"' not in _type_options(before)

    uploaded = _upload(client, alice, "full", "accueil.ogg", sox_tone(tmp_path / "accueil.ogg", 2.0).read_bytes())
    assert uploaded.status_code == 200
    assert SAVED_FR in uploaded.text
    audio = greeting_path(alice.group_id, alice.number, "full", "audio")
    assert f'src="{audio}"' in uploaded.text
    assert 'value="full"' in _type_options(uploaded.text) and 'value="short"' not in _type_options(uploaded.text)
    played = client.get(audio, headers={"Range": "bytes=0-43"})
    assert (played.status_code, played.headers["content-type"], played.content[:4]) == (206, "audio/wav", b"RIFF")

    form = {"active": "true", "greeting_type": "full", "max_message_seconds": "180", "audio_format": "wav"}
    chosen = _post(client, line_path(alice.group_id, alice.number, "voicemail/settings"), form)
    assert "Les réglages du répondeur sont enregistrés." in chosen.text
    assert '<option value="full" selected>' in _type_options(chosen.text)
    settings = panel_platform.services.voicemail_settings
    assert settings.get(_principal(panel_platform), alice.group_id, alice.number).greeting_type == GreetingType.FULL

    deleted = _post(client, greeting_path(alice.group_id, alice.number, "full", "delete"))
    assert (deleted.status_code, deleted.headers["location"]) == (303, tab)
    assert settings.get(_principal(panel_platform), alice.group_id, alice.number).greeting_type == GreetingType.DEFAULT
    assert client.get(audio).status_code == 404


def test_a_refused_file_is_said_next_to_its_form_and_the_greeting_stays(
    client: TestClient, panel_platform: Platform, alice: Customer, tmp_path: Path
) -> None:
    _sign_in(client, alice)
    assert _upload(client, alice, "short", "nom.wav", sox_tone(tmp_path / "nom.wav", 1.5).read_bytes()).is_success
    greetings = panel_platform.services.voicemail_greetings
    kept = greetings.greetings(_principal(panel_platform), alice.group_id, alice.number)

    refused = _upload(client, alice, "short", "notes.txt", b"pas un son\n" * 50)
    assert refused.status_code == 422
    form = refused.text[refused.text.index('id="greeting-short"') :]
    assert form.index(NOT_AUDIO_FR) < form.index('id="greeting-file-short"')
    file_input = form[form.index('id="greeting-file-short"') :]
    assert 'aria-invalid="true"' in file_input[: file_input.index(">")]
    assert refused.text.count(NOT_AUDIO_FR) == 1  # next to that form only

    nothing = client.post(
        greeting_path(alice.group_id, alice.number, "temporary", "upload"),
        data={"csrf_token": _csrf(client, "/")},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert (nothing.status_code, "Choisissez un fichier audio." in nothing.text) == (422, True)

    _switch_language(client, Language.EN)
    too_short = _upload(client, alice, "short", "hi.mp3", sox_tone(tmp_path / "hi.mp3", 0.4).read_bytes())
    assert too_short.status_code == 422
    assert "A greeting may last between 1 and 180 seconds." in too_short.text
    assert greetings.greetings(_principal(panel_platform), alice.group_id, alice.number) == kept


def test_another_account_cannot_reach_a_greeting(
    client: TestClient, panel_platform: Platform, alice: Customer, tmp_path: Path
) -> None:
    sound = sox_tone(tmp_path / "accueil.wav", 1.5).read_bytes()
    _sign_in(client, alice)
    assert _upload(client, alice, "full", "accueil.wav", sound).is_success
    _sign_in(client, new_customer(panel_platform, "bob", "+33999005678"))
    assert client.get(greeting_path(alice.group_id, alice.number, "full", "audio")).status_code == 404
    assert _upload(client, alice, "full", "bob.wav", sound).status_code == 404
    assert _post(client, greeting_path(alice.group_id, alice.number, "full", "delete")).status_code == 404
    greetings = panel_platform.services.voicemail_greetings
    assert set(greetings.greetings(_principal(panel_platform), alice.group_id, alice.number)) == {GreetingType.FULL}
