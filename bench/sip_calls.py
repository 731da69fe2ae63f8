"""Call throughput of one `tonalite serve` process through its B2BUA, measured with sipp (no media).

A caller line (sipp) places TOTAL calls at RATE calls per second to a callee line (a sipp UAS): INVITE,
407, ACK, INVITE with MD5 digest credentials, 100, 180, 200, ACK, BYE, 200 on the caller's side, and the
same call relayed to the callee. Prints successes, failures, the achieved rate, and the server's CPU time
per call (utime+stime of the server process): steadier than the rate, since sipp runs on the same cores.

    python -m bench.sip_calls [--rate 100] [--total 3000]
"""

from __future__ import annotations

import argparse
import sys
import time

from tests.peers.sipp import Sipp, users_file
from tests.peers.tonalite_server import free_port

from bench.support import SIPP_BUFFERS, cpu_seconds, interpreter, pin_apart, server_with_lines
from tonalite.services.numbering import format_national


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--total", type=int, default=3000)
    args = parser.parse_args()
    with server_with_lines(2, simultaneous_calls=1000) as (server, lines):
        assert server.process is not None
        pinning = pin_apart(server.process.pid)
        caller, callee = lines
        directory = server.data_dir
        callee_port = free_port()
        for line, port in ((caller, None), (callee, callee_port)):
            users = users_file(directory, [line])
            registered = Sipp("register", server.sip_port, directory, users, keys={"expires": "3600"}, local_port=port)
            assert registered.run().all_passed
        dialled = format_national(callee.number).replace(" ", "")
        timeout = args.total // args.rate + 60
        uas = Sipp(
            "uas", server.sip_port, directory, calls=args.total, local_port=callee_port, timeout_s=timeout,
            extra=["-l", "10000", *SIPP_BUFFERS],
        ).start()  # fmt: skip
        uac = Sipp(
            "call_uac", server.sip_port, directory, users_file(directory, [caller]), calls=args.total,
            rate=args.rate, keys={"dialled": dialled}, timeout_s=timeout,
            extra=["-auth_uri", f"{dialled}@{caller.domain}", "-l", "10000", *SIPP_BUFFERS],
        )  # fmt: skip
        cpu_before, started = cpu_seconds(server.process.pid), time.perf_counter()
        run = uac.run()
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(server.process.pid) - cpu_before
        uas.finish()
    print(f"calls INVITE-407-INVITE-200-ACK-BYE through the B2BUA, sipp -r {args.rate} -m {args.total}; {pinning}")
    print(f"  server          {interpreter()}")
    print(f"  calls           {run.successful} ok, {run.failed} failed")
    print(f"  rate            {run.successful / elapsed:8.0f} calls/s over {elapsed:.1f} s (sipp on the same cores)")
    print(f"  server CPU      {cpu / max(run.successful, 1) * 1e6:8.0f} µs per call (both legs)")
    sys.exit(0 if run.failed == 0 else 1)


if __name__ == "__main__":
    main()
