"""Calls to and from the public network through a carrier trunk, driven by sipp against `tonalite serve`.

sipp plays the carrier on 127.0.0.3 (it sends from there and listens there), a stranger on 127.0.0.2, and the
lines' phones on 127.0.0.1 as in test_calls.py; the far end of every call checks the caller it is presented.
The trunk is added while the server runs: the server reads trunks at every call.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.integration.calling import call_records, caller, national, register, set_line_options
from tests.integration.conftest import Site
from tests.peers.sipp import Sipp
from tests.peers.tonalite_server import DOMAIN, free_port
from tonalite.store.models import CallDirection, CallRecord, CallResult

CARRIER_HOST = "127.0.0.3"
STRANGER_HOST = "127.0.0.2"
OUTSIDE_NUMBER = "+33612345678"
TRUNK_USERNAME = "tonalite-trunk"
TRUNK_PASSWORD = "carrier secret"  # a space: the password is used as given
UNRESOLVED_WITHIN_S = 10.0
"""A name that does not resolve fails the call within the lookup's bound (5 s) and a sipp start, well short
of Timer B (32 s), which a datagram sent nowhere would wait for."""


@dataclass
class Carrier:
    site: Site
    port: int
    """Where the carrier's sipp listens on CARRIER_HOST."""

    def far_end(self, scenario: str, **substitutions: str) -> Sipp:
        """The carrier's side of a call out, listening on the trunk's address and port."""
        return Sipp(
            scenario,
            self.site.server.sip_port,
            self.site.work_dir / "carrier",
            local_port=self.port,
            substitutions=substitutions,
            extra=["-i", CARRIER_HOST, "-trace_msg"],
        )

    def caller(self, scenario: str, dialled: str, host: str = CARRIER_HOST, **substitutions: str) -> Sipp:
        """A call in from `host` (the carrier's address, or another)."""
        return Sipp(
            scenario,
            self.site.server.sip_port,
            self.site.work_dir / "carrier",
            keys={"dialled": dialled},
            substitutions=substitutions,
            extra=["-i", host],
        )


@pytest.fixture
def carrier(site: Site) -> Iterator[Carrier]:
    for directory in ("line0", "line1", "line2", "carrier"):
        (site.work_dir / directory).mkdir()
    port = free_port()
    platform = site.server.platform
    platform.services.trunks.add(
        "carrier",
        CARRIER_HOST,
        port=port,
        username=TRUNK_USERNAME,
        password=TRUNK_PASSWORD,
        source_addresses=[CARRIER_HOST],
        prefixes=["+33"],
    )
    platform.db.dispose()
    yield Carrier(site, port)


def _identity(number: str) -> str:
    """A regular expression for `sip:NUMBER@<platform domain>>`, as From and P-Asserted-Identity carry it."""
    return re.escape(f"sip:{number}@{DOMAIN}>")


def _phone(site: Site, index: int, port: int, caller_number: str) -> Sipp:
    """Line `index`'s phone, registered from `port`: it answers a call that presents `caller_number`."""
    substitutions = {"REQUEST_URI": r"sip:[^ ]+", "CALLER": _identity(caller_number)}
    return Sipp(
        "trunk_uas", site.server.sip_port, site.work_dir / f"line{index}", local_port=port, substitutions=substitutions
    )


def _received_invites(far_end: Sipp) -> list[dict[str, str]]:
    """The INVITEs sipp received (from its -trace_msg log): the request line as `uri`, and the headers."""
    invites = []
    for block in re.findall(
        r"^INVITE .*?(?=\r?\n\r?\n)", far_end.messages_log.read_text(errors="replace"), re.M | re.S
    ):
        start, *lines = block.splitlines()
        headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        invites.append({"uri": start.split()[1], **headers})
    return invites


def _answered_call(site: Site, caller: Sipp, far_end: Sipp) -> CallRecord:
    """Run a call between two sipp peers (the far end already started): both must pass; its one record."""
    placed = caller.run()
    answered = far_end.finish()
    assert placed.all_passed, placed.output
    assert answered.all_passed, answered.output
    (record,) = call_records(site, 1)
    return record


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
        CALLER=_identity(site.lines[0].number),
    ).start()
    record = _answered_call(site, caller(site, "call_uac", "0612345678"), far_end)
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
        CALLER=rf"(sip:anonymous@anonymous\.invalid>|{_identity(line)})",
    ).start()
    _answered_call(site, caller(site, "call_uac", "0612345678"), far_end)
    (invite,) = _received_invites(far_end)
    assert invite["from"].startswith('"Anonymous" <sip:anonymous@anonymous.invalid>')
    assert re.search(_identity(line), invite["p-asserted-identity"])
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
    record = _answered_call(site, caller(site, "call_uac", OUTSIDE_NUMBER), far_end)
    assert record.result == CallResult.ANSWERED
    first, second = _received_invites(far_end)
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
            "CALLER": _identity(site.lines[0].number),
        },
        extra=["-i", "127.0.0.1"],
    ).start()
    record = _answered_call(site, caller(site, "call_uac", "00442079460000"), far_end)
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
    record = _answered_call(site, carrier.caller("trunk_uac", site.lines[1].number.removeprefix("+")), phone)
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
    record = _answered_call(site, caller(site, "call_uac", national(site.lines[1])), callee)
    lines = (site.lines[0].number, site.lines[1].number)
    assert _summary(record) == (CallDirection.INTERNAL, *lines, CallResult.ANSWERED, 200)
