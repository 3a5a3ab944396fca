"""What reaches the local runner as raw bytes: UTF-8 in the request target, and requests the
HTTP server itself refuses (granian answers those in Rust, before any Python: 400, the
connection closed, and no line in the runner's log; bench/README.md, "HTTP server of the local runner")."""

import json
import signal
import socket

import pytest

from tests.helpers import BIN, free_port, running

pytestmark = pytest.mark.slow  # real servers and tools as subprocesses


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_raw_utf8_targets_are_served_and_malformed_heads_refused(db):
    port = free_port()
    command = [str(BIN / "python"), "local_runner.py", "--port", str(port)]
    with running(command, {"DATABASE_URL": db.url, "TDS_WORKERS": "0"}, f"http://127.0.0.1:{port}/health") as server:
        # As curl sends it: the Arabic query's UTF-8 bytes, not percent-encoded.
        search = _raw(port, "GET /api/mobile/search?q=سامسونج HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        head, _, body = search.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 200"), search[:300]
        assert json.loads(body)["query"] == "سامسونج"
        # UTF-8 in the path reaches the route as the same characters.
        product = _raw(port, "GET /api/mobile/products/١٢ HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        assert b'"code":"not_found"' in product
        refused = _raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
        assert refused.startswith(b"HTTP/1.1 400") and b"connection: close" in refused, refused[:300]
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0
