"""The Lambda host fails well: a missing or unreachable secret store answers 503 in the
contract's shape, through the real handler, and within the request's budget."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

import aws_lambda
from common import aws, ssm_secrets
from common.config import get_settings
from common.db.engine import ENGINES
from common.http import HTTP_BUDGET_SECONDS
from common.metrics import recording as metrics
from tests.integration.test_lambda_events import AWS_EVENTS, http_api_event

pytestmark = pytest.mark.skipif(not AWS_EVENTS.is_dir(), reason=f"the real AWS event samples are absent ({AWS_EVENTS})")
PREFIX = "/tsh-erp/prod/"


def _contract_error(answer: dict) -> tuple[int, str]:
    body = json.loads(answer["body"])
    assert body["success"] is False and isinstance(body["errors"], list)
    return answer["statusCode"], body["code"]


@pytest.fixture
def production(monkeypatch):
    """A production Lambda of `health` whose secrets live in SSM, with AWS credentials that are fake."""
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRETS_SSM_PREFIX", PREFIX)
    monkeypatch.setenv(ssm_secrets.LAMBDA_HANDLER_VARIABLE, "aws_lambda.health")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "me-south-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # An interval already passed: the handler's finally flushes the metrics on this invocation.
    monkeypatch.setattr(metrics.RECORDER, "last_flush", time.monotonic() - 3600)
    get_settings.cache_clear()
    yield
    # An engine made here has production's TLS default; the next test's engines are local ones.
    ENGINES.clear()


def test_a_missing_parameter_answers_503_not_a_crash(production):
    """The database URL parameter is missing: the answer is the 503 the handler built, even
    though the metrics flush after it runs on the same broken configuration."""
    with mock_aws():
        boto3.client("ssm", region_name="me-south-1").put_parameter(
            Name=PREFIX + "unrelated", Value="x", Type="SecureString"
        )
        answer = aws_lambda.health(http_api_event("GET", "/health"), None)
    assert _contract_error(answer) == (503, "service_unavailable")


@pytest.fixture
def silent_endpoint(monkeypatch) -> Iterator[str]:
    """A TCP endpoint on loopback that accepts connections and never answers; every AWS client
    is pointed at it."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    yield url
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_an_ssm_endpoint_that_never_answers_gives_503_within_the_request_budget(production, silent_endpoint):
    handler = aws_lambda.health
    started = time.monotonic()
    answer = handler(http_api_event("GET", "/health"), None)
    elapsed = time.monotonic() - started
    assert _contract_error(answer) == (503, "service_unavailable")
    # One read's worst case, not one per settings lookup, and inside what the route may spend.
    assert elapsed < aws.worst_case_seconds(ssm_secrets.SSM_ATTEMPTS) + 1.0 < HTTP_BUDGET_SECONDS
    # The next request within the failure's memory answers at once, without a second wait.
    started = time.monotonic()
    assert _contract_error(handler(http_api_event("GET", "/health"), None)) == (503, "service_unavailable")
    assert time.monotonic() - started < aws.CONNECT_TIMEOUT_SECONDS


def test_every_aws_call_fits_the_shortest_function_limit():
    """SSM is read at cold start inside a request; PutEvents runs inside the relay's slack after a drain."""
    assert aws.worst_case_seconds(ssm_secrets.SSM_ATTEMPTS) < HTTP_BUDGET_SECONDS
    from functions.drain_queue import RELAY_BUDGET_SECONDS

    assert RELAY_BUDGET_SECONDS + aws.worst_case_seconds(1) < 10  # the drain's budget leaves 10 s of its timeout


def test_a_function_without_the_admin_key_refuses_admin_routes(db, production, monkeypatch):
    """A production function whose parameters lack the key a route checks never serves it open
    (with the key's check skipped, the database configured here would answer 200)."""
    monkeypatch.setenv(ssm_secrets.LAMBDA_HANDLER_VARIABLE, "aws_lambda.zoho_dashboard")
    monkeypatch.setattr(ssm_secrets, "FUNCTION_PARAMETERS", {**ssm_secrets.FUNCTION_PARAMETERS, "zoho_dashboard": ()})
    answer = aws_lambda.zoho_dashboard(http_api_event("GET", "/api/zoho/dashboard/stats"), None)
    assert _contract_error(answer) == (503, "service_unavailable")
