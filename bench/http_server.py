"""The local runner's HTTP server: waitress (tuned for hostile clients) against granian (what the
runner runs now), the same WSGI applications, side by side in one run.

    bench/run.sh http [--rounds N] [--duration S]

Loads (wrk, 16 connections, 2 threads, loopback): a hello-world (bench/hello.py), `/health`
and a product webhook POST (each a new event, committed before the 202) through the runner's
create_app on a scratch PostgreSQL database. Then hostile clients: 2,000 idle connections and
10 slowloris clients (a header line every second) held open while `/health` is timed.
Rounds interleave the servers and the best round of each is kept.
"""

from __future__ import annotations

import argparse
import socket
import time
from typing import Any

from bench.harness import (
    BENCH,
    RESULTS,
    ScratchDatabases,
    Verdict,
    cpu_seconds,
    db_url,
    log,
    migrate_database,
    publish,
    run_wrk,
    start_bench_server,
    stop,
)
from bench.harness import machine as describe_machine
from bench.sync_bench import intake_template

SERVERS = ("waitress", "granian")
CLIENTS, WRK_THREADS, SERVER_THREADS = 16, 2, 8
IDLE, SLOWLORIS, HEALTH_PROBES = 2000, 10, 5
_scratch = ScratchDatabases("tsh_http_bench_")


def _start(server: str, app: str, database: str | None, logfile) -> tuple[Any, int]:
    env = {"DATABASE_URL": db_url(database), "TDS_WORKERS": "0"} if database else {}
    return start_bench_server(server, app, SERVER_THREADS, logfile, env)


def _load(url: str, duration: float, script: str, script_args: list[str], pid: int) -> dict:
    run_wrk(url, 2, BENCH / script, script_args, connections=CLIENTS, threads=WRK_THREADS)  # warm-up
    before = cpu_seconds(pid)
    result = run_wrk(url, duration, BENCH / script, script_args, connections=CLIENTS, threads=WRK_THREADS)
    result["cpu_ms_per_request"] = (cpu_seconds(pid) - before) * 1000 / max(1, result["requests"])
    return result


def _health_seconds(port: int) -> float:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    if not answer.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"/health answered {answer[:80]!r}")
    return time.monotonic() - started


def _hostile(port: int) -> dict:
    held: list[socket.socket] = []
    try:
        for _ in range(IDLE + SLOWLORIS):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        slow = held[IDLE:]
        for connection in slow:
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        time.sleep(2)
        seconds = []
        for probe in range(HEALTH_PROBES):
            for connection in slow:
                connection.sendall(f"X-Slow-{probe}: 1\r\n".encode())
            seconds.append(_health_seconds(port))
            time.sleep(1)
    finally:
        for connection in held:
            connection.close()
    return {"health_max_s": max(seconds), "health_median_s": sorted(seconds)[len(seconds) // 2]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of each measured wrk run")
    args = parser.parse_args()
    info = describe_machine(("granian", "waitress", "SQLAlchemy", "pg8000", "werkzeug"))
    RESULTS.mkdir(exist_ok=True)  # gitignored: absent in a fresh clone
    template = intake_template()
    loads = ("hello", "health", "webhook")
    best: dict[tuple[str, str], dict] = {}
    hostile: dict[str, dict] = {}
    with open(RESULTS / "http-servers.log", "ab") as logfile:
        for round_no in range(args.rounds):
            for server in SERVERS:
                process, port = _start(server, "hello", None, logfile)
                try:
                    runs = {"hello": _load(f"http://127.0.0.1:{port}/", args.duration, "get.lua", [], process.pid)}
                finally:
                    stop(process)
                database = _scratch.create(f"{server}_{round_no}")
                migrate_database(database)
                process, port = _start(server, "runner", database, logfile)
                base = f"http://127.0.0.1:{port}"
                try:
                    runs["health"] = _load(f"{base}/health", args.duration, "get.lua", [], process.pid)
                    runs["webhook"] = _load(
                        f"{base}/api/zoho/webhooks/products",
                        args.duration,
                        "wrk.lua",
                        [str(template), f"{server[0]}{round_no}"],
                        process.pid,
                    )
                    if round_no == 0:
                        hostile[server] = _hostile(port)
                finally:
                    stop(process)
                    _scratch.drop(database)
                for load, result in runs.items():
                    log(
                        f"round {round_no + 1} {server} {load}: {result['rps']:.0f} req/s, "
                        f"p99 {result['p99_us'] / 1000:.1f} ms, errors {result['errors_total']}"
                    )
                    if (server, load) not in best or result["rps"] > best[server, load]["rps"]:
                        best[server, load] = result
    lines = [
        "# HTTP server: waitress against granian",
        "",
        f"{info['date']}, {info['nproc']} cores, load average at start {info['loadavg_at_start']}, "
        f"granian {info['packages'].get('granian', '?')} / waitress {info['packages'].get('waitress', '?')}",
        "",
        "| load (16 connections) | waitress req/s | waitress p99 ms | granian req/s | granian p99 ms | "
        "granian / waitress | CPU ms/request w / g |",
        "|---|---|---|---|---|---|---|",
    ]
    for load in loads:
        w, g = best["waitress", load], best["granian", load]
        lines.append(
            f"| {load} | {w['rps']:.0f} | {w['p99_us'] / 1000:.1f} | {g['rps']:.0f} | {g['p99_us'] / 1000:.1f} | "
            f"{g['rps'] / w['rps']:.2f}x | {w['cpu_ms_per_request']:.2f} / {g['cpu_ms_per_request']:.2f} |"
        )
    lines += [
        "",
        f"`/health` with {IDLE} idle connections and {SLOWLORIS} slowloris clients held open ({HEALTH_PROBES} probes):",
        "",
    ]
    verdicts = []
    for server in SERVERS:
        figures = hostile[server]
        lines.append(f"- {server}: median {figures['health_median_s']:.3f} s, slowest {figures['health_max_s']:.3f} s")
        if server == "granian":
            verdicts.append(
                Verdict(
                    "/health <= 1 s under 2,000 idle + 10 slowloris (granian)",
                    f"{figures['health_max_s']:.3f} s",
                    figures["health_max_s"] <= 1.0,
                )
            )
    lines += ["", *(f"- {'PASS' if v.passed else 'FAIL'}: {v.target}: {v.measured}" for v in verdicts)]
    payload = {
        "machine": info,
        "best": {f"{server}.{load}": r for (server, load), r in best.items()},
        "hostile": hostile,
    }
    publish("http", "\n".join(lines) + "\n", payload, verdicts, [])
    return 0 if all(v.passed for v in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
