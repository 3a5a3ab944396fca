"""The Lambda deployment package: its size, and the cold start of each handler run from it.

    bench/run.sh lambda [--repeat N]

Builds the package twice with scripts/package-lambda.sh (the pinned Serverless Framework v3,
offline): for arm64, what is deployed, measured for size; and for x86_64, the same code and
requirements with wheels this machine can run, unpacked and measured for cold start. Each
sample is a new interpreter started with -I -S -B (no site-packages: only the unpacked package
and the standard library; and, as in Lambda's read-only /var/task, no byte code written, so
every start compiles what the package does not carry compiled) that imports `aws_lambda`, builds one handler, answers
one API Gateway HTTP API event (engine, first PostgreSQL connection) and then a second one.
A bare Lambda handler (`return {"statusCode": 200}`) is measured the same way in the same run:
the floor. The database is a scratch PostgreSQL database with the demo data set.
No target: information. Lambda's own start (its sandbox, the runtime) is not included.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import NamedTuple

from bench.cold_start import prepare, timing_rows
from bench.harness import PYTHON, ROOT, ScratchDatabases, code_state, db_url, log, machine, publish

ZIP_NAME = "tsh-erp-functions.zip"
BARE = "bare"
ADMIN_KEY = "bench-admin-key-0123456789abcdef"
WEBHOOK_KEY = "bench-webhook-key-0123456789abcdef"


class Case(NamedTuple):
    label: str
    handler: str  # aws_lambda.<handler>, or BARE
    method: str = "GET"
    path: str = "/"
    query: str = ""
    body: dict | None = None
    headers: dict | None = None
    signed_in: bool = False
    scheduled: bool = False
    status: int = 200


CASES = [
    Case("bare handler (baseline)", BARE),
    Case("health", "health", path="/health"),
    Case(
        "Zoho webhook (products)",
        "zoho_webhook",
        "POST",
        "/api/zoho/webhooks/products",
        body={"item": {"item_id": "COLD-1", "name": "USB-C cable 1m", "rate": 5000, "status": "active"}},
        headers={"x-webhook-key": WEBHOOK_KEY},
        status=202,
    ),
    Case("queue drain (HTTP)", "drain_queue_http", "POST", "/api/zoho/queue/drain", headers={"x-admin-key": ADMIN_KEY}),
    Case("queue drain (schedule)", "drain_queue", scheduled=True),
    Case("Zoho dashboard health", "zoho_dashboard", path="/api/zoho/dashboard/health"),
    Case("mobile home", "mobile_home", path="/api/mobile/home"),
    Case("mobile product", "mobile_product", path="/api/mobile/products/1"),
    Case("mobile search", "mobile_search", path="/api/mobile/search", query="q=samsung"),
    Case("mobile checkout", "mobile_checkout", path="/api/mobile/checkout", signed_in=True),
    Case("API document", "api_docs", path="/openapi.json"),
    Case("catch-all (404)", "fallback", path="/nowhere", status=404),
]

_BARE_HANDLER = 'def handler(event, context):\n    return {"statusCode": 200, "body": "ok"}\n'

# Runs in the new interpreter (no site-packages): time the import, the first event and a second one.
_CHILD = """
import json, sys, time
started = time.perf_counter()
root, name, event = json.loads(sys.argv[1])
sys.path.insert(0, root)
if name == "bare":
    from bare_handler import handler
else:
    import aws_lambda
    handler = getattr(aws_lambda, name)
imported = time.perf_counter()
def status(answer):
    return answer.get("statusCode", 200) if isinstance(answer, dict) else 200
first_status = status(handler(event, None)); first = time.perf_counter()
second_status = status(handler(event, None)); second = time.perf_counter()
print(json.dumps({"import_ms": (imported - started) * 1000, "first_ms": (first - imported) * 1000,
                  "warm_ms": (second - first) * 1000, "status": [first_status, second_status]}))
