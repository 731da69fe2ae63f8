"""Calls to and from the public network through a carrier trunk, driven by sipp against `tonalite serve`.

sipp plays the carrier (tests.integration.carrier), a stranger on 127.0.0.2, and the
lines' phones on 127.0.0.1 as in test_calls.py; the far end of every call checks the caller it is presented.
The trunk is added while the server runs: the server reads trunks at every call.
"""

from __future__ import annotations

import hashlib
import re
import time

import pytest

from tests.integration.calling import call_records, caller, national, register, set_line_options
from tests.integration.carrier import (
    CARRIER_HOST,
    OUTSIDE_NUMBER,
    STRANGER_HOST,
    TRUNK_PASSWORD,
    TRUNK_USERNAME,
    Carrier,
    answered_call,
    identity,
    open_carrier,
    received_invites,
)
from tests.integration.conftest import Site
from tests.peers.sipp import Sipp
from tests.peers.tonalite_server import free_port
from tonalite.store.models import CallDirection, CallRecord, CallResult

UNRESOLVED_WITHIN_S = 10.0
"""A name that does not resolve fails the call within the lookup's bound (5 s) and a sipp start, well short
of Timer B (32 s), which a datagram sent nowhere would wait for."""


@pytest.fixture
def carrier(site: Site) -> Carrier:
    return open_carrier(site)


def _phone(site: Site, index: int, port: int, caller_number: str) -> Sipp:
    """Line `index`'s phone, registered from `port`: it answers a call that presents `caller_number`."""
    substitutions = {"REQUEST_URI": r"sip:[^ ]+", "CALLER": identity(caller_number)}
    return Sipp(
        "trunk_uas", site.server.sip_port, site.work_dir / f"line{index}", local_port=port, substitutions=substitutions
    )


def _summary(record: CallRecord) -> tuple[CallDirection, str, str, CallResult | None, int | None]:
    return record.direction, record.caller, record.callee, record.result, record.sip_code


def _digest_params(value: str) -> dict[str, str]:
    return {name: quoted or token for name, quoted, token in re.findall(r'(\w+)=(?:"([^"]*)"|([^\s,]+))', value)}


def test_a_line_calls_an_outside_number_through_the_trunk(carrier: Carrier) -> None:
    site = carrier.site
    register(site, 0)
    far_end = carrier.far_end(
        "trunk_uas",
        REQUEST_URI=re.escape(f"sip:{OUTSIDE_NUMBER}@{CARRIER_HOST}:{carrier.port}"),
        CALLER=identity(site.lines[0].number),
    ).start()
    record = answered_call(site, caller(site, "call_uac", "0612345678"), far_end)
    line = site.lines[0].number
    assert _summary(record) == (CallDirection.OUTGOING, line, OUTSIDE_NUMBER, CallResult.ANSWERED, 200)
    assert record.callee_line_id is None


def test_a_hidden_number_reaches_the_carrier_asserted_with_privacy(carrier: Carrier) -> None:
    """CLIR on a call out: the carrier gets an anonymous From, the line's number asserted, and `Privacy: id`
    asking it not to show it to the callee (RFC 3323, RFC 3325)."""
    site = carrier.site
    set_line_options(site, 0, identification_restriction=True)
    register(site, 0)
    line = site.lines[0].number
    far_end = carrier.far_end(
        "trunk_uas",
        REQUEST_URI=re.escape(f"sip:{OUTSIDE_NUMBER}@{CARRIER_HOST}:{carrier.port}"),
        CALLER=rf"(sip:anonymous@anonymous\.invalid>|{identity(line)})",
    ).start()
    answered_call(site, caller(site, "call_uac", "0612345678"), far_end)
    (invite,) = received_invites(far_end)
    assert invite["from"].startswith('"Anonymous" <sip:anonymous@anonymous.invalid>')
    assert re.search(identity(line), invite["p-asserted-identity"])
    assert invite["privacy"] == "id"


def test_an_outside_number_no_trunk_serves_fails_and_is_recorded(carrier: Carrier) -> None:
    site = carrier.site
    register(site, 0)
    refused = caller(site, "call_refused", "+442079460000", substitutions={"FINAL": "404"}).run()
    assert refused.all_passed, refused.output
    (record,) = call_records(site, 1)
    line = site.lines[0].number
    assert _summary(record) == (CallDirection.OUTGOING, line, "+442079460000", CallResult.FAILED, 404)


def test_a_trunk_that_challenges_the_call_gets_the_digest_answer_once(carrier: Carrier) -> None:
    site = carrier.site
    register(site, 0)
    far_end = carrier.far_end("trunk_uas_challenge", USERNAME=TRUNK_USERNAME).start()
    record = answered_call(site, caller(site, "call_uac", OUTSIDE_NUMBER), far_end)
    assert record.result == CallResult.ANSWERED
    first, second = received_invites(far_end)
    assert (first["call-id"], first["from"]) == (second["call-id"], second["from"])
    assert (first["cseq"], second["cseq"]) == ("1 INVITE", "2 INVITE")
    assert "proxy-authorization" not in first
    credentials = _digest_params(second["proxy-authorization"])
    assert credentials["username"] == TRUNK_USERNAME
    assert (credentials["realm"], credentials["opaque"], credentials["uri"]) == (
        "carrier.test",
        "0paque",
        second["uri"],
    )
    ha1 = hashlib.md5(f"{TRUNK_USERNAME}:carrier.test:{TRUNK_PASSWORD}".encode()).hexdigest()
    ha2 = hashlib.md5(f"INVITE:{second['uri']}".encode()).hexdigest()
    expected = hashlib.md5(
        f"{ha1}:c2lwcC10cnVuay1ub25jZQ:{credentials['nc']}:{credentials['cnonce']}:auth:{ha2}".encode()
    ).hexdigest()
    assert credentials["response"] == expected


