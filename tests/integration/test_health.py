"""GET /health against real databases: healthy ones, and an unreachable one that must not hang."""

import socket
import time
from collections.abc import Iterator

import pytest
from werkzeug.test import Client

from common.health import HEALTHY_MESSAGE
from local_runner import create_app


def test_healthy_database_answers_200_with_the_arabic_message(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "healthy"
    assert body["message"] == HEALTHY_MESSAGE
    assert body["database"]["status"] == "ok"
    assert body["database"]["latency_ms"] >= 0
    assert body["version"] and body["timestamp"].endswith("Z")
    # Arabic travels as UTF-8 characters, not \u escapes.
    assert HEALTHY_MESSAGE.encode() in response.data


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts TCP connections and never says a word: a hung database."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def silent_database_url(silent_server) -> str:
    return f"postgresql://tsh:secret-password@127.0.0.1:{silent_server}/tsh"


@pytest.mark.parametrize("url", ["silent_database_url", "refused_database_url"])
def test_unreachable_database_is_503_within_the_connect_timeout(configure, request, url):
    configure(DATABASE_URL=request.getfixturevalue(url))
    started = time.monotonic()
    response = Client(create_app()).get("/health")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unhealthy"
    assert body["database"]["status"] == "error"
    assert body["database"]["error"]
    assert "secret-password" not in response.get_data(as_text=True)
    assert elapsed < 4.5, f"health took {elapsed:.1f}s; the connect timeout is 3s"
