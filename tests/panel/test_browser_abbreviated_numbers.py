"""Abbreviated numbers in Chromium against the real HTTP server: a CSV file with a bad row imported from the
Actions menu (the bad row reported, the good ones saved and listed), then the list exported and downloaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.panel.conftest import LiveServer
from tests.panel.test_browser import ARTIFACTS, TIMEOUT_MS

IMPORTED = "7001,01 99 00 10 02,Dupont,Jean\n7002,pas un numéro,Martin,Paul\n7003,0033612345678,Durand,\n"
EXPORTED = "7001,0033199001002,Dupont,Jean\r\n7003,0033612345678,Durand,\r\n"


@pytest.mark.browser
def test_a_csv_file_is_imported_with_its_bad_row_reported_then_exported(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(live_server.url + "/login")
    page.get_by_label("Identifiant").fill(live_server.demo.login)
    page.get_by_label("Mot de passe").fill(live_server.demo.password)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("link", name="Démo").click()
    page.get_by_role("link", name="Numéros abrégés").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Numéros abrégés")
    expect(page.get_by_text("Aucun numéro abrégé dans cette liste.")).to_be_visible()

    menu = page.locator("details.actions-menu")
    menu.locator("summary").click()
    menu.get_by_role("link", name="Importer un fichier CSV").click()
    upload = tmp_path / "numeros.csv"
    upload.write_text(IMPORTED, encoding="utf-8")
    page.get_by_label("Fichier CSV", exact=True).set_input_files(upload)
    page.get_by_role("button", name="Importer", exact=True).click()

    expect(page.locator("#import-report")).to_have_text("Import terminé : 2 ajouté(s), 0 mis à jour, 0 inchangé(s).")
    expect(page.locator("#import-rejected li")).to_have_text(
        ["Ligne 2 : « pas un numéro » n'est pas un numéro de téléphone valide."]
    )
    rows = page.locator("#abbreviated-numbers tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("7001")
    expect(rows.nth(0)).to_contain_text("01 99 00 10 02")
    expect(rows.nth(1)).to_contain_text("06 12 34 56 78")
    page.screenshot(path=str(ARTIFACTS / "abbreviated-numbers.png"), full_page=True)

    menu.locator("summary").click()
    with page.expect_download(timeout=TIMEOUT_MS) as download_info:
        menu.get_by_role("link", name="Exporter en CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("numeros-abreges-")
    saved = tmp_path / "export.csv"
    download.save_as(saved)
    assert saved.read_bytes().decode("utf-8") == EXPORTED
