"""Cold start of each function: what a new serverless instance pays before its first answer.

    bench/run.sh cold [--repeat N]

Each sample is a new Python process that imports one function module, as functions-framework
or the Lambda host does, answers one request (which creates the engine and opens the first
database connection) and then a second one (warm). The hello-world function (bench/hello.py)
is measured the same way in the same run: the floor of a Python function on this machine.
The database is a scratch PostgreSQL database with the demo data set. Target: each function's
whole new process up to its first answer (median; interpreter start, import, first request)
within COLD_START_TARGET_MS, the ~0.4 s measured on 2026-11-29, the bare handler beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from typing import NamedTuple

from bench.harness import PYTHON, ROOT, ScratchDatabases, Verdict, code_state, db_url, log, machine, publish

COLD_START_TARGET_MS = 400


class Case(NamedTuple):
    label: str
    module: str
    entry: str
    path: str
    method: str = "GET"
    query: str | None = None
    body: dict | None = None
    signed_in: bool = False


CASES = [
    Case("hello-world (baseline)", "bench.hello", "hello", "/"),
    Case("health", "functions.health", "health", "/health"),
    Case(
        "Zoho webhook (products)",
        "functions.zoho_webhook",
        "zoho_webhook",
        "/api/zoho/webhooks/products",
        "POST",
        body={"item": {"item_id": "COLD-1", "name": "USB-C cable 1m", "rate": 5000, "status": "active"}},
    ),
    Case("mobile home", "functions.mobile_home", "mobile_home", "/api/mobile/home"),
    Case("mobile product", "functions.mobile_product", "mobile_product", "/api/mobile/products/1"),
    Case("mobile search", "functions.mobile_search", "mobile_search", "/api/mobile/search", query="q=samsung"),
    Case("mobile checkout", "functions.mobile_checkout", "mobile_checkout", "/api/mobile/checkout", signed_in=True),
]

# Runs in the new process: time the import, the first request and a second one.
_CHILD = """
import importlib, json, os, sys, time
started = time.perf_counter()
module, entry, method, path, query, body, token = json.loads(sys.argv[1])
function = getattr(importlib.import_module(module), entry)
imported = time.perf_counter()
from werkzeug.test import EnvironBuilder
def call():
    headers = {"Authorization": "Bearer " + token} if token else {}
    request = EnvironBuilder(path=path, method=method, query_string=query, json=body, headers=headers).get_request()
    answer = function(request)
    return getattr(answer, "status_code", 200)
before = time.perf_counter(); first_status = call(); first = time.perf_counter()
second_status = call(); second = time.perf_counter()
print(json.dumps({"import_ms": (imported - started) * 1000, "first_ms": (first - before) * 1000,
                  "warm_ms": (second - first) * 1000, "status": [first_status, second_status]}))
"""


def prepare(database: str, secret: str) -> str:
    """Schema and demo data in the scratch database; a token for the demo customer."""
    from common.config import get_settings
    from common.db.engine import ENGINES, get_engine
    from common.migrate import upgrade
    from common.shop.auth import issue_token
    from demo_data.generator import DEMO_CUSTOMER_ID, DEMO_SIZE, generate

    os.environ.update(DATABASE_URL=db_url(database), MOBILE_TOKEN_SECRET=secret)
    get_settings.cache_clear()
    ENGINES.clear()
    upgrade(get_engine())
    generate(get_engine(), DEMO_SIZE)
    ENGINES.clear()
    return issue_token(DEMO_CUSTOMER_ID, get_settings())


def sample(case: Case, token: str, env: dict[str, str]) -> dict[str, float]:
    argument = json.dumps(
        [case.module, case.entry, case.method, case.path, case.query, case.body, token if case.signed_in else None]
    )
    started = time.perf_counter()
    done = subprocess.run([PYTHON, "-c", _CHILD, argument], cwd=ROOT, env=env, capture_output=True, text=True)
    wall_ms = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{case.module} failed:\n{done.stderr[-2000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    if any(status >= 400 for status in figures["status"]):
        raise RuntimeError(f"{case.module} answered {figures['status']}:\n{done.stderr[-2000:]}")
    return {"process_ms": wall_ms, **{key: figures[key] for key in ("import_ms", "first_ms", "warm_ms")}}


def timing_rows(samples: dict[str, list[dict[str, float]]], floor: str) -> list[str]:
    """One table row per case: medians of the new processes (the worst whole process in brackets),
    and the whole process as a multiple of the `floor` case's."""

    def median(label: str, key: str) -> float:
        return statistics.median(s[key] for s in samples[label])

    rows = []
    for label in samples:
        worst = max(s["process_ms"] for s in samples[label])
        ratio = "" if label == floor else f"{median(label, 'process_ms') / median(floor, 'process_ms'):.1f}x"
        rows.append(
            f"| {label} | {median(label, 'process_ms'):.0f} ({worst:.0f}) | {ratio} | {median(label, 'import_ms'):.0f} "
            f"| {median(label, 'first_ms'):.1f} | {median(label, 'warm_ms'):.1f} |"
        )
    return rows


def cold_start_verdicts(samples: dict[str, list[dict[str, float]]], floor: str) -> list[Verdict]:
    """Each function's new process to its first answer (median) against the target, the bare handler beside it."""

    def cold_ms(label: str) -> float:
        return statistics.median(s["process_ms"] - s["warm_ms"] for s in samples[label])

    return [
        Verdict(
            f"{label}: new process to first answer <= {COLD_START_TARGET_MS} ms",
            f"{cold_ms(label):.0f} ms (bare handler {cold_ms(floor):.0f} ms)",
            cold_ms(label) <= COLD_START_TARGET_MS,
        )
        for label in samples
        if label != floor
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="new processes per function (default 7)")
    args = parser.parse_args(argv)

    info = {**machine(("SQLAlchemy", "pg8000", "pydantic", "werkzeug")), "code": code_state()}
    database = ScratchDatabases("tsh_cold_bench_").create("run")
    secret = secrets.token_urlsafe(32)
    log("building the demo data set")
    token = prepare(database, secret)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": db_url(database), "MOBILE_TOKEN_SECRET": secret}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a deployed function starts from compiled byte code
    for case in CASES:  # once each, untimed: byte-code caches written, files in the page cache
        sample(case, token, env)

    samples: dict[str, list[dict[str, float]]] = {case.label: [] for case in CASES}
    for round_no in range(args.repeat):  # interleaved, so a disturbance hits every function alike
        log(f"round {round_no + 1} of {args.repeat}")
        for case in CASES:
            samples[case.label].append(sample(case, token, env))

    floor = CASES[0].label
    lines = [
        f"Cold start — {info['date']}, {info['nproc']} cores ({info['cpu']}), PostgreSQL {info['postgresql']}, "
        f"Python {info['python']}, load at start {info['loadavg_at_start'][0]:.2f}",
        f"command: bench/run.sh cold --repeat {args.repeat}; code: {info['code']}",
        "",
        f"Median of {args.repeat} new processes each (max in brackets).",
        "",
        "| function | whole process ms | vs hello-world | import ms | first request ms | warm request ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += timing_rows(samples, floor)
    verdicts = cold_start_verdicts(samples, floor)
    lines += ["", "| target | measured | result |", "|---|---|---|"]
    lines += [f"| {v.target} | {v.measured} | {'PASS' if v.passed else '**FAIL**'} |" for v in verdicts]
    text = "\n".join(lines) + "\n"
    publish("cold", text, {"machine": info, "samples": samples}, verdicts, [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
