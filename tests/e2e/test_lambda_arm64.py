"""The shipped zip, run as Lambda runs it, on arm64: the package that `serverless package` built,
unpacked, started by AWS's runtime interface client (awslambdaric) under Debian's arm64 Python
3.11 in qemu user emulation (scripts/arm64-sysroot.sh builds that root; no Docker). The Lambda
Runtime API the client talks to is served here on loopback; SSM is a moto_server; the database is
a fresh PostgreSQL database. Each function runs in its own process, as each Lambda does.

Without the emulation root these tests skip, unless TSH_REQUIRE_ARM64=1 (set by .ci/run) turns
the skip into a failure."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from sqlalchemy import create_engine, select

from common.db.engine import sqlalchemy_url
from common.migrate import latest_revisions
from common.models import tds_sync_queue
from tests import zoho_payloads as zoho
from tests.conftest import BACKENDS, _create_postgres_database, _drop_postgres_database
from tests.e2e.conftest import ARCHITECTURE
from tests.integration.test_lambda_events import AWS_EVENTS, http_api_event, scheduled_event

ROOT = Path(os.environ.get("TSH_ARM64_ROOT", "/var/cache/tsh-arm64"))
PYTHON = ROOT / "sysroot" / "usr" / "bin" / "python3.11"
PREFIX = "/tsh-erp/emulated/"
WEBHOOK_KEY = "webhook-key-emulated-0123456789"
ADMIN_KEY = "admin-key-emulated-0123456789ab"
INVOCATION_SECONDS = 240  # emulated, on a shared machine: generous, a hang still ends
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not AWS_EVENTS.is_dir(), reason=f"the real AWS event samples are absent ({AWS_EVENTS})"),
]


@pytest.fixture(scope="module")
def emulation() -> Path:
    missing = [str(path) for path in (PYTHON, ROOT / "runtime" / "awslambdaric") if not path.exists()]
    if ARCHITECTURE != "arm64":
        missing.append(f"the package is built for {ARCHITECTURE}, not arm64")
    if missing or not _on_path("qemu-aarch64"):
        reason = f"no arm64 emulation root (run scripts/arm64-sysroot.sh): missing {missing or ['qemu-aarch64']}"
        if os.environ.get("TSH_REQUIRE_ARM64") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return ROOT


def _on_path(program: str) -> bool:
    return any(Path(folder, program).exists() for folder in os.environ.get("PATH", "").split(os.pathsep))


class RuntimeApi(ThreadingHTTPServer):
    """The Lambda Runtime API (2018-06-01) on loopback: hands out queued events, keeps the answers."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RuntimeApiHandler)
        self.events: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.answers: dict[str, queue.Queue[tuple[str, dict]]] = {}
        self.init_errors: list[dict] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def invoke(self, event: dict, timeout: float = INVOCATION_SECONDS) -> tuple[str, dict]:
        """("response" or "error", the payload) for one event."""
        request_id = str(uuid.uuid4())
        self.answers[request_id] = queue.Queue()
        self.events.put((request_id, event))
        try:
            return self.answers[request_id].get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no answer in {timeout} s; init errors: {self.init_errors}") from None


