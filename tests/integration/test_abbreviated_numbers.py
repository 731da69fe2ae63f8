"""Abbreviated numbers dialled from a line's phone (sipp): the line's own short number, then its billing group's,
rings their destination; a short number nobody defined gets 404."""

from __future__ import annotations

import pytest

from tests.integration.calling import call_records, caller, place_call, received, register
from tests.integration.conftest import Site
from tests.peers.tonalite_server import ACCOUNT_LOGIN, ACCOUNT_PASSWORD
from tonalite.services.abbreviated_numbers import AbbreviatedEntry, AbbreviatedList


def _define(site: Site, short: str, destination: str, line_number: str | None = None) -> None:
    platform = site.server.platform
    principal = platform.services.accounts.authenticate(ACCOUNT_LOGIN, ACCOUNT_PASSWORD)
    where = AbbreviatedList(site.group_id, line_number)
    platform.services.abbreviated_numbers.add(principal, where, AbbreviatedEntry(short, destination))
    platform.db.dispose()


@pytest.mark.parametrize("short", ["7001", "2001"])
def test_a_short_number_rings_its_destination(phones: Site, short: str) -> None:
    site = phones
    if short.startswith("7"):
        _define(site, short, site.lines[1].number)
    else:
        _define(site, short, site.lines[1].number, line_number=site.lines[0].number)
    register(site, 0)
    place_call(site, "call_uac", "call_uas", register(site, 1), dialled=short)
    (record,) = call_records(site, 1)
    assert (record.caller, record.callee) == (site.lines[0].number, site.lines[1].number)


def test_a_short_number_nobody_defined_gets_a_spoken_message_then_404(phones: Site) -> None:
    """The spoken "number not assigned", as early media (183 with the node's SDP), then 404."""
    site = phones
    _define(site, "7001", site.lines[1].number)
    register(site, 0)
    call = caller(site, "call_refused", "7999", substitutions={"FINAL": "404"})
    call.extra += ["-trace_msg"]
    refused = call.run()
    assert refused.all_passed, refused.output
    (progress,) = received(call, "SIP/2.0 183")
    assert progress.header("Content-Type") == "application/sdp"
    (record,) = call_records(site, 1)
    assert (record.callee, record.sip_code) == ("7999", 404)
