from __future__ import annotations

import pytest
from sqlalchemy import select

from tonalite.app import Platform
from tonalite.clock import ManualClock
from tonalite.services.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from tonalite.services.principal import Principal
from tonalite.sip.auth import DigestAlgorithm, digest_ha1
from tonalite.store.models import ApiToken, ChangeOrigin, ForwardNature, LineOptionChange


def _account(platform: Platform, login: str) -> tuple[Principal, int]:
    services = platform.services
    services.accounts.create(login, "secret-password", f"{login} SA", f"{login}@example.com")
    principal = services.accounts.authenticate(login, "secret-password")
    group = services.billing_groups.create(principal.account_id, "Siège")
    return principal, group.id


def test_line_stores_only_digest_hashes_of_its_password(platform: Platform) -> None:
    _, group = _account(platform, "acme")
    line, credentials = platform.services.lines.create(group, "09 99 00 12 34", "Accueil")
    assert line.number == "+33999001234"
    assert credentials.username == "0033999001234"
    realm = platform.settings.sip_domain
    assert line.ha1_md5 == digest_ha1(DigestAlgorithm.MD5, "0033999001234", realm, credentials.password)
    assert line.ha1_sha256 == digest_ha1(DigestAlgorithm.SHA256, "0033999001234", realm, credentials.password)
    assert credentials.password not in (line.ha1_md5, line.ha1_sha256)


def test_a_number_is_assigned_once(platform: Platform) -> None:
    _, group = _account(platform, "acme")
    platform.services.lines.create(group, "+33999001234")
    with pytest.raises(Conflict):
        platform.services.lines.create(group, "0999001234")
    with pytest.raises(Conflict):
        platform.services.numbers.create_alias(group, "+33999001234")


def test_line_without_number_takes_the_first_available_from_the_inventory(platform: Platform) -> None:
    _, group = _account(platform, "acme")
    with pytest.raises(InvalidInput):
        platform.services.lines.create(group)
    assert platform.services.numbers.add_to_inventory(["09 99 00 00 02", "09 99 00 00 01"]) == [
        "+33999000002",
        "+33999000001",
    ]
    assert platform.services.numbers.add_to_inventory(["+33999000001"]) == []
    line, _ = platform.services.lines.create(group)
    assert line.number == "+33999000001"


def test_another_account_cannot_see_or_change_a_line(platform: Platform) -> None:
    alice, alice_group = _account(platform, "alice")
    bob, _ = _account(platform, "bob")
    platform.services.lines.create(alice_group, "+33999001234")
    assert len(platform.services.lines.list(alice, alice_group)) == 1
    for attempt in (
        lambda: platform.services.lines.list(bob, alice_group),
        lambda: platform.services.lines.get(bob, alice_group, "33999001234"),
        lambda: platform.services.lines.reset_password(bob, alice_group, "33999001234"),
        lambda: platform.services.line_options.update(
            bob, alice_group, "33999001234", {"do_not_disturb": True}, ChangeOrigin.API
        ),
    ):
        with pytest.raises(NotFound):
            attempt()


def test_options_change_all_or_nothing_and_are_recorded(platform: Platform) -> None:
    alice, group = _account(platform, "alice")
    platform.services.lines.create(group, "+33999001234")
    options = platform.services.line_options
    with pytest.raises(InvalidInput) as error:
        options.update(
            alice, group, "33999001234", {"do_not_disturb": True, "forward_no_reply_delay": 500}, ChangeOrigin.API
        )
    assert error.value.field == "forward_no_reply_delay"
    assert options.get(alice, group, "33999001234").do_not_disturb is False

    with pytest.raises(InvalidInput):
        options.update(alice, group, "33999001234", {"forward_unconditional": True}, ChangeOrigin.API)
    updated = options.update(
        alice,
        group,
        "33999001234",
        {"forward_unconditional": True, "forward_unconditional_number": "01 99 00 00 01"},
        ChangeOrigin.PANEL,
    )
    assert updated.forward_unconditional_number == "+33199000001"
    assert updated.forward_unconditional_nature == ForwardNature.NUMBER
    with platform.db.session() as session:
        changes = {c.field: (c.new_value, c.origin) for c in session.query(LineOptionChange)}
    assert changes == {
        "forward_unconditional": ("true", ChangeOrigin.PANEL),
        "forward_unconditional_number": ("+33199000001", ChangeOrigin.PANEL),
    }


def test_display_number_must_belong_to_the_billing_group(platform: Platform) -> None:
    alice, group = _account(platform, "alice")
    _, other_group = _account(platform, "bob")
    platform.services.lines.create(group, "+33999001234")
    platform.services.numbers.create_alias(group, "+33999001111")
    platform.services.numbers.create_alias(other_group, "+33999002222")
    options = platform.services.line_options
    assert (
        options.update(alice, group, "33999001234", {"display_number": "0999001111"}, ChangeOrigin.API).display_number
        == "+33999001111"
    )
    with pytest.raises(InvalidInput):
        options.update(alice, group, "33999001234", {"display_number": "0999002222"}, ChangeOrigin.API)


def test_lock_out_call_needs_a_four_digit_pin(platform: Platform) -> None:
    alice, group = _account(platform, "alice")
    platform.services.lines.create(group, "+33999001234")
    options = platform.services.line_options
    with pytest.raises(InvalidInput):
        options.update(alice, group, "33999001234", {"lock_out_call": True}, ChangeOrigin.API)
    with pytest.raises(InvalidInput):
        options.update(
            alice, group, "33999001234", {"lock_out_call": True, "lock_out_call_password": "12a4"}, ChangeOrigin.API
        )
    locked = options.update(
        alice, group, "33999001234", {"lock_out_call": True, "lock_out_call_password": "1234"}, ChangeOrigin.API
    )
    assert locked.lock_out_call and "1234" not in locked.lock_out_call_pin_hash


def test_demo_is_idempotent_and_resets_passwords(platform: Platform) -> None:
    first = platform.services.demo.ensure()
    second = platform.services.demo.ensure()
    assert first.billing_group_id == second.billing_group_id
    assert [c.number for c in first.lines] == [c.number for c in second.lines]
    assert first.password != second.password
    principal = platform.services.accounts.authenticate("demo", second.password)
    assert len(platform.services.lines.list(principal, second.billing_group_id)) == 3
    assert len(platform.services.numbers.list_alias_numbers(principal, second.billing_group_id)) == 2


def test_api_token_use_is_recorded_to_the_minute(platform: Platform, clock: ManualClock) -> None:
    principal, _ = _account(platform, "alice")
    token = platform.services.sign_in.issue_api_token(principal)

    def last_used() -> object:
        with platform.db.session() as session:
            return session.scalars(select(ApiToken.last_used_at)).one()

    assert platform.services.sign_in.principal_for_api_token(token) == principal
    first = last_used()
    assert first == clock.wall()
    clock.advance(30)
    platform.services.sign_in.principal_for_api_token(token)
    assert last_used() == first
    clock.advance(31)
    platform.services.sign_in.principal_for_api_token(token)
    assert last_used() == clock.wall()
    clock.advance(31 * 24 * 3600)
    with pytest.raises(AuthenticationFailed):
        platform.services.sign_in.principal_for_api_token(token)
