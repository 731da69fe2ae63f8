"""A voicemail greeting in Chromium against the real HTTP server: uploaded from the form, played in the page,
chosen in the settings; a refused file shows its error next to its form."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.panel.conftest import LiveServer
from tests.panel.test_browser import ARTIFACTS, TIMEOUT_MS, open_voicemail_tab
from tests.sound_files import sox_tone

PERSONAL = "Annonce personnalisée"
NAME = "Annonce standard avec votre nom"


@pytest.mark.browser
def test_a_greeting_is_uploaded_played_and_chosen(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    open_voicemail_tab(page, live_server)

    page.get_by_label(f"Fichier audio ({PERSONAL})").set_input_files(sox_tone(tmp_path / "accueil.mp3", 2.0))
    page.get_by_role("button", name=f"Envoyer ({PERSONAL})").click()
    expect(page.get_by_text("L'annonce est enregistrée.")).to_be_visible()
    duration = page.get_by_label(f"Écouter : {PERSONAL}").evaluate(
        """audio => new Promise((resolve, reject) => {
            if (audio.readyState >= 1) { resolve(audio.duration); return; }
            audio.addEventListener("loadedmetadata", () => resolve(audio.duration));
            audio.addEventListener("error", () => reject(new Error("the audio did not load")));
        })"""
    )
    assert 1.95 <= duration <= 2.1

    page.get_by_label("Annonce entendue par vos correspondants").select_option(label=PERSONAL)
    page.get_by_role("button", name="Enregistrer les réglages").click()
    expect(page.get_by_text("Les réglages du répondeur sont enregistrés.")).to_be_visible()
    expect(page.get_by_label("Annonce entendue par vos correspondants")).to_have_value("full")

    notes = tmp_path / "notes.txt"
    notes.write_text("pas un son\n")
    page.get_by_label(f"Fichier audio ({NAME})").set_input_files(notes)
    page.get_by_role("button", name=f"Envoyer ({NAME})").click()
    error = page.locator("#greeting-error-short")
    expect(error).to_have_text("Ce fichier n'est pas un son WAV, MP3 ou OGG (Vorbis).")
    expect(page.get_by_label(f"Fichier audio ({NAME})")).to_be_focused()
    expect(page.get_by_label(f"Écouter : {PERSONAL}")).to_be_visible()  # the other greeting is still there
    page.screenshot(path=str(ARTIFACTS / "voicemail-greetings.png"), full_page=True)
