"""Where a screen's time goes, in process and without HTTP; run by bench/mobile_bench.py in a process of its own.

    DATABASE_URL=... python -m bench.mobile_probe SPEC.json

SPEC names the calls to time: each is a service call of common.shop (the one a screen's
function makes) made `repeat` times after one warm-up call. For each: the median time of
the call, the median time spent executing its SQL statements (the driver's execute,
which with pg8000 includes fetching the rows) and their number, captured with
SQLAlchemy's cursor-execute events. Then `EXPLAIN (ANALYZE, BUFFERS)` of every statement
of each call named in SPEC["explain"] and of the slowest search. Prints one JSON document.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import event

from common.db.engine import get_engine
from common.shop.catalog import home_screen, product_detail
from common.shop.checkout import checkout
from common.shop.schemas import CustomerProfile, SearchQuery
from common.shop.search import search


class StatementLog:
    """The statements an engine executes while `recording`, with the time each took."""

    def __init__(self, engine) -> None:
        self.recording = False
        self.statements: list[tuple[str, tuple, float]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, connection, cursor, statement, parameters, context, executemany) -> None:
        connection.info["bench_started"] = time.perf_counter()

    def _after(self, connection, cursor, statement, parameters, context, executemany) -> None:
        started = connection.info.pop("bench_started")
        if self.recording:
            self.statements.append((statement, tuple(parameters or ()), time.perf_counter() - started))


def _call(spec: dict):
    kind, args = spec["kind"], spec.get("args", {})
    if kind == "home":
        customer_id = args.get("customer_id")
        customer = CustomerProfile(id=customer_id, name="bench", avatar=None, phone=None) if customer_id else None
        return lambda: home_screen(customer)
    if kind == "product":
        return lambda: product_detail(args["product_id"])
    if kind == "checkout":
        return lambda: checkout(args["customer_id"])
    if kind == "search":
        query = SearchQuery(**args)
        return lambda: search(query)
    raise ValueError(f"unknown call kind {kind!r}")


def time_call(statements: StatementLog, spec: dict, repeat: int) -> dict:
    call = _call(spec)
    result = call()  # warm-up: connection, compiled-statement cache
    totals, sql_times, counts = [], [], []
    for _ in range(repeat):
        statements.statements = []
        statements.recording = True
        started = time.perf_counter()
        result = call()
        totals.append(time.perf_counter() - started)
        statements.recording = False
        sql_times.append(sum(seconds for _, _, seconds in statements.statements))
        counts.append(len(statements.statements))
    timed = {
        "name": spec["name"],
        "kind": spec["kind"],
        "median_ms": statistics.median(totals) * 1000,
        "max_ms": max(totals) * 1000,
        "sql_median_ms": statistics.median(sql_times) * 1000,
        "statements": counts[-1],
        "per_statement_ms": [round(seconds * 1000, 2) for _, _, seconds in statements.statements],
        "last_statements": [(statement, list(parameters)) for statement, parameters, _ in statements.statements],
    }
    if spec["kind"] == "search":
        timed["total_count"] = result.total_count
    return timed


def explain(engine, statements: list[tuple[str, list]]) -> list[dict]:
    plans = []
    for statement, parameters in statements:
        with engine.connect() as connection:
            lines = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, tuple(parameters))
            plans.append({"statement": statement, "parameters": parameters, "plan": lines.scalars().all()})
            connection.rollback()
    return plans


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    engine = get_engine()
    statements = StatementLog(engine)
    timed = [time_call(statements, call, spec["repeat"]) for call in spec["calls"]]
    by_name = {entry["name"]: entry for entry in timed}
    searches = [entry for entry in timed if entry["kind"] == "search"]
    slowest = max(searches, key=lambda entry: entry["median_ms"])
    explained = {name: explain(engine, by_name[name]["last_statements"]) for name in spec["explain"]}
    explained[slowest["name"]] = explain(engine, slowest["last_statements"])
    print(json.dumps({"calls": timed, "slowest_search": slowest["name"], "explain": explained}, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
