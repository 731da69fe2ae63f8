"""The "Gestion des appels" tab through FastAPI's test client: forwards (on several lines at once), options and
screen lists, their errors in the visitor's language, the history, and the banner of a phone that will not ring."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from tests.panel.conftest import PASSWORD, Customer, new_customer
from tests.panel.test_pages import _post, _sign_in, _switch_language
from tonalite.app import Platform
from tonalite.i18n import translate
from tonalite.panel.paths import CALL_OPTIONS, SCREEN_LISTS, SCREEN_LISTS_CLEAR, LineTab, forward_path, line_path
from tonalite.services.principal import Principal
from tonalite.store.models import ChangeOrigin, ForwardNature, Language, LineOptions

SECOND_LINE = "+33999001235"
SAVED_FR = "Les changements sont enregistrés."
BANNER_FR = "Votre téléphone ne sonnera pas : renvoi inconditionnel vers 01 99 00 00 01"
BANNER_EN = "Your phone will not ring: unconditional forward to 01 99 00 00 01"


@pytest.fixture
def alice(panel_platform: Platform) -> Customer:
    customer = new_customer(panel_platform, "alice", "+33999001234")
    panel_platform.services.lines.create(customer.group_id, SECOND_LINE, "Atelier")
    panel_platform.services.numbers.create_alias(customer.group_id, "+33999001111", "Standard")
    return customer


def _principal(platform: Platform, customer: Customer) -> Principal:
    return platform.services.accounts.authenticate(customer.login, PASSWORD)


def _options(platform: Platform, customer: Customer, number: str | None = None) -> LineOptions:
    principal = _principal(platform, customer)
    return platform.services.line_options.get(principal, customer.group_id, number or customer.number)


def _tab(customer: Customer) -> str:
    return line_path(customer.group_id, customer.number, LineTab.CALLS)


def _forward(customer: Customer, option: str) -> str:
    return forward_path(customer.group_id, customer.number, option)


def test_the_tab_shows_every_option_the_group_numbers_and_no_banner(client: TestClient, alice: Customer) -> None:
    _sign_in(client, alice)
    page = client.get(_tab(alice))
    assert page.status_code == 200
    assert 'aria-current="page">Gestion des appels</a>' in page.text
    for heading in ("Renvoi inconditionnel", "Renvoi sur non-réponse", "Renvoi sur occupation", "Renvoi de secours"):
        assert f">{heading}</h3>" in page.text
    for label in ("Ne pas déranger", "Abonné absent", "Rejeter les appels masqués", "Double appel"):
        assert f">{label}</label>" in page.text
    assert '<option value="+33999001111">09 99 00 11 11 (Standard)</option>' in page.text
    assert 'value="+33999001235"' in page.text  # a line to apply a forward to, and to present
    assert "Aucun changement pour le moment." in page.text
    assert 'id="ring-warning"' not in page.text
    assert 'id="ring-warning"' not in client.get(alice.dashboard).text


def test_a_no_reply_forward_to_voicemail_is_saved_and_recorded(
    client: TestClient, panel_platform: Platform, alice: Customer
) -> None:
    _sign_in(client, alice)
    form = {"active": "true", "nature": "voicemail", "target": "", "delay": "30"}
    saved = _post(client, _forward(alice, "forward_no_reply"), form)
    assert saved.status_code == 200
    assert SAVED_FR in saved.text
    options = _options(panel_platform, alice)
    assert (options.forward_no_reply, options.forward_no_reply_nature, options.forward_no_reply_delay) == (
        True,
        ForwardNature.VOICEMAIL,
        30,
    )
    history = saved.text[saved.text.index('id="history"') :]
    assert "Délai du renvoi sur non-réponse" in history and "20 → 30" in history
    assert "non → oui" in history and "Espace client" in history
    assert 'id="ring-warning"' not in saved.text  # a no-reply forward lets the phone ring


@pytest.mark.parametrize(
    ("option", "form", "message"),
    [
        ("forward_no_reply", {"active": "true", "nature": "voicemail", "delay": "500"}, "error.delay_range"),
        ("forward_no_reply", {"active": "true", "nature": "voicemail", "delay": "vingt"}, "error.delay_range"),
        ("forward_busy", {"active": "true", "nature": "number", "target": ""}, "error.forward_number_required"),
        ("forward_backup", {"active": "true", "nature": "number", "target": "pas un numéro"}, "error.number_invalid"),
    ],
)
@pytest.mark.parametrize("language", list(Language))
def test_forward_errors_are_shown_in_the_visitors_language_and_change_nothing(
    client: TestClient,
    panel_platform: Platform,
    alice: Customer,
    option: str,
    form: dict[str, str],
    message: str,
    language: Language,
) -> None:
    _sign_in(client, alice)
    _switch_language(client, language, _tab(alice))
    refused = _post(client, _forward(alice, option), form)
    assert refused.status_code == 422
    # the parameters a message does not name are left out
    expected = translate(language, message, min=5, max=120, value=form.get("target", ""))
    assert str(escape(expected)) in refused.text
    assert 'aria-invalid="true"' in refused.text
    if form.get("delay"):
        assert f'value="{form["delay"]}"' in refused.text  # what was typed is kept
    assert not getattr(_options(panel_platform, alice), option)


def test_a_forward_is_applied_to_the_lines_ticked_or_to_none(
    client: TestClient, panel_platform: Platform, alice: Customer, bob: Customer
) -> None:
    _sign_in(client, alice)
    form = {"active": "true", "nature": "number", "target": "01 99 00 00 01", "also": SECOND_LINE}
    assert _post(client, _forward(alice, "forward_busy"), form).status_code == 200
    for number in (alice.number, SECOND_LINE):
        options = _options(panel_platform, alice, number)
        assert (options.forward_busy, options.forward_busy_number) == (True, "+33199000001")

    stolen = _post(client, _forward(alice, "forward_unconditional"), {**form, "also": bob.number})
    assert stolen.status_code == 404
    assert not _options(panel_platform, alice).forward_unconditional
    assert not _options(panel_platform, bob).forward_unconditional


def test_the_banner_names_what_keeps_the_phone_from_ringing(
    client: TestClient, panel_platform: Platform, alice: Customer
) -> None:
    _sign_in(client, alice)
    form = {"active": "true", "nature": "number", "target": "01 99 00 00 01"}
    assert _post(client, _forward(alice, "forward_unconditional"), form).status_code == 200
    dashboard = client.get(alice.dashboard).text
    assert BANNER_FR in dashboard
    assert f'href="{_tab(alice)}"' in dashboard
    _switch_language(client, Language.EN, alice.dashboard)
    assert BANNER_EN in client.get(alice.dashboard).text
    assert BANNER_EN in client.get(_tab(alice)).text

    _post(client, _forward(alice, "forward_unconditional"), {**form, "active": ""})
    assert 'id="ring-warning"' not in client.get(alice.dashboard).text
    _post(client, line_path(alice.group_id, alice.number, CALL_OPTIONS), {"do_not_disturb": "true"})
    assert "“Do not disturb” is on" in client.get(alice.dashboard).text


def test_options_are_saved_and_their_errors_shown(
    client: TestClient, panel_platform: Platform, alice: Customer
) -> None:
    _sign_in(client, alice)
    action = line_path(alice.group_id, alice.number, CALL_OPTIONS)
    refused = _post(client, action, {"do_not_disturb": "true", "lock_out_call": "true"})
    assert refused.status_code == 422
    assert "Indiquez un code à 4 chiffres pour verrouiller les appels sortants." in refused.text
    assert not _options(panel_platform, alice).do_not_disturb

    form = {"anonymous_call_rejection": "true", "call_waiting": "true", "display_number": "+33999001111"}
    saved = _post(client, action, {**form, "lock_out_call": "true", "lock_out_call_password": "2468"})
    assert saved.status_code == 200 and SAVED_FR in saved.text
    assert "2468" not in saved.text
    assert "code changé" in saved.text
    options = _options(panel_platform, alice)
    assert (options.anonymous_call_rejection, options.lock_out_call, options.display_number) == (
        True,
        True,
        "+33999001111",
    )
    assert not options.identification_restriction
    changes = panel_platform.services.line_options.history(
        _principal(panel_platform, alice), alice.group_id, alice.number
    )
    assert {change.origin for change in changes} == {ChangeOrigin.PANEL}


def test_screen_list_entries_are_added_refused_deleted_and_cleared(
    client: TestClient, panel_platform: Platform, alice: Customer, bob: Customer
) -> None:
    _sign_in(client, alice)
    action = line_path(alice.group_id, alice.number, SCREEN_LISTS)
    entry = {"direction": "incoming", "kind": "blacklist", "value": "0899", "is_prefix": "true"}
    added = _post(client, action, entry)
    assert added.status_code == 200
    assert "+33899…" in added.text and "Liste noire, appels entrants" in added.text

    repeated = _post(client, action, entry)
    assert repeated.status_code == 422
    assert "Ce numéro est déjà dans cette liste." in repeated.text
    invalid = _post(client, action, {**entry, "value": "89", "kind": "whitelist"})
    assert invalid.status_code == 422
    assert str(escape("« 89 » n'est pas un préfixe de numéro")) in invalid.text
    assert 'value="89"' in invalid.text
    assert _post(client, action, {**entry, "direction": "sideways"}).status_code == 404

    principal = _principal(panel_platform, alice)
    screen = panel_platform.services.screen_lists
    (stored,) = screen.list(principal, alice.group_id, alice.number)
    _sign_in(client, bob)
    delete = line_path(alice.group_id, alice.number, f"calls/screen-lists/{stored.id}/delete")
    assert _post(client, delete).status_code == 404
    _sign_in(client, alice)
    deleted = _post(client, delete)
    assert (deleted.status_code, deleted.headers["location"]) == (303, _tab(alice))
    assert screen.list(principal, alice.group_id, alice.number) == []

    _post(client, action, {**entry, "value": "+44"})
    _post(client, action, {**entry, "value": "+49"})
    clear = line_path(alice.group_id, alice.number, SCREEN_LISTS_CLEAR)
    assert _post(client, clear, {"direction": "incoming", "kind": "blacklist"}).status_code == 303
    assert "Aucun numéro filtré" in client.get(_tab(alice)).text
