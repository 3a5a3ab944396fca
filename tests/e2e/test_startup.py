"""A runner that cannot start says why in one line, with the fix, and exits non-zero; it never
fills a database other than the embedded default with demo data unless told to."""

import signal
import socket
import subprocess

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from common.models import products
from tests.conftest import PG_ADMIN_URL
from tests.helpers import BIN, PROJECT_ROOT, free_port, running

pytestmark = pytest.mark.slow  # real servers and tools as subprocesses

RUNNER = [str(BIN / "python"), "local_runner.py"]


def _start(url: str, *extra: str) -> subprocess.CompletedProcess:
    env = {"DATABASE_URL": url, "TDS_WORKERS": "0", "DB_CONNECT_TIMEOUT_SECONDS": "2"}
    return subprocess.run(
        [*RUNNER, "--port", str(free_port()), *extra],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _postgres(**parts: str) -> str:
    return make_url(PG_ADMIN_URL).set(**parts).render_as_string(hide_password=False)


def test_database_unreachable(refused_database_url):
    line = _one_line(_start(refused_database_url))
    assert line.startswith("cannot start: database unreachable at 127.0.0.1:")
    assert "start PostgreSQL or correct the host and port in DATABASE_URL" in line
    assert "secret-password" not in line


def test_authentication_failed():
    line = _one_line(_start(_postgres(username="tsh_no_such_role")))
    assert line.startswith("cannot start: authentication failed for PostgreSQL user 'tsh_no_such_role'")
    assert "create the role (README, section PostgreSQL)" in line


def test_database_missing():
    line = _one_line(_start(_postgres(database="tsh_no_such_database")))
    assert line.startswith("cannot start: database 'tsh_no_such_database' does not exist")
    assert "createdb" in line


def test_port_in_use(db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*RUNNER, "--port", str(port)],
            cwd=PROJECT_ROOT,
            env={"DATABASE_URL": db.url, "TDS_WORKERS": "0"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert _one_line(result) == (
        f"cannot start: port {port} on 127.0.0.1 is already in use: "
        "stop the other server or choose another port with --port"
    )


def test_another_database_gets_demo_data_only_when_asked(db):
    """An empty, migrated database that is not the embedded default may be an operator's."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"DATABASE_URL": db.url, "TDS_WORKERS": "0"}
    with running([*RUNNER, "--port", str(port)], env, f"{base}/health") as server:
        assert requests.get(f"{base}/health", timeout=5).status_code == 200
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0
        output = server.output()
    with db.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(products)).scalar_one() == 0
    assert "--demo would replace all data with the demo set" in output
    assert "Demo customer" not in output


def test_the_help_says_demo_replaces_the_data():
    result = subprocess.run([*RUNNER, "--help"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "replace ALL data in the database with the demo set" in " ".join(result.stdout.split())
