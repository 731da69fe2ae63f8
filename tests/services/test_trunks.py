"""Carrier trunks: what the operator may configure, and how the call core picks a trunk (on both backends)."""

from __future__ import annotations

from typing import Any

import pytest

from tonalite.app import Platform
from tonalite.features.dialplan import DialPlan, NoRoute, ToLine, ToOutside, Unassigned
from tonalite.features.feature_codes import Presentation
from tonalite.services.errors import Conflict, InvalidInput, NotFound
from tonalite.services.line_directory import SipLine
from tonalite.services.trunks import CarrierTrunk
from tonalite.sip.transport import Transport


def _dial_plan(platform: Platform) -> DialPlan:
    return DialPlan(platform.services.line_directory, platform.services.trunks)


def _line(platform: Platform, number: str) -> SipLine:
    services = platform.services
    account = services.accounts.create("acme", "secret-password", "ACME SA", "it@acme.test")
    services.lines.create(services.billing_groups.create(account.id, "Siège").id, number)
    line = services.line_directory.by_number(number)
    assert line is not None
    return line


def test_a_trunk_is_stored_as_given_in_canonical_form(platform: Platform) -> None:
    added = platform.services.trunks.add(
        "carrier",
        " 192.0.2.1 ",
        port=5080,
        transport="TCP",
        username="tonalite",
        password=" spaced secret ",
        source_addresses=["192.0.2.0/28", "198.51.100.7/32", "198.51.100.7", "2001:DB8::1"],
        prefixes=["+33", "+331", "+33"],
    )
    assert platform.services.trunks.list() == [added]
    assert added == CarrierTrunk(
        "carrier",
        "192.0.2.1",
        5080,
        Transport.TCP,
        "tonalite",
        " spaced secret ",
        ("192.0.2.0/28", "198.51.100.7", "2001:db8::1"),
        ("+33", "+331"),
    )
    assert "spaced secret" not in repr(added)


def test_a_host_name_is_kept_in_lower_case_over_every_transport(platform: Platform) -> None:
    trunks = platform.services.trunks
    assert trunks.add("tls", "SIP.Carrier.example", transport=Transport.TLS, port=5061).host == "sip.carrier.example"
    assert trunks.add("udp", "Sip.Carrier.example").host == "sip.carrier.example"


@pytest.mark.parametrize(
    ("change", "message_id"),
    [
        ({"name": "two words"}, "error.trunk_name_invalid"),
        ({"name": "x" * 65}, "error.trunk_name_invalid"),
        ({"host": "bad host!"}, "error.host_invalid"),
        ({"host": ""}, "error.host_invalid"),
        ({"port": 0}, "error.port_range"),
        ({"port": 65536}, "error.port_range"),
        ({"transport": "sctp"}, "error.transport_invalid"),
        ({"username": "only-the-username"}, "error.trunk_credentials_pair"),
        ({"password": "only-the-password"}, "error.trunk_credentials_pair"),
        ({"username": "u", "password": "line\r\nInjected: 1"}, "error.value_invalid"),
        ({"username": "u" * 65, "password": "p"}, "error.text_too_long"),
        ({"source_addresses": ["300.1.1.1"]}, "error.address_invalid"),
        ({"source_addresses": ["192.0.2.5/24"]}, "error.address_invalid"),
        ({"source_addresses": ["carrier.example"]}, "error.address_invalid"),
        ({"prefixes": ["33"]}, "error.prefix_invalid"),
        ({"prefixes": ["+"]}, "error.prefix_invalid"),
        ({"prefixes": ["+3 3"]}, "error.prefix_invalid"),
        ({"prefixes": ["+1234567890123456"]}, "error.prefix_invalid"),
    ],
)
def test_a_bad_trunk_is_refused_and_nothing_is_stored(
    platform: Platform, change: dict[str, Any], message_id: str
) -> None:
    arguments: dict[str, Any] = {"name": "carrier", "host": "192.0.2.1"} | change
    with pytest.raises(InvalidInput) as refused:
        platform.services.trunks.add(**arguments)
    assert refused.value.message_id == message_id
    assert platform.services.trunks.list() == []


def test_names_are_unique_and_a_trunk_is_removed_by_name(platform: Platform) -> None:
    trunks = platform.services.trunks
    trunks.add("carrier", "192.0.2.1")
    with pytest.raises(Conflict):
        trunks.add("carrier", "192.0.2.2")
    trunks.add("backup", "192.0.2.2")
    trunks.remove("carrier")
    assert [trunk.name for trunk in trunks.list()] == ["backup"]
    with pytest.raises(NotFound):
        trunks.remove("carrier")


def test_the_longest_matching_prefix_carries_a_number(platform: Platform) -> None:
    trunks = platform.services.trunks
    assert trunks.for_number("+33612345678") is None
    trunks.add("france", "192.0.2.1", prefixes=["+33"])
    trunks.add("paris", "192.0.2.2", prefixes=["+331", "+44"])
    assert trunks.for_number("+442079460000") is not None
    assert trunks.for_number("+12125550100") is None
    trunks.add("world", "192.0.2.3")
    found = {number: trunks.for_number(number) for number in ("+33612345678", "+33199001001", "+12125550100")}
    assert {number: trunk.name if trunk else None for number, trunk in found.items()} == {
        "+33612345678": "france",
        "+33199001001": "paris",
        "+12125550100": "world",
    }


def test_the_most_specific_source_network_names_the_trunk(platform: Platform) -> None:
    trunks = platform.services.trunks
    trunks.add("wide", "192.0.2.1", source_addresses=["192.0.2.0/24"])
    trunks.add("narrow", "192.0.2.2", source_addresses=["192.0.2.16/28", "2001:db8::/32"])
    sources = {host: trunks.by_source(host) for host in ("192.0.2.20", "192.0.2.200", "2001:db8::5", "203.0.113.9")}
    assert {host: trunk.name if trunk else None for host, trunk in sources.items()} == {
        "192.0.2.20": "narrow",
        "192.0.2.200": "wide",
        "2001:db8::5": "narrow",
        "203.0.113.9": None,
    }
    assert trunks.by_source("not-an-address") is None


def test_the_dial_plan_sends_outside_numbers_to_their_trunk(platform: Platform) -> None:
    services = platform.services
    caller = _line(platform, "+33199001001")
    services.numbers.add_to_inventory(["+33199001099"])
    plan = _dial_plan(platform)
    assert plan.route("0612345678", caller) == NoRoute("+33612345678")
    france = services.trunks.add("france", "192.0.2.1", prefixes=["+33"])
    assert plan.route("06 12 34 56 78", caller) == ToOutside("+33612345678", france, Presentation.SHOWN)
    assert plan.route("0199001099", caller) == Unassigned("+33199001099")
    assert plan.route("+12125550100", caller) == NoRoute("+12125550100")


@pytest.mark.parametrize("dialled", ["+33199001001", "33199001001", "0199001001"])
def test_a_call_in_reaches_the_line_however_the_carrier_writes_the_number(platform: Platform, dialled: str) -> None:
    services = platform.services
    _line(platform, "+33199001001")
    services.trunks.add("france", "192.0.2.1", prefixes=["+33"])
    plan = _dial_plan(platform)
    decision = plan.route_incoming(dialled)
    assert isinstance(decision, ToLine) and decision.line.number == "+33199001001"
    assert plan.route_incoming("0612345678") == Unassigned("+33612345678")  # never out again
    assert plan.route_incoming("anonymous") == Unassigned("anonymous")
