"""Whatever goes wrong, the answer is a JSON error, never a 500 nor an HTML page."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.api.customers import ALICE_LINE, Customer
from tonalite.api.errors import service_error_response
from tonalite.services.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound, ServiceError


@pytest.mark.parametrize("path", ["/v1/nothing-here", "/v1/billing-groups/1/lines/33999001234/voicemail", "/v1/"])
def test_an_unknown_route_is_a_json_404(client: TestClient, alice: Customer, path: str) -> None:
    response = client.get(path, headers=alice.headers)
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Not found."}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/me", "GET"),
        ("GET", "/v1/auth/token", "POST"),
        ("PUT", "/v1/billing-groups/{group}/lines/{number}", "GET, PATCH"),
        ("GET", "/v1/billing-groups/{group}/lines/{number}/password-reset", "POST"),
    ],
)
def test_a_wrong_method_is_a_json_405(
    client: TestClient, alice: Customer, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, alice.path(path, ALICE_LINE), headers=alice.headers)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("group", "message"),
    [("abc", "valid integer"), ("0", "greater than or equal to 1"), ("99999999999999999999", "less than or equal")],
)
def test_a_malformed_billing_group_id_is_a_validation_error(
    client: TestClient, alice: Customer, group: str, message: str
) -> None:
    response = client.get(f"/v1/billing-groups/{group}/lines", headers=alice.headers)
    assert response.status_code == 422
    assert response.json()["field"] == "group"
    assert response.json()["message"].startswith("group: ")
    assert message in response.json()["message"]


def test_the_openapi_document_describes_the_json_errors(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v1/billing-groups/{group}/lines/{number}/options"]["patch"]
    for status in ("401", "404", "422"):
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (NotFound(), 404, {"error": "not_found", "message": "Not found."}),
        (
            InvalidInput("error.pin_invalid", "lock_out_call_password"),
            422,
            {"error": "invalid", "message": "The code must be exactly 4 digits.", "field": "lockOutCallPassword"},
        ),
        (
            Conflict("error.number_taken", "number", number="+33999001234"),
            409,
            {"error": "conflict", "message": "The number +33999001234 is already assigned.", "field": "number"},
        ),
        (AuthenticationFailed(), 401, {"error": "unauthorized", "message": "Wrong login or password."}),
    ],
)
def test_service_errors_become_json_in_english(error: ServiceError, status: int, body: dict[str, str]) -> None:
    response = service_error_response(error)
    assert response.status_code == status
    assert json.loads(bytes(response.body)) == body
    assert ("www-authenticate" in response.headers) == (status == 401)