"""


def event_for(case: Case, token: str) -> dict:
    if case.scheduled:
        return {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    headers = {"host": "api.example", "content-type": "application/json", **(case.headers or {})}
    if case.signed_in:
        headers["authorization"] = f"Bearer {token}"
    event = {
        "version": "2.0",
        "routeKey": f"{case.method} {case.path}",
        "rawPath": case.path,
        "rawQueryString": case.query,
        "headers": headers,
        "isBase64Encoded": False,
        "requestContext": {
            "http": {"method": case.method, "path": case.path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7"},
            "domainName": "api.example",
            "stage": "$default",
        },
    }
    if case.body is not None:
        event["body"] = json.dumps(case.body)
    return event


def build(architecture: str, into: Path) -> Path:
    log(f"packaging for {architecture}")
    subprocess.run(
        [str(ROOT / "scripts" / "package-lambda.sh"), str(into), architecture],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return into / ZIP_NAME


def unpack(archive: Path, into: Path) -> int:
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(into)
        return sum(member.file_size for member in opened.infolist())


def sample(case: Case, root: Path, token: str, env: dict[str, str]) -> dict[str, float]:
    argument = json.dumps([str(root), case.handler, event_for(case, token)])
    started = time.perf_counter()
    done = subprocess.run(
        [PYTHON, "-I", "-S", "-B", "-c", _CHILD, argument], cwd=root, env=env, capture_output=True, text=True
    )
    wall_ms = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{case.label} failed:\n{done.stderr[-2000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    if figures["status"] != [case.status, case.status]:
        raise RuntimeError(f"{case.label} answered {figures['status']}:\n{done.stderr[-2000:]}")
    return {"process_ms": wall_ms, **{key: figures[key] for key in ("import_ms", "first_ms", "warm_ms")}}


def measure(work: Path, repeat: int) -> tuple[dict[str, tuple[int, int]], dict[str, list[dict[str, float]]]]:
    """Package for both architectures in `work`, then sample every case `repeat` times from the x86_64 one."""
    deployed = build("arm64", work / "arm64")
    runnable = build("x86_64", work / "x86_64")
    root = work / "unpacked"
    sizes = {
        "arm64": (deployed.stat().st_size, unpack(deployed, work / "unpacked-arm64")),
        "x86_64": (runnable.stat().st_size, unpack(runnable, root)),
    }
    (root / "bare_handler.py").write_text(_BARE_HANDLER)

    database = ScratchDatabases("tsh_lambda_bench_").create("run")
    secret = secrets.token_urlsafe(32)
    log("building the demo data set")
    token = prepare(database, secret)
    env = {
        "PATH": os.environ["PATH"],
        "APP_ENV": "production",
        "DATABASE_URL": db_url(database),
        "MOBILE_TOKEN_SECRET": secret,
        "ADMIN_API_KEY": ADMIN_KEY,
        "WEBHOOK_API_KEY": WEBHOOK_KEY,
        "ZOHO_CLIENT_ID": "bench",
        "ZOHO_CLIENT_SECRET": "bench",
        "ZOHO_REFRESH_TOKEN": "bench",
        "ZOHO_ORGANIZATION_ID": "bench",
        "DB_POOL_SIZE": "1",
    }
    for case in CASES:  # once each, untimed: files in the page cache
        sample(case, root, token, env)
    samples: dict[str, list[dict[str, float]]] = {case.label: [] for case in CASES}
    for round_no in range(repeat):  # interleaved, so a disturbance hits every handler alike
        log(f"round {round_no + 1} of {repeat}")
        for case in CASES:
            samples[case.label].append(sample(case, root, token, env))
    return sizes, samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="new processes per handler (default 7)")
    args = parser.parse_args(argv)

    info = {**machine(("SQLAlchemy", "pg8000", "pydantic", "werkzeug")), "code": code_state()}
    with tempfile.TemporaryDirectory(prefix="tsh-lambda-bench-") as scratch:
        sizes, samples = measure(Path(scratch), args.repeat)

    floor = CASES[0].label
    lines = [
        f"Lambda package — {info['date']}, {info['nproc']} cores ({info['cpu']}), PostgreSQL {info['postgresql']}, "
        f"Python {info['python']}, load at start {info['loadavg_at_start'][0]:.2f}",
        f"command: bench/run.sh lambda --repeat {args.repeat}; code: {info['code']}",
        "",
        "| package | zip MB | unpacked MB |",
        "|---|---:|---:|",
        *(f"| {arch} | {zipped / 1e6:.1f} | {unpacked / 1e6:.1f} |" for arch, (zipped, unpacked) in sizes.items()),
        "",
        f"Cold start from the unpacked x86_64 package: median of {args.repeat} new processes each (max in brackets).",
        "",
        "| handler | whole process ms | vs bare handler | import ms | first event ms | warm event ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += timing_rows(samples, floor)
    text = "\n".join(lines) + "\n"
    publish("lambda", text, {"machine": info, "sizes": sizes, "samples": samples}, [], [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
