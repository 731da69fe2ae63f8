"""sipp (Debian's sip-tester) driven from the tests: scenarios from tests/sipp, users from a CSV file."""

from __future__ import annotations

import csv
import shutil
import subprocess
import time
from dataclasses import dataclass, field
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


@dataclass
class Sipp:
    """One sipp process: a scenario of tests/sipp (or one built into sipp), bounded in time.

    `local_port` is the phone's own port, part of the Contact it registers: give the same one to the runs
    that play one phone (register, then answer calls), or a free one is taken. `substitutions` replace
    `%NAME%` markers in the scenario (sipp cannot take an expected status code from a -key).
    """

    scenario: str
    target_port: int
    directory: Path
    users: Path | None = None
    calls: int = 1
    rate: int = 10
    keys: dict[str, str] = field(default_factory=dict)
    transport: str = "u1"
    timeout_s: int = 30
    local_port: int | None = None
    substitutions: dict[str, str] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)
    process: subprocess.Popen[str] | None = None

    def run(self) -> SippRun:
        return self.start().finish()

    def start(self) -> Sipp:
        """Start in the background (a UAS waiting for calls), then `finish()`."""
        self.process = subprocess.Popen(
            self._command(), cwd=self.directory, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        return self

    def wait_for_message(self, text: str, timeout_s: float = 10.0) -> None:
        """Wait until sipp has sent or received a message containing `text` (needs -trace_msg in `extra`)."""
        assert self.process is not None and "-trace_msg" in self.extra
        deadline = time.monotonic() + timeout_s
        log = self.directory / f"{self.scenario}-{self.local_port}_{self.process.pid}_messages.log"
        while not (log.exists() and text in log.read_text(errors="replace")):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"sipp never saw {text!r}")
            time.sleep(0.02)

    def finish(self) -> SippRun:
        assert self.process is not None
        try:
            stdout, stderr = self.process.communicate(timeout=self.timeout_s + 15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            stdout, stderr = self.process.communicate()
        counters = _last_counters(self._stats)
        return SippRun(
            self.process.returncode,
            counters.get("SuccessfulCall(C)", 0),
            counters.get("FailedCall(C)", 0),
            stdout[-4000:] + stderr[-2000:],
        )

    @property
    def messages_log(self) -> Path:
        """Where -trace_msg wrote the run's messages: sipp names it after the scenario file it was given, or
        after a built-in scenario's name."""
        assert self.process is not None
        if (SCENARIOS / f"{self.scenario}.xml").exists():
            return self.directory / f"{self.scenario}-{self.local_port}_{self.process.pid}_messages.log"
        return self.directory / f"{self.scenario}_{self.process.pid}_messages.log"

    @property
    def _stats(self) -> Path:
        return self.directory / f"{self.scenario}-{self.local_port}.stats.csv"

    def _command(self) -> list[str]:
        self.local_port = self.local_port or free_port()
        source = SCENARIOS / f"{self.scenario}.xml"
        if source.exists():
            text = source.read_text()
            for name, value in self.substitutions.items():
                text = text.replace(f"%{name}%", value)
            rendered = self.directory / f"{self.scenario}-{self.local_port}.xml"
            rendered.write_text(text)
            command = [SIPP, "-sf", str(rendered)]
        else:
            command = [SIPP, "-sn", self.scenario]
        if self.users is not None:
            command += ["-inf", str(self.users)]
        command += [
            f"127.0.0.1:{self.target_port}", "-i", "127.0.0.1", "-p", str(self.local_port), "-t", self.transport,
            "-m", str(self.calls), "-r", str(self.rate), "-nostdin", "-timeout", f"{self.timeout_s}s",
            "-trace_stat", "-stf", str(self._stats), "-fd", "1", *self.extra,
        ]  # fmt: skip
        for name, value in self.keys.items():
            command += ["-key", name, value]
        return command


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
    """Run one scenario of tests/sipp to completion."""
    return Sipp(
        scenario, target_port, directory, users, calls, rate, keys or {}, transport, timeout_s, local_port
    ).run()


def _last_counters(stats: Path) -> dict[str, int]:
    if not stats.exists():
        return {}
    with stats.open() as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    if not rows:
        return {}
    return {name: int(value) for name, value in rows[-1].items() if name and value and value.strip().isdigit()}
