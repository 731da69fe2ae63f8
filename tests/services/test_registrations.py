from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.customers import Customer, open_account
from tonalite.app import Platform
from tonalite.clock import ManualClock
from tonalite.config import Transport
from tonalite.services.errors import NotFound
from tonalite.services.registrations import Binding
from tonalite.store.models import RegistrationEventKind


def _binding(line_id: int, clock: ManualClock, call_id: str = "call-1", port: int = 5062) -> Binding:
    now = clock.wall()
    return Binding(
        line_id=line_id,
        contact=f"<sip:0033999001234@127.0.0.1:{port}>",
        call_id=call_id,
        cseq=1,
        source_host="127.0.0.1",
        source_port=port,
        transport=Transport.UDP,
        user_agent="Desk phone 1.0",
        registered_at=now,
        expires_at=now + timedelta(seconds=1800),
    )


def _line_id(platform: Platform) -> tuple[int, Customer]:
    customer = open_account(platform, "alice", "+33999001234")
    line = platform.services.lines.get(customer.principal, customer.group, "+33999001234")
    return line.id, customer


def test_refresh_keeps_the_start_and_another_device_replaces(platform: Platform, clock: ManualClock) -> None:
    line_id, customer = _line_id(platform)
    registrations = platform.services.registrations
    first = _binding(line_id, clock)
    assert registrations.save(first) is None
    clock.advance(600)
    assert registrations.save(_binding(line_id, clock)) is None
    refreshed = registrations.current(line_id)
    assert refreshed is not None
    assert refreshed.registered_at == first.registered_at
    assert refreshed.expires_at == clock.wall() + timedelta(seconds=1800)

    clock.advance(10)
    other = _binding(line_id, clock, call_id="call-2", port=5064)
    replaced = registrations.save(other)
    assert replaced is not None and replaced.source_port == 5062
    assert registrations.current(line_id) == other
    history = registrations.history(customer.principal, customer.group, "33999001234")
    assert [event.kind for event in history] == [
        RegistrationEventKind.REGISTERED,
        RegistrationEventKind.REPLACED,
        RegistrationEventKind.REGISTERED,
    ]
    assert history[1].source == "udp:127.0.0.1:5062"


def test_expiry_and_removal(platform: Platform, clock: ManualClock) -> None:
    line_id, _ = _line_id(platform)
    registrations = platform.services.registrations
    registrations.save(_binding(line_id, clock))
    clock.advance(1799)
    assert registrations.expire() == []
    assert registrations.current(line_id) is not None
    clock.advance(1)
    assert registrations.current(line_id) is None
    assert [b.line_id for b in registrations.expire()] == [line_id]
    assert registrations.all_current() == []
    registrations.save(_binding(line_id, clock))
    assert registrations.remove(line_id) is not None
    assert registrations.remove(line_id) is None


def test_registration_is_read_only_within_the_account(platform: Platform, clock: ManualClock) -> None:
    line_id, alice = _line_id(platform)
    bob = open_account(platform, "bob", "+33999002222")
    platform.services.registrations.save(_binding(line_id, clock))
    assert platform.services.registrations.for_line(alice.principal, alice.group, "33999001234") is not None
    with pytest.raises(NotFound):
        platform.services.registrations.for_line(bob.principal, alice.group, "33999001234")
