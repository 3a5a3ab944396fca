"""The README's commands run as written, from its code blocks, against a runner started the way
it says (scripts/run.sh), on a fresh SQLite file and a free port.

What is substituted, mechanically: `localhost:8080` by the runner's address,
`<token printed at start>` by the token it printed, and PostgreSQL's role and database `tsh`
by names of this run (the server is shared). Every curl line gets `-w` to report its status.
A command the test does not know fails it, so a new README command comes with its check.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from common.config import LOCAL_ADMIN_KEY_PATH
from tests.conftest import PG_ADMIN_URL
from tests.helpers import PROJECT_ROOT, free_port, running

pytestmark = pytest.mark.slow  # real servers and tools as subprocesses

README = PROJECT_ROOT / "README.md"
# Expected status of each curl line of the README, by its path (and method when not GET).
CURL_STATUS = {
    "GET /health": 200,
    "GET /api/mobile/search": 200,
    "GET /api/mobile/checkout": 200,
    "POST /api/zoho/webhooks/products": 202,
}
# Commands not run here, and why.
NOT_RUN = {
    "scripts/test.sh": "the test suite itself",
    "bench/run.sh": "benchmarks take minutes; run by hand (docs/BENCHMARKS.md)",
    # Deploying to AWS: packaging is run offline by tests/e2e/test_packaging.py; the rest needs an account.
    "npm ci && scripts/package-lambda.sh": "tests/e2e/test_packaging.py packages the service offline",
    "ADMIN_API_KEY=... WEBHOOK_API_KEY=... scripts/deploy.sh": "deploys to AWS; tests/e2e/test_deploy_script.py "
    "runs it against a stand-in for the Serverless CLI",
    "stage=": "the AWS deployment's shell variable",
    "put": "writes SSM parameters in an AWS account",
}
_TOKEN = re.compile(r"Authorization: Bearer (\S+)")


def commands(markdown: str) -> list[str]:
    """The commands of the ```bash blocks, continuation lines joined, comments left to the shell."""
    found = []
    for block in re.findall(r"```bash\n(.*?)```", markdown, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                found.append(line.strip())
    return found


def _curl_key(command: str) -> str:
    words = shlex.split(command, comments=True)
    method = words[words.index("-X") + 1] if "-X" in words else "GET"
    url = next(word for word in words if word.startswith("localhost:"))
    return f"{method} {'/' + url.split('/', 1)[1].split('?')[0]}"


def test_every_readme_command_is_known_to_this_test():
    for command in commands(README.read_text()):
        if command.startswith(tuple(NOT_RUN)):
            continue
        known = command.startswith(
            (
                "curl ",
                "scripts/run.sh",
                ".venv/bin/python -m common.shop.auth",
                "psql ",
                "export DATABASE_URL=",
                ".venv/bin/python -m common.migrate",
            )
        )
        assert known, f"the README command {command!r} is not run by tests/e2e/test_readme.py: teach it"
        if command.startswith("curl "):
            assert _curl_key(command) in CURL_STATUS, f"add the expected status of {command!r} to CURL_STATUS"


def _run(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", command], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _quickstart(markdown: str) -> str:
    return markdown[markdown.index("## The two commands") : markdown.index("## Configuration")]


def test_the_quickstart_runs_as_written(tmp_path):
    """scripts/run.sh, then each curl line of "Try it" and the token command, against that runner."""
    markdown = _quickstart(README.read_text())
    port = free_port()
    base = f"127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'readme.sqlite3'}", "TDS_WORKERS": "0"}
    start = next(c for c in commands(markdown) if c.startswith("scripts/run.sh"))
    # Any database but the embedded default needs --demo for the demo customer's checkout.
    runner = [*shlex.split(start, comments=True), "--port", str(port), "--demo"]
    with running(runner, env, f"http://{base}/health", timeout=300) as server:
        printed = _TOKEN.search(server.output())
        assert printed, f"no token printed at start: {server.output()[-2000:]}"
        for command in commands(markdown):
            if command.startswith("curl "):
                line = command.replace("localhost:8080", base).replace("<token printed at start>", printed.group(1))
                result = _run(line + " -w '\\n%{http_code}'", env)
                body, _, status = result.stdout.rpartition("\n")
                assert int(status) == CURL_STATUS[_curl_key(command)], (command, result.stdout, result.stderr)
                assert json.loads(body), command
            elif command.startswith(".venv/bin/python -m common.shop.auth"):
                result = _run(command, env)
                assert result.returncode == 0, (command, result.stderr)
                token = result.stdout.strip()
                answer = requests.get(
                    f"http://{base}/api/mobile/checkout", headers={"Authorization": f"Bearer {token}"}, timeout=10
                )
                assert answer.status_code == 200, answer.text
        _the_page_opens_with_the_generated_key(server.output(), base)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0


def _the_page_opens_with_the_generated_key(output: str, base: str) -> None:
    """With no ADMIN_API_KEY the runner prints the page's login URL, and the key (kept in
    var/admin_api_key) signs in; the key is printed at the first start only."""
    assert f"http://{base}/dashboard/login" in output, output[-2000:]
    key = LOCAL_ADMIN_KEY_PATH.read_text().strip()
    assert (LOCAL_ADMIN_KEY_PATH.stat().st_mode & 0o777) == 0o600
    session = requests.Session()
    form = session.get(f"http://{base}/dashboard/login", timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    signed_in = session.post(f"http://{base}/dashboard/login", data={"csrf": csrf, "admin_key": key}, timeout=10)
    assert signed_in.status_code == 200 and signed_in.url.endswith("/dashboard"), signed_in.text[-500:]
    assert 'id="status"' in signed_in.text


def _postgres_section(markdown: str) -> list[str]:
    return commands(markdown[markdown.index("## PostgreSQL") : markdown.index("## Layout")])


@pytest.fixture
def scratch_role() -> str:
    """A role and database name for this run; both are dropped afterwards."""
    name = f"tsh_readme_{uuid.uuid4().hex[:8]}"
    yield name
    admin = make_url(PG_ADMIN_URL)
    psql = [
        "psql",
        "-h",
        admin.host or "127.0.0.1",
        "-p",
        str(admin.port or 5432),
        "-U",
        admin.username or "postgres",
        "-d",
        "postgres",
        "-c",
    ]
    subprocess.run([*psql, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True, timeout=60)
    subprocess.run([*psql, f"DROP ROLE IF EXISTS {name}"], capture_output=True, timeout=60)


def test_the_postgresql_section_runs_as_written(scratch_role):
    """Create the role and the database, migrate, start the runner: each line as the README has it."""
    lines = [re.sub(r"\btsh\b", scratch_role, line) for line in _postgres_section(README.read_text())]
    port = free_port()
    script = []
    for line in lines:
        if line.startswith("scripts/run.sh"):
            start = line
            continue
        script.append(line)
    env = {**os.environ, "TDS_WORKERS": "0"}
    prepared = _run("\n".join(["set -e", *script, 'echo "$DATABASE_URL"']), env)
    assert prepared.returncode == 0, prepared.stderr
    database_url = prepared.stdout.strip().splitlines()[-1]
    runner = [*shlex.split(start, comments=True), "--port", str(port)]
    with running(runner, {**env, "DATABASE_URL": database_url}, f"http://127.0.0.1:{port}/health", timeout=300):
        health = requests.get(f"http://127.0.0.1:{port}/health", timeout=10)
        assert health.status_code == 200, health.text
        search = requests.get(f"http://127.0.0.1:{port}/api/mobile/search", params={"q": "سامسونج"}, timeout=10)
        assert search.json()["total_count"] > 0, "--demo should have filled the new database"


def test_the_readme_commands_are_found():
    """The extraction must see the commands, or the tests above would prove nothing."""
    found = commands(README.read_text())
    assert any(c.startswith("curl -s 'localhost:8080/api/mobile/search?q=") for c in found)
    assert any(c.startswith("psql ") for c in found)
    assert Path(PROJECT_ROOT / "scripts" / "run.sh").exists()
