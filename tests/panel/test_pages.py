"""The control panel through FastAPI's test client: sign-in, CSRF, tenancy, language, the line dashboard and
the voicemail tab."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import deposit_tone_message
from tests.panel.conftest import PASSWORD, Customer
from tonalite.app import Platform
from tonalite.clock import ManualClock
from tonalite.panel.paths import LineTab, line_path
from tonalite.services.registrations import Binding, RegistrationChanges
from tonalite.sip.auth import DigestAlgorithm, digest_ha1
from tonalite.sip.transport import Transport
from tonalite.store.models import Language, Line

WRONG_LOGIN = "Identifiant ou mot de passe incorrect."
NOT_FOUND_FR = "Page introuvable"
CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')
NEW_PASSWORD_PATTERN = re.compile(r'id="new-sip-password">([^<]+)<')


def _csrf(client: TestClient, path: str = "/login") -> str:
    match = CSRF_PATTERN.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _sign_in(client: TestClient, customer: Customer) -> None:
    response = client.post("/login", data={"login": customer.login, "password": PASSWORD, "csrf_token": _csrf(client)})
    assert response.status_code == 200
    assert response.url.path == "/"


def _post(client: TestClient, path: str, data: dict[str, str] | None = None) -> httpx.Response:
    """A form post as a page of the signed-in session sends it, with the session's CSRF token."""
    token = _csrf(client, "/")
    response: httpx.Response = client.post(path, data={**(data or {}), "csrf_token": token}, follow_redirects=False)
    return response


def _switch_language(client: TestClient, language: Language, back_to: str = "/") -> httpx.Response:
    token = _csrf(client, back_to)
    response: httpx.Response = client.post(
        "/language", data={"language": language.value, "next": back_to, "csrf_token": token}
    )
    return response


def _stored_ha1(platform: Platform, number: str) -> tuple[str, str, str, str]:
    with platform.db.session() as session:
        line = session.scalars(select(Line).where(Line.number == number)).one()
        return line.sip_username, line.sip_realm, line.ha1_md5, line.ha1_sha256


def _matches(platform: Platform, number: str, password: str) -> bool:
    username, realm, md5, sha256 = _stored_ha1(platform, number)
    return (
        digest_ha1(DigestAlgorithm.MD5, username, realm, password) == md5
        and digest_ha1(DigestAlgorithm.SHA256, username, realm, password) == sha256
    )


def test_signed_out_visitors_are_sent_to_the_login_page(client: TestClient, alice: Customer) -> None:
    for path in ("/", f"/billing-groups/{alice.group_id}", alice.dashboard):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
    page = client.get("/login")
    assert '<html lang="fr">' in page.text
    assert '<label for="login">Identifiant</label>' in page.text


