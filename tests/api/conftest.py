"""An HTTP client over the whole application, and two customers: Alice (with an alias number) and Bob."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from tests.api.customers import ALICE_ALIAS, ALICE_LINE, BOB_LINE, Customer, open_account
from tests.conftest import deposit_tone_message
from tonalite.app import Platform, create_http_app


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_http_app(platform)) as client:
        yield client


@pytest.fixture
def alice(platform: Platform) -> Customer:
    """Alice, with an alias number and one voicemail message (two seconds of a 1 kHz tone)."""
    customer = open_account(platform, "alice", ALICE_LINE)
    platform.services.numbers.create_alias(customer.group, ALICE_ALIAS, "Standard")
    message = deposit_tone_message(platform, ALICE_LINE, "+33999005555", 2.0)
    return replace(customer, voicemail_message=message)


@pytest.fixture
def bob(platform: Platform) -> Customer:
    return open_account(platform, "bob", BOB_LINE)
