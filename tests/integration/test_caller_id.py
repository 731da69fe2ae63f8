"""Caller-ID presentation (CLIR): a line that hides its number reaches a phone as "Anonymous" without any
asserted identity; 3652 shows it for one call, 3651 hides it for one call. sipp plays both phones."""

from __future__ import annotations

import pytest

from tests.integration.calling import call_records, caller, received, register, set_line_options
from tests.integration.conftest import Site
from tests.peers.sipp import Sipp

HIDDEN_FROM = '"Anonymous" <sip:anonymous@anonymous.invalid>'


def _invite_seen_by_line_1(site: Site, dialled: str) -> dict[str, str]:
    callee = Sipp(
        "call_uas", site.server.sip_port, site.work_dir / "line1", local_port=register(site, 1), extra=["-trace_msg"]
    ).start()
    placed = caller(site, "call_uac", dialled).run()
    answered = callee.finish()
    assert placed.all_passed, placed.output
    assert answered.all_passed, answered.output
    (invite,) = received(callee, "INVITE ")
    (record,) = call_records(site, 1)
    assert record.caller == site.lines[0].number  # the platform still records who called
    return invite.headers


@pytest.mark.parametrize(
    ("restricted", "prefix", "hidden"),
    [(False, "", False), (True, "", True), (True, "3652", False), (False, "3651", True)],
)
def test_the_callee_sees_the_number_as_the_caller_chose(
    phones: Site, restricted: bool, prefix: str, hidden: bool
) -> None:
    site = phones
    set_line_options(site, 0, identification_restriction=restricted)
    register(site, 0)
    headers = _invite_seen_by_line_1(site, prefix + "0199001002")
    if hidden:
        assert headers["from"].startswith(HIDDEN_FROM)
        assert "p-asserted-identity" not in headers
        assert site.lines[0].number not in str(headers)
    else:
        assert site.lines[0].number in headers["from"]
        assert site.lines[0].number in headers["p-asserted-identity"]
