"""The deployment package, built once per session by the pinned Serverless Framework v3
(scripts/package-lambda.sh: offline, fake credentials, no AWS call) for test_packaging.py (its
template and zip) and test_lambda_arm64.py (the zip, run on arm64).

Packaging needs node_modules (`npm ci`); without it these tests skip, unless
TSH_REQUIRE_PACKAGING=1 (set by .ci/run) turns the skip into a failure.
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

from common.ssm_secrets import SECRET_PARAMETERS
from tests.helpers import PROJECT_ROOT

SERVERLESS_CLI = PROJECT_ROOT / "node_modules" / ".bin" / "serverless"
PACKAGE_SCRIPT = PROJECT_ROOT / "scripts" / "package-lambda.sh"
SERVICE = "tsh-erp-functions"
STAGE = "prod"
ARCHITECTURE = yaml.safe_load((PROJECT_ROOT / "serverless.yml").read_text())["params"]["default"]["architecture"]
# Put into the packaging process's environment: none may reach the template or the zip.
CANARIES = {field.upper(): f"canary-{field}-must-not-ship-5c1d" for field in SECRET_PARAMETERS.values()}
# The project's own part of the zip (the rest is the libraries).
PROJECT = {"aws_lambda.py", "service.py", "alembic.ini", "common", "functions", "migrations"}
# A production network (ids, not secrets), an alarm address, and one reserved concurrency of 0.
NETWORK = {"subnetIds": "subnet-0aaa,subnet-0bbb", "securityGroupIds": "sg-0ccc", "vpcId": "vpc-0ddd"}
PARAMS = {**NETWORK, "vpcEndpoints": "true", "alarmEmail": "alarms@example.com", "purgeConcurrency": "0"}


@pytest.fixture(scope="session")
def package_dir(tmp_path_factory) -> Path:
    """`serverless package --stage prod` once per session, into a scratch directory, with secret-looking
    canaries in its environment."""
    if not SERVERLESS_CLI.exists():
        reason = f"{SERVERLESS_CLI.relative_to(PROJECT_ROOT)} is missing: run `npm ci` first"
        if os.environ.get("TSH_REQUIRE_PACKAGING") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    target = tmp_path_factory.mktemp("serverless-package")
    result = subprocess.run(
        [
            str(PACKAGE_SCRIPT),
            str(target),
            ARCHITECTURE,
            *(f"--param={name}={value}" for name, value in PARAMS.items()),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, **CANARIES},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return target


@pytest.fixture(scope="session")
def unpacked(package_dir, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("lambda-zip")
    with zipfile.ZipFile(package_dir / f"{SERVICE}.zip") as archive:
        archive.extractall(target)
    return target
