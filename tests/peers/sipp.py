"""sipp (Debian's sip-tester) driven from the tests: scenarios from tests/sipp, users from a CSV file."""

from __future__ import annotations

import csv
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.peers.tonalite_server import free_port
from tonalite.services.lines import LineCredentials

SCENARIOS = Path(__file__).resolve().parents[1] / "sipp"
SIPP = shutil.which("sipp") or "/usr/bin/sipp"


@dataclass(frozen=True, slots=True)
class SippRun:
    returncode: int
    successful: int
    failed: int
    output: str

    @property
    def all_passed(self) -> bool:
        return self.returncode == 0 and self.failed == 0 and self.successful > 0


def users_file(directory: Path, users: list[LineCredentials] | list[tuple[str, str, str]]) -> Path:
    """sipp's -inf file: username;password;domain per line."""
    path = directory / "users.csv"
    rows = [(u.username, u.password, u.domain) if isinstance(u, LineCredentials) else u for u in users]
    with path.open("w", newline="") as handle:
        handle.write("SEQUENTIAL\n")
        csv.writer(handle, delimiter=";", lineterminator="\n").writerows(rows)
    return path


def run_sipp(
    scenario: str,
    target_port: int,
    users: Path,
    directory: Path,
    *,
    calls: int = 1,
    rate: int = 10,
    keys: dict[str, str] | None = None,
    transport: str = "u1",
    timeout_s: int = 30,
    local_port: int | None = None,
) -> SippRun:
    """Run one scenario to completion, bounded by sipp's -timeout and an outer timeout.

    `local_port` is the phone's own port, part of the Contact it registers: give the same one to the runs
    that play one phone (register, then unregister), or a free one is taken.
    """
    stats = directory / f"{scenario}.stats.csv"
    command = [
        SIPP, "-sf", str(SCENARIOS / f"{scenario}.xml"), "-inf", str(users), f"127.0.0.1:{target_port}",
        "-i", "127.0.0.1", "-p", str(local_port or free_port()), "-t", transport,
        "-m", str(calls), "-r", str(rate), "-nostdin", "-timeout", f"{timeout_s}s",
        "-trace_stat", "-stf", str(stats), "-fd", "1",
    ]  # fmt: skip
    for name, value in (keys or {}).items():
        command += ["-key", name, value]
    result = subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=timeout_s + 15, check=False)
    counters = _last_counters(stats)
    return SippRun(
        result.returncode,
        counters.get("SuccessfulCall(C)", 0),
        counters.get("FailedCall(C)", 0),
        result.stdout[-4000:] + result.stderr[-2000:],
    )


def _last_counters(stats: Path) -> dict[str, int]:
    if not stats.exists():
        return {}
    with stats.open() as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    if not rows:
        return {}
    return {name: int(value) for name, value in rows[-1].items() if name and value and value.strip().isdigit()}
