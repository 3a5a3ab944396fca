"""The local runner's HTTP server against hostile clients: thousands of idle connections and
slowloris clients cannot lock /health out, request smuggling is closed, and the server's own
errors take the contract's shape."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from tests.helpers import BIN, free_port, running

IDLE_CONNECTIONS, SLOWLORIS = 2000, 10


@pytest.fixture(scope="module")
def runner(tmp_path_factory) -> Iterator[int]:
    port = free_port()
    url = f"sqlite:///{tmp_path_factory.mktemp('runner') / 'db.sqlite3'}"
    command = [str(BIN / "python"), "local_runner.py", "--port", str(port)]
    with running(command, {"DATABASE_URL": url, "TDS_WORKERS": "0"}, f"http://127.0.0.1:{port}/health"):
        yield port


def _exchange(port: int, raw: bytes, wait: float = 3.0) -> bytes:
    """Send raw bytes, read until the server closes (or `wait` passes); everything it sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as connection:
        connection.sendall(raw)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            received += b"<still open>"
        except ConnectionResetError:  # closed with our unread bytes still queued: a close all the same
            pass
    return received


def _health_seconds(port: int) -> float:
    started = time.monotonic()
    answer = _exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", wait=10)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    return time.monotonic() - started


@pytest.mark.xfail(
    strict=True,
    reason="waitress's Python event loop walks every channel on each turn: with 2,000 idle connections "
    "/health takes about 4-5 s on this machine (target 1 s); a server built for many connections "
    "(granian) is the planned fix, see docs/BENCHMARKS.md",
)
def test_idle_connections_and_slowloris_clients_do_not_lock_health_out(runner):
    held = []
    try:
        for _ in range(IDLE_CONNECTIONS):
            held.append(socket.create_connection(("127.0.0.1", runner), timeout=5))
        slow = [socket.create_connection(("127.0.0.1", runner), timeout=5) for _ in range(SLOWLORIS)]
        held.extend(slow)
        time.sleep(3)  # the server has taken every connection off its listen queue
        for connection in slow:
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        for round_ in range(3):
            for connection in slow:
                connection.sendall(f"X-Slow-{round_}: 1\r\n".encode())
            assert _health_seconds(runner) <= 1.0
    finally:
        for connection in held:
            connection.close()


def test_content_length_with_transfer_encoding_closes_the_connection(runner):
    smuggled = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    chunked = b"0\r\n\r\n"
    answer = _exchange(
        runner,
        b"POST /api/zoho/webhooks/products HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(chunked + smuggled)}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        + chunked
        + smuggled,
    )
    assert answer.count(b"HTTP/1.1 ") == 1, answer  # the trailing bytes were not served as a request
    assert not answer.endswith(b"<still open>")


def test_chunked_that_is_not_the_last_coding_is_400_in_the_contract_shape(runner):
    answer = _exchange(
        runner,
        b"POST /api/zoho/webhooks/products HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head
    assert json.loads(body)["code"] == "bad_request"


def test_the_servers_own_errors_take_the_contract_shape(runner):
    cases = {
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n": 431,
        b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999\r\n\r\n": 413,
        b"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n": 400,
        b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n": 400,
    }
    for raw, status in cases.items():
        head, _, body = _exchange(runner, raw).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.") and head[9:12] == str(status).encode(), (raw[:60], head)
        answer = json.loads(body)
        assert answer["success"] is False and answer["code"] and answer["errors"] == [], answer
