"""Shared fixtures: migrated databases on SQLite and on a throw-away PostgreSQL, and a built platform."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from tonalite.app import Platform, build_platform
from tonalite.clock import ManualClock
from tonalite.config import Settings
from tonalite.media.g711 import SAMPLE_RATE
from tonalite.media.wav import write_wav
from tonalite.store.migrate import upgrade

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_bin() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return candidates[-1].parent if candidates else None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server of its own on a free port, removed afterwards; yields its admin URL."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        if os.environ.get("TONALITE_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (TONALITE_REQUIRE_POSTGRES) but /usr/lib/postgresql is missing")
        pytest.skip("PostgreSQL is not installed (make test installs it)")
    base = Path(tempfile.mkdtemp(prefix="tonalite-pg-"))
    shutil.chown(base, "postgres", "postgres") if os.geteuid() == 0 else None
    port = _free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = base / "data"
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str) -> str:
    engine = create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("CREATE DATABASE tonalite_template"))
    engine.dispose()
    upgrade(f"{postgres_server}/tonalite_template")
    return "tonalite_template"


def _fresh_postgres(server: str, template: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    engine.dispose()
    return f"{server}/{name}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of its own for each test, on each backend."""
    if request.param == "sqlite":
        target = tmp_path / "tonalite.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    return _fresh_postgres(request.getfixturevalue("postgres_server"), request.getfixturevalue("postgres_template"))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database, for the tests that need only the default backend."""
    target = tmp_path / "tonalite.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def make_platform(url: str, data_dir: Path, clock: ManualClock | None = None) -> Platform:
    settings = Settings(database_url=url, data_dir=data_dir, sip_domain="sip.tonalite.test")
    return build_platform(settings, clock)


@pytest.fixture
def platform(database_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[Platform]:
    built = make_platform(database_url, tmp_path, clock)
    yield built
    built.db.dispose()


def deposit_tone_message(platform: Platform, number: str, caller: str, seconds: float) -> int:
    """A message of `seconds` of a 1 kHz tone in the line's voicemail, as the call core leaves one."""
    line = next(line for line in platform.services.lines.list_all() if line.number == number)
    deposit = platform.services.voicemail.start_deposit(line.id, caller)
    assert deposit is not None
    samples = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    write_wav(deposit.path, (8000 * np.sin(2 * np.pi * 1000 * samples)).astype(np.int16))
    assert platform.services.voicemail.complete(deposit) is not None
    return deposit.message_id


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The Chromium tests last: Playwright's sync API keeps an event loop running in the main thread for the
    rest of the session, where pytest-asyncio could not run the asynchronous tests collected after them."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
