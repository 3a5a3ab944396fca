"""Mobile screens benchmark: p50 and p99 of each shop screen through the local runner, beside a hello-world.

    bench/run.sh mobile              (or: python -m bench.mobile_bench [--keep-data] [--quick])

On a scratch PostgreSQL database holding the benchmark catalogue (demo_data.generator
BENCH_SIZE: 100,000 products, 500,000 reviews, 10,000 customers; built, then VACUUM
ANALYZEd), the local runner (`local_runner.py`, granian, 8 threads, TDS_WORKERS=0) serves
every screen, and bench/servers.py serves a hello-world on the same server stack.
wrk replays a plan of requests per screen (bench/mobile.lua) with 1 and then 8 clients, a
warm-up and then a measured period each, the hello-world first and last in each block (the
two tell whether the machine was disturbed meanwhile). Beside wrk's figures: CPU per request
of the server and of its PostgreSQL backends, the CPU others used meanwhile, and the
runner's own time per operation from its request log. Then a separate process
(bench/mobile_probe.py) times the service calls without HTTP and prints EXPLAIN (ANALYZE,
BUFFERS) of home's statements and of the slowest search. Results: a report on stdout and
under bench/results/mobile-<time>.md and .json; scratch databases tsh_mobile_bench_* are
dropped at the end (the cached data set is kept with --keep-data).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import secrets
import statistics
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.harness import (
    BENCH,
    PYTHON,
    RESULTS,
    ROOT,
    BackendCpu,
    ScratchDatabases,
    Verdict,
    code_state,
    cpu_seconds,
    db_url,
    free_port,
    log,
    machine,
    publish,
    run_wrk,
    spawn,
    spawn_hello,
    sql,
    stop,
    wait_http,
)

PREFIX = "tsh_mobile_bench_"
SERVER_THREADS = 8
CONCURRENCY = (1, 8)
SCREEN_P99_MS, SEARCH_P99_MS = 50.0, 80.0
# At 8 clients on both cores (2 runner processes): the bars of the 2026-12-01 round.
BUSY_CLIENTS, BUSY_WORKERS = 8, 2
BUSY_SCREEN_P99_MS, BUSY_SEARCH_P99_MS = 50.0, 100.0
BUSY_SCREENS = ("home_anon", "home_signed", "product", "checkout", "search")
QUICK_PRODUCTS = 5_000
DISTURBED_PERCENT = 50  # others' CPU, in percent of one core, above which a row is marked
CART_PRODUCTS = 12  # per client: add, change and remove each in turn
LOG_DELAY = 0.3  # s: for the runner to log the answers of a run that just ended
scratch = ScratchDatabases(PREFIX)


@dataclass(frozen=True)
class Screen:
    key: str
    label: str
    p99_ms: float | None = None  # the bar for p99 at one client
    judged: bool = True  # False: a slice of a screen's mix, shown against the bar for information


SCREENS = (
    Screen("hello", "hello-world (same server stack)"),
    Screen("home_anon", "home, anonymous", SCREEN_P99_MS),
    Screen("home_signed", "home, signed in", SCREEN_P99_MS),
    Screen("product", "product detail (random ids, 1 in 10 a best seller)", SCREEN_P99_MS),
    Screen("product_top", "product detail, best sellers only (thousands of reviews)", SCREEN_P99_MS, judged=False),
    Screen("search", "search, the mix (broad queries included)", SEARCH_P99_MS),
    Screen("search_narrow", "search, the mix without its broad queries", SEARCH_P99_MS, judged=False),
    Screen("search_broad", "search, broad queries only", SEARCH_P99_MS, judged=False),
    Screen("checkout", "checkout, signed in", SCREEN_P99_MS),
    Screen("cart", "cart add / change / remove cycle, signed in", SCREEN_P99_MS),
)
BY_KEY = {screen.key: screen for screen in SCREENS}
# The hello-world opens and closes each block: a disturbance in between shows as a difference.
ORDER = ("hello", *(screen.key for screen in SCREENS[1:]), "hello_end")

# The search mix: (what it stands for, query parameters, broad). Category ids are looked up by
# name ({"category": ...}). Each line is one request of the rotation.
SEARCHES: tuple[tuple[str, dict[str, Any], bool], ...] = (
    ("English brand and line", {"q": "samsung galaxy"}, False),
    ("Arabic brand", {"q": "سامسونج"}, False),
    ("Arabic product word and number", {"q": "ايفون 15"}, False),
    ("English product name", {"q": "iphone 15 pro max"}, False),
    ("model number", {"q": "WH-1000XM5"}, False),
    ("short model number", {"q": "A55"}, False),
    ("spelling variant (شاشه for شاشة)", {"q": "شاشه سامسونج"}, False),
    ("one-letter typo (galaxi)", {"q": "galaxi a55"}, False),
    ("typo, swapped letters (xaiomi)", {"q": "xaiomi redmi"}, False),
    (
        "Arabic word, category and price range",
        {"q": "شاحن", "category": "Chargers", "min_price": 10_000, "max_price": 40_000},
        False,
    ),
    (
        "category and price range, no words, price sort",
        {"category": "Smartphones", "min_price": 500_000, "max_price": 900_000, "sort": "price_asc"},
        False,
    ),
    ("Arabic word, price sort", {"q": "حاسوب", "sort": "price_asc"}, False),
    ("English word, price sort descending", {"q": "airpods", "sort": "price_desc"}, False),
    ("brand, page 2", {"q": "samsung", "page": 2}, False),
    ("Arabic word, page 3", {"q": "هاتف", "page": 3}, False),
    ("broad: colour word", {"q": "black"}, True),
    ("broad: Arabic colour word", {"q": "أسود"}, True),
)
EXTRA_BROAD = (("broad: colour word, page 2", {"q": "white", "page": 2}, True),)


# ---------------------------------------------------------------- data


def _data_fingerprint(size: str) -> str:
    """What the cached data set depends on: the size, the schema and the code that generates rows."""
    digest = hashlib.sha256(size.encode())
    paths = [
        ROOT / "common" / "models.py",
        *sorted((ROOT / "common" / "products").glob("*.py")),
        *sorted((ROOT / "demo_data").glob("*.py")),
        ROOT / "demo_data" / "catalogue.json",
        *sorted((ROOT / "migrations").rglob("*.py")),
    ]
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _run_step(args: list[str], database: str, seconds: float) -> None:
    process = spawn(
        args,
        env={"DATABASE_URL": db_url(database), "TDS_WORKERS": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = process.communicate(timeout=seconds)
    finally:
        stop(process)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args[1:])} failed ({process.returncode}):\n{output}")
    if output.strip():
        log(output.strip().splitlines()[-1])


def build_data(database: str, size: str) -> float:
    """Schema, generated data, then VACUUM ANALYZE (statistics and visibility maps); returns seconds."""
    started = time.monotonic()
    _run_step([PYTHON, "-m", "common.migrate"], database, 120)
    log(f"generating the data set ({size}) into {database} ...")
    _run_step([PYTHON, "-m", "demo_data.generator", "--size", size], database, 900)
    sql(database, "VACUUM ANALYZE")
    return time.monotonic() - started


def prepare_data(size: str, keep: bool) -> tuple[str, dict]:
    """The run's database, and how it was made. With `keep`, the data set is built once into
    tsh_mobile_bench_cache (rebuilt when the code it depends on changes) and copied for each run."""
    if not keep:
        database = scratch.create("run")
        return database, {"built_seconds": build_data(database, size), "cached": False}
    cache, fingerprint = PREFIX + "cache", _data_fingerprint(size)
    found = sql(
        "postgres", "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :name", name=cache
    )
    info: dict[str, Any] = {"cached": bool(found and found[0][0] == fingerprint)}
    if not info["cached"]:
        scratch.create("cache")
        info["built_seconds"] = build_data(cache, size)
        sql("postgres", f"COMMENT ON DATABASE \"{cache}\" IS '{fingerprint}'")
    scratch.keep(cache)
    started = time.monotonic()
    database = scratch.create("run", template="cache")
    info["copy_seconds"] = time.monotonic() - started
    return database, info


# ---------------------------------------------------------------- what the clients send


@dataclass
class Fixtures:
    plans: dict[str, Path]  # screen key -> plan file for bench/mobile.lua
    searches: list[dict]  # label, params, broad, in_mix, path; the check adds status, total_count, first
    facts: dict[str, Any]  # about the data set, for the report and the probe


def _plan_line(method: str, path: str, token: str | None = None, body: dict | None = None, thread: int = 0) -> str:
    return "\t".join((str(thread), method, path, token or "-", json.dumps(body) if body is not None else "-"))


def build_fixtures(database: str, secret: str, workdir: Path) -> Fixtures:
    from common.config import Settings
    from common.shop.auth import issue_token
    from demo_data.generator import DEMO_CUSTOMER_ID

    rng = random.Random(7)
    settings = Settings(database_url=db_url(database), mobile_token_secret=secret)
    active = [row[0] for row in sql(database, "SELECT id FROM products WHERE is_active ORDER BY id")]
    in_stock = [
        row[0] for row in sql(database, "SELECT id FROM products WHERE is_active AND stock_quantity > 0 ORDER BY id")
    ]
    top = sql(
        database,
        "SELECT r.product_id, count(*) FROM reviews r JOIN products p ON p.id = r.product_id "
        "WHERE r.is_approved AND p.is_active GROUP BY r.product_id ORDER BY count(*) DESC, "
        "r.product_id LIMIT 20",
    )
    top_ids = [product_id for product_id, _ in top]
    shoppers = [
        row[0]
        for row in sql(database, "SELECT customer_id FROM carts WHERE status = 'active' ORDER BY customer_id LIMIT 64")
    ]
    if DEMO_CUSTOMER_ID not in shoppers:
        shoppers = [DEMO_CUSTOMER_ID, *shoppers[:-1]]
    tokens = {customer: issue_token(customer, settings, ttl_seconds=6 * 3600) for customer in shoppers}
    categories = dict(sql(database, "SELECT name, id FROM categories"))

    product_ids = rng.sample(active, min(900, len(active))) + [top_ids[n % len(top_ids)] for n in range(100)]
    rng.shuffle(product_ids)
    lines: dict[str, list[str]] = {
        "hello": [_plan_line("GET", "/")],
        "home_anon": [_plan_line("GET", "/api/mobile/home")],
        "home_signed": [_plan_line("GET", "/api/mobile/home", tokens[c]) for c in shoppers],
        "product": [_plan_line("GET", f"/api/mobile/products/{p}") for p in product_ids],
        "product_top": [_plan_line("GET", f"/api/mobile/products/{p}") for p in top_ids],
        # Half of the checkouts name their customer, as the contract allows.
        "checkout": [
            _plan_line("GET", "/api/mobile/checkout" + (f"?customer_id={c}" if n % 2 else ""), tokens[c])
            for n, c in enumerate(shoppers)
        ],
    }
    searches = []
    for label, params, broad in (*SEARCHES, *EXTRA_BROAD):
        query = {
            ("category_id" if key == "category" else key): (categories[value] if key == "category" else value)
            for key, value in params.items()
        }
        searches.append(
            {
                "label": label,
                "params": query,
                "broad": broad,
                "in_mix": (label, params, broad) in SEARCHES,
                "path": "/api/mobile/search?" + urlencode(query),
            }
        )
    lines["search"] = [_plan_line("GET", s["path"]) for s in searches if s["in_mix"]]
    lines["search_narrow"] = [_plan_line("GET", s["path"]) for s in searches if s["in_mix"] and not s["broad"]]
    lines["search_broad"] = [_plan_line("GET", s["path"]) for s in searches if s["broad"]]
    # One customer per client: add a product, change its quantity, remove it; then the next product.
    cart_lines = []
    for thread, customer in enumerate(shoppers[: max(CONCURRENCY)], 1):
        own = {
            row[0]
            for row in sql(
                database,
                "SELECT ci.product_id FROM cart_items ci JOIN carts c ON c.id = ci.cart_id WHERE c.customer_id = :c",
                c=customer,
            )
        }
        for product_id in rng.sample([p for p in in_stock if p not in own], CART_PRODUCTS):
            cart_lines += [
                _plan_line(
                    "POST",
                    "/api/mobile/cart/items",
                    tokens[customer],
                    {"product_id": product_id, "quantity": 1},
                    thread,
                ),
                _plan_line("PATCH", f"/api/mobile/cart/items/{product_id}", tokens[customer], {"quantity": 2}, thread),
                _plan_line("DELETE", f"/api/mobile/cart/items/{product_id}", tokens[customer], None, thread),
            ]
    lines["cart"] = cart_lines
    plans = {}
    for key, plan in lines.items():
        plans[key] = workdir / f"{key}.plan"
        plans[key].write_text("\n".join(plan) + "\n")
    facts = {
        "products_active": len(active),
        "best_sellers_reviews": [count for _, count in top],
        "best_seller_ids": top_ids,
        "shoppers": len(shoppers),
        "demo_customer": DEMO_CUSTOMER_ID,
        "probe_customer": shoppers[0],
        "random_product": product_ids[0] if product_ids[0] not in top_ids else product_ids[1],
    }
    return Fixtures(plans, searches, facts)


# ---------------------------------------------------------------- measuring


def _fetch(base: str, line: str) -> tuple[int, bytes]:
    _, method, path, token, body = line.split("\t")
    headers = {"Authorization": f"Bearer {token}"} if token != "-" else {}
    data = None if body == "-" else body.encode()
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def check(base: str, fixtures: Fixtures, notes: list[str]) -> None:
    """Each request of every plan once (the cart: its first cycle per customer), untimed: all must be 200.
    Also warms the runner and PostgreSQL's buffers, and records how many products each search finds."""
    for key, plan in fixtures.plans.items():
        if key == "hello":
            continue
        plan_lines = plan.read_text().splitlines()
        if key == "cart":
            plan_lines = [line for n, line in enumerate(plan_lines) if n % (3 * CART_PRODUCTS) < 3]
        statuses: dict[int, int] = {}
        for line in plan_lines:
            status, _ = _fetch(base, line)
            statuses[status] = statuses.get(status, 0) + 1
        if set(statuses) != {200}:
            notes.append(f"check: {key} answered {statuses} (every request should be 200)")
        log(f"check {key}: {len(plan_lines)} requests, statuses {statuses}")
    for search in fixtures.searches:
        status, body = _fetch(base, _plan_line("GET", search["path"]))
        answer = json.loads(body)
        search["status"] = status
        search["total_count"] = answer.get("total_count")
        search["first"] = answer["results"][0]["name"] if answer.get("results") else None
        if status != 200 or not answer.get("results"):
            notes.append(f"check: search {search['path']} answered {status} with no results")


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy so far (every core, every process)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _server_log(path: Path, offset: int) -> dict[str, dict]:
    """The runner's own view from its request log lines: status counts and durations per operation."""
    operations: dict[str, dict] = {}
    with path.open("rb") as handle:
        handle.seek(offset)
        for raw in handle:
            if not raw.startswith(b"{") or b'"message": "request"' not in raw:
                continue
            entry = json.loads(raw)
            operation = operations.setdefault(entry["operation"], {"durations": [], "statuses": {}})
            operation["durations"].append(entry["duration_ms"])
            operation["statuses"][entry["status"]] = operation["statuses"].get(entry["status"], 0) + 1
    return operations


