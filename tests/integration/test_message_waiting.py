"""Message waiting indication with the real server: a phone subscribes to its line's voicemail and hears of each
change of its counts (a message left by a real voicemail call, one deleted through the REST API); a registered
phone that has not subscribed gets unsolicited NOTIFYs."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import update

from tests.conftest import deposit_tone_message
from tests.integration.calling import caller, national, register
from tests.integration.conftest import Site
from tests.peers.sip_client import UdpPhone
from tests.peers.tonalite_server import ACCOUNT_LOGIN, ACCOUNT_PASSWORD, free_port
from tonalite.sip.headers import to_of
from tonalite.sip.message import Request, serialise
from tonalite.sip.message_summary import MessageSummary
from tonalite.store.models import Line

HTTP_TIMEOUT_S = 10.0


@pytest.fixture
def phone(site: Site) -> Iterator[UdpPhone]:
    """Line 1's desk phone, registered."""
    line = site.lines[1]
    phone = UdpPhone(site.server.sip_port, line.username, line.password, line.domain)
    _, registered, _ = phone.register()
    assert registered.status == 200
    yield phone
    phone.close()


@contextlib.contextmanager
def _messages_api(site: Site, index: int) -> Iterator[tuple[httpx.Client, str]]:
    """An API client signed in as the site's account, and the line's voicemail messages' path."""
    with httpx.Client(base_url=site.server.http_url, timeout=HTTP_TIMEOUT_S) as client:
        credentials = {"login": ACCOUNT_LOGIN, "password": ACCOUNT_PASSWORD}
        client.headers["Authorization"] = f"Bearer {client.post('/v1/auth/token', json=credentials).json()['token']}"
        number = site.lines[index].number.removeprefix("+")
        yield client, f"/v1/billing-groups/{site.group_id}/lines/{number}/voicemail/messages"


def _leave_a_message(site: Site, index: int) -> None:
    """Line 0 calls the line, whose voicemail answers (the line takes no call: it is busy at 0 calls), and
    leaves a message of a 1 kHz tone after the ~10 s greeting."""
    platform = site.server.platform
    with platform.db.session() as session:
        session.execute(update(Line).where(Line.number == site.lines[index].number).values(simultaneous_calls=0))
    platform.db.dispose()
    (site.work_dir / "line0").mkdir(exist_ok=True)
    register(site, 0)
    tone = site.work_dir / "tone-1khz-ulaw.wav"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-e", "mu-law", str(tone), "synth", "20", "sine", "1000"], check=True
    )
    call = caller(
        site,
        "call_uac_voicemail",
        national(site.lines[index]),
        substitutions={"TONE": str(tone), "TALK_MS": "14000"},
        timeout_s=45,
    )
    call.extra += ["-mp", str(free_port())]
    run = call.run()
    assert run.all_passed, run.output


def _summary(notify: Request) -> MessageSummary:
    assert notify.headers.get("Event") == "message-summary"
    assert notify.headers.get("Content-Type") == "application/simple-message-summary"
    return MessageSummary.parse(notify.body)


def test_a_subscribed_phone_hears_of_each_message_left_and_deleted(site: Site, phone: UdpPhone) -> None:
    line = site.lines[1]
    account = f"sip:{line.number}@{line.domain}"
    from_tag = secrets.token_hex(4)
    accepted = phone.subscribe(national(line), 3600, from_tag)
    assert accepted.status == 200 and accepted.headers.get("Expires") == "3600"
    first = phone.receive_notify()
    assert first.headers.get("Subscription-State") == "active;expires=3600"
    assert to_of(first).tag == from_tag
    assert _summary(first) == MessageSummary(0, 0, account)

    _leave_a_message(site, 1)
    left = phone.receive_notify()
    assert left.headers.get("Call-ID") == first.headers.get("Call-ID")
    assert left.body.startswith(b"Messages-Waiting: yes\r\n")
    assert _summary(left) == MessageSummary(1, 0, account)

    with _messages_api(site, 1) as (client, messages):
        (message,) = client.get(messages).json()["items"]
        assert client.delete(f"{messages}/{message['id']}").status_code == 204
    deleted = phone.receive_notify()
    assert _summary(deleted) == MessageSummary(0, 0, account)

    ending = phone.subscribe_request(national(line), 0, from_tag, to_tag=to_of(accepted).tag)
    phone.send_raw(serialise(ending))
    assert phone.receive().status == 200
    final = phone.receive_notify()
    assert final.headers.get("Subscription-State") == "terminated;reason=timeout"


def test_a_registered_phone_that_did_not_subscribe_gets_unsolicited_notifies(site: Site, phone: UdpPhone) -> None:
    line = site.lines[1]
    platform = site.server.platform
    message = deposit_tone_message(platform, line.number, "+33999005555", 2.0)  # by another node, unheard here
    platform.db.dispose()
    with _messages_api(site, 1) as (client, messages):
        assert client.patch(f"{messages}/{message}", json={"folder": "saved"}).status_code == 200
        read = phone.receive_notify()
        assert client.patch(f"{messages}/{message}", json={"folder": "new"}).status_code == 200
        unread = phone.receive_notify()
    for notify in (read, unread):
        assert notify.uri == phone.contact.strip("<>")
        assert to_of(notify).tag is None
        assert notify.headers.get("Subscription-State") == "active"
    assert _summary(read) == MessageSummary(0, 1, f"sip:{line.number}@{line.domain}")
    assert _summary(unread) == MessageSummary(1, 0, f"sip:{line.number}@{line.domain}")


def test_strangers_notifies_and_other_event_packages_are_refused(site: Site, phone: UdpPhone) -> None:
    options = phone.ask("OPTIONS")
    assert "SUBSCRIBE" in (options.headers.get("Allow") or "")
    assert options.headers.get("Allow-Events") == "message-summary"
    notify = phone.ask("NOTIFY")
    assert notify.status == 501 and notify.headers.get("Allow-Events") == "message-summary"
    presence = phone.subscribe_request("presence", 3600, "t")
    presence.headers.set("Event", "presence")
    phone.send_raw(serialise(presence))
    refused = phone.receive()
    assert refused.status == 489 and refused.headers.get("Allow-Events") == "message-summary"
    assert phone.subscribe(site.lines[2].username, 3600, "t").status == 403
