"""The local runner's HTTP server against hostile clients: thousands of idle connections and
slowloris clients cannot lock /health out, request smuggling is closed, malformed heads are
refused by the server itself (an empty body, the connection closed), and whatever reaches the
application takes the contract's shape."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator

import pytest

from tests.helpers import BIN, free_port, running

pytestmark = pytest.mark.slow  # a real runner and thousands of sockets

IDLE_CONNECTIONS, SLOWLORIS = 2000, 10
# Slow-body clients, and the runner's bound on receiving a body (REQUEST_BODY_TIMEOUT_SECONDS).
SLOW_BODIES, BODY_SECONDS = 100, 4


@pytest.fixture(scope="module")
def runner(tmp_path_factory) -> Iterator[int]:
    port = free_port()
    url = f"sqlite:///{tmp_path_factory.mktemp('runner') / 'db.sqlite3'}"
    command = [str(BIN / "python"), "local_runner.py", "--port", str(port)]
    # With an admin key the login form reads its body (without one it answers before reading).
    env = {
        "DATABASE_URL": url,
        "TDS_WORKERS": "0",
        "REQUEST_BODY_TIMEOUT_SECONDS": str(BODY_SECONDS),
        "ADMIN_API_KEY": "slow-clients-admin-key",
    }
    with running(command, env, f"http://127.0.0.1:{port}/health"):
        yield port


def _answer(connection: socket.socket, wait: float) -> bytes:
    """What the server sent on a connection until it closed it (or `wait` passed)."""
    connection.settimeout(wait)
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except TimeoutError:
        received += b"<still open>"
    except ConnectionResetError:  # closed with the client's unread bytes still queued: a close all the same
        pass
    return received


def _exchange(port: int, raw: bytes, wait: float = 3.0) -> bytes:
    """Send raw bytes, read until the server closes (or `wait` passes); everything it sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as connection:
        connection.sendall(raw)
        return _answer(connection, wait)


def _health_seconds(port: int) -> float:
    started = time.monotonic()
    answer = _exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", wait=10)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    return time.monotonic() - started


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


def test_slow_bodies_hold_no_request_thread_and_get_408_within_the_bound(runner):
    """100 clients send the head of a 1 MiB login form, then one byte a second: /health keeps
    answering within 1 s the whole time, and each slow client gets the contract's 408 and a
    closed connection within the bound."""
    head = (
        b"POST /dashboard/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"X-Request-ID: slow-body\r\nContent-Length: 1048576\r\n\r\n"
    )
    slow = [socket.create_connection(("127.0.0.1", runner), timeout=5) for _ in range(SLOW_BODIES)]
    try:
        started = time.monotonic()
        for connection in slow:
            connection.sendall(head)
        health_seconds = []
        while time.monotonic() - started < BODY_SECONDS - 0.5:
            for connection in slow:
                with contextlib.suppress(OSError):  # already refused and closed: checked below
                    connection.sendall(b"a")
            health_seconds.append(_health_seconds(runner))
            time.sleep(max(0.0, 1.0 - health_seconds[-1]))
        assert len(health_seconds) >= BODY_SECONDS - 1 and max(health_seconds) <= 1.0, health_seconds
        for connection in slow:
            answer = _answer(connection, wait=BODY_SECONDS + 3 - (time.monotonic() - started))
            head_part, _, body = answer.partition(b"\r\n\r\n")
            assert head_part.startswith(b"HTTP/1.1 408"), answer[:200]
            assert b"x-request-id: slow-body" in head_part.lower()
            assert json.loads(body) == {
                "success": False,
                "message": json.loads(body)["message"],
                "code": "request_timeout",
                "errors": [],
            }
        assert time.monotonic() - started <= BODY_SECONDS + 3
        assert _health_seconds(runner) <= 1.0
    finally:
        for connection in slow:
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


def _refused_and_closed(answer: bytes, status: int) -> None:
    """granian (hyper) refuses these itself, before the application: the status line, an empty
    body, and the connection closed. Its Rust side gives no way to shape that body."""
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status}".encode()), head
    assert b"connection: close" in head.lower() and body == b"", answer[:300]


def test_chunked_that_is_not_the_last_coding_is_refused_and_closed(runner):
    answer = _exchange(
        runner,
        b"POST /api/zoho/webhooks/products HTTP/1.1\r\nHost: x\r\n"
        b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    )
    _refused_and_closed(answer, 400)


def test_malformed_heads_are_refused_by_the_server_and_closed(runner):
    cases = {
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n": 431,
        b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n": 400,
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n": 400,
    }
    for raw, status in cases.items():
        _refused_and_closed(_exchange(runner, raw), status)


def test_body_errors_reach_the_application_and_take_the_contract_shape(runner):
    webhook = b"POST /api/zoho/webhooks/products HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    cases = {
        webhook + b"Content-Length: 99999999999999\r\n\r\n": (413, "payload_too_large"),
        webhook + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n": (400, "bad_request"),  # a broken chunk size
    }
    for raw, (status, code) in cases.items():
        head, _, body = _exchange(runner, raw).partition(b"\r\n\r\n")
        assert head.startswith(f"HTTP/1.1 {status}".encode()), (raw[:60], head)
        assert json.loads(body) == {
            "success": False,
            "message": json.loads(body)["message"],
            "code": code,
            "errors": [],
        }
