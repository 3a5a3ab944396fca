"""Cold start of the shipped zip on arm64 under qemu user emulation, beside the same zip's project
on this machine's native x86_64 Python.

    PYTHONPATH=. .venv/bin/python bench/lambda_arm64.py [--zip PATH] [--repeat N]

Each sample is a new process that imports `aws_lambda.health` from the unpacked zip and answers one
API Gateway v2 GET /health against a scratch PostgreSQL database: interpreter start, imports,
engine, first connection, first answer. The emulated process is Debian's arm64 Python 3.11 under
qemu-aarch64 with the zip's own aarch64 libraries (scripts/arm64-sysroot.sh); the native one is
the venv's Python with the venv's x86_64 libraries (the zip's are for arm64). Emulation is many
times slower than a Graviton core: the emulated figure proves the artefact starts, and bounds
nothing about Lambda's real cold start. Without --zip the package is built first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMULATION = Path(os.environ.get("TSH_ARM64_ROOT", "/var/cache/tsh-arm64"))
_FIRST_ANSWER = """
import json, sys
event = json.loads(sys.argv[1])
import aws_lambda
answer = aws_lambda.health(event, None)
assert answer["statusCode"] == 200, answer
"""


def _package() -> Path:
    target = Path(tempfile.mkdtemp(prefix="tsh-bench-package-"))
    network = ["--param=subnetIds=subnet-bench", "--param=securityGroupIds=sg-bench"]
    subprocess.run(
        [str(ROOT / "scripts" / "package-lambda.sh"), str(target), "arm64", *network], check=True, capture_output=True
    )
    return target / "tsh-erp-functions.zip"


def _sample(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall ms, CPU ms) of one new process up to its exit after the first answer. CPU time is the
    steadier figure on a shared machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True, timeout=600)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", type=Path, help="a package built by scripts/package-lambda.sh (arm64)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.conftest import _create_postgres_database, _drop_postgres_database
    from tests.integration.test_lambda_events import http_api_event

    archive = args.zip or _package()
    task = Path(tempfile.mkdtemp(prefix="tsh-bench-task-"))
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(task)
    database = _create_postgres_database()
    try:
        subprocess.run(
            [sys.executable, "-m", "common.migrate"],
            env={**os.environ, "DATABASE_URL": database},
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        event = json.dumps(http_api_event("GET", "/health", sample="apigw_http_v2_event_GET.json"))
        env = {
            "PATH": "/usr/bin:/bin",
            "APP_ENV": "production",
            "_HANDLER": "aws_lambda.health",
            "DATABASE_URL": database + "?sslmode=disable",
            "DB_POOL_SIZE": "1",
        }
        emulated = [
            "qemu-aarch64",
            "-L",
            str(EMULATION / "sysroot"),
            str(EMULATION / "sysroot/usr/bin/python3.11"),
            "-c",
            _FIRST_ANSWER,
            event,
        ]
        native_project = Path(tempfile.mkdtemp(prefix="tsh-bench-native-"))
        for name in ("aws_lambda.py", "alembic.ini", "common", "functions", "migrations"):
            (native_project / name).symlink_to(task / name)
        native = [sys.executable, "-c", _FIRST_ANSWER, event]
        site = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sqlalchemy, os; print(os.path.dirname(os.path.dirname(sqlalchemy.__file__)))",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        figures: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for label, (wall, cpu) in (
                ("emulated_arm64", _sample(emulated, {**env, "PYTHONPATH": str(task)}, task)),
                ("native_x86_64", _sample(native, {**env, "PYTHONPATH": f"{native_project}:{site}"}, native_project)),
            ):
                figures.setdefault(f"{label}_wall_ms", []).append(wall)
                figures.setdefault(f"{label}_cpu_ms", []).append(cpu)
    finally:
        _drop_postgres_database(database)
    medians = {name: round(statistics.median(values)) for name, values in figures.items()}
    ratio = medians["emulated_arm64_cpu_ms"] / medians["native_x86_64_cpu_ms"]
    print(
        json.dumps(
            {
                "medians_ms": medians,
                "samples_ms": {k: [round(v) for v in vs] for k, vs in figures.items()},
                "emulated_over_native_cpu": round(ratio, 1),
                "zip_bytes": archive.stat().st_size,
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
