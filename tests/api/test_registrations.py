from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.api.customers import ALICE_LINE, Customer
from tonalite.app import Platform
from tonalite.clock import ManualClock
from tonalite.services.registrations import Binding, RegistrationChanges
from tonalite.sip.transport import Transport

PATH = "/v1/billing-groups/{group}/lines/{number}/registrations"


def test_registration_shows_the_live_device(
    client: TestClient, platform: Platform, clock: ManualClock, alice: Customer
) -> None:
    path = alice.path(PATH, ALICE_LINE)
    assert client.get(path, headers=alice.headers).json() == {"items": [], "total": 0}

    line = platform.services.lines.get(alice.principal, alice.group, ALICE_LINE)
    now = clock.wall()
    platform.services.registrations.apply(
        RegistrationChanges.binding(
            Binding(
                line_id=line.id,
                contact="<sip:0033999001234@192.0.2.10:5062;transport=tcp>",
                call_id="c1",
                cseq=7,
                source_host="192.0.2.10",
                source_port=40001,
                transport=Transport.TCP,
                user_agent="Desk phone 1.0",
                registered_at=now,
                expires_at=now + timedelta(seconds=600),
            )
        )
    )
    body = client.get(path, headers=alice.headers).json()
    assert body["total"] == 1
    (item,) = body["items"]
    assert item == {
        "contact": "<sip:0033999001234@192.0.2.10:5062;transport=tcp>",
        "userAgent": "Desk phone 1.0",
        "source": "tcp:192.0.2.10:40001",
        "transport": "tcp",
        "registeredAt": item["registeredAt"],
        "expiresAt": item["expiresAt"],
    }
    assert item["registeredAt"].startswith("2026-01-01T00:00:00")

    clock.advance(601)
    assert client.get(path, headers=alice.headers).json()["total"] == 0
