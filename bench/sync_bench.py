"""Zoho sync benchmark: webhook intake, queue drain and claim latency, each beside its baselines.

    bench/run.sh sync            (or: python -m bench.sync_bench [--quick])

Every figure is measured side by side with its baselines in the same run, in rounds that
interleave the contenders, and the best round of each contender is kept (on a shared
2-core machine a disturbed round is slower, never faster). Scratch PostgreSQL databases
named tsh_sync_bench_* are created and dropped. Results: a table on stdout, JSON and
Markdown under bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pg8000.native

from bench.harness import (
    BENCH,
    PG,
    PYTHON,
    RESULTS,
    ScratchDatabases,
    Verdict,
    backend_cpu,
    backend_cpu_since,
    conninfo,
    cpu_seconds,
    db_url,
    free_port,
    log,
    publish,
    spawn,
    spawn_hello,
    sql,
    stop,
    wait_http,
)
from bench.harness import machine as describe_machine
from bench.harness import run_wrk as wrk

PREFIX = "tsh_sync_bench_"
CLIENTS, WRK_THREADS, SERVER_THREADS = 16, 2, 8
_scratch = ScratchDatabases(PREFIX)
create_db, drop_db = _scratch.create, _scratch.drop


# ---------------------------------------------------------------- workload


def product_event(item_id: str, version: int) -> dict:
    from tests import zoho_payloads as zoho

    return zoho.product(item_id, version)


def customer_event(contact_id: str, version: int) -> dict:
    from tests import zoho_payloads as zoho

    return zoho.customer(contact_id, version)


def drain_workload(events: int) -> list[tuple[str, dict]]:
    """Half products, half customers, 3 versions of each record, queued version by version:
    a third of the items insert a row, two thirds update it."""
    records = events // 6
    work = []
    for version in (1, 2, 3):
        for n in range(records):
            work.append(("products", product_event(f"47{n:013d}", version)))
            work.append(("customers", customer_event(f"88{n:013d}", version)))
    return work


def intake_template() -> Path:
    body = product_event("__ITEM__", 1)
    body["item"].update(name="Samsung Galaxy A54 128GB v__VERSION__", sku="SM-A546-__VERSION__")
    path = RESULTS / "product_webhook.json"
    path.write_text(json.dumps(body))
    return path


# ---------------------------------------------------------------- results


@dataclass
class Figure:
    section: str
    name: str
    value: float
    unit: str
    rounds: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class Report:
    def __init__(self) -> None:
        self.figures: dict[str, Figure] = {}
        self.verdicts: list[Verdict] = []
        self.notes: list[str] = []
        self.plan = ""
        self.plan_variant = ""

    def add(self, key: str, figure: Figure) -> None:
        self.figures[key] = figure

    def value(self, key: str) -> float:
        return self.figures[key].value

    def check(self, target: str, measured: str, passed: bool) -> None:
        self.verdicts.append(Verdict(target, measured, passed))


def best_of(rounds: list[dict], key: str, higher_is_better: bool = True) -> dict:
    return (max if higher_is_better else min)(rounds, key=lambda result: result[key])


# ---------------------------------------------------------------- intake


def run_wrk(url: str, duration: float, template: Path, tag: str) -> dict:
    return wrk(url, duration, BENCH / "wrk.lua", [str(template), tag], connections=CLIENTS, threads=WRK_THREADS)


def start_intake_server(kind: str, port: int, round_no: int, logfile) -> tuple[subprocess.Popen, str, str | None]:
    """(process, URL to load, scratch database) for one contender."""
    if kind == "ff-hello":
        process = spawn(
            [
                str(Path(PYTHON).parent / "functions-framework"),
                "--source",
                "bench/hello.py",
                "--target",
                "hello",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env={"THREADS": str(SERVER_THREADS)},
            stdout=logfile,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        wait_http(url, process)
        return process, url, None
    if kind == "granian-hello":
        process = spawn_hello(
            port,
            SERVER_THREADS,
            stdout=logfile,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        wait_http(url, process)
        return process, url, None
    database = create_db(f"intake_{round_no}")
    url = f"http://127.0.0.1:{port}/api/zoho/webhooks/products"
    if kind == "fastapi":
        # The peer writes into the same migrated table, so both pay for the same indexes.
        subprocess.run(
            [PYTHON, "-m", "common.migrate"],
            cwd=BENCH.parent,
            check=True,
            env={**os.environ, "PYTHONPATH": str(BENCH.parent), "DATABASE_URL": db_url(database)},
        )
        process = spawn(
            [PYTHON, "-m", "bench.fastapi_receiver", "--port", str(port), "--dsn", db_url(database)],
            stdout=logfile,
            stderr=subprocess.STDOUT,
        )
        wait_http(f"http://127.0.0.1:{port}/docs", process, seconds=60)
        return process, url, database
    # "intake" runs as deployed (request metrics on); "intake-no-metrics" is its baseline for their cost;
    # "intake-2w" is the runner with two HTTP processes (both cores).
    metrics = "false" if kind == "intake-no-metrics" else "true"
    workers = "2" if kind == "intake-2w" else "1"
    process = spawn(
        [PYTHON, "local_runner.py", "--port", str(port), "--threads", str(SERVER_THREADS), "--workers", workers],
        env={"DATABASE_URL": db_url(database), "TDS_WORKERS": "0", "REQUEST_METRICS": metrics},
        stdout=logfile,
        stderr=subprocess.STDOUT,
    )
    wait_http(f"http://127.0.0.1:{port}/health", process, seconds=120)
    return process, url, database


def bench_intake(report: Report, rounds: int, duration: float, warmup: float) -> None:
    template = intake_template()
    kinds = ("ff-hello", "granian-hello", "fastapi", "intake-no-metrics", "intake", "intake-2w")
    results: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for round_no in range(rounds):
        for kind_no, kind in enumerate(kinds):
            log_file = open(RESULTS / f"intake-{kind}.log", "ab")  # noqa: SIM115 - the server's, closed after it
            process, url, database = start_intake_server(kind, free_port(), round_no, log_file)
            try:
                run_wrk(url, warmup, template, f"w{round_no}{kind_no}")
                cpu_before = cpu_seconds(process.pid)
                pg_before = backend_cpu(database) if database else {}
                result = run_wrk(url, duration, template, f"m{round_no}{kind_no}")
                requests = max(1, result["requests"])
                result["server_cpu_ms_per_request"] = (cpu_seconds(process.pid) - cpu_before) * 1000 / requests
                if database:
                    result["pg_cpu_ms_per_request"] = backend_cpu_since(database, pg_before) * 1000 / requests
            finally:
                stop(process)
                log_file.close()
            if database:
                result["rows_stored"] = sql(database, "SELECT count(*) FROM tds_sync_queue")[0][0]
                result["rows_duplicate"] = sql(
                    database, "SELECT count(*) - count(DISTINCT source_entity_id) FROM tds_sync_queue"
                )[0][0]
                drop_db(database)
            results[kind].append(result)
            log(
                f"intake round {round_no + 1} {kind}: {result['rps']:.0f} req/s, p50 {result['p50_us'] / 1000:.1f} ms,"
                f" p99 {result['p99_us'] / 1000:.1f} ms, errors {result['errors_total']}"
            )
    for kind in kinds:
        best = best_of(results[kind], "rps")
        report.add(
            f"intake.{kind}",
            Figure("intake", kind, best["rps"], "req/s", [r["rps"] for r in results[kind]], best),
        )


def bench_enqueue(report: Report, rounds: int, jobs: int) -> None:
    """procrastinate's in-process enqueue (defer) rate, and the service's in-process (accept_webhook) beside it."""
    from bench import procrastinate_app
    from common import migrate
    from common.config import get_settings
    from common.db.engine import ENGINES, get_engine
    from common.sync.entities import BY_ROUTE
    from common.sync.intake import accept_webhook

    database = create_db("enqueue")
    # accept_webhook writes through the process's engine (its group commit batches callers),
    # so point the process at the scratch database, with a pool sized for the threads.
    os.environ.update(DATABASE_URL=db_url(database), DB_POOL_SIZE=str(CLIENTS), TDS_WORKERS="0")
    get_settings.cache_clear()
    engine = get_engine()
    migrate.upgrade(engine)
    app = procrastinate_app.make_app(conninfo(database), pool_size=CLIENTS)
    task = procrastinate_app.bind(app, db_url(database))
    app.open()
    app.schema_manager.apply_schema()
    entity = BY_ROUTE["products"]

    def defer(body: dict) -> None:
        task.defer(
            entity_type="products", source_entity_id=body["item"]["item_id"], operation_type="update", payload=body
        )

    def accept(body: dict) -> None:
        accept_webhook(entity, body)

    contenders = {
        "procrastinate-1": (defer, 1),
        f"procrastinate-{CLIENTS}": (defer, CLIENTS),
        "service-1": (accept, 1),
        f"service-{CLIENTS}": (accept, CLIENTS),
    }
    results: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        for round_no in range(rounds):
            for name_no, (name, (call, threads)) in enumerate(contenders.items()):
                bodies = [product_event(f"49{round_no}{name_no}{n:010d}", 1) for n in range(jobs)]
                for body in bodies[:50]:
                    call(body)  # warm-up: connections, caches
                timed = bodies[50:]
                started = time.perf_counter()
                if threads == 1:
                    for body in timed:
                        call(body)
                else:
                    with ThreadPoolExecutor(threads) as pool:
                        list(pool.map(call, timed, chunksize=32))
                rate = len(timed) / (time.perf_counter() - started)
                results[name].append(rate)
                log(f"enqueue round {round_no + 1} {name}: {rate:.0f} events/s")
    finally:
        app.close()
        ENGINES.clear()
        drop_db(database)
    for name, rates in results.items():
        report.add(f"enqueue.{name}", Figure("enqueue", name, max(rates), "events/s", rates))


# ---------------------------------------------------------------- drain


DRAIN_CONTENDERS = {
    # name: (drain_worker mode, processes, concurrency per process)
    "service-1": ("service", 1, 1),
    "service-2": ("service", 2, 1),
    "plain-pg8000-1": ("plain-pg8000", 1, 1),
    "plain-pg8000-2": ("plain-pg8000", 2, 1),
    "procrastinate-1": ("procrastinate", 1, 1),
    "procrastinate-2": ("procrastinate", 2, 1),
    "procrastinate-1x2": ("procrastinate", 1, 2),
    "procrastinate-upsert-1": ("procrastinate-upsert", 1, 1),
    "procrastinate-upsert-2": ("procrastinate-upsert", 2, 1),
    "plain-psycopg-1": ("plain-psycopg", 1, 1),
    "plain-psycopg-2": ("plain-psycopg", 2, 1),
}


# The outbox's cost: the same drain with and without its event writes, and with the relay after it.
OUTBOX_CONTENDERS = {
    "no-outbox": ("service-no-outbox", 1, 1),
    "outbox": ("service", 1, 1),
    "outbox+relay": ("service-relay", 1, 1),
}


def build_drain_template(events: int) -> tuple[str, int]:
    from bench import procrastinate_app
    from common import migrate
    from common.config import Settings
    from common.db.engine import create_engine_for
    from common.db.transactions import write
    from common.sync.entities import BY_ROUTE
    from common.sync.intake import enqueue_event

    database = create_db("drain_template")
    engine = create_engine_for(Settings(database_url=db_url(database), tds_workers=0))
    migrate.upgrade(engine)
    work = drain_workload(events)
    with write(engine) as connection:
        for route, body in work:
            enqueue_event(connection, BY_ROUTE[route], body)
    engine.dispose()
    app = procrastinate_app.make_app(conninfo(database))
    task = procrastinate_app.bind(app, db_url(database))
    sql(database, procrastinate_app.PEER_TABLES)
    # procrastinate's jobs carry what the service's queue stored for each event (its canonical payload).
    stored = sql(
        database, "SELECT entity_type, source_entity_id, operation_type, payload FROM tds_sync_queue ORDER BY id"
    )
    with app.open():
        app.schema_manager.apply_schema()
        for start in range(0, len(stored), 500):
            task.batch_defer(
                *[
                    {
                        "entity_type": entity_type,
                        "operation_type": operation,
                        "payload": payload,
                        "source_entity_id": entity_id,
                    }
                    for entity_type, entity_id, operation, payload in stored[start : start + 500]
                ]
            )
    sql(database, "VACUUM ANALYZE")
    return database.removeprefix(PREFIX), len(work)


def run_drain(template: str, events: int, name: str, contenders: dict = DRAIN_CONTENDERS) -> dict:
    mode, processes, concurrency = contenders[name]
    database = create_db(f"drain_{name.replace('-', '_')}", template=template)
    workers = [
        spawn(
            [
                PYTHON,
                "-m",
                "bench.drain_worker",
                "--mode",
                mode,
                "--database",
                database,
                "--host",
                PG["host"],
                "--port",
                str(PG["port"]),
                "--user",
                PG["user"],
                "--concurrency",
                str(concurrency),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(RESULTS / "drain-workers.log", "ab"),  # noqa: SIM115 - the children's, for their lifetime
            text=True,
        )
        for _ in range(processes)
    ]
    try:
        for worker in workers:
            line = worker.stdout.readline()
            if line.strip() != "READY":
                raise RuntimeError(f"{name}: worker did not get ready ({line!r}); see bench/results/drain-workers.log")
        pg_before = backend_cpu(database)
        for worker in workers:
            worker.stdin.write("GO\n")
            worker.stdin.flush()
        reports = []
        for worker in workers:
            line = ""
            while not line.startswith("RESULT "):
                line = worker.stdout.readline()
                if not line:
                    raise RuntimeError(f"{name}: a worker ended without a result; see bench/results/drain-workers.log")
            reports.append(json.loads(line.removeprefix("RESULT ")))
        pg_cpu = backend_cpu_since(database, pg_before)
        for worker in workers:
            worker.stdin.write("BYE\n")
            worker.stdin.flush()
            worker.wait(60)
    finally:
        for worker in workers:
            stop(worker)
    seconds = max(r["finished"] for r in reports) - min(r["started"] for r in reports)
    if mode.startswith("procrastinate"):
        done = sql(database, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'")[0][0]
    else:
        done = sql(database, "SELECT count(*) FROM tds_sync_queue WHERE status = 'completed'")[0][0]
    records = events // 6
    if mode == "procrastinate-upsert":
        # A plain upsert has no stale check: two processes may leave an older version last.
        newest = sql(database, "SELECT (SELECT count(*) FROM peer_products), (SELECT count(*) FROM peer_customers)")[0]
    else:
        newest = sql(
            database,
            "SELECT (SELECT count(*) FROM products WHERE name LIKE '% v3'), "
            "(SELECT count(*) FROM customers WHERE name LIKE '% v3')",
        )[0]
    outboxed = (
        sql(database, "SELECT count(*), count(published_at) FROM event_outbox")[0]
        if mode.startswith("service")
        else (0, 0)
    )
    drop_db(database)
    if done != events or list(newest) != [records, records]:
        raise RuntimeError(f"{name}: {done}/{events} items done, newest versions {newest}: the work was not done")
    return {
        "items": done,
        "seconds": seconds,
        "items_per_s": done / seconds,
        "processes": processes,
        "concurrency": concurrency,
        "client_cpu_ms_per_item": sum(r["cpu"] for r in reports) * 1000 / done,
        "pg_cpu_ms_per_item": pg_cpu * 1000 / done,
        "wall_ms_per_item": seconds * 1000 / done,
        "events": outboxed[0],
        "published": outboxed[1],
    }


def bench_drain(report: Report, rounds: int, events: int) -> None:
    template, events = build_drain_template(events)
    results: dict[str, list[dict]] = {name: [] for name in DRAIN_CONTENDERS}
    try:
        for round_no in range(rounds):
            for name in DRAIN_CONTENDERS:
                result = run_drain(template, events, name)
                results[name].append(result)
                log(
                    f"drain round {round_no + 1} {name}: {result['items_per_s']:.0f} items/s"
                    f" ({result['seconds']:.2f} s)"
                )
    finally:
        drop_db(PREFIX + template)
    for name, runs in results.items():
        best = best_of(runs, "items_per_s")
        report.add(
            f"drain.{name}",
            Figure("drain", name, best["items_per_s"], "items/s", [r["items_per_s"] for r in runs], best),
        )


def bench_outbox(report: Report, rounds: int, events: int) -> None:
    """The drain with and without the outbox on one template, rounds interleaving the contenders."""
    template, events = build_drain_template(events)
    results: dict[str, list[dict]] = {name: [] for name in OUTBOX_CONTENDERS}
    try:
        for round_no in range(rounds):
            for name in OUTBOX_CONTENDERS:
                result = run_drain(template, events, name, OUTBOX_CONTENDERS)
                results[name].append(result)
                log(
                    f"outbox round {round_no + 1} {name}: {result['items_per_s']:.0f} items/s "
                    f"({result['seconds']:.2f} s, {result['events']} events, {result['published']} published)"
                )
    finally:
        drop_db(PREFIX + template)
    for name, runs in results.items():
        best = best_of(runs, "items_per_s")
        report.add(
            f"outbox.{name}",
            Figure("outbox", name, best["items_per_s"], "items/s", [r["items_per_s"] for r in runs], best),
        )


# ---------------------------------------------------------------- claim latency


def _pending_rows(connection: pg8000.native.Connection, count: int, tag: str) -> None:
    connection.run(
        """INSERT INTO tds_sync_queue (entity_type, source_entity_id, operation_type, status, priority, attempt_count,
                                       idempotency_key, payload, created_at)
           SELECT 'products', 'p' || n, 'update', 'pending', 5, 0, encode(sha256(convert_to(:tag || n, 'UTF8')), 'hex'),
                  jsonb_build_object('item', jsonb_build_object('item_id', 'p' || n)), clock_timestamp()
             FROM generate_series(1, CAST(:count AS integer)) AS n""",
        tag=tag,
        count=count,
    )


def _history_rows(connection: pg8000.native.Connection, count: int) -> None:
    connection.run(
        """INSERT INTO tds_sync_queue (entity_type, source_entity_id, operation_type, status, priority, attempt_count,
                                       idempotency_key, payload, result, processing_ms, created_at, started_at,
                                       completed_at)
           SELECT CASE WHEN n % 2 = 0 THEN 'products' ELSE 'customers' END, 'h' || (n % 50000), 'update',
                  'completed', 5, 1, encode(sha256(convert_to('history' || n, 'UTF8')), 'hex'),
                  jsonb_build_object('item', jsonb_build_object('item_id', 'h' || (n % 50000), 'version', n)),
                  'applied', 4, t, t, t + interval '40 milliseconds'
             FROM generate_series(1, CAST(:count AS integer)) AS n,
                  LATERAL (SELECT now() - interval '6 days'
                                  + n * interval '6 days' / CAST(:count AS integer)) AS s(t)""",
        count=count,
    )


_REDUNDANT_IN = "tds_sync_queue.status IN (%s::VARCHAR, %s::VARCHAR, %s::VARCHAR) AND "


def _plan_without_redundant_in(engine, statement: str, parameters: tuple) -> str:
    """Diagnosis only: the plan of the same claim without the `status IN (open statuses)` conjunct
    that duplicates its OR arms (what the planner does when it estimates the due set right)."""
    start = statement.find(_REDUNDANT_IN)
    if (
        start < 0
        or statement.count("%s", 0, start) != 5
        or tuple(parameters[5:8]) != ("pending", "retry", "processing")
    ):
        return ""
    variant = "EXPLAIN (ANALYZE, BUFFERS) " + statement.replace(_REDUNDANT_IN, "", 1)
    plans = []
    # Twice: the first index scan also visits (and marks dead) the index entries that the
    # benchmark's own claims left behind, which the bitmap plan never cleans up.
    for _ in range(2):
        with engine.connect() as connection:
            plans.append(
                connection.exec_driver_sql(variant, tuple(parameters[:5]) + tuple(parameters[8:])).scalars().all()
            )
            connection.rollback()
    return f"first run: {plans[0][-1]}; second run:\n" + "\n".join(plans[1])


def bench_claim(report: Report, history: int, claims: int, pending: int) -> None:
    from sqlalchemy import event

    from common import migrate
    from common.clock import utcnow
    from common.config import Settings
    from common.db.engine import create_engine_for
    from common.db.transactions import write
    from common.sync import queue

    databases = {"empty": create_db("claim_empty"), "history": create_db("claim_history")}
    engines, admins = {}, {}
    for label, database in databases.items():
        engine = create_engine_for(Settings(database_url=db_url(database), tds_workers=0))
        migrate.upgrade(engine)
        engines[label] = engine
        admins[label] = pg8000.native.Connection(database=database, **PG)
    started = time.perf_counter()
    _history_rows(admins["history"], history)
    log(f"claim: {history:,} completed rows inserted in {time.perf_counter() - started:.1f} s")
    for label in databases:
        _pending_rows(admins[label], pending, "pending")
        admins[label].run("VACUUM ANALYZE tds_sync_queue")
    statements: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("UPDATE tds_sync_queue SET status"):
            statements.append((statement, parameters))

    def one_claim(label: str, serial: int) -> tuple[float, float]:
        engine = engines[label]
        started = time.perf_counter()
        with write(engine) as connection:
            before = time.perf_counter()
            batch = queue.claim(connection, f"bench-claim-{label}", 10, 300, utcnow())
            claimed = time.perf_counter() - before
        transaction = time.perf_counter() - started
        # Untimed: complete what was claimed and queue as many new items, so the pending set
        # keeps its size while the history grows, as it does under a running drain.
        ids = [item.id for item in batch]
        admins[label].run(
            "UPDATE tds_sync_queue SET status = 'completed', completed_at = now(), locked_by = NULL,"
            " lock_expires_at = NULL, result = 'applied' WHERE id = ANY(CAST(:ids AS bigint[]))",
            ids=ids,
        )
        _pending_rows(admins[label], len(ids), f"more{serial}-")
        return claimed, transaction

    timings: dict[str, dict[str, list[float]]] = {label: {"statement": [], "transaction": []} for label in databases}
    try:
        for serial in range(claims + 20):
            for label in databases:  # interleaved, so that a disturbance hits both
                claimed, transaction = one_claim(label, serial)
                if serial >= 20:
                    timings[label]["statement"].append(claimed * 1000)
                    timings[label]["transaction"].append(transaction * 1000)
        event.listen(engines["history"], "before_cursor_execute", capture)
        with engines["history"].connect() as connection:
            queue.claim(connection, "bench-explain", 10, 300, utcnow())
            statement, parameters = statements[-1]
            connection.rollback()
            plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).scalars().all()
            connection.rollback()
        report.plan = "\n".join(plan)
        report.plan_variant = _plan_without_redundant_in(engines["history"], statement, parameters)
        sizes = admins["history"].run(
            "SELECT pg_size_pretty(pg_relation_size('tds_sync_queue')),"
            " pg_size_pretty(pg_relation_size('ix_tds_sync_queue_claim')), (SELECT count(*) FROM tds_sync_queue)",
        )[0]
    finally:
        for label in databases:
            engines[label].dispose()
            admins[label].close()
        for database in databases.values():
            drop_db(database)
    for label, series in timings.items():
        for kind, values in series.items():
            quantiles = statistics.quantiles(values, n=100)
            report.add(
                f"claim.{label}.{kind}",
                Figure(
                    "claim",
                    f"{label} {kind}",
                    quantiles[49],
                    "ms",
                    extra={
                        "p50_ms": quantiles[49],
                        "p99_ms": quantiles[98],
                        "max_ms": max(values),
                        "samples": len(values),
                    },
                ),
            )
    report.figures["claim.history.statement"].extra.update(
        table_size=sizes[0],
        claim_index_size=sizes[1],
        rows=sizes[2],
        uses_claim_index="ix_tds_sync_queue_claim" in report.plan,
    )


# ---------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    return describe_machine(
        ("SQLAlchemy", "pg8000", "pydantic", "granian", "functions-framework", "gunicorn", "procrastinate", "psycopg")
    )


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


def _per_round(numerator: Figure, denominator: Figure, percent: bool = True) -> str:
    """The ratio within each round: contenders of one round ran minutes apart, so their
    ratio is steadier than either figure when the machine is shared."""
    pairs = [_ratio(a, b) for a, b in zip(numerator.rounds, denominator.rounds, strict=True)]
    return "; per round " + " / ".join(f"{r:.0%}" if percent else f"{r:.2f}x" for r in pairs) if pairs else ""


def judge(report: Report) -> None:
    f = report.figures
    if "intake.intake" in f:
        intake, hello = f["intake.intake"], f["intake.granian-hello"]
        ratio = _ratio(intake.value, hello.value)
        report.check(
            "intake >= 50% of hello-world on the same server (granian)",
            f"{ratio:.0%} ({intake.value:.0f} / {hello.value:.0f} req/s{_per_round(intake, hello)})",
            ratio >= 0.5,
        )
        peer = f["intake.fastapi"]
        ratio = _ratio(intake.value, peer.value)
        report.check(
            "intake >= 1.0x the FastAPI + uvicorn + asyncpg receiver (one process each)",
            f"{ratio:.2f}x ({intake.value:.0f} / {peer.value:.0f} req/s{_per_round(intake, peer, percent=False)}; "
            f"CPU {intake.extra['server_cpu_ms_per_request']:.2f} / "
            f"{peer.extra['server_cpu_ms_per_request']:.2f} ms/req)",
            ratio >= 1.0,
        )
        p99 = intake.extra["p99_us"] / 1000
        report.check("intake p99 < 50 ms at 16 clients", f"{p99:.1f} ms", p99 < 50)
        both = f["intake.intake-2w"]
        ratio = _ratio(both.value, peer.value)
        report.check(
            "intake, runner with 2 HTTP processes (both cores) >= 1.0x the FastAPI receiver",
            f"{ratio:.2f}x ({both.value:.0f} / {peer.value:.0f} req/s; p99 {both.extra['p99_us'] / 1000:.1f} ms)",
            ratio >= 1.0,
        )
        bare = f["intake.intake-no-metrics"]
        cost = 1 - _ratio(intake.value, bare.value)
        cpu = intake.extra["server_cpu_ms_per_request"] - bare.extra["server_cpu_ms_per_request"]
        report.check(
            "request metrics cost < 5% of intake throughput",
            f"{cost:.1%} ({intake.value:.0f} with / {bare.value:.0f} without req/s{_per_round(intake, bare)}; "
            f"server CPU {cpu:+.3f} ms/req)",
            cost < 0.05,
        )
        if "enqueue.procrastinate-1" in f:
            peer = max(f["enqueue.procrastinate-1"].value, f[f"enqueue.procrastinate-{CLIENTS}"].value)
            ratio = _ratio(intake.value, peer)
            report.check(
                "intake >= procrastinate in-process enqueue (best of 1 / 16 threads)",
                f"{ratio:.0%} ({intake.value:.0f} / {peer:.0f} per s)",
                ratio >= 1,
            )
    if "outbox.outbox" in f:
        with_outbox, without = f["outbox.outbox"], f["outbox.no-outbox"]
        cost = 1 - _ratio(with_outbox.value, without.value)
        pairs = [1 - _ratio(a, b) for a, b in zip(with_outbox.rounds, without.rounds, strict=True)]
        report.check(
            "the outbox costs the drain < 15% (items/s, with against without event writes)",
            f"{cost:.1%} ({with_outbox.value:.0f} / {without.value:.0f} items/s; per round "
            + " / ".join(f"{p:.1%}" for p in pairs)
            + ")",
            cost < 0.15,
        )
    if "drain.service-1" in f:
        for n in (1, 2):
            service, plain = f[f"drain.service-{n}"].value, f[f"drain.plain-pg8000-{n}"].value
            ratio = _ratio(service, plain)
            per_round = _per_round(f[f"drain.service-{n}"], f[f"drain.plain-pg8000-{n}"])
            report.check(
                f"drain, {n} worker(s): >= 80% of the plain SQL loop sending the service's statements (pg8000)",
                f"{ratio:.0%} ({service:.0f} / {plain:.0f} items/s{per_round})",
                ratio >= 0.8,
            )
            upsert = f[f"drain.procrastinate-upsert-{n}"]
            ratio = _ratio(service, upsert.value)
            per_round = _per_round(f[f"drain.service-{n}"], upsert, percent=False)
            report.check(
                f"drain, {n} worker(s): >= 1.2x procrastinate applying a plain upsert (psycopg)",
                f"{ratio:.2f}x ({service:.0f} / {upsert.value:.0f} items/s{per_round})",
                ratio >= 1.2,
            )
            peers = [f[f"drain.procrastinate-{n}"]] + ([f["drain.procrastinate-1x2"]] if n == 2 else [])
            peer = max(peers, key=lambda figure: figure.value)
            ratio = _ratio(service, peer.value)
            per_round = _per_round(f[f"drain.service-{n}"], peer, percent=False)
            report.check(
                f"drain, {n} worker(s): faster than procrastinate" + (" (best of 2 processes / 1x2)" if n == 2 else ""),
                f"{ratio:.2f}x ({service:.0f} / {peer.value:.0f} items/s{per_round})",
                ratio > 1,
            )


def render(report: Report, info: dict[str, Any], command: str) -> str:
    f = report.figures
    lines = [
        f"Zoho sync benchmark — {info['date']}, {info['nproc']} cores ({info['cpu']}), "
        f"PostgreSQL {info['postgresql']}, Python {info['python']}, load at start {info['loadavg_at_start'][0]:.2f}",
        f"command: {command}",
        "",
    ]
    if any(key.startswith("intake.") for key in f):
        lines += [
            "### Webhook intake (wrk, 16 connections, 2 threads; POST of a new product event per request)",
            "",
            "| contender | req/s (best round) | rounds | p50 ms | p99 ms | server CPU ms/req "
            "| PostgreSQL CPU ms/req | errors |",
            "|---|---:|---|---:|---:|---:|---:|---:|",
        ]
        for key, label in (
            ("intake.ff-hello", "hello-world, functions-framework CLI (gunicorn gthread, 8 threads)"),
            ("intake.granian-hello", "hello-world on the runner's server (granian, 8 threads)"),
            ("intake.fastapi", "peer: FastAPI + uvicorn[standard] + asyncpg receiver, 1 process"),
            ("intake.intake-no-metrics", "webhook intake with REQUEST_METRICS=false (baseline of the metrics' cost)"),
            ("intake.intake", "**webhook intake**, local runner on PostgreSQL (granian, 1 process, 8 threads)"),
            ("intake.intake-2w", "webhook intake, local runner with `--workers 2`"),
        ):
            x = f[key]
            pg = x.extra.get("pg_cpu_ms_per_request")
            lines.append(
                f"| {label} | {x.value:,.0f} | {' / '.join(f'{r:,.0f}' for r in x.rounds)} |"
                f" {x.extra['p50_us'] / 1000:.1f} |"
                f" {x.extra['p99_us'] / 1000:.1f} | {x.extra['server_cpu_ms_per_request']:.2f} |"
                f" {'–' if pg is None else f'{pg:.2f}'} | {x.extra['errors_total']} |"
            )
        stored = f["intake.intake"].extra
        lines += [
            "",
            f"Intake rows stored in the best round: {stored.get('rows_stored')} (warm-up + measured, "
            f"{stored.get('rows_duplicate')} duplicates).",
            "",
        ]
    if any(key.startswith("enqueue.") for key in f):
        lines += [
            "### In-process enqueue (no HTTP)",
            "",
            "| contender | events/s (best round) | rounds |",
            "|---|---:|---|",
        ]
        for key, label in (
            ("enqueue.procrastinate-1", "procrastinate `defer()`, 1 thread"),
            (f"enqueue.procrastinate-{CLIENTS}", f"procrastinate `defer()`, {CLIENTS} threads"),
            ("enqueue.service-1", "the service's `accept_webhook()`, 1 thread (information)"),
            (f"enqueue.service-{CLIENTS}", f"the service's `accept_webhook()`, {CLIENTS} threads (information)"),
        ):
            x = f[key]
            lines.append(f"| {label} | {x.value:,.0f} | {' / '.join(f'{r:,.0f}' for r in x.rounds)} |")
        lines.append("")
    if any(key.startswith("drain.") for key in f):
        lines += [
            "### Drain (items/s, wall clock from GO to the last worker's end)",
            "",
            "| contender | 1 worker | 2 workers | 2 vs 1 |",
            "|---|---:|---:|---:|",
        ]
        for label, one, two in (
            ("**the service** (`drain()`, SQLAlchemy + pg8000)", "service-1", "service-2"),
            ("plain SQL loop, pg8000 cursor", "plain-pg8000-1", "plain-pg8000-2"),
            ("procrastinate worker, same handler (1 process / 2 processes)", "procrastinate-1", "procrastinate-2"),
            (
                "procrastinate worker, plain upsert through psycopg (1 / 2 processes)",
                "procrastinate-upsert-1",
                "procrastinate-upsert-2",
            ),
            ("plain SQL loop, psycopg 3 (information: the driver's share)", "plain-psycopg-1", "plain-psycopg-2"),
        ):
            a, b = f[f"drain.{one}"], f[f"drain.{two}"]
            lines.append(
                f"| {label} | {a.value:,.0f} ({' / '.join(f'{r:,.0f}' for r in a.rounds)}) |"
                f" {b.value:,.0f} ({' / '.join(f'{r:,.0f}' for r in b.rounds)}) | {b.value / a.value:.2f}x |"
            )
        x = f["drain.procrastinate-1x2"]
        lines += [
            f"| procrastinate, 1 process with concurrency=2 | | {x.value:,.0f} "
            f"({' / '.join(f'{r:,.0f}' for r in x.rounds)}) | |",
            "",
            "Where the time goes, per item (best round): wall time, CPU of the drain process(es), CPU of "
            "their PostgreSQL backends.",
            "",
            "| contender | wall ms | drain CPU ms | PostgreSQL CPU ms |",
            "|---|---:|---:|---:|",
        ]
        for name in DRAIN_CONTENDERS:
            e = f[f"drain.{name}"].extra
            lines.append(
                f"| {name} | {e['wall_ms_per_item']:.2f} | {e['client_cpu_ms_per_item']:.2f} |"
                f" {e['pg_cpu_ms_per_item']:.2f} |"
            )
        lines.append("")
    if any(key.startswith("outbox.") for key in f):
        lines += [
            "### The outbox's cost to the drain (1 worker, same template, rounds interleaved)",
            "",
            "| contender | items/s (best round) | rounds | wall ms/item | drain CPU ms/item "
            "| PostgreSQL CPU ms/item | events written | published |",
            "|---|---:|---|---:|---:|---:|---:|---:|",
        ]
        for key, label in (
            ("outbox.no-outbox", "drain, event writes switched off (baseline)"),
            ("outbox.outbox", "**drain with the outbox** (as deployed)"),
            ("outbox.outbox+relay", "drain, then the relay (local subscribers, no bus)"),
        ):
            x = f[key]
            e = x.extra
            lines.append(
                f"| {label} | {x.value:,.0f} | {' / '.join(f'{r:,.0f}' for r in x.rounds)} |"
                f" {e['wall_ms_per_item']:.2f} | {e['client_cpu_ms_per_item']:.2f} | {e['pg_cpu_ms_per_item']:.2f} |"
                f" {e['events']} | {e['published']} |"
            )
        lines.append("")
    if any(key.startswith("claim.") for key in f):
        h = f["claim.history.statement"].extra
        lines += [
            f"### Claim latency (batch of 10, {h['samples']} claims each, interleaved)",
            "",
            "| history | claim() p50 ms | claim() p99 ms | whole transaction p50 ms | p99 ms |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, title in (
            ("empty", "no completed rows"),
            ("history", f"{h['rows']:,} rows, table {h['table_size']}, claim index {h['claim_index_size']}"),
        ):
            s, t = f[f"claim.{label}.statement"].extra, f[f"claim.{label}.transaction"].extra
            lines.append(f"| {title} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {t['p50_ms']:.2f} | {t['p99_ms']:.2f} |")
        lines += [
            "",
            f"The claim's plan uses ix_tds_sync_queue_claim: {'yes' if h['uses_claim_index'] else 'NO'}",
            "",
            "```",
            report.plan,
            "```",
            "",
        ]
        if report.plan_variant:
            lines += [
                "Diagnosis: the same claim without its redundant `status IN (...)` conjunct:",
                "",
                "```",
                report.plan_variant,
                "```",
                "",
            ]
    if report.verdicts:
        lines += ["### Targets", "", "| target | measured | result |", "|---|---|---|"]
        for verdict in report.verdicts:
            lines.append(f"| {verdict.target} | {verdict.measured} | {'PASS' if verdict.passed else '**FAIL**'} |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="intake,enqueue,drain,outbox,claim", help="comma-separated sections")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of measured load per intake contender")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--jobs", type=int, default=1000, help="events per in-process enqueue contender")
    parser.add_argument("--events", type=int, default=1200, help="queued events per drain run")
    parser.add_argument("--history", type=int, default=1_000_000, help="completed rows for the claim benchmark")
    parser.add_argument("--claims", type=int, default=300)
    parser.add_argument("--pending", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check that everything runs")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration, args.warmup, args.jobs = 1, 3, 1, 300
        args.events, args.history, args.claims, args.pending = 600, 20_000, 40, 500
    sections = set(args.only.split(","))
    RESULTS.mkdir(exist_ok=True)
    info = machine()
    report = Report()
    started = time.monotonic()
    log(f"machine: {info['nproc']} cores, PostgreSQL {info['postgresql']}, load {info['loadavg_at_start']}")
    runs = {
        "intake": lambda: bench_intake(report, args.rounds, args.duration, args.warmup),
        "enqueue": lambda: bench_enqueue(report, args.rounds, args.jobs),
        "drain": lambda: bench_drain(report, args.rounds, args.events),
        "outbox": lambda: bench_outbox(report, args.rounds, args.events),
        "claim": lambda: bench_claim(report, args.history, args.claims, args.pending),
    }
    for section, run in runs.items():
        if section not in sections:
            continue
        try:
            run()
        except Exception as exc:  # noqa: BLE001 - one broken section must not hide the others' figures
            traceback.print_exc()
            report.notes.append(f"the {section} section FAILED: {type(exc).__name__}: {exc}")
            for key in [key for key in report.figures if key.startswith(section + ".")]:
                del report.figures[key]
    judge(report)
    command = "bench/run.sh sync" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    text = render(report, info, command)
    text += f"\nTotal benchmark time: {time.monotonic() - started:.0f} s; load at end {os.getloadavg()[0]:.2f}.\n"
    payload = {
        "machine": info,
        "args": vars(args),
        "figures": {k: vars(v) for k, v in report.figures.items()},
        "verdicts": [vars(v) for v in report.verdicts],
        "plan": report.plan,
        "plan_variant": report.plan_variant,
    }
    publish("sync", text, payload, report.verdicts, report.notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
