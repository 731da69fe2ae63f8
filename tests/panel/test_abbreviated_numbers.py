"""The "Numéros abrégés" page through FastAPI's test client: reached from the billing group, its lists, the forms
and their errors in the visitor's language, the 3-digit advice, the CSV import report and export, tenancy."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from tests.panel.conftest import PASSWORD, Customer
from tests.panel.test_pages import _post, _sign_in, _switch_language
from tonalite.app import Platform
from tonalite.i18n import translate
from tonalite.panel.paths import abbreviated_path, group_path
from tonalite.services.abbreviated_numbers import AbbreviatedEntry, AbbreviatedList, AbbreviatedNumberService
from tonalite.services.principal import Principal
from tonalite.store.models import Language

ADVICE_FR = translate(Language.FR, "abbreviated.three_digit_advice")


def _principal(platform: Platform, customer: Customer) -> Principal:
    return platform.services.accounts.authenticate(customer.login, PASSWORD)


def _service(platform: Platform) -> AbbreviatedNumberService:
    return platform.services.abbreviated_numbers


def _shorts(platform: Platform, customer: Customer, line: str | None = None) -> list[str]:
    where = AbbreviatedList(customer.group_id, line)
    return [row.short_number for row in _service(platform).list(_principal(platform, customer), where)]


def _form(
    short: str = "7001", destination: str = "01 99 00 10 02", surname: str = "", name: str = ""
) -> dict[str, str]:
    return {"abbreviated_number": short, "destination_number": destination, "surname": surname, "name": name}


def test_the_page_is_linked_from_the_billing_group_and_lists_each_list(
    client: TestClient, panel_platform: Platform, alice: Customer
) -> None:
    principal = _principal(panel_platform, alice)
    service = _service(panel_platform)
    service.add(principal, AbbreviatedList(alice.group_id), AbbreviatedEntry("7001", "0199001002", "Dupont", "Jean"))
    service.add(principal, AbbreviatedList(alice.group_id, alice.number), AbbreviatedEntry("2001", "0612345678"))
    _sign_in(client, alice)

    assert (
        f'href="{abbreviated_path(alice.group_id)}">Numéros abrégés</a>' in client.get(group_path(alice.group_id)).text
    )
    page = client.get(abbreviated_path(alice.group_id))
    assert page.status_code == 200
    assert "<h1>Numéros abrégés</h1>" in page.text
    assert 'aria-current="page">Groupe de facturation (7…)</a>' in page.text
    assert '<th scope="row">7001</th>' in page.text and "01 99 00 10 02" in page.text and "Dupont" in page.text
    assert "2001" not in page.text
    assert '<summary class="button">Actions</summary>' in page.text
    assert f'href="{abbreviated_path(alice.group_id, None, "export")}" download' in page.text

    line_page = client.get(abbreviated_path(alice.group_id, alice.number))
    assert 'aria-current="page">Ligne 09 99 00 12 34 (2…)</a>' in line_page.text
    assert '<th scope="row">2001</th>' in line_page.text and "06 12 34 56 78" in line_page.text
    assert "7001" not in line_page.text


def test_adding_three_digits_saves_them_with_the_advice(
    client: TestClient, panel_platform: Platform, alice: Customer
) -> None:
    _sign_in(client, alice)
    response = _post(client, abbreviated_path(alice.group_id, None, "add"), _form("701", surname="Dupont"))
    assert response.status_code == 200
    assert "Le numéro abrégé 701 est enregistré." in response.text
    assert str(escape(ADVICE_FR)) in response.text
    assert _shorts(panel_platform, alice) == ["701"]

    four = _post(client, abbreviated_path(alice.group_id, None, "add"), _form("7002"))
    assert "Le numéro abrégé 7002 est enregistré." in four.text
    assert str(escape(ADVICE_FR)) not in four.text


@pytest.mark.parametrize(
    ("form", "field", "french", "english"),
    [
        (
            _form("2001"),
            "abbreviated_number",
            "Un numéro abrégé de cette liste fait 3 ou 4 chiffres et commence par 7.",
            "An abbreviated number of this list has 3 or 4 digits and starts with 7.",
        ),
        (
            _form(destination=""),
            "destination_number",
            "Indiquez le numéro de destination.",
            "Enter the destination number.",
        ),
        (
            _form(destination="abc"),
            "destination_number",
            "« abc » n'est pas un numéro de téléphone valide.",
            "“abc” is not a valid phone number.",
        ),
        (
            _form(surname="x" * 101),
            "surname",
            "Ce texte dépasse 100 caractères.",
            "This text is longer than 100 characters.",
        ),
    ],
)
def test_a_refused_form_says_why_at_its_field_in_the_visitors_language(
    client: TestClient,
    panel_platform: Platform,
    alice: Customer,
    form: dict[str, str],
    field: str,
    french: str,
    english: str,
) -> None:
    _sign_in(client, alice)
    add = abbreviated_path(alice.group_id, None, "add")
    for language, message in ((Language.FR, french), (Language.EN, english)):
        _switch_language(client, language, abbreviated_path(alice.group_id))
        response = _post(client, add, form)
        assert response.status_code == 422
        assert f'<p class="form-error" id="ab-{field}-error">{escape(message)}</p>' in response.text
        assert f'value="{escape(form[field])}"' in response.text  # what was typed is shown again
    assert _shorts(panel_platform, alice) == []


def test_a_number_already_in_the_list_is_refused(client: TestClient, panel_platform: Platform, alice: Customer) -> None:
    _sign_in(client, alice)
    _post(client, abbreviated_path(alice.group_id, None, "add"), _form("7001"))
    again = _post(client, abbreviated_path(alice.group_id, None, "add"), _form("7001", "0199001003"))
    assert again.status_code == 422
    assert "Le numéro abrégé 7001 existe déjà dans cette liste." in again.text


def test_a_number_is_edited_and_deleted(client: TestClient, panel_platform: Platform, alice: Customer) -> None:
    _sign_in(client, alice)
    line = alice.number
    _post(client, abbreviated_path(alice.group_id, line, "add"), _form("2001", surname="Dupont"))
    form = client.get(abbreviated_path(alice.group_id, line, "2001/edit"))
    assert "Modifier le numéro abrégé 2001" in form.text
    assert 'value="01 99 00 10 02"' in form.text and 'value="Dupont"' in form.text

    edit = abbreviated_path(alice.group_id, line, "2001/edit")
    refused = _post(client, edit, {"destination_number": "nowhere", "surname": "Martin", "name": ""})
    assert refused.status_code == 422
    assert "Modifier le numéro abrégé 2001" in refused.text and 'value="Martin"' in refused.text
    saved = _post(client, edit, {"destination_number": "0612345678", "surname": "Martin", "name": "Paul"})
    assert "Le numéro abrégé 2001 est enregistré." in saved.text
    stored = _service(panel_platform).get(
        _principal(panel_platform, alice), AbbreviatedList(alice.group_id, line), "2001"
    )
    assert (stored.destination_number, stored.surname, stored.name) == ("+33612345678", "Martin", "Paul")

    deleted = _post(client, abbreviated_path(alice.group_id, line, "2001/delete"))
    assert "Le numéro abrégé 2001 est supprimé." in deleted.text
    assert _shorts(panel_platform, alice, line) == []


def test_clearing_needs_the_box_ticked(client: TestClient, panel_platform: Platform, alice: Customer) -> None:
    _sign_in(client, alice)
    for short in ("7001", "7002"):
        _post(client, abbreviated_path(alice.group_id, None, "add"), _form(short))
    page = client.get(abbreviated_path(alice.group_id))
    assert "Je confirme la suppression des 2 numéros abrégés de cette liste." in page.text
    clear = abbreviated_path(alice.group_id, None, "clear")
    refused = _post(client, clear)
    assert refused.status_code == 422
    assert "Cochez la case pour confirmer la suppression." in refused.text
    assert _shorts(panel_platform, alice) == ["7001", "7002"]
    cleared = _post(client, clear, {"confirm": "true"})
    assert "Numéros abrégés supprimés : 2." in cleared.text
    assert _shorts(panel_platform, alice) == []


def test_an_import_lists_the_refused_lines_and_the_export_downloads_the_list(
    client: TestClient, panel_platform: Platform, alice: Customer
) -> None:
    _sign_in(client, alice)
    token = client.get("/").text.split('name="csrf_token" value="')[1].split('"')[0]
    data = "7001,0199001001,Dupont,Jean\n7002,pas un numéro\n7003,0033199001003\n".encode()
    response = client.post(
        abbreviated_path(alice.group_id, None, "import"),
        data={"csrf_token": token},
        files={"file": ("numeros.csv", data, "text/csv")},
    )
    assert response.status_code == 200
    assert "Import terminé : 2 ajouté(s), 0 mis à jour, 0 inchangé(s)." in response.text
    assert "Lignes refusées, non importées (1) :" in response.text
    assert str(escape("Ligne 2 : « pas un numéro » n'est pas un numéro de téléphone valide.")) in response.text
    assert _shorts(panel_platform, alice) == ["7001", "7003"]

    exported = client.get(abbreviated_path(alice.group_id, None, "export"))
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-disposition"] == f'attachment; filename="numeros-abreges-{alice.group_id}.csv"'
    assert exported.text == "7001,0033199001001,Dupont,Jean\r\n7003,0033199001003,,\r\n"

    missing = client.post(abbreviated_path(alice.group_id, None, "import"), data={"csrf_token": token})
    assert missing.status_code == 422
    assert '<p class="form-error" id="ab-file-error">Choisissez un fichier CSV.</p>' in missing.text
    binary = client.post(
        abbreviated_path(alice.group_id, None, "import"),
        data={"csrf_token": token},
        files={"file": ("photo.csv", b"\x89PNG\x00\x00", "text/csv")},
    )
    assert binary.status_code == 422
    assert "Ce fichier n&#39;est pas un fichier CSV" in binary.text
    assert _shorts(panel_platform, alice) == ["7001", "7003"]


def test_another_accounts_lists_are_not_found(
    client: TestClient, panel_platform: Platform, alice: Customer, bob: Customer
) -> None:
    principal = _principal(panel_platform, alice)
    _service(panel_platform).add(principal, AbbreviatedList(alice.group_id), AbbreviatedEntry("7001", "0199001002"))
    _sign_in(client, bob)
    for path in (
        abbreviated_path(alice.group_id),
        abbreviated_path(bob.group_id, alice.number),
        abbreviated_path(alice.group_id, None, "export"),
        abbreviated_path(alice.group_id, None, "7001/edit"),
    ):
        assert client.get(path).status_code == 404, path
    for path, form in (
        (abbreviated_path(alice.group_id, None, "add"), _form("7002")),
        (abbreviated_path(alice.group_id, None, "7001/edit"), _form()),
        (abbreviated_path(alice.group_id, None, "7001/delete"), {}),
        (abbreviated_path(alice.group_id, None, "clear"), {"confirm": "true"}),
    ):
        assert _post(client, path, form).status_code == 404, path
    assert _shorts(panel_platform, alice) == ["7001"]
