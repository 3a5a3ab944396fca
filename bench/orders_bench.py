"""Placing orders: p50 and p99 of POST /api/mobile/orders beside the checkout screen, at 1 and 8 clients.

    PYTHONPATH=. .venv/bin/python -m bench.orders_bench [--size bench] [--duration 20] [--workers 2] [--keep-data]

On a scratch PostgreSQL database holding the benchmark catalogue (demo_data.generator; `bench`
is 100,000 products), the local runner (`--workers` processes, 8 threads each, TDS_WORKERS=0)
serves the shop. Each client is a thread with its own customer and keep-alive connection,
repeating one purchase: add a product to the cart (untimed), read checkout (timed), place the
order with a new Idempotency-Key and the checkout's token (timed), and one order in ten sends
the same request again, as a double tap would (timed apart; it must answer 200 with the same
order). One product in five is taken from five scarce products holding 3 units each, so
that clients race for the last units and some orders are refused (409 out_of_stock).

After each block the database is checked: no product has more units held than its stock (no
oversell), and every key made exactly one order (no duplicate). Latencies are measured by the
client, on the same machine; the report goes to stdout and bench/results/orders-<time>.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import secrets
import statistics
import subprocess
import threading
import time
import uuid
from pathlib import Path

from bench.harness import PYTHON, RESULTS, db_url, free_port, log, machine, spawn, sql, stop, wait_http
from bench.mobile_bench import prepare_data

SCARCE_PRODUCTS, SCARCE_STOCK = 5, 3
REPEAT_SHARE, SCARCE_SHARE = 0.1, 0.2
SERVER_THREADS = 8
ORDER_P99_GOAL_MS = 100.0


class Client:
    """One customer on one keep-alive connection."""

    def __init__(self, port: int, customer: int, address: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.customer, self.address = customer, address
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        started = time.perf_counter()
        self.connection.request(
            method, path, json.dumps(body) if body is not None else None, {**self.headers, **(headers or {})}
        )
        answer = self.connection.getresponse()
        payload = answer.read()
        return answer.status, json.loads(payload) if payload else None, (time.perf_counter() - started) * 1000


def _clients(database: str, secret: str, port: int, count: int, offset: int) -> list[Client]:
    from common.config import Settings
    from common.shop.auth import issue_token

    settings = Settings(database_url=db_url(database), mobile_token_secret=secret)
    rows = sql(
        database,
        "SELECT DISTINCT ON (customer_id) customer_id, id FROM customer_addresses "
        "WHERE customer_id > :offset ORDER BY customer_id, id LIMIT :count",
        offset=offset,
        count=count,
    )
    return [Client(port, customer, address, issue_token(customer, settings, 3600)) for customer, address in rows]


def _run_block(clients: list[Client], seconds: float, plenty: list[int], scarce: list[int]) -> dict:
    """Every client buys in a loop for `seconds`; returns the timings and outcomes."""
    timings: dict[str, list[float]] = {"checkout": [], "order": [], "order_repeat": []}
    outcomes: dict[str, int] = {}
    placed: list[tuple[int, str, int]] = []  # (customer, key, order id) of each 201
    problems: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def shop(client: Client, rng: random.Random) -> None:
        while time.monotonic() < stop_at:
            product = rng.choice(scarce if rng.random() < SCARCE_SHARE else plenty)
            client.call("POST", "/api/mobile/cart/items", {"product_id": product, "quantity": 1})
            status, checkout, checkout_ms = client.call("GET", "/api/mobile/checkout")
            body = {
                "address_id": client.address,
                "delivery_option": "standard",
                "payment_method": "cash_on_delivery",
                "checkout_token": checkout["checkout_token"],
            }
            key = {"Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
            status, order, order_ms = client.call("POST", "/api/mobile/orders", body, key)
            repeat = None
            if status == 201 and rng.random() < REPEAT_SHARE:
                repeat = client.call("POST", "/api/mobile/orders", body, key)
            if status != 201:  # a refused order leaves the cart as it was: empty it for the next round
                for line in checkout["cart"]["items"]:
                    client.call("DELETE", f"/api/mobile/cart/items/{line['product_id']}")
            with lock:
                timings["checkout"].append(checkout_ms)
                timings["order"].append(order_ms)
                label = str(status) if status != 409 else f"409 {order['code']}"
                outcomes[label] = outcomes.get(label, 0) + 1
                if status == 201:
                    placed.append((client.customer, key["Idempotency-Key"], order["id"]))
                if repeat is not None:
                    timings["order_repeat"].append(repeat[2])
                    if repeat[0] != 200 or repeat[1]["id"] != order["id"]:
                        problems.append(f"a repeated key answered {repeat[0]} {repeat[1]}")

    threads = [threading.Thread(target=shop, args=(c, random.Random(n))) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"timings": timings, "outcomes": outcomes, "placed": placed, "problems": problems}


def _invariants(database: str, placed: list[tuple[int, str, int]], last_before: int) -> dict:
    """No product holds more units than its stock; the orders made since `last_before` (the
    highest order id before the block) are exactly those answered 201, one per key."""
    oversold = sql(
        database,
        "SELECT p.id, p.stock_quantity, SUM(r.quantity) FROM stock_reservations r "
        "JOIN products p ON p.id = r.product_id WHERE r.released_at IS NULL "
        "GROUP BY p.id, p.stock_quantity HAVING SUM(r.quantity) > p.stock_quantity",
    )
    made = sql(database, "SELECT count(*) FROM orders WHERE id > :last", last=last_before)[0][0]
    keyed = sql(
        database,
        "SELECT count(*), count(DISTINCT order_id) FROM order_idempotency_keys WHERE order_id > :last",
        last=last_before,
    )[0]
    answered = len({order_id for _, _, order_id in placed})
    return {
        "oversold_products": len(oversold),
        "orders_made": made,
        "answered_201": answered,
        "keys_with_orders": keyed[0],
        "orders_of_those_keys": keyed[1],
        "duplicates": made - answered + keyed[0] - keyed[1],
    }


def _percentile(values: list[float], share: float) -> float | None:
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=1000, method="inclusive")[int(share * 1000) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.orders_bench")
    parser.add_argument("--size", default="bench", help="demo_data.generator size: bench (100,000 products) or a count")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per block")
    parser.add_argument("--workers", type=int, default=2, help="runner processes")
    parser.add_argument("--keep-data", action="store_true", help="build the data set once and reuse it (as mobile)")
    args = parser.parse_args()

    database, data_info = prepare_data(args.size, keep=args.keep_data)
    products_count = sql(database, "SELECT count(*) FROM products")[0][0]
    plenty = [
        row[0]
        for row in sql(
            database,
            "SELECT id FROM products WHERE is_active AND stock_quantity > 100 "
            "AND zoho_item_id IS NOT NULL ORDER BY id LIMIT 2000",
        )
    ]
    scarce = plenty[:SCARCE_PRODUCTS]
    plenty = plenty[SCARCE_PRODUCTS:]
    sql(database, f"UPDATE products SET stock_quantity = {SCARCE_STOCK} WHERE id = ANY(:ids)", ids=scarce)
    sql(database, "UPDATE carts SET status = 'abandoned' WHERE status = 'active'")
    secret = secrets.token_urlsafe(48)
    port = free_port()
    runner = spawn(
        [
            PYTHON,
            "local_runner.py",
            "--port",
            str(port),
            "--threads",
            str(SERVER_THREADS),
            "--workers",
            str(args.workers),
        ],
        env={"DATABASE_URL": db_url(database), "TDS_WORKERS": "0", "MOBILE_TOKEN_SECRET": secret},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results = {}
    try:
        wait_http(f"http://127.0.0.1:{port}/health", runner, seconds=120)
        offset = 1
        for count in (1, 8):
            clients = _clients(database, secret, port, count, offset)
            offset = max(client.customer for client in clients)
            _run_block(clients, 3.0, plenty, scarce)  # warm-up
            last_before = sql(database, "SELECT COALESCE(MAX(id), 0) FROM orders")[0][0]
            block = _run_block(clients, args.duration, plenty, scarce)
            results[count] = {"block": block, "invariants": _invariants(database, block["placed"], last_before)}
            log(f"{count} client(s): {block['outcomes']}, {results[count]['invariants']}")
    finally:
        stop(runner)
    report = _report(args, products_count, data_info, results)
    print(report)
    RESULTS.mkdir(exist_ok=True)
    Path(RESULTS / f"orders-{time.strftime('%Y%m%d-%H%M%S')}.md").write_text(report)
    return 0


def _report(args, products_count: int, data_info: dict, results: dict) -> str:
    lines = [
        (
            f"Orders benchmark: {products_count:,} products, {args.workers} runner process(es) x {SERVER_THREADS} "
            f"threads, {args.duration:.0f} s per block; data built in {data_info.get('built_seconds', 0):.0f} s"
        ),
        "",
        "| clients | request | count | p50 ms | p99 ms | per second |",
        "|---|---|---|---|---|---|",
    ]
    for count, result in results.items():
        for name, values in result["block"]["timings"].items():
            if not values:
                continue
            p50, p99 = _percentile(values, 0.5), _percentile(values, 0.99)
            lines.append(
                f"| {count} | {name} | {len(values)} | {p50:.1f} | {p99:.1f} | {len(values) / args.duration:.1f} |"
            )
    lines.append("")
    for count, result in results.items():
        lines.append(
            f"- {count} client(s): outcomes {result['block']['outcomes']}; invariants "
            f"{result['invariants']}; problems {result['block']['problems'] or 'none'}"
        )
    busy = results.get(8)
    if busy:
        p99 = _percentile(busy["block"]["timings"]["order"], 0.99)
        verdict = "PASS" if p99 is not None and p99 < ORDER_P99_GOAL_MS else "FAIL"
        lines.append(f"- goal: order p99 < {ORDER_P99_GOAL_MS:.0f} ms at 8 clients: {verdict} ({p99:.1f} ms)")
    lines.append(f"- machine: {json.dumps(machine())}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
