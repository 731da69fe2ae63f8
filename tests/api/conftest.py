"""An HTTP client over the whole application, and two customers: Alice (with an alias number) and Bob."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.api.customers import ALICE_ALIAS, ALICE_LINE, BOB_LINE, Customer, open_account
from tonalite.app import Platform, create_http_app
from tonalite.media.g711 import SAMPLE_RATE
from tonalite.media.wav import write_wav


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_http_app(platform)) as client:
        yield client


@pytest.fixture
def alice(platform: Platform) -> Customer:
    """Alice, with an alias number and one voicemail message (two seconds of a 1 kHz tone)."""
    customer = open_account(platform, "alice", ALICE_LINE)
    platform.services.numbers.create_alias(customer.group, ALICE_ALIAS, "Standard")
    line = platform.services.lines.get(customer.principal, customer.group, ALICE_LINE)
    deposit = platform.services.voicemail.start_deposit(line.id, "+33999005555")
    assert deposit is not None
    seconds = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    write_wav(deposit.path, (8000 * np.sin(2 * np.pi * 1000 * seconds)).astype(np.int16))
    assert platform.services.voicemail.complete(deposit) is not None
    return replace(customer, voicemail_message=deposit.message_id)


@pytest.fixture
def bob(platform: Platform) -> Customer:
    return open_account(platform, "bob", BOB_LINE)
