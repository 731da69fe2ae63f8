from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest

from tests.api.customers import Customer, open_account
from tonalite.app import Platform
from tonalite.calls.location import LocationService
from tonalite.clock import ManualClock
from tonalite.services.errors import NotFound
from tonalite.services.registrations import Binding, RegistrationChanges
from tonalite.sip.transport import Transport
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


def _line(platform: Platform) -> tuple[int, Customer]:
    customer = open_account(platform, "alice", "+33999001234")
    line = platform.services.lines.get(customer.principal, customer.group, "+33999001234")
    return line.id, customer


def test_refresh_keeps_the_start_and_another_device_replaces(platform: Platform, clock: ManualClock) -> None:
    line_id, customer = _line(platform)
    location = LocationService(platform.services.registrations)
    first = _binding(line_id, clock)
    assert location.bind(first) is None
    clock.advance(600)
    assert location.bind(_binding(line_id, clock)) is None
    refreshed = location.current(line_id, clock.wall())
    assert refreshed is not None
    assert refreshed.registered_at == first.registered_at
    assert refreshed.expires_at == clock.wall() + timedelta(seconds=1800)

    clock.advance(10)
    other = _binding(line_id, clock, call_id="call-2", port=5064)
    replaced = location.bind(other)
    assert replaced is not None and replaced.source_port == 5062
    platform.services.registrations.apply(location.take_changes())

    assert platform.services.registrations.current(line_id) == other
    history = platform.services.registrations.history(customer.principal, customer.group, "33999001234")
    assert sorted(event.kind for event in history) == sorted(
        [RegistrationEventKind.REGISTERED, RegistrationEventKind.REPLACED, RegistrationEventKind.REGISTERED]
    )
    assert {event.source for event in history} == {"udp:127.0.0.1:5062", "udp:127.0.0.1:5064"}


def test_the_same_phone_restarted_registers_afresh_and_replaces_nobody(platform: Platform, clock: ManualClock) -> None:
    """Its contact is the same, its Call-ID new: a new registration (its start is now), no replacement."""
    line_id, customer = _line(platform)
    location = LocationService(platform.services.registrations)
    location.bind(_binding(line_id, clock))
    clock.advance(60)
    restarted = _binding(line_id, clock, call_id="call-after-reboot")
    assert location.bind(restarted) is None
    assert location.current(line_id, clock.wall()) == restarted
    platform.services.registrations.apply(location.take_changes())
    history = platform.services.registrations.history(customer.principal, customer.group, "33999001234")
    assert [event.kind for event in history] == [RegistrationEventKind.REGISTERED] * 2


def test_expiry_and_removal_reach_the_database(platform: Platform, clock: ManualClock) -> None:
    line_id, _ = _line(platform)
    location = LocationService(platform.services.registrations)
    location.bind(_binding(line_id, clock))
    platform.services.registrations.apply(location.take_changes())
    clock.advance(1799)
    assert location.expire(clock.wall()) == []
    assert platform.services.registrations.current(line_id) is not None
    clock.advance(1)
    assert location.current(line_id, clock.wall()) is None
    assert [b.line_id for b in location.expire(clock.wall())] == [line_id]
    platform.services.registrations.apply(location.take_changes())
    assert platform.services.registrations.all_current() == []

    location.bind(_binding(line_id, clock))
    assert location.unbind(line_id, clock.wall()) is not None
    assert location.unbind(line_id, clock.wall()) is None
    platform.services.registrations.apply(location.take_changes())
    assert platform.services.registrations.current(line_id) is None


def test_bindings_survive_a_restart(platform: Platform, clock: ManualClock) -> None:
    line_id, _ = _line(platform)
    before = LocationService(platform.services.registrations)
    binding = _binding(line_id, clock)
    before.bind(binding)
    platform.services.registrations.apply(before.take_changes())
    after = LocationService(platform.services.registrations)
    after.load()
    assert after.current(line_id, clock.wall()) == binding


def test_history_keeps_the_newest_events(platform: Platform, clock: ManualClock) -> None:
    line_id, customer = _line(platform)
    location = LocationService(platform.services.registrations)
    for index in range(60):
        clock.advance(1)
        location.bind(_binding(line_id, clock, call_id=f"call-{index}"))
    platform.services.registrations.apply(location.take_changes())
    platform.services.registrations.trim_history()
    history = platform.services.registrations.history(customer.principal, customer.group, "33999001234")
    assert len(history) == 50
    assert history[0].occurred_at == clock.wall()


def test_registration_is_read_only_within_the_account(platform: Platform, clock: ManualClock) -> None:
    line_id, alice = _line(platform)
    bob = open_account(platform, "bob", "+33999002222")
    platform.services.registrations.apply(RegistrationChanges.binding(_binding(line_id, clock)))
    assert platform.services.registrations.for_line(alice.principal, alice.group, "33999001234") is not None
    with pytest.raises(NotFound):
        platform.services.registrations.for_line(bob.principal, alice.group, "33999001234")


def test_flush_writes_off_the_loop(platform: Platform, clock: ManualClock) -> None:
    """The scheduler's path: `flush` hands the batch to a worker thread and waits for it."""
    line_id, _ = _line(platform)
    location = LocationService(platform.services.registrations)
    location.bind(_binding(line_id, clock))
    outcome: list[Binding | None] = []

    def in_a_thread_of_its_own() -> None:  # Playwright's sync API may hold this thread's event loop
        asyncio.run(location.flush())
        outcome.append(platform.services.registrations.current(line_id))

    worker = threading.Thread(target=in_a_thread_of_its_own)
    worker.start()
    worker.join(timeout=10)
    assert outcome and outcome[0] is not None
