"""Post-deployment checks against any deployment: `python -m common.verify BASE_URL`.

A plain HTTP client of the public API (it imports nothing of the server's configuration):
health and its Arabic message, the API docs, the sync's health with its reasons, statistics
(admin key from ADMIN_API_KEY), the shop's home, a product, searches in Arabic and English,
checkout when a customer token is given, a webhook dry run that queues nothing, and the drain
being alive. Read-only calls are repeated and their p95 must stay under the latency limit.
Prints a table (check, result, time) and exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import requests

from common.errors import AppError

HEALTHY_MESSAGE = "النظام يعمل بشكل طبيعي"
P95_LIMIT_MS = 500.0
DRAIN_STALE_SECONDS = 180  # the schedule drains every minute; three missed runs is a dead drain
REPEAT = 5
TIMEOUT_SECONDS = 10.0
_DRY_RUN_ITEM = {
    "item": {"item_id": "verify-dry-run-0001", "name": "Verify dry run", "sku": "VERIFY-0001", "rate": 1000}
}

PASS, WARN, FAIL, SKIP = "PASS", "WARN", "FAIL", "SKIP"


class CheckFailed(AppError):
    """A check's answer was not what a healthy deployment gives."""


@dataclass
class Outcome:
    name: str
    status: str
    detail: str
    p95_ms: float | None


@dataclass
class Options:
    base_url: str
    admin_key: str | None
    webhook_key: str | None
    customer_token: str | None
    repeat: int = REPEAT
    p95_limit_ms: float = P95_LIMIT_MS


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


class Verifier:
    def __init__(self, options: Options, session: requests.Session | None = None) -> None:
        self.options = options
        self.http = session or requests.Session()
        self.outcomes: list[Outcome] = []
        self.context: dict[str, Any] = {}
        self._samples: list[float] = []

    def call(
        self, method: str, path: str, expect: tuple[int, ...] = (200,), repeat: int = 1, **kwargs
    ) -> requests.Response:
        """The answer to `path` (the last of `repeat` tries); the time of each try goes to the check's p95."""
        response = None
        for _ in range(repeat):
            started = time.perf_counter()
            try:
                response = self.http.request(method, self.options.base_url + path, timeout=TIMEOUT_SECONDS, **kwargs)
            except requests.RequestException as exc:
                raise CheckFailed(f"{method} {path}: {type(exc).__name__}") from exc
            self._samples.append((time.perf_counter() - started) * 1000)
            if response.status_code not in expect:
                raise CheckFailed(f"{method} {path}: HTTP {response.status_code} {_short(response.text)}")
        return response

    def check(self, name: str, run: Callable[[], tuple[str, str] | str]) -> None:
        self._samples = []
        try:
            result = run()
            status, detail = result if isinstance(result, tuple) else (PASS, result)
        except CheckFailed as exc:
            status, detail = FAIL, str(exc)
        except (ValueError, KeyError, TypeError) as exc:  # an answer of the wrong shape
            status, detail = FAIL, f"unexpected answer: {type(exc).__name__}: {_short(str(exc))}"
        p95 = _p95(self._samples) if self._samples else None
        if status == PASS and p95 is not None and p95 > self.options.p95_limit_ms:
            status, detail = FAIL, f"{detail}; p95 {p95:.0f} ms over {self.options.p95_limit_ms:.0f} ms"
        self.outcomes.append(Outcome(name, status, detail, p95))

    # ------------------------------------------------------------ the checks

    def health(self) -> str:
        body = self.call("GET", "/health", repeat=self.options.repeat).json()
        if body["status"] != "healthy" or body["message"] != HEALTHY_MESSAGE:
            raise CheckFailed(f"status {body['status']!r}, message {body['message']!r}")
        return f"healthy, {body['message']}, database {body['database']['latency_ms']} ms"

    def docs(self) -> str:
        page = self.call("GET", "/docs")
        if "text/html" not in page.headers.get("Content-Type", ""):
            raise CheckFailed("/docs is not an HTML page")
        document = self.call("GET", "/openapi.json", repeat=self.options.repeat).json()
        return f"/docs and /openapi.json (OpenAPI {document['openapi']}, {len(document['paths'])} paths)"

    def sync_health(self) -> tuple[str, str]:
        response = self.call("GET", "/api/zoho/dashboard/health", expect=(200, 503), repeat=self.options.repeat)
        body = response.json()
        self.context["sync_health"] = body
        reasons = "; ".join(body["issues"]) or "no issues"
        if body["status"] == "unhealthy":
            raise CheckFailed(f"unhealthy: {reasons}")
        return (PASS if body["status"] == "healthy" else WARN), f"{body['status']}: {reasons}"

    def _admin(self) -> dict[str, str]:
        return {"X-Admin-Key": self.options.admin_key} if self.options.admin_key else {}

    def stats(self) -> str:
        body = self.call(
            "GET", "/api/zoho/dashboard/stats?hours=24", headers=self._admin(), repeat=self.options.repeat
        ).json()
        rate = "n/a" if body["success_rate"] is None else f"{body['success_rate']}%"
        return f"24 h: {body['received']['total']} received, success rate {rate}, {len(body['functions'])} functions measured"

    def home(self) -> str:
        body = self.call("GET", "/api/mobile/home", repeat=self.options.repeat).json()
        cards = [card for name in ("featured_products", "best_sellers", "new_arrivals") for card in body[name]]
        if not cards:
            raise CheckFailed("home lists no product")
        self.context["product_id"] = cards[0]["id"]
        return f"{len(cards)} product cards, {len(body['categories'])} categories"

    def product(self) -> str:
        product_id = self.context.get("product_id")
        if product_id is None:
            raise CheckFailed("no product id (the home check failed)")
        body = self.call("GET", f"/api/mobile/products/{product_id}", repeat=self.options.repeat).json()
        return f"product {product_id}: {body['name']} ({body['price']} IQD)"

    def _search(self, words: str) -> str:
        body = self.call("GET", "/api/mobile/search", params={"q": words}, repeat=self.options.repeat).json()
        return f"{words!r}: {body['total_count']} results"

    def checkout(self) -> tuple[str, str] | str:
        if not self.options.customer_token:
            return SKIP, "no customer token given (--customer-token or VERIFY_CUSTOMER_TOKEN)"
        headers = {"Authorization": f"Bearer {self.options.customer_token}"}
        body = self.call("GET", "/api/mobile/checkout", headers=headers, repeat=self.options.repeat).json()
        return (
            f"{len(body['cart']['items'])} cart lines, total {body['summary']['total']} {body['summary']['currency']}"
        )

    def webhook_dry_run(self) -> str:
        headers = {"X-Dry-Run": "true", **self._admin()}
        if self.options.webhook_key:
            headers["X-Webhook-Key"] = self.options.webhook_key
        body = self.call("POST", "/api/zoho/webhooks/products", json=_DRY_RUN_ITEM, headers=headers).json()
        if not body.get("dry_run") or body.get("queued"):
            raise CheckFailed("the webhook route queued the event instead of a dry run")
        return f"validated, not queued (priority {body['priority']})"

    def drain_alive(self) -> str:
        body = self.context.get("sync_health")
        if body is None or body.get("queue") is None:
            raise CheckFailed("no sync health to read (see the check above)")
        last = body["workers"]["last_drain_at"]
        age = None if last is None else (datetime.now(timezone.utc) - datetime.fromisoformat(last)).total_seconds()
        if age is not None and age <= DRAIN_STALE_SECONDS:
            return f"last drain {age:.0f} s ago"
        waiting = body["queue"]["oldest_pending_age_seconds"]
        if waiting is not None and waiting > DRAIN_STALE_SECONDS:
            raise CheckFailed(f"items wait {waiting:.0f} s and the last drain was {_ago(age)}")
        return f"nothing waiting; last drain {_ago(age)} (idle drains are not recorded)"

    def run(self) -> list[Outcome]:
        self.check("health", self.health)
        self.check("api docs", self.docs)
        self.check("sync health", self.sync_health)
        self.check("stats", self.stats)
        self.check("home", self.home)
        self.check("product", self.product)
        self.check("search (Arabic)", lambda: self._search("سماعة"))
        self.check("search (English)", lambda: self._search("cable"))
        self.check("checkout", self.checkout)
        self.check("webhook dry run", self.webhook_dry_run)
        self.check("drain alive", self.drain_alive)
        return self.outcomes


