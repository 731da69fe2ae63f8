"""API throughput of one `tonalite serve` process: requests/s and server CPU time per request.

Starts the server on a fresh SQLite database in a temporary directory, signs in as the demo account and
sends a bounded number of `GET /v1/billing-groups/{group}/lines` from a few client threads over keep-alive
connections. CPU per request (utime+stime of the server from /proc/PID/stat) is steadier than the rate on a
shared machine, since the client runs on the same cores.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REQUESTS = 3000
CLIENTS = 4
READY_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tonalite(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "tonalite", *args], env=env, check=True, capture_output=True, text=True, timeout=60
    ).stdout


def wait_until_serving(url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit(f"server did not answer at {url} within {READY_TIMEOUT_S} s")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="tonalite-bench-") as data_dir:
        port = free_port()
        env = {**os.environ, "TONALITE_DATA_DIR": data_dir, "TONALITE_HTTP_LISTEN": f"127.0.0.1:{port}"}
        tonalite(env, "db", "upgrade")
        demo = json.loads(tonalite(env, "demo", "--json"))
        server = subprocess.Popen(
            [sys.executable, "-m", "tonalite", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_serving(f"{base}/openapi.json")
            login = {"login": demo["panel"]["login"], "password": demo["panel"]["password"]}
            token = httpx.post(f"{base}/v1/auth/token", json=login, timeout=10).json()["token"]
            path = f"/v1/billing-groups/{demo['billing_group']}/lines"

            def client(count: int) -> int:
                ok = 0
                with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
                    for _ in range(count):
                        ok += http.get(path).status_code == 200
                return ok

            cpu_before, started = cpu_seconds(server.pid), time.perf_counter()
            with ThreadPoolExecutor(CLIENTS) as pool:
                ok = sum(pool.map(client, [REQUESTS // CLIENTS] * CLIENTS))
            elapsed, cpu = time.perf_counter() - started, cpu_seconds(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(timeout=10)
    total = REQUESTS // CLIENTS * CLIENTS
    print(f"GET {path}: {total} requests, {ok} ok, {CLIENTS} clients, SQLite")
    print(f"  rate            {total / elapsed:8.0f} requests/s (client on the same cores)")
    print(f"  server CPU      {cpu / total * 1e6:8.0f} µs per request")


if __name__ == "__main__":
    main()
