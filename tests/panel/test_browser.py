"""The control panel in Chromium against the real HTTP server: sign in, reset a SIP password, switch language,
play, download and delete a voicemail message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.conftest import deposit_tone_message
from tests.panel.conftest import LiveServer
from tonalite.media.g711 import SAMPLE_RATE
from tonalite.media.wav import read_wav
from tonalite.sip.auth import DigestAlgorithm, digest_ha1
from tonalite.store.models import Line

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 10_000


def open_voicemail_tab(page: Page, live_server: LiveServer) -> None:
    """Sign in as the demo account and open its first line's Répondeur tab (in French)."""
    demo = live_server.demo
    page.goto(live_server.url + "/login")
    page.get_by_label("Identifiant").fill(demo.login)
    page.get_by_label("Mot de passe").fill(demo.password)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("link", name="Démo").click()
    page.get_by_role("link", name="01 99 00 10 01").click()
    page.get_by_role("link", name="Répondeur").click()


def _password_matches(server: LiveServer, number: str, password: str) -> bool:
    with server.platform.db.session() as session:
        line = session.scalars(select(Line).where(Line.number == number)).one()
        return all(
            digest_ha1(algorithm, line.sip_username, line.sip_realm, password) == stored
            for algorithm, stored in ((DigestAlgorithm.MD5, line.ha1_md5), (DigestAlgorithm.SHA256, line.ha1_sha256))
        )


@pytest.mark.browser
def test_demo_account_resets_a_password_and_switches_to_english(page: Page, live_server: LiveServer) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    demo = live_server.demo
    first_line = demo.lines[0]
    heading = page.get_by_role("heading", level=1)

    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu principal")).to_be_focused()

    page.get_by_label("Identifiant").fill(demo.login)
    page.get_by_label("Mot de passe").fill(demo.password)
    page.get_by_role("button", name="Se connecter").click()
    expect(heading).to_have_text("Téléphonie")
    expect(page.get_by_role("navigation", name="Fil d'Ariane")).to_contain_text("Télécom")

    page.get_by_role("link", name="Démo").click()
    page.get_by_role("link", name="01 99 00 10 01").click()
    expect(heading).to_have_text("Ligne 01 99 00 10 01")
    expect(page.get_by_role("link", name="Tableau de bord")).to_have_attribute("aria-current", "page")
    dashboard_url = page.url

    page.get_by_role("button", name="Réinitialiser le mot de passe SIP").click()
    shown = page.locator("#sip-password-result #new-sip-password")
    expect(shown).to_have_text(re.compile(r"^[A-Za-z0-9]{14}$"))
    assert page.url == dashboard_url, "htmx shows the password in place, never in a URL"
    password = shown.inner_text()
    assert _password_matches(live_server, first_line.number, password)
    assert not _password_matches(live_server, first_line.number, first_line.password)
    expect(page.locator("#sip-password-result")).to_contain_text("reconfigurez le téléphone")
    page.screenshot(path=str(ARTIFACTS / "panel-line-fr.png"), full_page=True)

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(heading).to_have_text("Line 01 99 00 10 01")
    expect(page.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Not registered")).to_be_visible()
    assert page.url == dashboard_url
    expect(page.locator("#new-sip-password")).to_have_count(0)

    page.reload()
    expect(heading).to_have_text("Line 01 99 00 10 01")
    page.get_by_role("link", name="Call management").click()
    expect(page.get_by_role("heading", name="Unconditional forward")).to_be_visible()
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Telephony").click()
    expect(heading).to_have_text("Telephony")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.goto(dashboard_url)
    page.get_by_role("button", name="Reset SIP password").click()
    expect(page.locator("#new-sip-password")).to_be_visible()
    expect(page.locator("#sip-password-result")).to_contain_text("reconfigure the phone")
    page.screenshot(path=str(ARTIFACTS / "panel-line-en.png"), full_page=True)


@pytest.mark.browser
def test_a_voicemail_message_plays_seeks_and_downloads_in_the_page_then_is_deleted(
    page: Page, live_server: LiveServer
) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    demo = live_server.demo
    line = demo.lines[0]
    message_id = deposit_tone_message(live_server.platform, line.number, "+33999005555", 2.0)

    open_voicemail_tab(page, live_server)
    expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    player = page.get_by_label("Message de 09 99 00 55 55")
    duration = player.evaluate(
        """audio => new Promise((resolve, reject) => {
            if (audio.readyState >= 1) { resolve(audio.duration); return; }
            audio.addEventListener("loadedmetadata", () => resolve(audio.duration));
            audio.addEventListener("error", () => reject(new Error("the audio did not load")));
        })"""
    )
    assert abs(duration - 2.0) < 0.05
    seeked = player.evaluate(
        """audio => new Promise(resolve => {
            audio.addEventListener("seeked", () => resolve(audio.currentTime), { once: true });
            audio.currentTime = 1.5;
        })"""
    )
    assert abs(seeked - 1.5) < 0.05  # the server answered the player's byte ranges
    played = player.evaluate(
        """(audio, timeoutMs) => new Promise((resolve, reject) => {
            audio.addEventListener("ended", () => resolve(audio.played.end(audio.played.length - 1)), { once: true });
            audio.addEventListener("error", () => reject(new Error("the audio stopped playing")), { once: true });
            setTimeout(() => reject(new Error(`no ended event within ${timeoutMs} ms`)), timeoutMs);
            audio.currentTime = 0;
            audio.play().catch(reject);
        })""",
        TIMEOUT_MS,
    )
    assert abs(played - 2.0) < 0.05  # played from the start to the end of the message
    page.screenshot(path=str(ARTIFACTS / "voicemail-tab.png"), full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger").click()
    download = download_info.value
    assert download.suggested_filename == f"message-{message_id}.wav"
    assert len(read_wav(download.path())) == 2 * SAMPLE_RATE

    page.get_by_role("button", name="Supprimer").click()
    expect(page.get_by_text("Aucun message.", exact=False)).to_be_visible()
    expect(page.locator("audio")).to_have_count(0)
