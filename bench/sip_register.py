"""Authenticated REGISTER throughput of one `tonalite serve` process (uvloop), measured with sipp.

LINES lines in a fresh SQLite database register in turn (REGISTER, 401, REGISTER with MD5 digest
credentials, 200) at RATE registrations per second, TOTAL in all. Prints sipp's successes, failures and
retransmissions, the achieved rate, and the server's CPU time per registration (utime+stime of the server
process, the batch writer thread included): steadier than the rate, since sipp shares the two cores.

    python -m bench.sip_register [--rate 1000] [--total 10000] [--lines 2000] [--limit 5000]

`--limit` bounds the registrations in progress. With a rate above capacity and a small limit (`--rate 6000
--limit 200`) the run is a closed loop: sipp starts a registration as another ends, and the rate printed is
the server's capacity at zero failures. Run it for more than 64*T1 (32 s, `--total 120000`): the answers
kept for retransmissions expire from then on, which is the steady state.
"""

from __future__ import annotations

import argparse
import re
import sys
import time

from tests.peers.sipp import Sipp, users_file

from bench.support import SIPP_BUFFERS, cpu_seconds, interpreter, pin_apart, server_with_lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--total", type=int, default=10000)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=5000, help="registrations sipp keeps in progress at most")
    args = parser.parse_args()
    with server_with_lines(args.lines) as (server, lines):
        assert server.process is not None
        pinning = pin_apart(server.process.pid)
        users = users_file(server.data_dir, lines)
        sipp = Sipp(
            "register", server.sip_port, server.data_dir, users, calls=args.total, rate=args.rate,
            keys={"expires": "600"}, timeout_s=240, extra=["-l", str(args.limit), *SIPP_BUFFERS],
        )  # fmt: skip
        cpu_before, started = cpu_seconds(server.process.pid), time.perf_counter()
        run = sipp.run()
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(server.process.pid) - cpu_before
    retransmissions = sum(int(n) for n in re.findall(r"REGISTER ---------->\s+\d+\s+(\d+)", run.output))
    print(f"REGISTER with MD5 digest, {args.lines} lines, sipp -r {args.rate} -m {args.total}; {pinning}")
    print(f"  server          {interpreter()}")
    print(f"  registrations   {run.successful} ok, {run.failed} failed, {retransmissions} REGISTER retransmissions")
    rate = run.successful / elapsed
    print(f"  rate            {rate:8.0f} registrations/s over {elapsed:.1f} s (sipp on the same cores)")
    print(f"  server CPU      {cpu / max(run.successful, 1) * 1e6:8.0f} µs per registration (2 requests, 2 responses)")
    sys.exit(0 if run.failed == 0 else 1)


if __name__ == "__main__":
    main()
