"""A running `tonalite serve` with three lines, for the tests that drive it with real SIP peers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.peers.tonalite_server import ACCOUNT_LOGIN, ACCOUNT_PASSWORD, TonaliteServer, copy_database, create_lines
from tonalite.services.lines import LineCredentials

POLL_TIMEOUT_S = 5.0


@dataclass
class Site:
    server: TonaliteServer
    lines: list[LineCredentials]
    work_dir: Path
    group_id: int

    def line_api(self, index: int, path: str) -> httpx.Response:
        """GET `path` under line `index` in the REST API, as the account's owner; raises for an error status."""
        base = self.server.http_url
        token = httpx.post(
            f"{base}/v1/auth/token", json={"login": ACCOUNT_LOGIN, "password": ACCOUNT_PASSWORD}, timeout=10
        ).json()["token"]
        number = self.lines[index].number.removeprefix("+")
        response = httpx.get(
            f"{base}/v1/billing-groups/{self.group_id}/lines/{number}/{path}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        response.raise_for_status()
        return response

    def registrations(self, index: int) -> list[dict[str, Any]]:
        """The line's registration as the REST API shows it."""
        items: list[dict[str, Any]] = self.line_api(index, "registrations").json()["items"]
        return items

    def wait_registrations(self, index: int, done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        """Registrations reach the database in batches a fraction of a second apart: poll, bounded."""
        deadline = time.monotonic() + POLL_TIMEOUT_S
        while True:
            items = self.registrations(index)
            if done(items) or time.monotonic() > deadline:
                return items
            time.sleep(0.05)


def _site(sqlite_template: Path, tmp_path: Path, env: dict[str, str]) -> Iterator[Site]:
    data_dir = tmp_path / "server"
    url = copy_database(sqlite_template, data_dir)
    server = TonaliteServer(data_dir, url, env)
    platform = server.platform
    group_id, lines = create_lines(platform, 3)
    platform.db.dispose()
    work_dir = tmp_path / "peers"
    work_dir.mkdir()
    with server:
        yield Site(server, lines, work_dir, group_id)


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    """The server as sipp needs it: sipp 3.6 computes only MD5 and takes the first challenge it gets."""
    yield from _site(sqlite_template, tmp_path, {"TONALITE_SIP_DIGEST_ALGORITHMS": "MD5,SHA-256"})


@pytest.fixture
def md5_site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    """The server offering MD5 only, for baresip. baresip 1.0 (libre 1.1) gives up on a 401/407 as soon as one
    of its challenges names an algorithm other than MD5 ("Function not implemented"), whatever their order;
    so neither the shipped SHA-256,MD5 offer nor MD5,SHA-256 lets it register."""
    yield from _site(sqlite_template, tmp_path, {"TONALITE_SIP_DIGEST_ALGORITHMS": "MD5"})


@pytest.fixture
def default_site(sqlite_template: Path, tmp_path: Path) -> Iterator[Site]:
    """The server as shipped: SHA-256 offered first."""
    yield from _site(sqlite_template, tmp_path, {})


def with_phone_directories(sites: Iterable[Site]) -> Iterator[Site]:
    """The site of a fixture, with a working directory per line for the sipp runs that play its phone."""
    for site in sites:
        for index in range(len(site.lines)):
            (site.work_dir / f"line{index}").mkdir()
        yield site


@pytest.fixture
def phones(site: Site) -> Iterator[Site]:
    """The default site with a working directory per line for the sipp phones."""
    yield from with_phone_directories([site])
