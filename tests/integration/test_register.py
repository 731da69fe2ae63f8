"""Phones register on lines: sipp over UDP and TCP, against `tonalite serve` on 127.0.0.1."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.integration.conftest import Site
from tests.peers.sip_client import UdpPhone
from tests.peers.sipp import run_sipp, users_file
from tests.peers.tonalite_server import free_port
from tonalite.sip.auth import DigestAlgorithm, DigestChallenge
from tonalite.sip.message import Response


@pytest.mark.parametrize(("transport", "sipp_transport"), [("udp", "u1"), ("tcp", "t1")])
def test_lines_register_with_md5_digest(site: Site, transport: str, sipp_transport: str) -> None:
    users = users_file(site.work_dir, site.lines)
    run = run_sipp(
        "register",
        site.server.sip_port,
        users,
        site.work_dir,
        calls=3,
        keys={"expires": "600"},
        transport=sipp_transport,
    )
    assert run.all_passed and run.successful == 3, run.output
    for index in range(3):
        (item,) = site.wait_registrations(index, bool)
        assert item["transport"] == transport
        assert item["userAgent"] == "sipp-tonalite-tests"
        assert item["source"].startswith(f"{transport}:127.0.0.1:")
        lifetime = datetime.fromisoformat(item["expiresAt"]) - datetime.fromisoformat(item["registeredAt"])
        assert 595 <= lifetime.total_seconds() <= 600


def test_wrong_password_and_unknown_user_get_the_same_answer(site: Site) -> None:
    known = site.lines[0]
    users = users_file(site.work_dir, [(known.username, "wrong-password", known.domain), ("nobody", "x", known.domain)])
    run = run_sipp("register_refused", site.server.sip_port, users, site.work_dir, calls=2, keys={"expires": "600"})
    assert run.all_passed and run.successful == 2, run.output
    assert site.registrations(0) == []

    def refusal(username: str, password: str) -> Response:
        phone = UdpPhone(site.server.sip_port, username, password, known.domain)
        try:
            return phone.register()[1]
        finally:
            phone.close()

    wrong, unknown = refusal(known.username, "wrong-password"), refusal("0033199999999", "wrong-password")
    assert wrong.status == unknown.status == 401

    def shape(response: Response) -> list[tuple[str, str]]:
        """Header names and challenge parameters, without the values that differ by design (nonce, tags…)."""
        fields = []
        for name, value in response.headers:
            if name == "WWW-Authenticate":
                challenge = DigestChallenge.parse(value)
                value = f"{challenge.realm} {challenge.algorithm} {challenge.qop} {challenge.stale}"
            elif name not in ("Server",):
                value = ""
            fields.append((name, value))
        return fields

    assert shape(wrong) == shape(unknown)


def test_sha256_digest_is_offered_first_and_accepted(default_site: Site) -> None:
    line = default_site.lines[1]
    phone = UdpPhone(default_site.server.sip_port, line.username, line.password, line.domain)
    try:
        challenge_response, final, challenge = phone.register(expires=300)
    finally:
        phone.close()
    algorithms = [DigestChallenge.parse(v).algorithm for v in challenge_response.headers.get_all("WWW-Authenticate")]
    assert algorithms == [DigestAlgorithm.SHA256, DigestAlgorithm.MD5]
    assert challenge.algorithm == DigestAlgorithm.SHA256
    assert final.status == 200, final
    assert (final.headers.get("Contact") or "").endswith(";expires=300")
    (item,) = default_site.wait_registrations(1, bool)
    assert item["userAgent"] == "tonalite-test-phone"


def test_refresh_unregister_and_interval_too_brief(site: Site) -> None:
    users = users_file(site.work_dir, site.lines[:1])
    phone = free_port()
    refresh = run_sipp(
        "register_refresh", site.server.sip_port, users, site.work_dir, keys={"expires": "600"}, local_port=phone
    )
    assert refresh.all_passed, refresh.output
    (refreshed,) = site.wait_registrations(0, bool)

    brief = run_sipp(
        "register_too_brief", site.server.sip_port, users, site.work_dir, keys={"expires": "30"}, local_port=phone
    )
    assert brief.all_passed, brief.output
    assert site.registrations(0) == [refreshed], "a refused REGISTER leaves the binding as it was"

    unregister = run_sipp(
        "register", site.server.sip_port, users, site.work_dir, keys={"expires": "0"}, local_port=phone
    )
    assert unregister.all_passed, unregister.output
    assert site.wait_registrations(0, lambda items: not items) == []


def test_a_registration_survives_a_restart(site: Site) -> None:
    users = users_file(site.work_dir, site.lines[:1])
    assert run_sipp("register", site.server.sip_port, users, site.work_dir, keys={"expires": "600"}).all_passed
    (before,) = site.wait_registrations(0, bool)
    assert site.server.stop() == 0
    site.server.start()
    assert site.registrations(0) == [before]
