"""What the benchmarks share: a server with lines (the integration tests' own), CPU time, sipp's counters."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import update
from tests.peers.tonalite_server import ACCOUNT_LOGIN, ACCOUNT_PASSWORD, TonaliteServer, create_lines

from tonalite.services.lines import LineCredentials
from tonalite.store.migrate import upgrade
from tonalite.store.models import Line

PRODUCT_MAX_CALLS = 100
SIPP_BUFFERS = ["-buff_size", str(4 << 20)]
"""sipp's socket buffers (64 KiB by default): at thousands of messages a second, sipp's own socket drops
answers whenever sipp is descheduled, and the retransmissions that follow load the server being measured."""

__all__ = [
    "ACCOUNT_LOGIN",
    "ACCOUNT_PASSWORD",
    "SIPP_BUFFERS",
    "cpu_seconds",
    "interpreter",
    "pin_apart",
    "run_queue_seconds",
    "server_with_lines",
]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_queue_seconds(pid: int) -> float:
    """Time the process's threads spent ready to run but waiting for a CPU (/proc/PID/task/*/schedstat): on a
    shared machine, mostly what other programs on the server's CPU took from it while it had work."""
    waited_ns = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that has just ended
            waited_ns += int((task / "schedstat").read_text().split()[1])
    return waited_ns / 1e9


def interpreter() -> str:
    """The Python the server runs on (this one), for the report: a plain shared build, pyenv's default, costs
    ~30 % more per message than Debian's optimised one (README, Development)."""
    return f"Python {platform.python_version()}, {os.path.realpath(sys.executable)}"


def pin_apart(server_pid: int) -> str:
    """The server's threads on the first CPU, this process and the sipp it starts afterwards on the others.

    Left to the scheduler, sipp and the server preempt each other on both CPUs (about one involuntary
    context switch per registration), which costs the server ~15 % more CPU per operation and makes runs
    vary by as much. Returns what was done, for the report."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return "not pinned (one CPU)"
    for task in Path(f"/proc/{server_pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), {cpus[0]})
    os.sched_setaffinity(0, set(cpus[1:]))
    return f"server pinned to CPU {cpus[0]}, sipp to CPU {','.join(map(str, cpus[1:]))}"


@contextmanager
def server_with_lines(
    count: int, simultaneous_calls: int = 2
) -> Iterator[tuple[TonaliteServer, list[LineCredentials]]]:
    """A fresh SQLite database with `count` lines and `tonalite serve` on it (uvloop), MD5 offered first since
    sipp computes only MD5; removed afterwards.

    `simultaneous_calls` may go beyond what the product lets a customer set (100), written straight to the
    database: a throughput run of one line pair at 600 calls/s with 200 ms conversations keeps ~130 calls
    up at once, and would otherwise measure the line's limit (486 Busy Here)."""
    directory = Path(tempfile.mkdtemp(prefix="tonalite-bench-"))
    try:
        url = f"sqlite:///{directory / 'tonalite.db'}"
        upgrade(url)
        server = TonaliteServer(directory, url, {"TONALITE_SIP_DIGEST_ALGORITHMS": "MD5,SHA-256"})
        platform = server.platform
        _, lines = create_lines(platform, count, simultaneous_calls=min(simultaneous_calls, PRODUCT_MAX_CALLS))
        if simultaneous_calls > PRODUCT_MAX_CALLS:
            with platform.db.engine.begin() as connection:
                connection.execute(update(Line).values(simultaneous_calls=simultaneous_calls))
        platform.db.dispose()
        with server:
            yield server, lines
    finally:
        shutil.rmtree(directory, ignore_errors=True)