def test_credentials_the_trunk_refuses_fail_the_call_with_503(carrier: Carrier) -> None:
    """Answered once, challenged again: the caller's phone hears 503 (the platform failed), not a challenge
    it has no credentials for."""
    site = carrier.site
    register(site, 0)
    far_end = carrier.far_end("trunk_uas_rechallenge").start()
    refused = caller(site, "call_refused", OUTSIDE_NUMBER, substitutions={"FINAL": "503"}).run()
    assert refused.all_passed, refused.output
    assert far_end.finish().all_passed
    (record,) = call_records(site, 1)
    assert (record.result, record.sip_code) == (CallResult.FAILED, 503)


def test_a_trunk_named_by_its_host_name_is_reached_over_udp(carrier: Carrier) -> None:
    """`localhost` is looked up (its A record, 127.0.0.1, for the IPv4 UDP socket) before the INVITE goes,
    and the Request-URI keeps the name the operator gave."""
    site = carrier.site
    port = free_port()
    site.server.platform.services.trunks.add("named", "LocalHost", port=port, prefixes=["+44"])
    site.server.platform.db.dispose()
    register(site, 0)
    far_end = Sipp(
        "trunk_uas",
        site.server.sip_port,
        site.work_dir / "carrier",
        local_port=port,
        substitutions={
            "REQUEST_URI": re.escape(f"sip:+442079460000@localhost:{port}"),
            "CALLER": identity(site.lines[0].number),
        },
        extra=["-i", "127.0.0.1"],
    ).start()
    record = answered_call(site, caller(site, "call_uac", "00442079460000"), far_end)
    assert (record.result, record.callee) == (CallResult.ANSWERED, "+442079460000")


def test_a_trunk_whose_host_name_does_not_resolve_fails_the_call_at_once_with_503(carrier: Carrier) -> None:
    """`.invalid` never resolves (RFC 6761): the caller hears 503 without waiting for Timer B (32 s)."""
    site = carrier.site
    site.server.platform.services.trunks.add("nowhere", "carrier.invalid", port=5060, prefixes=["+49"])
    site.server.platform.db.dispose()
    register(site, 0)
    started = time.monotonic()
    refused = caller(site, "call_refused", "0049301234567", substitutions={"FINAL": "503"}).run()
    assert refused.all_passed, refused.output
    assert time.monotonic() - started < UNRESOLVED_WITHIN_S
    (record,) = call_records(site, 1)
    assert (record.result, record.sip_code, record.callee) == (CallResult.FAILED, 503, "+49301234567")


def test_a_call_from_the_carrier_rings_the_line_that_holds_the_number(carrier: Carrier) -> None:
    site = carrier.site
    callee_port = register(site, 1)
    phone = _phone(site, 1, callee_port, caller_number=OUTSIDE_NUMBER).start()
    # The carrier writes the number in E.164 without its +, as many do.
    record = answered_call(site, carrier.caller("trunk_uac", site.lines[1].number.removeprefix("+")), phone)
    line = site.lines[1].number
    assert _summary(record) == (CallDirection.INCOMING, OUTSIDE_NUMBER, line, CallResult.ANSWERED, 200)
    assert (record.caller_line_id, record.billing_group_id) == (None, site.group_id)


@pytest.mark.parametrize(
    ("case", "host", "final"),
    [("a number nobody holds", CARRIER_HOST, "404"), ("an address no trunk has", STRANGER_HOST, "403")],
)
def test_calls_in_that_are_refused(carrier: Carrier, case: str, host: str, final: str) -> None:
    site = carrier.site
    register(site, 1)
    dialled = "0199009999" if case == "a number nobody holds" else national(site.lines[1])
    refused = carrier.caller("trunk_uac_refused", dialled, host, FINAL=final).run()
    assert refused.all_passed, refused.output
    assert call_records(site) == []


def test_a_phone_at_a_trunk_address_is_still_challenged_as_a_phone(carrier: Carrier) -> None:
    """The phones of these tests send from 127.0.0.1: with it a trunk's source, their calls still begin with
    a 407 (call_uac expects it) and go through as the line's."""
    site = carrier.site
    platform = site.server.platform
    platform.services.trunks.add("same-host", "127.0.0.1", port=9, source_addresses=["127.0.0.0/8"])
    platform.db.dispose()
    register(site, 0)
    callee_port = register(site, 1)
    callee = _phone(site, 1, callee_port, caller_number=site.lines[0].number).start()
    record = answered_call(site, caller(site, "call_uac", national(site.lines[1])), callee)
    lines = (site.lines[0].number, site.lines[1].number)
    assert _summary(record) == (CallDirection.INTERNAL, *lines, CallResult.ANSWERED, 200)