def test_sign_in_opens_a_session_in_an_http_only_lax_cookie(client: TestClient, alice: Customer) -> None:
    response = client.post(
        "/login",
        data={"login": "alice", "password": PASSWORD, "csrf_token": _csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("tonalite_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    home = client.get("/")
    assert "<h1>Téléphonie</h1>" in home.text
    assert "Télécom" in home.text
    assert "Siège alice" in home.text
    assert client.get("/login", follow_redirects=False).headers["location"] == "/"


def test_the_session_cookie_is_secure_over_https(panel_app: FastAPI, alice: Customer) -> None:
    with TestClient(panel_app, base_url="https://testserver") as client:
        response = client.post(
            "/login",
            data={"login": "alice", "password": PASSWORD, "csrf_token": _csrf(client)},
            follow_redirects=False,
        )
    assert "Secure" in response.headers["set-cookie"]


def test_unknown_login_and_wrong_password_get_the_same_error(client: TestClient, alice: Customer) -> None:
    pages = [
        client.post("/login", data={"login": login, "password": password, "csrf_token": _csrf(client)})
        for login, password in (("alice", "wrong-password"), ("nobody", PASSWORD))
    ]
    for page, login in zip(pages, ("alice", "nobody"), strict=True):
        assert page.status_code == 422
        assert WRONG_LOGIN in page.text
        assert f'value="{login}"' in page.text
        assert "tonalite_session" not in page.headers.get("set-cookie", "")
    assert PASSWORD not in pages[1].text


def test_forms_without_the_csrf_token_are_refused(
    client: TestClient, panel_platform: Platform, alice: Customer
) -> None:
    refused = client.post("/login", data={"login": "alice", "password": PASSWORD}, follow_redirects=False)
    assert refused.status_code == 403
    assert "Le formulaire a expiré" in refused.text
    assert "tonalite_session" not in refused.headers.get("set-cookie", "")

    _sign_in(client, alice)
    rename = line_path(alice.group_id, alice.number, "display-name")
    for data in ({"display_name": "Pirate"}, {"display_name": "Pirate", "csrf_token": "forged"}):
        assert client.post(rename, data=data).status_code == 403
    reset = line_path(alice.group_id, alice.number, "sip-password")
    assert client.post(reset, headers={"HX-Request": "true"}).status_code == 403
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.post("/language", data={"language": "en"}).status_code == 403
    assert panel_platform.services.lines.list_all()[0].display_name == "Accueil"
    assert _matches(panel_platform, alice.number, alice.sip_password)

    # htmx may send the token as a header instead of a form field.
    answer = client.post(reset, headers={"HX-Request": "true", "X-CSRF-Token": _csrf(client, "/")})
    assert answer.status_code == 200
    assert NEW_PASSWORD_PATTERN.search(answer.text)


def test_another_accounts_group_and_line_are_not_found(
    client: TestClient, panel_platform: Platform, alice: Customer, bob: Customer
) -> None:
    _sign_in(client, bob)
    assert client.get(bob.dashboard).status_code == 200
    for path in (
        f"/billing-groups/{alice.group_id}",
        alice.dashboard,
        line_path(alice.group_id, alice.number, LineTab.VOICEMAIL),
        f"/billing-groups/{alice.group_id}/lines/{alice.number.removeprefix('+')}",
        line_path(bob.group_id, alice.number),
        line_path(bob.group_id, "not-a-number"),
        line_path(bob.group_id, bob.number, "no-such-tab"),
        "/billing-groups/abc",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 404, path
        assert NOT_FOUND_FR in response.text
    stolen = _post(client, line_path(alice.group_id, alice.number, "sip-password"))
    assert stolen.status_code == 404
    assert _matches(panel_platform, alice.number, alice.sip_password)

    _switch_language(client, Language.EN)
    english = client.get(alice.dashboard)
    assert english.status_code == 404
    assert "Page not found" in english.text
    assert '<html lang="en">' in english.text


def test_the_language_switch_is_remembered(client: TestClient, panel_platform: Platform, alice: Customer) -> None:
    signed_out = _switch_language(client, Language.EN, "/login")
    assert signed_out.url.path == "/login"
    assert "Sign in to your customer area" in signed_out.text
    client.cookies.clear()

    _sign_in(client, alice)
    assert '<html lang="fr">' in client.get(alice.dashboard).text
    response = _switch_language(client, Language.EN, alice.dashboard)
    assert response.url.path == alice.dashboard
    cookie = response.history[0].headers["set-cookie"]
    assert cookie.startswith("tonalite_lang=en") and "Max-Age=31536000" in cookie
    page = client.get(alice.dashboard)
    assert '<html lang="en">' in page.text
    assert f'<a href="{alice.dashboard}" aria-current="page">Dashboard</a>' in page.text
    assert "Not registered" in page.text
    assert "Reset SIP password" in page.text
    account = panel_platform.services.accounts.find_by_login("alice")
    assert account is not None and account.language == Language.EN

    # A new browser, without the cookie, takes the account's language once signed in.
    client.cookies.clear()
    assert '<html lang="fr">' in client.get("/login").text
    _sign_in(client, alice)
    assert "<h1>Telephony</h1>" in client.get("/").text
    # The cookie wins over the account's language.
    _switch_language(client, Language.FR)
    assert "<h1>Téléphonie</h1>" in client.get("/").text


def test_the_switch_only_redirects_within_the_panel(client: TestClient) -> None:
    for outside in ("https://example.com/", "//example.com/", "/\\example.com"):
        token = _csrf(client)
        response = client.post(
            "/language", data={"language": "en", "next": outside, "csrf_token": token}, follow_redirects=False
        )
        assert response.headers["location"] == "/"


def test_a_rename_error_is_shown_next_to_the_field_in_the_visitors_language(
    client: TestClient, panel_platform: Platform, alice: Customer
) -> None:
    _sign_in(client, alice)
    rename = line_path(alice.group_id, alice.number, "display-name")
    too_long = "N" * 101
    french = _post(client, rename, {"display_name": too_long})
    assert french.status_code == 422
    assert '<p class="form-error" id="display-name-error">Ce texte dépasse 100 caractères.</p>' in french.text
    assert f'value="{too_long}"' in french.text
    assert 'aria-invalid="true"' in french.text

    _switch_language(client, Language.EN, alice.dashboard)
    english = _post(client, rename, {"display_name": too_long})
    assert english.status_code == 422
    assert "This text is longer than 100 characters." in english.text
    assert f'value="{too_long}"' in english.text
    assert panel_platform.services.lines.list_all()[0].display_name == "Accueil"

    saved = _post(client, rename, {"display_name": "  Standard  "})
    assert saved.status_code == 200
    assert "The display name has been saved." in saved.text
    assert panel_platform.services.lines.list_all()[0].display_name == "Standard"


def test_a_password_reset_shows_a_new_password_once(
    client: TestClient, panel_platform: Platform, alice: Customer
) -> None:
    _sign_in(client, alice)
    reset = line_path(alice.group_id, alice.number, "sip-password")

    page = _post(client, reset)
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert "L'ancien mot de passe ne fonctionne plus" in page.text.replace("&#39;", "'")
    match = NEW_PASSWORD_PATTERN.search(page.text)
    assert match
    password = match.group(1)
    assert _matches(panel_platform, alice.number, password)
    assert not _matches(panel_platform, alice.number, alice.sip_password)
    assert password not in client.get(alice.dashboard).text

    # With htmx, only the result is sent, into the page's aria-live region.
    fragment = client.post(reset, data={"csrf_token": _csrf(client, "/")}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    match = NEW_PASSWORD_PATTERN.search(fragment.text)
    assert match
    assert match.group(1) != password
    assert _matches(panel_platform, alice.number, match.group(1))
    assert not _matches(panel_platform, alice.number, password)
    assert 'id="sip-password-result" aria-live="polite"' in page.text


def test_line_tabs_are_links_that_say_what_is_coming(client: TestClient, alice: Customer) -> None:
    _sign_in(client, alice)
    support = client.get(line_path(alice.group_id, alice.number, LineTab.SUPPORT))
    assert support.status_code == 200
    assert '<nav class="tabs" aria-label="Rubriques de la ligne">' in support.text
    assert 'aria-current="page">Assistance</a>' in support.text
    assert "dépannage" in support.text
    home = client.get(f"/billing-groups/{alice.group_id}/lines/0999001234", follow_redirects=False)
    assert home.headers["location"] == alice.dashboard


def test_the_billing_group_lists_its_lines_and_alias_numbers(
    client: TestClient, panel_platform: Platform, alice: Customer
) -> None:
    panel_platform.services.numbers.create_alias(alice.group_id, "+33999001111", "Standard")
    _sign_in(client, alice)
    page = client.get(f"/billing-groups/{alice.group_id}").text
    assert f'<a href="{alice.dashboard}">09 99 00 12 34</a>' in page
    assert "<code>0033999001234</code>" in page
    assert "09 99 00 11 11" in page and "Standard" in page and "Aucune" in page


def test_an_expired_session_leads_back_to_the_login_page(
    client: TestClient, panel_platform: Platform, clock: ManualClock, alice: Customer
) -> None:
    _sign_in(client, alice)
    clock.advance(timedelta(hours=panel_platform.settings.session_hours, seconds=1).total_seconds())
    htmx = client.get(alice.dashboard, headers={"HX-Request": "true"})
    assert htmx.status_code == 204
    assert htmx.headers["HX-Redirect"] == "/login?expired=1"
    assert 'tonalite_session=""' in htmx.headers["set-cookie"]
    assert client.get(alice.dashboard, follow_redirects=False).headers["location"] == "/login"

    _sign_in(client, alice)
    clock.advance(timedelta(hours=panel_platform.settings.session_hours, seconds=1).total_seconds())
    response = client.get(alice.dashboard)
    assert response.url.path == "/login"
    assert "Votre session a expiré, veuillez vous reconnecter." in response.text


def test_sign_out_closes_the_session(client: TestClient, alice: Customer) -> None:
    _sign_in(client, alice)
    session = client.cookies["tonalite_session"]
    response = _post(client, "/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    client.cookies.set("tonalite_session", session)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login?expired=1"


def test_pages_are_not_cached_or_framed_and_assets_are_local(client: TestClient) -> None:
    page = client.get("/login")
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in page.text
    assert '<a class="skip-link" href="#main">' in page.text
    for asset in ("/static/panel.css", "/static/vendor/htmx.min.js"):
        assert client.get(asset).status_code == 200


def test_the_dashboard_shows_the_registered_device(
    client: TestClient, panel_platform: Platform, clock: ManualClock, alice: Customer
) -> None:
    _sign_in(client, alice)
    assert "Non enregistrée" in client.get(alice.dashboard).text
    with panel_platform.db.session() as session:
        line_id = session.scalars(select(Line.id).where(Line.number == alice.number)).one()
    now = clock.wall()
    panel_platform.services.registrations.apply(
        RegistrationChanges.binding(
            Binding(
                line_id=line_id,
                contact="<sip:0033999001234@192.0.2.10:5062>",
                call_id="c1",
                cseq=1,
                source_host="192.0.2.10",
                source_port=40001,
                transport=Transport.UDP,
                user_agent="Yealink T54W 96.86",
                registered_at=now,
                expires_at=now + timedelta(seconds=1800),
            )
        )
    )
    page = client.get(alice.dashboard).text
    assert "Enregistrée" in page and "Non enregistrée" not in page
    assert "Yealink T54W 96.86" in page
    assert "udp:192.0.2.10:40001" in page
    assert "01/01/2026 01:00:00 (CET)" in page
    assert "01/01/2026 01:30:00 (CET)" in page
    _switch_language(client, Language.EN)
    assert "2026-01-01 01:30:00 (CET)" in client.get(alice.dashboard).text


def test_the_voicemail_tab_lists_plays_marks_read_and_deletes(
    client: TestClient, panel_platform: Platform, alice: Customer, bob: Customer
) -> None:
    message = deposit_tone_message(panel_platform, alice.number, "+33999005555", 65)
    _sign_in(client, alice)
    tab = line_path(alice.group_id, alice.number, LineTab.VOICEMAIL)
    page = client.get(tab)
    assert page.status_code == 200
    row = page.text[page.text.index(f'id="message-{message}"') :]
    assert "09 99 00 55 55" in row
    assert "1:05" in row
    assert "Nouveau" in row
    audio = line_path(alice.group_id, alice.number, f"voicemail/messages/{message}/audio")
    assert f'src="{audio}"' in row
    played = client.get(audio, headers={"Range": "bytes=0-43"})
    assert (played.status_code, played.headers["content-type"], len(played.content)) == (206, "audio/wav", 44)
    assert played.content.startswith(b"RIFF")
    downloaded = client.get(f"{audio}?download=true")
    assert downloaded.headers["content-disposition"].startswith("attachment")

    read = _post(client, line_path(alice.group_id, alice.number, f"voicemail/messages/{message}/read"))
    assert (read.status_code, read.headers["location"]) == (303, tab)
    assert ">Lu</span>" in client.get(tab).text

    _sign_in(client, bob)
    assert client.get(audio).status_code == 404
    assert (
        _post(client, line_path(alice.group_id, alice.number, f"voicemail/messages/{message}/delete")).status_code
        == 404
    )
    _sign_in(client, alice)
    deleted = _post(client, line_path(alice.group_id, alice.number, f"voicemail/messages/{message}/delete"))
    assert deleted.status_code == 303
    assert "Aucun message." in client.get(tab).text
    assert client.get(audio).status_code == 404


def test_voicemail_settings_errors_are_shown_in_french_and_change_nothing(
    client: TestClient, panel_platform: Platform, alice: Customer
) -> None:
    _sign_in(client, alice)
    action = line_path(alice.group_id, alice.number, "voicemail/settings")
    form = {
        "active": "true",
        "max_message_seconds": "90",
        "recipients": "alice@example.com\nstandard@example.com",
        "attach_audio": "true",
        "audio_format": "mp3",
    }
    refused = _post(client, action, {**form, "pin": "12a"})
    assert refused.status_code == 422
    assert "Le code doit comporter exactement 4 chiffres." in refused.text
    assert "standard@example.com" in refused.text  # what was typed is kept
    principal = panel_platform.services.accounts.authenticate("alice", PASSWORD)
    unchanged = panel_platform.services.voicemail_settings.get(principal, alice.group_id, alice.number)
    assert (unchanged.max_message_seconds, unchanged.recipients, unchanged.pin_set) == (180, (), False)

    too_long = _post(client, action, {**form, "max_message_seconds": "3600"})
    assert too_long.status_code == 422
    assert "Un message peut durer de 10 à 600 secondes." in too_long.text

    saved = _post(client, action, {**form, "pin": "2468"})
    assert saved.status_code == 200
    assert "Les réglages du répondeur sont enregistrés." in saved.text
    assert "2468" not in saved.text
    changed = panel_platform.services.voicemail_settings.get(principal, alice.group_id, alice.number)
    assert (changed.max_message_seconds, changed.audio_format.value, changed.pin_set) == (90, "mp3", True)
    assert [recipient.email for recipient in changed.recipients] == ["alice@example.com", "standard@example.com"]
    assert all(recipient.attach_audio for recipient in changed.recipients)
