"""Authenticated REGISTER throughput of one `tonalite serve` process (uvloop), measured with sipp.

Creates LINES lines in a fresh SQLite database, starts the server, and has sipp register them in turn
(REGISTER, 401, REGISTER with MD5 digest credentials, 200) at RATE registrations per second, TOTAL in all.
Prints sipp's successes, failures and retransmissions, the achieved rate, and the server's CPU time per
registration (utime+stime from /proc/PID/stat): steadier than the rate, since sipp shares the two cores.

    python bench/sip_register.py [--rate 3000] [--total 30000] [--lines 2000]
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.support import ServerProcess, cpu_seconds, make_lines, sipp_counters

SCENARIO = Path(__file__).resolve().parents[1] / "tests" / "sipp" / "register.xml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=3000)
    parser.add_argument("--total", type=int, default=30000)
    parser.add_argument("--lines", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tonalite-bench-") as directory:
        data_dir = Path(directory)
        credentials = make_lines(data_dir, args.lines)
        users = data_dir / "users.csv"
        with users.open("w", newline="") as handle:
            handle.write("SEQUENTIAL\n")
            csv.writer(handle, delimiter=";", lineterminator="\n").writerows(
                (c.username, c.password, c.domain) for c in credentials
            )
        with ServerProcess(data_dir) as server:
            stats = data_dir / "stats.csv"
            cpu_before, started = cpu_seconds(server.pid), time.perf_counter()
            run = subprocess.run(
                [
                    "timeout",
                    "300",
                    "sipp",
                    "-sf",
                    str(SCENARIO),
                    "-inf",
                    str(users),
                    "-key",
                    "expires",
                    "600",
                    f"127.0.0.1:{server.sip_port}",
                    "-r",
                    str(args.rate),
                    "-m",
                    str(args.total),
                    "-l",
                    "5000",
                    "-nostdin",
                    "-timeout",
                    "240s",
                    "-trace_stat",
                    "-stf",
                    str(stats),
                    "-fd",
                    "1",
                ],
                cwd=data_dir,
                capture_output=True,
                text=True,
                check=False,
            )
            elapsed, cpu = time.perf_counter() - started, cpu_seconds(server.pid) - cpu_before
        counters = sipp_counters(stats)
    ok, failed = counters["SuccessfulCall(C)"], counters["FailedCall(C)"]
    retransmissions = sum(int(n) for n in re.findall(r"REGISTER ---------->\s+\d+\s+(\d+)", run.stdout))
    print(
        f"REGISTER with MD5 digest, {args.lines} lines, sipp -r {args.rate} -m {args.total}"
        f" (sipp exit {run.returncode})"
    )
    print(f"  registrations   {ok} ok, {failed} failed, {retransmissions} REGISTER retransmissions")
    print(f"  rate            {ok / elapsed:8.0f} registrations/s over {elapsed:.1f} s (sipp on the same cores)")
    print(f"  server CPU      {cpu / max(ok, 1) * 1e6:8.0f} µs per registration (2 requests, 2 responses)")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
