"""An HTTP client over the whole application, and two customers: Alice (with an alias number) and Bob."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from tests.api.customers import ALICE_ALIAS, ALICE_LINE, BOB_LINE, GROUP_SHORT, LINE_SHORT, Customer, open_account
from tests.conftest import deposit_tone_message
from tonalite.app import Platform, create_http_app
from tonalite.services.abbreviated_numbers import AbbreviatedEntry, AbbreviatedList
from tonalite.store.models import ScreenDirection, ScreenListKind


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_http_app(platform)) as client:
        yield client


@pytest.fixture
def alice(platform: Platform) -> Customer:
    """Alice, with an alias number, one voicemail message (two seconds of a 1 kHz tone), one number on her
    incoming blacklist, and an abbreviated number in her billing group's list and one in her line's."""
    customer = open_account(platform, "alice", ALICE_LINE)
    platform.services.numbers.create_alias(customer.group, ALICE_ALIAS, "Standard")
    message = deposit_tone_message(platform, ALICE_LINE, "+33999005555", 2.0)
    entry = platform.services.screen_lists.add(
        customer.principal, customer.group, ALICE_LINE, ScreenDirection.INCOMING, ScreenListKind.BLACKLIST, "0899", True
    )
    for where, short in (
        (AbbreviatedList(customer.group), GROUP_SHORT),
        (AbbreviatedList(customer.group, ALICE_LINE), LINE_SHORT),
    ):
        platform.services.abbreviated_numbers.add(customer.principal, where, AbbreviatedEntry(short, "0199001001"))
    return replace(customer, voicemail_message=message, screen_entry=entry.id)


@pytest.fixture
def bob(platform: Platform) -> Customer:
    return open_account(platform, "bob", BOB_LINE)
