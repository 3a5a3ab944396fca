"""The local runner against slow request bodies: the runner's arrangement (granian's ASGI
interface with the body stage of common.body_stage) against the one before it (granian's WSGI
interface, the body read on a request thread), side by side in one run.

    bench/run.sh slow [--clients N] [--seconds S] [--requests R]

For each arrangement, on a scratch PostgreSQL database with 8 request threads: R `/health`
requests from 8 keep-alive client threads (requests/s and the server's CPU ms per request:
what the stage costs a request); then N clients (100) each send the head of a 1 MiB
`POST /dashboard/login` and one body byte a second for S seconds while `/health` is timed once a
second (the slowest answer; a probe that gets nothing in 5 s counts as 5 s), and how many slow
clients were answered 408 by S + 3 seconds (REQUEST_BODY_TIMEOUT_SECONDS is S).
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from bench.harness import (
    RESULTS,
    ScratchDatabases,
    Verdict,
    cpu_seconds,
    db_url,
    log,
    migrate_database,
    publish,
    start_bench_server,
    stop,
)
from bench.harness import machine as describe_machine

ARRANGEMENTS = ("granian-wsgi", "granian")
THREADS, CLIENT_THREADS, PROBE_TIMEOUT = 8, 8, 5.0
_scratch = ScratchDatabases("tsh_slow_bench_")
_HEAD = (
    b"POST /dashboard/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: 1048576\r\n\r\n"
)


def _start(arrangement: str, database: str, body_seconds: float, logfile) -> tuple[Any, int]:
    env = {
        "DATABASE_URL": db_url(database),
        "TDS_WORKERS": "0",
        "ADMIN_API_KEY": "bench-admin-key-0123456789",
        "REQUEST_BODY_TIMEOUT_SECONDS": str(body_seconds),
    }
    return start_bench_server(arrangement, "runner", THREADS, logfile, env)


def _health_load(port: int, total: int, pid: int) -> dict:
    def client(count: int) -> None:
        with requests.Session() as session:
            for _ in range(count):
                session.get(f"http://127.0.0.1:{port}/health", timeout=10).raise_for_status()

    client(20)  # warm-up
    before, started = cpu_seconds(pid), time.perf_counter()
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        list(pool.map(client, [total // CLIENT_THREADS] * CLIENT_THREADS))
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - before
    return {"rps": total / elapsed, "cpu_ms_per_request": cpu * 1000 / total}


def _probe(port: int) -> float:
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=PROBE_TIMEOUT) as connection:
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if not connection.recv(16).startswith(b"HTTP/1.1 200"):
                return PROBE_TIMEOUT
    except OSError:
        return PROBE_TIMEOUT
    return time.monotonic() - started


def _answered_408(connection: socket.socket, deadline: float) -> bool:
    connection.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        return connection.recv(16).startswith(b"HTTP/1.1 408")
    except OSError:
        return False


def _slow_bodies(port: int, clients: int, seconds: float) -> dict:
    slow = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(clients)]
    try:
        started = time.monotonic()
        for connection in slow:
            connection.sendall(_HEAD)
        probes = []
        while time.monotonic() - started < seconds:
            for connection in slow:
                with contextlib.suppress(OSError):
                    connection.sendall(b"a")
            probes.append(_probe(port))
            time.sleep(max(0.0, 1.0 - probes[-1]))
        deadline = started + seconds + 3
        answered = sum(_answered_408(connection, deadline) for connection in slow)
    finally:
        for connection in slow:
            connection.close()
    return {
        "health_max_s": max(probes),
        "health_median_s": sorted(probes)[len(probes) // 2],
        "probes": len(probes),
        "answered_408": answered,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    info = describe_machine(("granian", "SQLAlchemy", "pg8000", "werkzeug"))
    RESULTS.mkdir(exist_ok=True)
    figures: dict[str, dict] = {}
    with open(RESULTS / "slow-bodies.log", "ab") as logfile:
        for arrangement in ARRANGEMENTS:
            database = _scratch.create(arrangement.replace("-", "_"))
            migrate_database(database)
            process, port = _start(arrangement, database, args.seconds, logfile)
            try:
                figures[arrangement] = {
                    **_health_load(port, args.requests, process.pid),
                    **_slow_bodies(port, args.clients, args.seconds),
                }
            finally:
                stop(process)
                _scratch.drop(database)
            log(f"{arrangement}: {figures[arrangement]}")
    new, old = figures["granian"], figures["granian-wsgi"]
    lines = [
        "# Slow request bodies: the body stage against granian's WSGI interface",
        "",
        f"{info['date']}, {info['nproc']} cores, load average at start {info['loadavg_at_start']}, "
        f"granian {info['packages'].get('granian', '?')}",
        "",
        f"| arrangement | /health req/s | CPU ms/request | /health slowest with {args.clients} slow bodies | "
        f"median | slow clients answered 408 |",
        "|---|---|---|---|---|---|",
        *(
            f"| {name} | {f['rps']:.0f} | {f['cpu_ms_per_request']:.2f} | {f['health_max_s']:.3f} s | "
            f"{f['health_median_s']:.3f} s | {f['answered_408']} / {args.clients} |"
            for name, f in figures.items()
        ),
    ]
    verdicts = [
        Verdict(
            f"/health <= 1 s with {args.clients} slow bodies (body stage)",
            f"{new['health_max_s']:.3f} s",
            new["health_max_s"] <= 1.0,
        ),
        Verdict(
            "every slow body answered 408 within the bound + 3 s",
            f"{new['answered_408']} / {args.clients}",
            new["answered_408"] == args.clients,
        ),
    ]
    lines += [
        "",
        f"CPU per /health request, body stage / WSGI: {new['cpu_ms_per_request'] / old['cpu_ms_per_request']:.2f}x",
        "",
        *(f"- {'PASS' if v.passed else 'FAIL'}: {v.target}: {v.measured}" for v in verdicts),
    ]
    publish("slow", "\n".join(lines) + "\n", {"machine": info, "figures": figures}, verdicts, [])
    return 0 if all(v.passed for v in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
