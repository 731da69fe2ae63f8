"""Star codes dialled on a line's registered phone (sipp): the node answers, changes the line's option as the
REST API then reads it, says what it did, and hangs up; a malformed code changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.calling import call_records, caller, register
from tests.integration.conftest import Site
from tests.peers.tonalite_server import free_port


def _dial(site: Site, code: str) -> None:
    """Line 0's phone dials `code`; the node answers, speaks, and hangs up."""
    call = caller(site, "call_uac_answered_by_node", code.replace("#", "%23"), timeout_s=30)
    call.extra += ["-mp", str(free_port())]
    run = call.run()
    assert run.all_passed, run.output


def _options(site: Site) -> dict[str, Any]:
    options: dict[str, Any] = site.line_api(0, "options").json()
    return options


@pytest.mark.parametrize(
    ("on", "off", "option"),
    [
        ("*26#", "#26#", "doNotDisturb"),
        ("*24#", "#24#", "absentSubscriber"),
        ("*31#", "#31#", "identificationRestriction"),
    ],
)
def test_a_star_code_sets_an_option_and_its_opposite_clears_it(phones: Site, on: str, off: str, option: str) -> None:
    site = phones
    register(site, 0)
    assert _options(site)[option] is False
    _dial(site, on)
    assert _options(site)[option] is True
    _dial(site, off)
    assert _options(site)[option] is False
    assert len(call_records(site, 2)) == 2


def test_an_unconditional_forward_is_set_with_its_number_then_cancelled_with_every_forward(phones: Site) -> None:
    site = phones
    register(site, 0)
    _dial(site, "*21*0999001234#")
    options = _options(site)
    assert options["forwardUnconditional"] is True
    assert options["forwardUnconditionalNumber"] == "+33999001234"
    _dial(site, "#002")
    options = _options(site)
    assert options["forwardUnconditional"] is False
    assert options["forwardUnconditionalNumber"] == "+33999001234"  # kept for *21# next time


def test_a_malformed_code_changes_nothing(phones: Site) -> None:
    site = phones
    register(site, 0)
    before = _options(site)
    _dial(site, "*21*12#")
    assert _options(site) == before
