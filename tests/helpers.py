"""Small helpers shared by tests: the sync's test keys and shortcuts, and real servers run as subprocesses."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from sqlalchemy import func, select

from common.config import get_settings
from common.sync.drain import drain
from common.sync.schemas import DrainSummary

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN_KEY = "admin-key-0123456789abcdef"


def queue_webhook(client, route: str, body: dict) -> int:
    """POST a Zoho webhook through a test client; its queue id (the answer must be 202)."""
    response = client.post(f"/api/zoho/webhooks/{route}", json=body)
    assert response.status_code == 202, response.get_json()
    return int(response.get_json()["event_id"])


def csrf_token(html: str) -> str:
    """The CSRF token of an operations page's form."""
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def log_in(client, key: str = ADMIN_KEY):
    """Sign in to the operations page through a test client with its login form; the login's answer."""
    form = client.get("/dashboard/login")
    return client.post("/dashboard/login", data={"csrf": csrf_token(form.get_data(as_text=True)), "admin_key": key})


def count(engine, table, *where) -> int:
    """The rows of `table` (a join too) matching every condition in `where`."""
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def drain_now(budget: float = 30.0) -> DrainSummary:
    return drain(get_settings(), trigger="test", budget_seconds=budget)


def dead_letter_one(client, item_id: str = "broken-1") -> int:
    """Queue a product without a name, which cannot be created: it is dead-lettered at once. Its queue id."""
    queue_id = queue_webhook(client, "products", {"item": {"item_id": item_id, "rate": 5}})
    assert drain_now().dead_lettered == 1
    return queue_id


def at_once(*calls, timeout: float = 30.0) -> list:
    """Run the calls in threads released together (each thread joined for up to `timeout`
    seconds); return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A server subprocess whose output goes to a file: a pipe nobody reads would fill up and
    block the server's logging, and with it every request."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with open(log_path, "w") as log:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, text=True
            )

    def output(self) -> str:
        return self.log_path.read_text()

    def send_signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def wait_for_http(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early with {self.process.returncode}: {self.output()[-3000:]}")
            try:
                requests.get(url, timeout=1)
                return
            except (requests.ConnectionError, requests.Timeout):  # not listening, or not serving yet
                time.sleep(0.1)
        raise AssertionError(f"{url} did not answer within {timeout}s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def running(command: list[str], env: dict[str, str], ready_url: str, timeout: float = 60.0) -> Iterator[Server]:
    """Start a server, wait until it answers, and always stop it afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        server = Server(command, env, Path(folder) / "server.log")
        try:
            server.wait_for_http(ready_url, timeout)
            yield server
        finally:
            server.stop()


def next_budget_minute(engine) -> None:
    """As if the minute of the shared Zoho call budget (filled by a 429, or spent) were over."""
    from datetime import timedelta

    from common.clock import utcnow
    from common.models import zoho_call_budget

    with engine.begin() as connection:
        connection.execute(
            zoho_call_budget.update()
            .where(zoho_call_budget.c.period == "minute")
            .values(period_start=utcnow().replace(second=0, microsecond=0) - timedelta(minutes=1))
        )


def run_until_complete(mode: str | None = None, *, steps: int = 50, **limits) -> list:
    """Reconcile steps against Zoho (draining after each) until one says complete, each paused
    minute let pass; every step's answer."""
    from common.db.engine import get_engine
    from common.sync.reconcile import reconcile

    answers = []
    for _ in range(steps):
        answer = reconcile(get_settings(), mode=mode, **limits)
        answers.append(answer)
        drain_now()
        if answer.complete:
            return answers
        next_budget_minute(get_engine())
    raise AssertionError(f"not complete after {steps} steps: {answers[-1]}")


def early_in_a_minute() -> None:
    """Wait out a minute about to end, so that a test's calls to Zoho share one minute's budget."""
    from common.clock import utcnow

    if utcnow().second >= 45:
        time.sleep(61 - utcnow().second)
