"""`tonalite serve` as a real process on loopback, with a fresh database and lines of its own."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from tonalite.app import Platform, build_platform
from tonalite.config import Settings
from tonalite.services.lines import LineCredentials

DOMAIN = "127.0.0.1"
ACCOUNT_LOGIN = "acme"
ACCOUNT_PASSWORD = "acme-password"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 15.0


_RECENTLY_GIVEN: deque[int] = deque(maxlen=256)
_GIVING = threading.Lock()
PORT_SPAN = 3
"""sipp binds a media port's neighbours too (+2 for video): a port within this many of one given recently, to
a peer that may still be starting in another thread, is not given again."""


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1, since the SIP listeners share one number, and not next to
    one given lately (tests start peers from several threads at once)."""
    with _GIVING:
        for _ in range(50):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                tcp.bind(("127.0.0.1", 0))
                port = int(tcp.getsockname()[1])
                if any(abs(port - given) <= PORT_SPAN for given in _RECENTLY_GIVEN):
                    continue
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    try:
                        udp.bind(("127.0.0.1", port))
                    except OSError:
                        continue
                    _RECENTLY_GIVEN.append(port)
                    return port
    raise RuntimeError("no free port")


@dataclass
class TonaliteServer:
    """Start and stop `python -m tonalite serve`; the platform object reads and writes the same database."""

    data_dir: Path
    database_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    sip_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    tls_port: int | None = None  # a TLS listener too (its certificate comes in extra_env)
    process: subprocess.Popen[bytes] | None = None

    @property
    def platform(self) -> Platform:
        return build_platform(self.settings)

    @property
    def settings(self) -> Settings:
        return Settings(database_url=self.database_url, data_dir=self.data_dir, sip_domain=DOMAIN)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "tonalite", "serve"]

    def environment(self) -> dict[str, str]:
        """What `tonalite serve` runs with: UDP and TCP on `sip_port`, TLS on `tls_port` if set."""
        listen = [f"udp:127.0.0.1:{self.sip_port}", f"tcp:127.0.0.1:{self.sip_port}"]
        if self.tls_port is not None:
            listen.append(f"tls:127.0.0.1:{self.tls_port}")
        return {
            **os.environ,
            "TONALITE_DATA_DIR": str(self.data_dir),
            "TONALITE_DATABASE_URL": self.database_url,
            "TONALITE_SIP_DOMAIN": DOMAIN,
            "TONALITE_SIP_LISTEN": ",".join(listen),
            "TONALITE_HTTP_LISTEN": f"127.0.0.1:{self.http_port}",
            **self.extra_env,
        }

    def start(self) -> None:
        with (self.data_dir / "server.log").open("ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(self.command, env=self.environment(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tonalite serve exited: {self.log_tail()}")
            try:
                httpx.get(f"{self.http_url}/openapi.json", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"tonalite serve did not answer within {START_TIMEOUT_S} s: {self.log_tail()}")

    def stop(self) -> int:
        """SIGTERM, as an operator's service manager would; returns the exit status."""
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_S)
            raise
        finally:
            self.process = None

    def kill(self) -> int:
        """SIGKILL, as a crash or the kernel's OOM killer would: no shutdown code runs; returns the exit status.
        `start` then runs the server again on the same database, data directory and ports."""
        if self.process is None:
            return 0
        self.process.kill()
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        finally:
            self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        path = self.data_dir / "server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def __enter__(self) -> TonaliteServer:
        self.start()
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.stop()


def create_lines(
    platform: Platform, count: int, first_number: int = 1001, simultaneous_calls: int = 2
) -> tuple[int, list[LineCredentials]]:
    """One account and billing group holding `count` lines numbered +331990010xx up; the group's id too."""
    services = platform.services
    account = services.accounts.create(ACCOUNT_LOGIN, ACCOUNT_PASSWORD, "Acme SA", "it@acme.example")
    group = services.billing_groups.create(account.id, "Siège")
    return group.id, [
        services.lines.create(group.id, f"+33199{first_number + index:06d}", simultaneous_calls=simultaneous_calls)[1]
        for index in range(count)
    ]


def copy_database(template: Path, data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / "tonalite.db"
    shutil.copy(template, target)
    return f"sqlite:///{target}"
