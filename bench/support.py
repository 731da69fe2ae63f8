"""What the benchmarks share: a server with lines (the integration tests' own), CPU time, sipp's counters."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.peers.tonalite_server import ACCOUNT_LOGIN, ACCOUNT_PASSWORD, TonaliteServer, create_lines

from tonalite.services.lines import LineCredentials
from tonalite.store.migrate import upgrade

__all__ = ["ACCOUNT_LOGIN", "ACCOUNT_PASSWORD", "cpu_seconds", "server_with_lines"]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server_with_lines(
    count: int, simultaneous_calls: int = 2
) -> Iterator[tuple[TonaliteServer, list[LineCredentials]]]:
    """A fresh SQLite database with `count` lines and `tonalite serve` on it (uvloop), MD5 offered first since
    sipp computes only MD5; removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="tonalite-bench-"))
    try:
        url = f"sqlite:///{directory / 'tonalite.db'}"
        upgrade(url)
        server = TonaliteServer(directory, url, {"TONALITE_SIP_DIGEST_ALGORITHMS": "MD5,SHA-256"})
        platform = server.platform
        _, lines = create_lines(platform, count, simultaneous_calls=simultaneous_calls)
        platform.db.dispose()
        with server:
            yield server, lines
    finally:
        shutil.rmtree(directory, ignore_errors=True)
