"""`tonalite serve`: settings from its flags, and a real server that answers HTTP and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.cli.support import TONALITE, assert_one_error, clean_environment, free_port
from tonalite.cli import app

STARTUP_DEADLINE = 30.0
SHUTDOWN_DEADLINE = 15.0


@pytest.mark.parametrize(
    ("flag", "value", "setting"),
    [
        ("--sip", "udp:127.0.0.1:99999", "sip_listen"),
        ("--sip", "udp:127.0.0.1:5060,sctp:127.0.0.1:x", "sip_listen"),
        ("--sip", "tls:[::1", "sip_listen"),
        ("--http", "127.0.0.1:http", "http_listen"),
        ("--rtp-ports", "20000-10000", "rtp_ports"),
    ],
)
def test_serve_refuses_a_bad_listen_setting(sqlite_url: str, flag: str, value: str, setting: str) -> None:
    result = CliRunner().invoke(app, ["serve", "--database-url", sqlite_url, flag, value])
    assert_one_error(result, 2, f"invalid setting {setting}")


def test_serve_refuses_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--data-dir", str(tmp_path), "--http", "127.0.0.1:1"])
    assert_one_error(result, 1, "tonalite db upgrade")


def _wait_for_openapi(process: subprocess.Popen[bytes], url: str) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        assert process.poll() is None, f"serve exited with status {process.returncode}"
        try:
            return httpx.get(url, timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"serve did not answer {url} within {STARTUP_DEADLINE} s")


def test_serve_answers_http_and_stops_cleanly_on_sigterm(sqlite_url: str, tmp_path: Path) -> None:
    port, sip_port = free_port(), free_port()  # not 5060: a `make run` may hold it meanwhile
    stdout_path, stderr_path = tmp_path / "stdout", tmp_path / "stderr"
    command = [
        str(TONALITE),
        "serve",
        "--database-url",
        sqlite_url,
        "--data-dir",
        str(tmp_path),
        "--http",
        f"127.0.0.1:{port}",
        "--sip",
        f"udp:127.0.0.1:{sip_port},tcp:127.0.0.1:{sip_port}",
        "--sip-domain",
        "sip.tonalite.test",
    ]
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=clean_environment())
    try:
        response = _wait_for_openapi(process, f"http://127.0.0.1:{port}/openapi.json")
        assert response.status_code == 200
        assert response.json()["info"]["title"] == "Tonalite"

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=SHUTDOWN_DEADLINE) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=SHUTDOWN_DEADLINE)

    assert stdout_path.read_text().splitlines()[0] == f"Control panel: http://127.0.0.1:{port}/"
    assert "Traceback" not in stderr_path.read_text()