def _quantiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"n": len(values), "p50_ms": values[0] if values else 0.0, "p99_ms": values[0] if values else 0.0}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"n": len(values), "p50_ms": cuts[49], "p99_ms": cuts[98]}


@dataclass
class Servers:
    runner: subprocess.Popen
    runner_url: str
    runner_log: Path
    hello: subprocess.Popen
    hello_url: str
    database: str


def measure(servers: Servers, key: str, plan: Path, clients: int, duration: float, warmup: float) -> dict:
    on_runner = key not in ("hello", "hello_end")
    process, url = (servers.runner, servers.runner_url) if on_runner else (servers.hello, servers.hello_url)
    run_wrk(url, warmup, BENCH / "mobile.lua", [str(plan)], connections=clients, threads=clients)
    time.sleep(LOG_DELAY)
    offset = servers.runner_log.stat().st_size
    cpu_before, backends = cpu_seconds(process.pid), BackendCpu(servers.database)
    busy_before, wrk_before, own_before = _busy_seconds(), _children_cpu(), _own_cpu()
    result = run_wrk(url, duration, BENCH / "mobile.lua", [str(plan)], connections=clients, threads=clients)
    server_cpu, pg_cpu = cpu_seconds(process.pid) - cpu_before, backends.finish()
    busy, wrk_cpu, own_cpu = _busy_seconds() - busy_before, _children_cpu() - wrk_before, _own_cpu() - own_before
    requests = max(1, result["requests"])
    seconds = result["duration_us"] / 1e6
    result.update(
        key=key,
        clients=clients,
        server_cpu_ms_per_request=server_cpu * 1000 / requests,
        pg_cpu_ms_per_request=pg_cpu * 1000 / requests,
        wrk_cpu_percent=wrk_cpu * 100 / seconds,
        # Everything else the machine did meanwhile (other users, PostgreSQL's background
        # writers, some of the kernel's loopback work), in percent of one core: the
        # disturbance this run suffered.
        others_cpu_percent=max(0.0, busy - server_cpu - pg_cpu - wrk_cpu - own_cpu) * 100 / seconds,
        loadavg=os.getloadavg()[0],
    )
    if on_runner:
        result["connections_opened"] = backends.opened
        time.sleep(LOG_DELAY)
        operations = _server_log(servers.runner_log, offset)
        result["server_side"] = {
            name: {**_quantiles(entry["durations"]), "statuses": entry["statuses"]}
            for name, entry in operations.items()
        }
    return result


