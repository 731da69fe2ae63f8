"""`tonalite account create`: an account and its first billing group, or nothing at all."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Tonalite
from tests.cli.support import assert_one_error, database_rows, field_blocks
from tonalite.app import Platform
from tonalite.store.models import Language

ACME = ["account", "create", "acme", "--company", "ACME SA", "--email", "contact@acme.test"]


def test_account_create_generates_a_password_and_a_billing_group(tonalite: Tonalite, platform: Platform) -> None:
    result = tonalite(*ACME, "--mobile", "06 12 34 56 78", "--language", "en")

    assert result.exit_code == 0, result.stderr
    [shown] = field_blocks(result.stdout)
    principal = platform.services.accounts.authenticate("acme", shown["password"])
    assert shown["account"] == f"acme (id {principal.account_id})"
    assert principal.language is Language.EN
    [group] = platform.services.billing_groups.list(principal)
    assert shown["billing group"] == f"{group.id} (ACME SA)"
    account = platform.services.accounts.get(principal)
    assert (account.company_name, account.contact_email, account.mobile_number) == (
        "ACME SA",
        "contact@acme.test",
        "+33612345678",
    )


def test_account_create_with_a_password_does_not_print_it(tonalite: Tonalite, platform: Platform) -> None:
    result = tonalite(*ACME, "--password", "correct-horse", "--billing-group", "Siège")

    assert result.exit_code == 0, result.stderr
    assert "correct-horse" not in result.output
    principal = platform.services.accounts.authenticate("acme", "correct-horse")
    assert [group.description for group in platform.services.billing_groups.list(principal)] == ["Siège"]
    assert "password" not in field_blocks(result.stdout)[0]


def test_a_taken_login_is_refused_and_nothing_is_written(tonalite: Tonalite, sqlite_url: str) -> None:
    assert tonalite(*ACME).exit_code == 0
    before = database_rows(sqlite_url)

    assert_one_error(tonalite(*ACME), 1, "acme", "already taken")
    assert database_rows(sqlite_url) == before


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--billing-group", "x" * 201], "longer than 200"),
        (["--password", "short"], "at least 8"),
        (["--password", ""], "at least 8"),
        (["--mobile", "twelve"], "twelve"),
    ],
)
def test_invalid_input_creates_neither_account_nor_billing_group(
    tonalite: Tonalite, sqlite_url: str, extra: list[str], fragment: str
) -> None:
    before = database_rows(sqlite_url)
    assert_one_error(tonalite(*ACME, *extra), 2, fragment)
    assert database_rows(sqlite_url) == before


def test_an_invalid_email_is_a_usage_error(tonalite: Tonalite) -> None:
    assert_one_error(tonalite("account", "create", "acme", "--company", "ACME", "--email", "nobody"), 2, "nobody")
