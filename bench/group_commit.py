"""Does the intake's group commit pay? Webhooks accepted with it beside the same webhooks each in
a transaction of its own, on PostgreSQL and on SQLite, from as many threads as the local runner
gives each HTTP process (8 by default).

`python -m bench.group_commit [--events N] [--threads T] [--rounds R]` (PostgreSQL as for the other
benchmarks: BENCH_PGHOST / BENCH_PGPORT / BENCH_PGUSER). Both contenders validate each body and
build its queue row the same way (common.sync.intake.event_row); only the write differs. The
figures are accepted events per second of wall time and the process's CPU per event, each the
best of the rounds; CPU per event is the steadier of the two on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.harness import ScratchDatabases, db_url, log
from common import migrate
from common.config import get_settings
from common.db.engine import ENGINES, get_engine
from common.db.transactions import write
from common.sync import queue
from common.sync.entities import BY_ROUTE
from common.sync.intake import accept_webhook, event_row
from tests.zoho_payloads import product


def _one_transaction_each(body: dict[str, Any]) -> None:
    """The baseline: the same row, written and committed alone."""
    row = event_row(BY_ROUTE["products"], body)
    with write() as connection:
        queue.enqueue(connection, [row])


def _grouped(body: dict[str, Any]) -> None:
    accept_webhook(BY_ROUTE["products"], body)


CONTENDERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "group commit": _grouped,
    "a transaction each": _one_transaction_each,
}


def _run(call: Callable[[dict[str, Any]], None], bodies: list[dict], threads: int) -> tuple[float, float]:
    """(events per second, CPU milliseconds per event) for `bodies` sent from `threads` threads."""
    cpu, started = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(call, bodies))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return len(bodies) / wall, cpu * 1000 / len(bodies)


def _measure(database_url: str, events: int, threads: int, rounds: int) -> dict[str, tuple[float, float]]:
    os.environ.update(DATABASE_URL=database_url, DB_POOL_SIZE=str(threads), TDS_WORKERS="0")
    get_settings.cache_clear()
    ENGINES.clear()
    migrate.upgrade(get_engine())
    best: dict[str, tuple[float, float]] = {}
    serial = 0
    for round_no in range(rounds):
        for name, call in CONTENDERS.items():
            bodies = [product(f"77{serial + n:012d}") for n in range(events)]
            serial += events
            rate, cpu_ms = _run(call, bodies, threads)
            log(f"round {round_no + 1} {name}: {rate:.0f} events/s, {cpu_ms:.2f} ms CPU per event")
            old_rate, old_cpu = best.get(name, (0.0, float("inf")))
            best[name] = (max(rate, old_rate), min(cpu_ms, old_cpu))
    ENGINES.clear()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400, help="events per contender per round")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    scratch = ScratchDatabases("tsh_group_commit_bench_")
    with tempfile.TemporaryDirectory() as folder:
        databases = {
            "PostgreSQL": db_url(scratch.create("pg")),
            "SQLite": f"sqlite:///{folder}/bench.sqlite3",
        }
        print(f"| database | contender | events/s ({args.threads} threads) | CPU ms per event |")
        print("|---|---|---|---|")
        for label, url in databases.items():
            best = _measure(url, args.events, args.threads, args.rounds)
            for name, (rate, cpu_ms) in best.items():
                print(f"| {label} | {name} | {rate:.0f} | {cpu_ms:.2f} |")
            (grouped_rate, grouped_cpu), (alone_rate, alone_cpu) = best["group commit"], best["a transaction each"]
            print(
                f"| {label} | group commit's gain | {grouped_rate / alone_rate - 1:+.0%} | "
                f"{1 - grouped_cpu / alone_cpu:.0%} less |"
            )


if __name__ == "__main__":
    main()
