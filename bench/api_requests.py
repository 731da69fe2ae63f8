"""API throughput of one `tonalite serve` process: requests/s and server CPU time per request.

Starts the server on a fresh SQLite database with one account and 50 lines, signs in, and sends a bounded
number of `GET /v1/billing-groups/{group}/lines` from a few client threads over keep-alive connections.
CPU per request (utime+stime of the server from /proc/PID/stat) is steadier than the rate on a shared
machine, since the client runs on the same cores.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.support import ACCOUNT_LOGIN, ACCOUNT_PASSWORD, cpu_seconds, server_with_lines

REQUESTS = 3000
CLIENTS = 4


def main() -> None:
    with server_with_lines(50) as (server, _):
        base = server.http_url
        login = {"login": ACCOUNT_LOGIN, "password": ACCOUNT_PASSWORD}
        token = httpx.post(f"{base}/v1/auth/token", json=login, timeout=10).json()["token"]
        path = "/v1/billing-groups/1/lines"

        def client(count: int) -> int:
            ok = 0
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
                for _ in range(count):
                    ok += http.get(path).status_code == 200
            return ok

        assert server.process is not None
        cpu_before, started = cpu_seconds(server.process.pid), time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            ok = sum(pool.map(client, [REQUESTS // CLIENTS] * CLIENTS))
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(server.process.pid) - cpu_before
    total = REQUESTS // CLIENTS * CLIENTS
    print(f"GET {path} (50 lines): {total} requests, {ok} ok, {CLIENTS} clients, SQLite")
    print(f"  rate            {total / elapsed:8.0f} requests/s (client on the same cores)")
    print(f"  server CPU      {cpu / total * 1e6:8.0f} µs per request")


if __name__ == "__main__":
    main()
