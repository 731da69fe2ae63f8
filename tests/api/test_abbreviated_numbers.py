"""Abbreviated numbers through the API: both lists, the 3-digit advice, refusals naming their field, and the CSV
import (as the body or as a file) and export."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.customers import ABBREVIATED, ALICE_LINE, GROUP_SHORT, LINE_ABBREVIATED, LINE_SHORT, Customer
from tonalite.services.abbreviated_numbers import MAX_IMPORT_BYTES

ADVICE = (
    "Tip: prefer 4 digits. After a 3-digit number, the phone waits a few seconds for a possible fourth digit before "
    "it calls."
)


def _list(client: TestClient, alice: Customer, template: str) -> list[dict[str, Any]]:
    response = client.get(alice.path(template, ALICE_LINE), headers=alice.headers)
    assert response.status_code == 200
    return list(response.json()["items"])


def test_a_number_is_added_read_changed_and_deleted(client: TestClient, alice: Customer) -> None:
    path = alice.path(ABBREVIATED, ALICE_LINE)
    body = {"abbreviatedNumber": "7002", "destinationNumber": "01 99 00 10 02", "surname": "Dupont", "name": "Jean"}
    added = client.post(path, headers=alice.headers, json=body)
    assert added.status_code == 201
    expected = {**body, "destinationNumber": "+33199001002"}
    assert added.json() == {**expected, "warning": None}
    assert client.get(f"{path}/7002", headers=alice.headers).json() == expected

    changed = client.put(f"{path}/7002", headers=alice.headers, json={"destinationNumber": "0033612345678"})
    assert changed.status_code == 200
    assert changed.json() == {
        **expected,
        "destinationNumber": "+33612345678",
        "surname": "",
        "name": "",
        "warning": None,
    }

    assert client.delete(f"{path}/7002", headers=alice.headers).status_code == 204
    assert client.get(f"{path}/7002", headers=alice.headers).status_code == 404
    assert client.delete(f"{path}/7002", headers=alice.headers).status_code == 404
    assert [item["abbreviatedNumber"] for item in _list(client, alice, ABBREVIATED)] == [GROUP_SHORT]


def test_three_digits_are_saved_with_the_advice_and_a_json_number_is_taken(client: TestClient, alice: Customer) -> None:
    path = alice.path(LINE_ABBREVIATED, ALICE_LINE)
    added = client.post(path, headers=alice.headers, json={"abbreviatedNumber": 299, "destinationNumber": "0199001002"})
    assert added.status_code == 201
    assert added.json()["abbreviatedNumber"] == "299"
    assert added.json()["warning"] == ADVICE
    changed = client.put(f"{path}/299", headers=alice.headers, json={"destinationNumber": "0199001003"})
    assert changed.json()["warning"] == ADVICE
    assert [item["abbreviatedNumber"] for item in _list(client, alice, LINE_ABBREVIATED)] == [LINE_SHORT, "299"]


@pytest.mark.parametrize(
    ("template", "body", "status", "field"),
    [
        (ABBREVIATED, {"abbreviatedNumber": "2002", "destinationNumber": "0199001002"}, 422, "abbreviatedNumber"),
        (LINE_ABBREVIATED, {"abbreviatedNumber": "7002", "destinationNumber": "0199001002"}, 422, "abbreviatedNumber"),
        (ABBREVIATED, {"abbreviatedNumber": "70", "destinationNumber": "0199001002"}, 422, "abbreviatedNumber"),
        (ABBREVIATED, {"abbreviatedNumber": True, "destinationNumber": "0199001002"}, 422, "abbreviatedNumber"),
        (ABBREVIATED, {"abbreviatedNumber": "7002", "destinationNumber": "nowhere"}, 422, "destinationNumber"),
        (ABBREVIATED, {"abbreviatedNumber": "7002"}, 422, "destinationNumber"),
        (ABBREVIATED, {"abbreviatedNumber": "7002", "destinationNumber": "0199001002", "name": "x" * 101}, 422, "name"),
        (ABBREVIATED, {"abbreviatedNumber": "7002", "destinationNumber": "0199001002", "city": "Paris"}, 422, "city"),
        (ABBREVIATED, {"abbreviatedNumber": GROUP_SHORT, "destinationNumber": "0199001002"}, 409, "abbreviatedNumber"),
    ],
)
def test_a_refused_number_names_its_field_and_changes_nothing(
    client: TestClient, alice: Customer, template: str, body: dict[str, Any], status: int, field: str
) -> None:
    before = _list(client, alice, template)
    response = client.post(alice.path(template, ALICE_LINE), headers=alice.headers, json=body)
    assert response.status_code == status
    assert response.json()["field"] == field
    assert _list(client, alice, template) == before


def test_an_import_reports_its_bad_rows_and_the_export_gives_the_list_back(client: TestClient, alice: Customer) -> None:
    path = alice.path(ABBREVIATED, ALICE_LINE)
    data = f"{GROUP_SHORT},0199001011,Dupont\n7002,0199001002,Martin,Paul\n2003,0199001003\n7004,?\n7002,0199001005\n"
    response = client.post(
        f"{path}/import", headers={**alice.headers, "Content-Type": "text/csv"}, content=data.encode()
    )
    assert response.status_code == 200
    assert response.json() == {
        "added": 1,
        "updated": 1,
        "unchanged": 0,
        "rejected": [
            {
                "line": 3,
                "error": "invalid",
                "field": "abbreviatedNumber",
                "message": "An abbreviated number of this list has 3 or 4 digits and starts with 7.",
            },
            {
                "line": 4,
                "error": "invalid",
                "field": "destinationNumber",
                "message": "“?” is not a valid phone number.",
            },
            {
                "line": 5,
                "error": "invalid",
                "field": "abbreviatedNumber",
                "message": "The abbreviated number 7002 is already on line 2 of the file.",
            },
        ],
    }
    exported = client.get(f"{path}/export", headers=alice.headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-disposition"] == 'attachment; filename="abbreviated-numbers.csv"'
    assert exported.text == "7001,0033199001011,Dupont,\r\n7002,0033199001002,Martin,Paul\r\n"

    assert client.delete(path, headers=alice.headers).status_code == 204
    assert _list(client, alice, ABBREVIATED) == []
    files = {"file": ("numbers.csv", exported.content, "text/csv")}
    again = client.post(f"{path}/import", headers=alice.headers, files=files)
    assert (again.status_code, again.json()["added"]) == (200, 2)
    assert client.get(f"{path}/export", headers=alice.headers).text == exported.text


@pytest.mark.parametrize(
    ("content", "status", "error"),
    [
        (b"7002,0199001002\n" + b"#" * MAX_IMPORT_BYTES, 413, "too_large"),
        (b"\x00\x01\x02", 415, "unsupported_format"),
        (b"", 422, "invalid"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_whole(
    client: TestClient, alice: Customer, content: bytes, status: int, error: str
) -> None:
    path = alice.path(LINE_ABBREVIATED, ALICE_LINE)
    for sent in (
        {"content": content, "headers": {**alice.headers, "Content-Type": "text/csv"}},
        {"files": {"file": ("numbers.csv", content, "text/csv")}, "headers": alice.headers},
    ):
        response = client.post(f"{path}/import", **sent)
        assert (response.status_code, response.json()["error"], response.json()["field"]) == (status, error, "file")
    assert [item["abbreviatedNumber"] for item in _list(client, alice, LINE_ABBREVIATED)] == [LINE_SHORT]


def test_a_multipart_import_without_a_file_is_refused(client: TestClient, alice: Customer) -> None:
    path = alice.path(ABBREVIATED, ALICE_LINE)
    response = client.post(f"{path}/import", headers=alice.headers, files={"other": ("a.csv", b"7002,0199001002")})
    assert response.status_code == 422
    assert response.json() == {"error": "invalid", "message": "Choose a CSV file.", "field": "file"}


def test_the_import_documents_both_ways_of_sending_the_file(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][f"{ABBREVIATED}/import"]["post"]
    assert set(operation["requestBody"]["content"]) == {"text/csv", "multipart/form-data"}
    assert {"200", "413", "415", "422"} <= set(operation["responses"])
