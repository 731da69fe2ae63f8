"""The panel's fixtures: a signed-out test client on a bare app, and a live server for Chromium."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import make_platform
from tonalite.app import Platform, create_http_app
from tonalite.clock import ManualClock
from tonalite.panel.application import mount_panel
from tonalite.panel.paths import line_path
from tonalite.services.demo import DemoCredentials

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SERVER_START_SECONDS = 10.0
SHUTDOWN_GRACE_SECONDS = 1.0
"""How long the server waits at the end of a test for the browser's connections to close (the browser closes
after the server: an audio element may still be streaming) before it closes them itself."""
PASSWORD = "secret-password"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, never a downloaded browser."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "timeout": 30_000}


@pytest.fixture
def panel_platform(sqlite_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[Platform]:
    platform = make_platform(sqlite_url, tmp_path, clock)
    yield platform
    platform.db.dispose()


@pytest.fixture
def panel_app(panel_platform: Platform) -> FastAPI:
    """The panel alone, so that its tests do not depend on the REST API's."""
    app = FastAPI()
    mount_panel(app, panel_platform)
    return app


@pytest.fixture
def client(panel_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(panel_app) as test_client:
        yield test_client


@dataclass(frozen=True, slots=True)
class LiveServer:
    url: str
    platform: Platform
    demo: DemoCredentials


@pytest.fixture
def live_server(sqlite_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The real HTTP application under uvicorn on a free loopback port, in a thread of this process."""
    platform = make_platform(sqlite_url, tmp_path)
    demo = platform.services.demo.ensure()
    config = uvicorn.Config(
        create_http_app(platform),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="panel-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            pytest.fail("the HTTP server did not start")
        thread.join(timeout=0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", platform, demo)
    finally:
        server.should_exit = True
        thread.join(timeout=SERVER_START_SECONDS)
        platform.db.dispose()


@dataclass(frozen=True, slots=True)
class Customer:
    login: str
    group_id: int
    number: str
    sip_password: str

    @property
    def dashboard(self) -> str:
        return line_path(self.group_id, self.number)


def new_customer(platform: Platform, login: str, number: str) -> Customer:
    """An account with a billing group and one line `number`, its password PASSWORD."""
    services = platform.services
    account = services.accounts.create(login, PASSWORD, f"{login} SA", f"{login}@example.com")
    group = services.billing_groups.create(account.id, f"Siège {login}")
    line, credentials = services.lines.create(group.id, number, "Accueil")
    return Customer(login, group.id, line.number, credentials.password)


@pytest.fixture
def alice(panel_platform: Platform) -> Customer:
    return new_customer(panel_platform, "alice", "+33999001234")


@pytest.fixture
def bob(panel_platform: Platform) -> Customer:
    return new_customer(panel_platform, "bob", "+33999005678")
