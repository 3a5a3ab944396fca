"""scripts/deploy.sh against a stand-in for the Serverless CLI (a `npx` on PATH that records its
calls and answers like the real one): its argument checks and its order, migrate before traffic."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "deploy.sh"
URL = "https://abc123.execute-api.me-south-1.amazonaws.com"
# Records each call as one line; `serverless info` fails when NO_STACK is set (until the deploy
# made the stack: `info --verbose` comes after it), and the
# subcommand named by FAIL_ON exits 1 (as the CLI does when an invoked function fails).
_NPX = f"""#!/usr/bin/env bash
echo "npx $*" >> "$CALLS"
command="$3"; [ "$3" = deploy ] && [ "$4" = function ] && command="deploy-function"
[ "$command" = info ] && [ -n "${{NO_STACK:-}}" ] && [[ " $* " != *" --verbose "* ]] && exit 1
[ "$command" = "${{FAIL_ON:-}}" ] && {{ echo "Error: $command failed" >&2; exit 1; }}
case " $* " in *" --verbose "*) echo "endpoints:"; echo "  HttpApiUrl: {URL}";; esac
exit 0
"""
_PYTHON = """#!/usr/bin/env bash
echo "python $*" >> "$CALLS"
"""


@pytest.fixture
def cli(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("npx", _NPX), ("python", _PYTHON)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    calls = tmp_path / "calls"

    def run(*args: str, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
        result = subprocess.run(
            [str(SCRIPT), *args],
            env={
                **os.environ,
                "PATH": f"{bin_dir}:{os.environ['PATH']}",
                "CALLS": str(calls),
                "PYTHON": str(bin_dir / "python"),
                **env,
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        recorded = calls.read_text().splitlines() if calls.exists() else []
        return result, [line for line in recorded if " info " not in f"{line} " or "--verbose" in line]

    return run


def _steps(calls: list[str]) -> list[str]:
    names = []
    for call in calls:
        words = call.split()
        if words[0] == "python":
            names.append(f"verify {words[-1]}")
        elif words[3:5] == ["deploy", "function"]:
            names.append("deploy migrate")
        elif words[3] == "deploy":
            names.append("deploy all")
        elif words[3] == "invoke":
            names.append(f"invoke {words[words.index('--function') + 1]}")
        else:
            names.append(words[3] if words[3] != "info" else "info --verbose")
    return names


def test_migrate_runs_with_the_new_code_before_the_other_functions_take_it(cli):
    result, calls = cli("prod", "--param=subnetIds=subnet-1", "--param=securityGroupIds=sg-1")
    assert result.returncode == 0, result.stderr
    assert _steps(calls) == [
        "package",
        "deploy migrate",
        "invoke migrate",
        "deploy all",
        "info --verbose",
        f"verify {URL}",
    ]
    assert all("--stage prod" in call and "--param=subnetIds=subnet-1" in call for call in calls if "npx" in call)
    assert "--package .serverless/prod" in calls[0] and "--package .serverless/prod" in calls[3]


def test_a_failed_migration_stops_before_any_traffic_moves(cli):
    result, calls = cli("prod", FAIL_ON="invoke")
    assert result.returncode != 0
    assert _steps(calls) == ["package", "deploy migrate", "invoke migrate"]


def test_a_refused_package_deploys_nothing(cli):
    result, calls = cli("prod", FAIL_ON="package")
    assert result.returncode != 0
    assert _steps(calls) == ["package"]


def test_a_new_stage_is_deployed_then_migrated(cli):
    result, calls = cli("staging", NO_STACK="1")
    assert result.returncode == 0, result.stderr
    assert _steps(calls) == ["package", "deploy all", "invoke migrate", "info --verbose", f"verify {URL}"]
    assert "no stack for stage staging yet" in result.stderr


def test_a_dry_run_prints_the_steps_and_calls_nothing(cli):
    result, calls = cli("prod", DRY_RUN="1")
    assert result.returncode == 0, result.stderr
    assert calls == []
    printed = [line for line in result.stderr.splitlines() if line.startswith("+ ")]
    assert len(printed) == 5 and "invoke --function migrate" in printed[2] and "deploy --package" in printed[3]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "usage: scripts/deploy.sh STAGE"),
        (("Prod",), "stage must be lowercase letters"),
        (("prod", "--force"), "only --param=name=value options may follow the stage, not '--force'"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(cli, args, message):
    result, calls = cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert calls == []


def test_readme_and_operations_describe_this_script():
    readme, operations = (Path(PROJECT_ROOT, name).read_text() for name in ("README.md", "docs/OPERATIONS.md"))
    for text in (readme, operations):
        assert "scripts/deploy.sh prod" in text
        assert "serverless@4" not in text
