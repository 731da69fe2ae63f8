"""The "Gestion des appels" tab in Chromium against the real HTTP server: a no-reply forward to the voicemail,
then an unconditional forward, which the banner of the tab and of the dashboard names."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.panel.conftest import LiveServer
from tests.panel.test_browser import ARTIFACTS, TIMEOUT_MS, open_voicemail_tab
from tonalite.store.models import ForwardNature, LineOptions

SAVED = "Les changements sont enregistrés."
BANNER = "Votre téléphone ne sonnera pas : renvoi inconditionnel vers 09 99 00 12 34"
DELAY_ERROR = "Le délai doit être compris entre 5 et 120 secondes."


def _stored_options(live_server: LiveServer) -> LineOptions:
    """The demo's first line's options as the service reads them, not as the page shows them."""
    demo = live_server.demo
    services = live_server.platform.services
    principal = services.accounts.authenticate(demo.login, demo.password)
    return services.line_options.get(principal, demo.billing_group_id, demo.lines[0].number)


@pytest.mark.browser
def test_forwards_are_set_and_the_banner_names_the_unconditional_one(page: Page, live_server: LiveServer) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    open_voicemail_tab(page, live_server)
    page.get_by_role("link", name="Gestion des appels").click()
    banner = page.locator("#ring-warning")
    expect(banner).to_have_count(0)

    no_reply = page.locator("#no-reply")
    no_reply.get_by_label("Renvoi sur non-réponse activé").check()
    no_reply.get_by_label("Renvoyer vers").select_option(label="Le répondeur")
    no_reply.get_by_label("Délai avant le renvoi").fill("30")
    no_reply.get_by_role("button", name="Enregistrer le renvoi").click()
    expect(page.locator("#no-reply").get_by_text(SAVED)).to_be_visible()
    expect(page.locator("#no-reply").get_by_label("Renvoyer vers")).to_have_value("voicemail")
    expect(page.locator("#no-reply").get_by_label("Délai avant le renvoi")).to_have_value("30")
    expect(banner).to_have_count(0)  # the phone still rings first

    unconditional = page.locator("#unconditional")
    unconditional.get_by_label("Renvoi inconditionnel activé").check()
    unconditional.get_by_label("Numéro de destination").fill("0999001234")
    unconditional.get_by_role("button", name="Enregistrer le renvoi").click()
    expect(banner).to_have_text(BANNER)
    expect(page.locator("#history")).to_contain_text("Espace client")
    page.screenshot(path=str(ARTIFACTS / "call-handling.png"), full_page=True)

    page.get_by_role("link", name="Tableau de bord").click()
    expect(banner).to_contain_text(BANNER)
    banner.get_by_role("link", name="Modifier dans Gestion des appels").click()
    expect(page.get_by_role("link", name="Gestion des appels")).to_have_attribute("aria-current", "page")


@pytest.mark.browser
def test_a_no_reply_forward_to_the_voicemail_is_saved_and_a_delay_out_of_range_is_refused(
    page: Page, live_server: LiveServer
) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    open_voicemail_tab(page, live_server)
    page.get_by_role("link", name="Gestion des appels").click()

    no_reply = page.locator("#no-reply")
    no_reply.get_by_label("Renvoi sur non-réponse activé").check()
    no_reply.get_by_label("Renvoyer vers").select_option(label="Le répondeur")
    expect(no_reply.get_by_label("Numéro de destination")).to_have_value("")  # the line's own box, no number
    no_reply.get_by_label("Délai avant le renvoi").fill("15")
    no_reply.get_by_role("button", name="Enregistrer le renvoi").click()
    expect(page.locator("#no-reply").get_by_text(SAVED)).to_be_visible()
    expect(page.locator("#no-reply").get_by_label("Renvoi sur non-réponse activé")).to_be_checked()
    expect(page.locator("#no-reply").get_by_label("Renvoyer vers")).to_have_value("voicemail")
    expect(page.locator("#no-reply").get_by_label("Délai avant le renvoi")).to_have_value("15")
    stored = _stored_options(live_server)
    assert stored.forward_no_reply
    assert stored.forward_no_reply_nature == ForwardNature.VOICEMAIL
    assert stored.forward_no_reply_delay == 15

    no_reply = page.locator("#no-reply")
    no_reply.get_by_label("Délai avant le renvoi").fill("200")
    no_reply.get_by_role("button", name="Enregistrer le renvoi").click()
    error = page.locator("#no-reply-delay-error")
    expect(error).to_have_text(DELAY_ERROR)
    delay = page.locator("#no-reply").get_by_label("Délai avant le renvoi")
    expect(delay).to_have_value("200")  # as typed, next to its error
    expect(delay).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#no-reply").get_by_text(SAVED)).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "call-handling-no-reply-error.png"), full_page=True)
    stored = _stored_options(live_server)
    assert stored.forward_no_reply
    assert stored.forward_no_reply_nature == ForwardNature.VOICEMAIL
    assert stored.forward_no_reply_delay == 15
