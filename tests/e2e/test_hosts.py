"""The same handler code in each host: the local runner, and the real functions-framework CLI."""

import signal
import time

import pytest
import requests

from tests.helpers import BIN, free_port, running

pytestmark = pytest.mark.slow  # real servers and tools as subprocesses


def test_local_runner_serves_every_route_and_stops_cleanly_on_sigterm(db):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(BIN / "python"), "local_runner.py", "--port", str(port)]
    with running(command, {"DATABASE_URL": db.url, "TDS_WORKERS": "0"}, f"{base}/health") as server:
        health = requests.get(f"{base}/health", timeout=5)
        assert health.status_code == 200
        assert health.json()["status"] == "healthy"
        missing = requests.get(f"{base}/no/such/route", timeout=5)
        assert missing.status_code == 404
        assert missing.json() == {"success": False, "message": "Route not found", "code": "not_found", "errors": []}
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0
        output = server.output()
    assert f"on {base}" in output
    assert "/health" in output
    assert "local runner stopped" in output


def test_health_runs_alone_under_the_functions_framework_cli(db):
    port = free_port()
    command = [
        str(BIN / "functions-framework"),
        "--source",
        "functions/health.py",
        "--target",
        "health",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    url = f"http://127.0.0.1:{port}/health"
    with running(command, {"DATABASE_URL": db.url}, url):
        response = requests.get(url, timeout=5)
        assert response.status_code == 200
        assert response.json()["database"]["status"] == "ok"
        assert requests.post(url, timeout=5).status_code == 405


def _completed(base: str) -> int:
    return requests.get(f"{base}/api/zoho/dashboard/health", timeout=5).json()["queue"]["completed"]


def _wait_for(condition, seconds: float, message) -> None:
    """Poll `condition` until it holds; fail with `message` (or what it returns) after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message() if callable(message) else message
        time.sleep(0.1)


def test_runner_workers_drain_webhooks_in_the_background(db):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(BIN / "python"), "local_runner.py", "--port", str(port)]
    env = {"DATABASE_URL": db.url, "TDS_WORKERS": "2", "TDS_QUEUE_POLL_INTERVAL_MS": "50"}
    with running(command, env, f"{base}/health") as server:
        body = {"item": {"item_id": "e2e-1", "name": "Anker PowerCore 20000", "rate": 65000, "status": "active"}}
        assert requests.post(f"{base}/api/zoho/webhooks/products", json=body, timeout=5).status_code == 202
        _wait_for(lambda: _completed(base) >= 1, 20, "the background workers did not drain the item")
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        output = server.output()
    assert "Zoho sync workers started successfully" in output


def test_runner_with_two_worker_processes_serves_drains_and_stops_cleanly(db):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(BIN / "python"), "local_runner.py", "--port", str(port), "--workers", "2"]
    env = {"DATABASE_URL": db.url, "TDS_WORKERS": "1", "TDS_QUEUE_POLL_INTERVAL_MS": "50"}
    with running(command, env, f"{base}/health") as server:
        # The first process answers before the second has started: wait for both.
        _wait_for(lambda: server.output().count("Started worker-") >= 2, 30, lambda: server.output()[-3000:])
        for number in range(5):
            body = {"item": {"item_id": f"e2e-w{number}", "name": "Anker PowerCore", "rate": 65000, "status": "active"}}
            assert requests.post(f"{base}/api/zoho/webhooks/products", json=body, timeout=5).status_code == 202
        _wait_for(lambda: _completed(base) >= 5, 20, "the background worker did not drain the items")
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=40) == 0
        output = server.output()
    started = [line for line in output.splitlines() if "Started worker-" in line]
    assert len(started) == 2, output[-3000:]  # two HTTP processes
    assert output.count("Zoho sync workers started successfully") == 1  # drain workers once, not per process
    assert output.count("history purged") == 1  # the retention timer too, purging once at start
    assert "Unexpected exit" not in output and "local runner stopped" in output
