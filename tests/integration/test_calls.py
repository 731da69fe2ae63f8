"""Calls between lines through the B2BUA, driven by sipp: answered, cancelled, refused, and under load."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from tests.integration.conftest import POLL_TIMEOUT_S, Site
from tests.peers.sipp import Sipp, run_sipp, users_file
from tests.peers.tonalite_server import free_port
from tonalite.services.lines import LineCredentials
from tonalite.services.numbering import format_national
from tonalite.store.models import CallRecord, Line


def _national(line: LineCredentials) -> str:
    return format_national(line.number).replace(" ", "")


def _register(site: Site, index: int, port: int | None = None) -> int:
    """Register line `index` from `port` (the port its phone will answer calls on); returns the port."""
    port = port or free_port()
    users = users_file(site.work_dir / f"line{index}", [site.lines[index]])
    run = run_sipp("register", site.server.sip_port, users, users.parent, keys={"expires": "600"}, local_port=port)
    assert run.all_passed, run.output
    site.wait_registrations(index, bool)
    return port


def _caller(site: Site, scenario: str, dialled: str, **options: object) -> Sipp:
    users = users_file(site.work_dir / "line0", [site.lines[0]])
    return Sipp(
        scenario,
        site.server.sip_port,
        users.parent,
        users,
        keys={"dialled": dialled},
        extra=["-auth_uri", f"{dialled}@{site.lines[0].domain}"],
        **options,  # type: ignore[arg-type]
    )


def _records(site: Site, count: int = 0) -> list[CallRecord]:
    """The call records, once at least `count` are there: they are written in batches after the calls end,
    so poll, bounded."""
    deadline = time.monotonic() + POLL_TIMEOUT_S
    while True:
        platform = site.server.platform
        try:
            with platform.db.session() as session:
                records = list(session.scalars(select(CallRecord).order_by(CallRecord.id)))
        finally:
            platform.db.dispose()
        if len(records) >= count or time.monotonic() > deadline:
            return records
        time.sleep(0.05)


@pytest.fixture
def phones(site: Site) -> Iterator[Site]:
    for index in range(3):
        (site.work_dir / f"line{index}").mkdir()
    yield site


def _place_call(site: Site, caller_scenario: str, callee_scenario: str, callee_port: int, dialled: str = "") -> None:
    """Line 0 calls line 1, whose phone (a sipp UAS on `callee_port`) plays `callee_scenario`: both must pass."""
    callee = Sipp(callee_scenario, site.server.sip_port, site.work_dir / "line1", local_port=callee_port).start()
    caller = _caller(site, caller_scenario, dialled or _national(site.lines[1])).run()
    answered = callee.finish()
    assert caller.all_passed, caller.output
    assert answered.all_passed, answered.output


def test_a_line_calls_another_line(phones: Site) -> None:
    site = phones
    _register(site, 0)
    _place_call(site, "call_uac", "uas", _register(site, 1))
    (record,) = _records(site, 1)
    assert (record.caller, record.callee) == (site.lines[0].number, site.lines[1].number)
    assert record.result is not None and record.result.value == "answered"
    assert record.sip_code == 200
    assert record.answered_at is not None and record.ended_at is not None


def test_the_caller_hangs_up_before_the_answer(phones: Site) -> None:
    site = phones
    _register(site, 0)
    _place_call(site, "call_uac_cancel", "call_uas_ring", _register(site, 1), dialled=site.lines[1].number)
    (record,) = _records(site, 1)
    assert record.result is not None and record.result.value == "cancelled"
    assert record.answered_at is None


@pytest.mark.parametrize(
    ("case", "final"),
    [("unknown number", "404"), ("callee not registered", "480"), ("caller not registered", "403")],
)
def test_calls_that_cannot_go_through(phones: Site, case: str, final: str) -> None:
    site = phones
    if case != "caller not registered":
        _register(site, 0)
    dialled = {"unknown number": "0199009999", "callee not registered": _national(site.lines[2])}.get(
        case, _national(site.lines[1])
    )
    if case == "caller not registered":
        _register(site, 1)
    refused = _caller(site, "call_refused", dialled, substitutions={"FINAL": final}).run()
    assert refused.all_passed, refused.output


def _limit_calls(site: Site, index: int, limit: int) -> None:
    platform = site.server.platform
    with platform.db.session() as session:
        session.execute(update(Line).where(Line.number == site.lines[index].number).values(simultaneous_calls=limit))
    platform.db.dispose()


def test_a_callee_at_its_limit_is_busy(phones: Site) -> None:
    site = phones
    _limit_calls(site, 1, 1)
    _register(site, 0)
    callee_port = _register(site, 1)
    callee = Sipp("call_uas_ring", site.server.sip_port, site.work_dir / "line1", local_port=callee_port).start()
    first = _caller(site, "call_uac_cancel", _national(site.lines[1]), local_port=free_port())
    first.extra += ["-d", "3000", "-trace_msg"]  # it rings while the second call arrives
    first.start().wait_for_message("SIP/2.0 180")
    busy = _caller(site, "call_refused", _national(site.lines[1]), substitutions={"FINAL": "486"})
    busy_run = busy.run()
    assert busy_run.all_passed, busy_run.output
    assert first.finish().all_passed
    assert callee.finish().all_passed


def test_a_thousand_calls_at_fifty_per_second(phones: Site) -> None:
    site = phones
    for index in (0, 1):
        _limit_calls(site, index, 100)  # a trunk-like line: the calls overlap
    _register(site, 0)
    callee_port = _register(site, 1)
    calls = 1000
    callee = Sipp(
        "uas", site.server.sip_port, site.work_dir / "line1", calls=calls, local_port=callee_port, timeout_s=60
    ).start()
    caller = _caller(site, "call_uac", _national(site.lines[1]), calls=calls, rate=50, timeout_s=60).run()
    answered = callee.finish()
    assert caller.failed == 0 and caller.successful == calls, caller.output
    assert answered.successful == calls, answered.output
    assert len(_records(site, calls)) == calls


def test_a_phone_registered_before_a_restart_still_gets_calls(phones: Site) -> None:
    site = phones
    callee_port = _register(site, 1)
    assert site.server.stop() == 0
    site.server.start()
    _register(site, 0)
    _place_call(site, "call_uac", "uas", callee_port)


def test_hold_is_relayed_in_a_re_invite(phones: Site) -> None:
    site = phones
    _register(site, 0)
    _place_call(site, "call_uac_hold", "call_uas_hold", _register(site, 1))