class _RuntimeApiHandler(BaseHTTPRequestHandler):
    server: RuntimeApi

    def log_message(self, *args) -> None:
        pass

    def _reply(self, status: int, body: bytes = b"{}", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        assert self.path == "/2018-06-01/runtime/invocation/next", self.path
        request_id, event = self.server.events.get()
        deadline = int((time.time() + INVOCATION_SECONDS) * 1000)
        self._reply(
            200,
            json.dumps(event).encode(),
            {
                "Lambda-Runtime-Aws-Request-Id": request_id,
                "Lambda-Runtime-Deadline-Ms": str(deadline),
                "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:me-south-1:123456789012:function:emulated",
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                "Content-Type": "application/json",
            },
        )

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
        parts = self.path.split("/")
        if self.path == "/2018-06-01/runtime/init/error":
            self.server.init_errors.append(body)
        else:
            self.server.answers[parts[4]].put((parts[5], body))
        self._reply(202)


class Lambda:
    """One function of the zip, in its own emulated process, answering invocations."""

    def __init__(self, task: Path, name: str, environment: dict[str, str]) -> None:
        self.api = RuntimeApi()
        self.output: str | None = None
        threading.Thread(target=self.api.serve_forever, daemon=True).start()
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            ["qemu-aarch64", "-L", str(ROOT / "sysroot"), str(PYTHON), "-m", "awslambdaric", f"aws_lambda.{name}"],
            cwd=task,
            env={
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": f"{task}:{ROOT / 'runtime'}",  # /var/task, then what the runtime provides
                "LAMBDA_TASK_ROOT": str(task),
                "_HANDLER": f"aws_lambda.{name}",
                "AWS_LAMBDA_RUNTIME_API": self.api.address,
                "AWS_LAMBDA_FUNCTION_NAME": f"tsh-erp-functions-emulated-{name}",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
                **environment,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def invoke(self, event: dict) -> tuple[str, dict]:
        """The answer to `event`; an AssertionError with the process's output if it ends first."""
        answer: list[tuple[str, dict]] = []
        waiter = threading.Thread(target=lambda: answer.append(self.api.invoke(event)), daemon=True)
        waiter.start()
        while waiter.is_alive() and self.process.poll() is None:
            waiter.join(timeout=0.5)
        waiter.join(timeout=1)
        if not answer:
            raise AssertionError(f"the function ended without answering: {self.api.init_errors}\n{self.stop()[-3000:]}")
        return answer[0]

    def stop(self) -> str:
        if self.output is None:
            self.process.kill()
            self.output = self.process.communicate(timeout=30)[0]
            self.api.shutdown()
            self.api.server_close()
        return self.output


@pytest.fixture(scope="module")
def moto_ssm() -> Iterator[str]:
    """moto_server on loopback with the stage's parameters (all but the database URL, which
    `database` adds)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(os.sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.2)
        ssm = boto3.client(
            "ssm",
            endpoint_url=url,
            region_name="me-south-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        secrets = {
            "webhook-api-key": WEBHOOK_KEY,
            "admin-api-key": ADMIN_KEY,
            "mobile-token-secret": "mobile-token-secret-emulated-0123456789abcdef",
            "zoho-client-id": "1000.EMULATED",
            "zoho-client-secret": "zoho-secret-emulated",
            "zoho-refresh-token": "1000.refresh-emulated",
            "zoho-organization-id": "775533",
        }
        for name, value in secrets.items():
            ssm.put_parameter(Name=PREFIX + name, Value=value, Type="SecureString")
        yield url
    finally:
        server.kill()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def database(moto_ssm) -> Iterator[str]:
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL excluded by TSH_TEST_BACKENDS")
    url = _create_postgres_database()
    ssm = boto3.client(
        "ssm",
        endpoint_url=moto_ssm,
        region_name="me-south-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    # The suite's server offers no TLS: production's default (verify-full) is lifted in the URL.
    ssm.put_parameter(Name=PREFIX + "database-url", Value=url + "?sslmode=disable", Type="SecureString")
    try:
        yield url
    finally:
        _drop_postgres_database(url)


@pytest.fixture(scope="module")
def run(emulation, unpacked, moto_ssm, database):
    """run(function, *events, prefix=PREFIX): start the function, invoke it with each event in
    turn, stop it; the answers, the seconds to the first answer, and the process's output."""

    def start(name: str, *events: dict, prefix: str = PREFIX) -> tuple[list[tuple[str, dict]], float, str]:
        function = Lambda(
            unpacked,
            name,
            {
                "APP_ENV": "production",
                "SECRETS_SSM_PREFIX": prefix,
                "DB_POOL_SIZE": "1",
                "AWS_ENDPOINT_URL": moto_ssm,
                "AWS_REGION": "me-south-1",
                "AWS_DEFAULT_REGION": "me-south-1",
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
            },
        )
        answers, first = [], None
        try:
            for event in events:
                answers.append(function.invoke(event))
                first = first if first is not None else time.monotonic() - function.started
        finally:
            output = function.stop()
        return answers, first, output

    return start


def _body(answer: dict) -> dict:
    return json.loads(answer["body"])


def test_the_zip_runs_on_arm64_migrate_health_webhook_drain(run, database):
    engine = create_engine(sqlalchemy_url(database))
    try:
        # migrate goes to head, and a second run finds nothing to do.
        [(kind, first), (again_kind, again)], _, output = run("migrate", {}, {})
        assert (kind, again_kind) == ("response", "response"), output[-3000:]
        assert first["to_revision"] == latest_revisions()[0] and again["from_revision"] == again["to_revision"]

        [(kind, health)], _, output = run(
            "health", http_api_event("GET", "/health", sample="apigw_http_v2_event_GET.json")
        )
        assert kind == "response" and health["statusCode"] == 200, output[-3000:]
        assert _body(health)["status"] == "healthy"

        webhook = http_api_event(
            "POST",
            "/api/zoho/webhooks/products",
            headers={"X-Webhook-Key": WEBHOOK_KEY},
            body=zoho.product("460000000099001"),
        )
        [(kind, accepted)], _, output = run("zoho_webhook", webhook)
        assert kind == "response" and accepted["statusCode"] == 202, output[-3000:]
        with engine.connect() as connection:
            assert connection.execute(select(tds_sync_queue.c.status)).scalars().all() == ["pending"]

        [(kind, summary)], _, output = run("drain_queue", scheduled_event())
        assert kind == "response" and summary["claimed"] == 1 and summary["completed"] == 1, output[-3000:]
        with engine.connect() as connection:
            assert connection.execute(select(tds_sync_queue.c.status)).scalars().all() == ["completed"]
    finally:
        engine.dispose()


def test_a_missing_parameter_answers_503_on_arm64(run, moto_ssm):
    """A stage whose SSM path lacks the database URL: the function answers 503 in the contract's shape."""
    [(kind, answer)], _, output = run(
        "health", http_api_event("GET", "/health", sample="apigw_http_v2_event_GET.json"), prefix="/tsh-erp/empty/"
    )
    assert kind == "response" and answer["statusCode"] == 503, output[-3000:]
    assert _body(answer)["success"] is False and _body(answer)["code"] == "service_unavailable"