def _ago(age: float | None) -> str:
    return "never" if age is None else f"{age:.0f} s ago"


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def table(outcomes: list[Outcome]) -> str:
    rows = [("check", "result", "time (p95)", "detail")] + [
        (o.name, o.status, "" if o.p95_ms is None else f"{o.p95_ms:.0f} ms", o.detail) for o in outcomes
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return "\n".join(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}" for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m common.verify", description="Post-deployment checks of a TSH ERP deployment."
    )
    parser.add_argument("base_url", help="the deployment's base URL, e.g. https://api.example.com")
    parser.add_argument("--customer-token", help="a customer's bearer token for the checkout check "
                        "(default: VERIFY_CUSTOMER_TOKEN)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=REPEAT, help=f"tries of each read for its p95 (default {REPEAT})")
    parser.add_argument(
        "--p95-ms", type=float, default=P95_LIMIT_MS, help=f"latency limit (default {P95_LIMIT_MS:.0f})"
    )
    args = parser.parse_args(argv)
    # A client of a deployment: it takes its keys from the operator's shell, not the server's settings.
    options = Options(
        base_url=args.base_url.rstrip("/"),
        admin_key=os.environ.get("ADMIN_API_KEY") or None,
        webhook_key=os.environ.get("WEBHOOK_API_KEY") or None,
        customer_token=args.customer_token or os.environ.get("VERIFY_CUSTOMER_TOKEN") or None,
        repeat=max(1, args.repeat),
        p95_limit_ms=args.p95_ms,
    )
    outcomes = Verifier(options).run()
    print(table(outcomes))
    failed = [outcome.name for outcome in outcomes if outcome.status == FAIL]
    print(f"\n{len(failed)} of {len(outcomes)} checks failed: {', '.join(failed)}" if failed else
          f"\nall {len(outcomes)} checks passed")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
