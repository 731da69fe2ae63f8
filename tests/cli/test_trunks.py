"""`tonalite trunk add|list|remove`: carrier trunks, passwords never printed, errors as one line."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Tonalite
from tests.cli.support import assert_one_error, database_rows, field_blocks
from tonalite.app import Platform
from tonalite.sip.transport import Transport

CARRIER = [
    "trunk", "add", "carrier", "--host", "192.0.2.1", "--port", "5080", "--transport", "tcp",
    "--username", "tonalite", "--password", "carrier-secret",
    "--source", "192.0.2.0/28", "--source", "198.51.100.7", "--prefix", "+33", "--prefix", "+331",
]  # fmt: skip


def test_trunk_add_stores_the_trunk_and_masks_its_password(tonalite: Tonalite, platform: Platform) -> None:
    result = tonalite(*CARRIER)
    assert result.exit_code == 0, result.stderr
    assert "carrier-secret" not in result.stdout
    assert field_blocks(result.stdout) == [
        {
            "trunk": "carrier",
            "address": "tcp:192.0.2.1:5080",
            "username": "tonalite",
            "password": "********",
            "sources": "192.0.2.0/28,198.51.100.7",
            "prefixes": "+33,+331",
        }
    ]
    (trunk,) = platform.services.trunks.list()
    assert (trunk.transport, trunk.password, trunk.prefixes) == (Transport.TCP, "carrier-secret", ("+33", "+331"))


def test_trunk_list_shows_every_trunk_without_passwords(tonalite: Tonalite) -> None:
    assert tonalite(*CARRIER).exit_code == 0
    assert tonalite("trunk", "add", "backup", "--host", "2001:db8::1").exit_code == 0
    result = tonalite("trunk", "list")
    assert result.exit_code == 0, result.stderr
    assert "carrier-secret" not in result.stdout
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["NAME", "HOST", "PORT", "TRANSPORT", "USERNAME", "PASSWORD", "SOURCES", "PREFIXES"],
        ["backup", "2001:db8::1", "5060", "udp", "none", "all"],
        ["carrier", "192.0.2.1", "5080", "tcp", "tonalite", "********", "192.0.2.0/28,198.51.100.7", "+33,+331"],
    ]


def test_trunk_remove_removes_it_by_name(tonalite: Tonalite, platform: Platform) -> None:
    assert tonalite(*CARRIER).exit_code == 0
    result = tonalite("trunk", "remove", "carrier")
    assert (result.exit_code, result.stdout) == (0, "trunk carrier removed\n")
    assert platform.services.trunks.list() == []
    assert_one_error(tonalite("trunk", "remove", "carrier"), 1, "unknown trunk carrier")


@pytest.mark.parametrize(
    ("args", "status", "fragment"),
    [
        (["--host", "bad host!"], 2, "host: “bad host!” is neither an IP address nor a host name."),
        (["--host", "192.0.2.1", "--port", "70000"], 2, "port: The port must be between 1 and 65535."),
        (["--host", "192.0.2.1", "--transport", "sctp"], 2, "--transport"),
        (["--host", "192.0.2.1", "--username", "tonalite"], 2, "password: Give both the username and the password"),
        (["--host", "192.0.2.1", "--source", "192.0.2.300"], 2, "source: “192.0.2.300” is not an IP address"),
        (["--host", "192.0.2.1", "--prefix", "0033"], 2, "prefix: “0033” is not a number prefix"),
        (["--port", "5060"], 2, "Missing option '--host'"),
    ],
)
def test_a_bad_trunk_is_one_error_line_and_adds_nothing(
    tonalite: Tonalite, sqlite_url: str, args: list[str], status: int, fragment: str
) -> None:
    before = database_rows(sqlite_url)
    assert_one_error(tonalite("trunk", "add", "other", *args), status, fragment)
    assert database_rows(sqlite_url) == before


def test_a_second_trunk_of_the_same_name_is_a_conflict(tonalite: Tonalite, sqlite_url: str) -> None:
    assert tonalite(*CARRIER).exit_code == 0
    before = database_rows(sqlite_url)
    assert_one_error(tonalite("trunk", "add", "carrier", "--host", "192.0.2.9"), 1, "name: A trunk named “carrier”")
    assert database_rows(sqlite_url) == before
