"""What the benchmarks share: a fresh platform with lines, a `tonalite serve` process, CPU and sipp counters."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from tonalite.app import build_platform
from tonalite.config import Settings
from tonalite.services.lines import LineCredentials
from tonalite.store.migrate import upgrade

DOMAIN = "127.0.0.1"
BENCH_LOGIN = "bench"
BENCH_PASSWORD = "bench-password"
READY_TIMEOUT_S = 30.0


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_lines(data_dir: Path, count: int) -> list[LineCredentials]:
    """A migrated SQLite database in `data_dir` with one account, one billing group and `count` lines."""
    url = f"sqlite:///{data_dir / 'tonalite.db'}"
    upgrade(url)
    platform = build_platform(Settings(database_url=url, data_dir=data_dir, sip_domain=DOMAIN))
    services = platform.services
    account = services.accounts.create(BENCH_LOGIN, BENCH_PASSWORD, "Bench SA", "bench@example.com")
    group = services.billing_groups.create(account.id, "Bench")
    credentials = [services.lines.create(group.id, f"+331990{index:05d}")[1] for index in range(count)]
    platform.db.dispose()
    return credentials


class ServerProcess:
    """`python -m tonalite serve` on free loopback ports, MD5 offered first (sipp computes only MD5)."""

    def __init__(self, data_dir: Path) -> None:
        self.sip_port = free_port(socket.SOCK_DGRAM)
        self.http_port = free_port()
        self._env = {
            **os.environ,
            "TONALITE_DATA_DIR": str(data_dir),
            "TONALITE_SIP_DOMAIN": DOMAIN,
            "TONALITE_SIP_LISTEN": f"udp:127.0.0.1:{self.sip_port},tcp:127.0.0.1:{self.sip_port}",
            "TONALITE_HTTP_LISTEN": f"127.0.0.1:{self.http_port}",
            "TONALITE_SIP_DIGEST_ALGORITHMS": "MD5,SHA-256",
        }
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> ServerProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tonalite", "serve"],
            env=self._env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.http_port}/openapi.json", timeout=1.0)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        self._process.kill()
        raise SystemExit("tonalite serve did not start")

    def __exit__(self, *exc: object | TracebackType) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()


def sipp_counters(stats: Path) -> dict[str, int]:
    """The last row of a sipp -trace_stat file, numeric columns only."""
    with stats.open() as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    last = rows[-1]
    return {name: int(value) for name, value in last.items() if name and value and value.strip().isdigit()}
