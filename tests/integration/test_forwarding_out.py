"""Calls that leave the platform because of a line's options, with sipp as the carrier (tests.integration.carrier):
a forward to an outside number goes out as the forwarding line's call (its limit and its lock apply, Diversion
names it); a locked line calls emergency numbers only until its PIN unlocks it; the display number is what the
carrier is asserted."""

from __future__ import annotations

import re

import pytest

from tests.integration.calling import (
    call_records,
    caller,
    dial_code,
    limit_calls,
    national,
    received,
    register,
    set_line_options,
    set_voicemail,
)
from tests.integration.carrier import (
    CARRIER_HOST,
    OUTSIDE_NUMBER,
    Carrier,
    answered_call,
    identity,
    open_carrier,
    received_invites,
)
from tests.integration.conftest import Site
from tests.peers.sipp import Sipp
from tests.peers.tonalite_server import DOMAIN, free_port
from tonalite.features.dialled import EMERGENCY_NUMBERS
from tonalite.store.models import CallDirection, CallResult, ForwardNature

PIN = "4321"


@pytest.fixture
def carrier(site: Site) -> Carrier:
    return open_carrier(site)


def _far_end(carrier: Carrier, number: str, caller_number: str) -> Sipp:
    """The carrier, answering a call to `number` that presents `caller_number`."""
    return carrier.far_end(
        "trunk_uas",
        REQUEST_URI=re.escape(f"sip:{number}@{CARRIER_HOST}:{carrier.port}"),
        CALLER=identity(caller_number),
    ).start()


def _forward_out(site: Site, index: int, kind: str) -> None:
    set_line_options(
        site,
        index,
        **{
            f"forward_{kind}": True,
            f"forward_{kind}_number": OUTSIDE_NUMBER,
            f"forward_{kind}_nature": ForwardNature.NUMBER,
        },
    )


def _refused(site: Site, dialled: str, final: str) -> Sipp:
    call = caller(site, "call_refused", dialled, substitutions={"FINAL": final})
    call.extra += ["-trace_msg"]
    run = call.run()
    assert run.all_passed, run.output
    return call


def test_a_backup_forward_to_an_outside_number_goes_out_through_the_trunk(carrier: Carrier) -> None:
    """Line 1 is not registered: its backup forward calls the outside number through the trunk, presenting
    the caller, with a Diversion naming line 1."""
    site = carrier.site
    _forward_out(site, 1, "backup")
    register(site, 0)
    far_end = _far_end(carrier, OUTSIDE_NUMBER, site.lines[0].number)
    record = answered_call(site, caller(site, "call_uac", national(site.lines[1])), far_end)
    (invite,) = received_invites(far_end)
    assert invite["diversion"] == f"<sip:{site.lines[1].number}@{DOMAIN}>;reason=unavailable;counter=1"
    assert (record.direction, record.callee, record.result) == (
        CallDirection.INTERNAL,
        site.lines[1].number,
        CallResult.ANSWERED,
    )


def test_a_forward_out_is_refused_when_the_forwarding_line_is_at_its_limit(carrier: Carrier) -> None:
    """Line 1 takes one call at a time and is calling line 2: the call forwarded out would be a second call
    of line 1, so it ends on line 1's voicemail, here off: busy. The carrier gets nothing."""
    site = carrier.site
    _forward_out(site, 1, "unconditional")
    limit_calls(site, 1, 1)
    set_voicemail(site, 1, active=False)
    register(site, 0)
    register(site, 1)
    ringing = Sipp("call_uas_ring", site.server.sip_port, site.work_dir / "line2", local_port=register(site, 2))
    ringing.start()
    outgoing = caller(site, "call_uac_cancel", national(site.lines[2]), line=1, local_port=free_port())
    outgoing.extra += ["-d", "4000", "-trace_msg"]
    outgoing.start().wait_for_message("SIP/2.0 180")
    _refused(site, national(site.lines[1]), "486")
    for run in (outgoing.finish(), ringing.finish()):
        assert run.all_passed, run.output
    records = call_records(site, 2)
    assert {(record.callee, record.sip_code) for record in records} == {
        (site.lines[1].number, 486),
        (site.lines[2].number, 487),
    }


def test_a_forward_out_is_barred_by_the_forwarding_lines_lock(carrier: Carrier) -> None:
    site = carrier.site
    _forward_out(site, 1, "unconditional")
    set_line_options(site, 1, lock_out_call=True)
    set_voicemail(site, 1, active=False)
    register(site, 0)
    _refused(site, national(site.lines[1]), "403")


def test_a_locked_line_calls_emergency_numbers_only_until_its_pin_unlocks_it(carrier: Carrier) -> None:
    """`*33*PIN#` locks line 0 from its phone: an outside number is refused with a spoken message (early
    media, then 403), an emergency number goes through the trunk as dialled; `#33*PIN#` unlocks it."""
    site = carrier.site
    register(site, 0)
    site.server.platform.services.line_options.update_from_phone(_line_id(site, 0), {"lock_out_call_password": PIN})
    site.server.platform.db.dispose()
    dial_code(site, f"*33*{PIN}#")
    assert site.line_api(0, "options").json()["lockOutCall"] is True

    refused = _refused(site, "0612345678", "403")
    (progress,) = received(refused, "SIP/2.0 183")
    assert progress.header("Content-Type") == "application/sdp"
    emergency = sorted(EMERGENCY_NUMBERS)[0]
    _through(caller(site, "call_uac", emergency), _far_end(carrier, emergency, site.lines[0].number))

    dial_code(site, f"#33*{PIN}#")
    assert site.line_api(0, "options").json()["lockOutCall"] is False
    _through(caller(site, "call_uac", "0612345678"), _far_end(carrier, OUTSIDE_NUMBER, site.lines[0].number))
    calls = [(record.callee, record.sip_code) for record in call_records(site, 5)]
    assert calls[1:3] + calls[4:] == [(OUTSIDE_NUMBER, 403), (emergency, 200), (OUTSIDE_NUMBER, 200)]


def _through(placing: Sipp, far_end: Sipp) -> None:
    for run in (placing.run(), far_end.finish()):
        assert run.all_passed, run.output


def test_the_carrier_is_asserted_the_display_number(carrier: Carrier) -> None:
    site = carrier.site
    set_line_options(site, 0, display_number=site.lines[2].number)
    register(site, 0)
    far_end = _far_end(carrier, OUTSIDE_NUMBER, site.lines[2].number)
    answered_call(site, caller(site, "call_uac", "0612345678"), far_end)
    (invite,) = received_invites(far_end)
    assert re.search(identity(site.lines[2].number), invite["p-asserted-identity"])
    assert site.lines[0].number not in invite["from"] + invite["p-asserted-identity"]


def _line_id(site: Site, index: int) -> int:
    line = site.server.platform.services.line_directory.by_number(site.lines[index].number)
    assert line is not None
    return line.line_id