def start_servers(database: str, secret: str, workers: int) -> Servers:
    """The runner with `workers` HTTP processes sharing its port, and the hello-world (one process)."""
    runner_port, hello_port = free_port(), free_port()
    runner_log = RESULTS / "mobile-runner.log"
    runner_log.write_bytes(b"")
    runner = spawn(
        [
            PYTHON,
            "local_runner.py",
            "--port",
            str(runner_port),
            "--threads",
            str(SERVER_THREADS),
            "--workers",
            str(workers),
        ],
        env={"DATABASE_URL": db_url(database), "TDS_WORKERS": "0", "MOBILE_TOKEN_SECRET": secret},
        stdout=subprocess.DEVNULL,
        stderr=runner_log.open("ab"),
    )
    hello = spawn_hello(
        hello_port,
        SERVER_THREADS,
        stdout=subprocess.DEVNULL,
        stderr=(RESULTS / "mobile-hello.log").open("wb"),
    )
    runner_url, hello_url = f"http://127.0.0.1:{runner_port}", f"http://127.0.0.1:{hello_port}"
    wait_http(f"{runner_url}/health", runner, seconds=120)
    wait_http(f"{hello_url}/", hello)
    return Servers(runner, runner_url, runner_log, hello, hello_url, database)


def run_probe(database: str, fixtures: Fixtures, repeat: int, workdir: Path) -> dict:
    facts = fixtures.facts
    calls = [
        {"name": "home, anonymous", "kind": "home"},
        {"name": "home, signed in", "kind": "home", "args": {"customer_id": facts["probe_customer"]}},
        {"name": "product, best seller", "kind": "product", "args": {"product_id": facts["best_seller_ids"][0]}},
        {"name": "product, random", "kind": "product", "args": {"product_id": facts["random_product"]}},
        {"name": "checkout", "kind": "checkout", "args": {"customer_id": facts["probe_customer"]}},
        *({"name": f"search: {s['label']}", "kind": "search", "args": s["params"]} for s in fixtures.searches),
    ]
    spec = workdir / "probe.json"
    spec.write_text(
        json.dumps({"repeat": repeat, "calls": calls, "explain": ["home, signed in", "product, best seller"]})
    )
    process = spawn(
        [PYTHON, "-m", "bench.mobile_probe", str(spec)],
        env={"DATABASE_URL": db_url(database)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        output, errors = process.communicate(timeout=300)
    finally:
        stop(process)
    if process.returncode != 0:
        raise RuntimeError(f"bench.mobile_probe failed ({process.returncode}):\n{errors[-3000:]}")
    return json.loads(output)


# ---------------------------------------------------------------- report


Blocks = dict[tuple[int, int], dict[str, dict]]  # (runner processes, clients) -> screen -> result


def _hello(block: dict[str, dict]) -> dict:
    """The less disturbed of the two hello-world runs of a block (the faster one)."""
    return max((block[key] for key in ("hello", "hello_end") if key in block), key=lambda r: r["rps"])


def _block_title(workers: int, clients: int) -> str:
    return f"{clients} client{'s' if clients > 1 else ''}, {workers} runner process{'es' if workers > 1 else ''}"


def judge(results: Blocks) -> tuple[list[Verdict], list[Verdict]]:
    """The targets (p99 at one client of each screen as clients use it, one runner process; p99
    at 8 clients with 2 runner processes), and the same bars applied to slices of a screen's
    mix, for information."""
    verdicts, information = [], []
    busy = results.get((BUSY_WORKERS, BUSY_CLIENTS), {})
    for key in BUSY_SCREENS:
        if key not in busy:
            continue
        bar = BUSY_SEARCH_P99_MS if key == "search" else BUSY_SCREEN_P99_MS
        p99, errors = busy[key]["p99_us"] / 1000, busy[key]["errors_total"]
        verdicts.append(
            Verdict(
                f"{BY_KEY[key].label}: p99 < {bar:.0f} ms at {BUSY_CLIENTS} clients, {BUSY_WORKERS} runner processes",
                f"{p99:.1f} ms, {busy[key]['rps']:,.0f} req/s" + (f" ({errors} errors)" if errors else ""),
                p99 < bar and not errors,
            )
        )
    one = results.get((1, 1), {})
    for screen in SCREENS:
        if screen.p99_ms is None or screen.key not in one:
            continue
        p99 = one[screen.key]["p99_us"] / 1000
        errors = one[screen.key]["errors_total"]
        measured = f"{p99:.1f} ms" + (f" ({errors} errors)" if errors else "")
        verdict = Verdict(
            f"{screen.label}: p99 < {screen.p99_ms:.0f} ms at 1 client", measured, p99 < screen.p99_ms and not errors
        )
        (verdicts if screen.judged else information).append(verdict)
    return verdicts, information


def _ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.1f}"


def render(
    info: dict,
    data: dict,
    fixtures: Fixtures,
    results: dict[int, dict[str, dict]],
    probe: dict | None,
    verdicts: tuple[list[Verdict], list[Verdict]],
    command: str,
    args: argparse.Namespace,
) -> str:
    facts = fixtures.facts
    lines = [
        f"Mobile screens benchmark — {info['date']}, {info['nproc']} cores ({info['cpu']}), PostgreSQL "
        f"{info['postgresql']}, Python {info['python']}, load at start {info['loadavg_at_start'][0]:.2f}",
        f"command: {command}; code: {info['code']}",
        f"data: {facts['products_active']:,} active products; the 20 best sellers have "
        f"{min(facts['best_sellers_reviews']):,} to {max(facts['best_sellers_reviews']):,} approved reviews; "
        + ("cached data set copied" if data.get("cached") else f"built in {data.get('built_seconds', 0):.0f} s"),
        f"load: wrk with N threads and N connections (one client each), {args.warmup:g} s warm-up then "
        f"{args.duration:g} s measured per row, {args.rounds} round(s) (each row shows its least disturbed one); "
        f"local runner ({args.workers} process(es) in turn) and hello-world (one) on granian with {SERVER_THREADS} "
        "threads each",
        "",
    ]
    for (workers, clients), block in results.items():
        hello = _hello(block)
        lines += [
            f"### {_block_title(workers, clients)}",
            "",
            "| screen | req/s | p50 ms | p99 ms | p99 of each round | max ms | req/s vs hello | p50 vs hello "
            "| server CPU ms/req | PostgreSQL CPU ms/req | PG connections opened | others' CPU % | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for key in ORDER:
            if key not in block:
                continue
            r = block[key]
            if key.startswith("hello"):
                label = BY_KEY["hello"].label + (" (end of block)" if key == "hello_end" else "")
                ratios, pg = ["", ""], ["", ""]
            else:
                label = BY_KEY[key].label
                ratios = [f"{r['rps'] / hello['rps']:.1%}", f"{r['p50_us'] / hello['p50_us']:.1f}x"]
                pg = [f"{r['pg_cpu_ms_per_request']:.2f}", str(r["connections_opened"])]
            disturbed = " (disturbed)" if r["others_cpu_percent"] > DISTURBED_PERCENT else ""
            lines.append(
                f"| {label} | {r['rps']:,.0f} | {_ms(r['p50_us'])} | {_ms(r['p99_us'])} | "
                f"{' / '.join(f'{p99:.1f}' for p99 in r['p99_rounds_ms'])} | {_ms(r['max_us'])} | "
                f"{ratios[0]} | {ratios[1]} | {r['server_cpu_ms_per_request']:.2f} | {pg[0]} | {pg[1]} | "
                f"{r['others_cpu_percent']:.0f}{disturbed} | {r['errors_total']} |"
            )
        lines.append("")
    lines += [
        "### The runner's own time per request (its request log: from routing to the answer, without "
        "HTTP parsing, queueing and sending)",
        "",
        "| screen | operation | " + " | ".join(f"{_block_title(*block)}: n / p50 / p99 ms" for block in results) + " |",
        "|---|---|" + "---:|" * len(results),
    ]
    for key in ORDER:
        operations = sorted({op for block in results.values() for op in block.get(key, {}).get("server_side", {})})
        for operation in operations:
            cells = []
            for block in results.values():
                entry = block.get(key, {}).get("server_side", {}).get(operation)
                cells.append(f"{entry['n']:,} / {entry['p50_ms']:.1f} / {entry['p99_ms']:.1f}" if entry else "")
            lines.append(f"| {BY_KEY[key].label} | {operation} | " + " | ".join(cells) + " |")
    lines.append("")
    timed = {call["name"]: call for call in (probe or {}).get("calls", [])}
    lines += [
        "### Searches (each checked once over HTTP; in-process time of the service call from the probe)",
        "",
        "| query | in mix | broad | matches | in-process median ms | of which SQL ms | statements |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for s in fixtures.searches:
        call = timed.get(f"search: {s['label']}", {})
        shown = " ".join(f"{k}={v}" for k, v in s["params"].items())
        lines.append(
            f"| {s['label']}: `{shown}` | {'yes' if s['in_mix'] else ''} | {'yes' if s['broad'] else ''} | "
            f"{s.get('total_count', '?'):,} | {call.get('median_ms', 0):.1f} | {call.get('sql_median_ms', 0):.1f} | "
            f"{call.get('statements', '')} |"
        )
    lines.append("")
    if probe:
        lines += [
            "### Where the time goes, in process (probe: median of the service call, no HTTP)",
            "",
            "| call | median ms | max ms | SQL ms | statements | each statement ms (last call) |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for call in probe["calls"]:
            if call["kind"] != "search":
                lines.append(
                    f"| {call['name']} | {call['median_ms']:.1f} | {call['max_ms']:.1f} | "
                    f"{call['sql_median_ms']:.1f} | {call['statements']} | "
                    f"{', '.join(f'{t:.1f}' for t in call['per_statement_ms'])} |"
                )
        lines.append("")
        for name, plans in probe["explain"].items():
            title = f"slowest search ({name})" if name == probe["slowest_search"] else name
            lines += [f"### EXPLAIN (ANALYZE, BUFFERS): {title}", ""]
            for number, entry in enumerate(plans, 1):
                lines += [
                    f"Statement {number}: parameters {entry['parameters']}",
                    "",
                    "```",
                    entry["statement"],
                    "",
                    *entry["plan"],
                    "```",
                    "",
                ]
    targets, information = verdicts
    lines += [
        "### Targets (p99 at 1 client and one runner process, search's bar 80 ms; p99 at 8 clients with "
        "2 runner processes, search's bar 100 ms)",
        "",
        "| target | measured | result |",
        "|---|---|---|",
    ]
    for verdict in targets:
        lines.append(f"| {verdict.target} | {verdict.measured} | {'PASS' if verdict.passed else '**FAIL**'} |")
    for verdict in information:
        lines.append(
            f"| information: {verdict.target} | {verdict.measured} | {'under' if verdict.passed else 'over'} |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="build the data set once into tsh_mobile_bench_cache and reuse it (copied per run)",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_PRODUCTS:,} products, short runs: checks that everything runs"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per screen and concurrency")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--only", default=",".join(s.key for s in SCREENS[1:]), help="comma-separated screens")
    parser.add_argument(
        "--rounds", type=int, default=1, help="measure everything N times; each row keeps its least disturbed round"
    )
    parser.add_argument("--repeat", type=int, default=7, help="probe: timed calls per service call")
    parser.add_argument("--workers", default="1,2", help="runner processes to measure with, comma-separated")
    args = parser.parse_args()
    size = str(QUICK_PRODUCTS) if args.quick else "bench"
    if args.quick:
        args.duration, args.warmup, args.repeat = 2.0, 1.0, 3
    chosen = {"hello", "hello_end", *args.only.split(",")}
    RESULTS.mkdir(exist_ok=True)
    workdir = RESULTS / "mobile-plans"
    workdir.mkdir(exist_ok=True)
    info = {**machine(("SQLAlchemy", "pg8000", "pydantic", "granian", "werkzeug", "PyJWT")), "code": code_state()}
    started = time.monotonic()
    log(f"machine: {info['nproc']} cores, PostgreSQL {info['postgresql']}, load {info['loadavg_at_start']}")
    notes: list[str] = []
    database, data = prepare_data(size, args.keep_data)
    log(f"data ready in {time.monotonic() - started:.0f} s: {data}")
    secret = secrets.token_urlsafe(48)
    fixtures = build_fixtures(database, secret, workdir)
    worker_counts = [int(n) for n in args.workers.split(",")]
    rounds: dict[tuple[int, int], dict[str, list[dict]]] = {
        (workers, clients): {} for workers in worker_counts for clients in CONCURRENCY
    }
    probe = None
    for workers in worker_counts:
        servers = start_servers(database, secret, workers)
        try:
            check(servers.runner_url, fixtures, notes)
            for round_no in range(1, args.rounds + 1):
                for clients in CONCURRENCY:
                    for key in (key for key in ORDER if key in chosen):
                        plan = fixtures.plans["hello" if key == "hello_end" else key]
                        result = measure(servers, key, plan, clients, args.duration, args.warmup)
                        rounds[(workers, clients)].setdefault(key, []).append(result)
                        log(
                            f"round {round_no}, {_block_title(workers, clients)}, {key}: {result['rps']:,.0f} req/s, "
                            f"p50 {_ms(result['p50_us'])} ms, p99 {_ms(result['p99_us'])} ms, errors "
                            f"{result['errors_total']}, others' CPU {result['others_cpu_percent']:.0f}%"
                        )
        finally:
            stop(servers.runner)
            stop(servers.hello)
    try:
        probe = run_probe(database, fixtures, args.repeat, workdir)
    except Exception as exc:  # noqa: BLE001 - the load figures stand without the probe
        traceback.print_exc()
        notes.append(f"the probe FAILED: {type(exc).__name__}: {exc}")
    scratch.drop(database)
    # Each row keeps the round in which others used the least CPU (not the fastest one).
    results = {
        block_key: {
            key: {
                **min(runs, key=lambda r: r["others_cpu_percent"]),
                "p99_rounds_ms": [r["p99_us"] / 1000 for r in runs],
            }
            for key, runs in block.items()
        }
        for block_key, block in rounds.items()
    }
    verdicts, information = judge(results)
    for (workers, clients), block in results.items():
        disturbed = [key for key, r in block.items() if r["others_cpu_percent"] > DISTURBED_PERCENT]
        if disturbed:
            notes.append(
                f"{_block_title(workers, clients)}: others used over {DISTURBED_PERCENT}% of a core during "
                f"{', '.join(disturbed)}: repeat the run for steadier figures"
            )
    command = "bench/run.sh mobile" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    text = render(info, data, fixtures, results, probe, (verdicts, information), command, args)
    text += f"\nTotal benchmark time: {time.monotonic() - started:.0f} s; load at end {os.getloadavg()[0]:.2f}.\n"
    payload = {
        "machine": info,
        "args": vars(args),
        "data": data,
        "facts": fixtures.facts,
        "searches": fixtures.searches,
        "probe": probe,
        "results": {f"{w}w-{c}c": block for (w, c), block in results.items()},
        "rounds": {f"{w}w-{c}c": block for (w, c), block in rounds.items()},
        "verdicts": [vars(v) for v in verdicts],
        "information": [vars(v) for v in information],
    }
    publish("mobile", text, payload, verdicts, notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
