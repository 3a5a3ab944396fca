"""What every benchmark here needs: scratch databases, child processes, CPU accounting, wrk, results.

Shared by bench/sync_bench.py and bench/mobile_bench.py. Nothing here measures anything by
itself; it starts, times and cleans up, and everything it starts or creates is stopped or
dropped when the benchmark exits, even after an error.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pg8000.native

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PYTHON = sys.executable

PG = {
    "host": os.environ.get("BENCH_PGHOST", "127.0.0.1"),
    "port": int(os.environ.get("BENCH_PGPORT", "5432")),
    "user": os.environ.get("BENCH_PGUSER", "postgres"),
}


def db_url(name: str) -> str:
    return f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{name}"


def conninfo(name: str) -> str:
    return f"host={PG['host']} port={PG['port']} user={PG['user']} dbname={name}"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- scratch databases


_created: set[str] = set()


def _admin() -> pg8000.native.Connection:
    return pg8000.native.Connection(database="postgres", **PG)


class ScratchDatabases:
    """Databases named `prefix` + name, dropped by `drop` or, at the latest, when the process exits."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def create(self, name: str, template: str | None = None) -> str:
        name = self.prefix + name
        admin = _admin()
        try:
            admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.run(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{self.prefix + template}"' if template else ""))
        finally:
            admin.close()
        _created.add(name)
        return name

    @staticmethod
    def drop(name: str) -> None:
        admin = _admin()
        try:
            admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.close()
        _created.discard(name)

    @staticmethod
    def keep(name: str) -> None:
        """Leave this database in place when the benchmark exits (a cache for the next run)."""
        _created.discard(name)


@atexit.register
def _drop_all() -> None:
    for name in list(_created):
        with contextlib.suppress(Exception):
            ScratchDatabases.drop(name)


def sql(database: str, statement: str, **params) -> list:
    connection = pg8000.native.Connection(database=database, **PG)
    try:
        return connection.run(statement, **params)
    finally:
        connection.close()


# ---------------------------------------------------------------- processes


_children: list[subprocess.Popen] = []


def spawn(args: list[str], **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **kwargs.pop("env", {})}
    process = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True, **kwargs)
    _children.append(process)
    return process


def spawn_hello(port: int, threads: int, **kwargs) -> subprocess.Popen:
    """The hello-world function (bench/hello.py) on the runner's server, granian: the stack's ceiling."""
    command = [PYTHON, "-m", "bench.servers", "--server", "granian", "--app", "hello"]
    return spawn([*command, "--port", str(port), "--threads", str(threads)], **kwargs)


def stop(process: subprocess.Popen) -> None:
    """End a process this benchmark started (and its own children, in its session)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
    if process in _children:
        _children.remove(process)


@atexit.register
def _stop_all() -> None:
    for process in list(_children):
        stop(process)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
            if answer.status < 500:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def start_bench_server(
    server: str, app: str, threads: int, logfile, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, int]:
    """bench/servers.py serving `app` on `server` at a free port, its output to `logfile`, once it
    answers (/health for the runner, / for hello): (process, port)."""
    port = free_port()
    command = [PYTHON, "-m", "bench.servers", "--server", server, "--app", app]
    process = spawn(
        [*command, "--port", str(port), "--threads", str(threads)], env=env or {}, stdout=logfile, stderr=logfile
    )
    wait_http(f"http://127.0.0.1:{port}/" + ("health" if app == "runner" else ""), process)
    return process, port


def migrate_database(database: str) -> None:
    """Migrate a scratch database in a subprocess of its own (waited for up to two minutes)."""
    migrate = spawn(
        [
            PYTHON,
            "-c",
            "from common import migrate; from common.db.engine import get_engine; migrate.upgrade(get_engine())",
        ],
        env={"DATABASE_URL": db_url(database)},
    )
    migrate.wait(120)


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend connected to `database` (same machine)."""
    result = {}
    for (pid,) in sql("postgres", "SELECT pid FROM pg_stat_activity WHERE datname = :name", name=database):
        with contextlib.suppress(OSError):
            result[pid] = process_cpu(pid)
    return result


def backend_cpu_since(database: str, before: dict[int, float]) -> float:
    """Backends that connected meanwhile count from zero."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in backend_cpu(database).items())


class BackendCpu:
    """CPU seconds of the PostgreSQL backends serving `database` from now until `finish()`, those
    that disconnect meanwhile included (backend_cpu_since loses them): a thread samples them
    from /proc every 50 ms, so a backend that ends loses at most its last 50 ms. A backend's
    process title names its user and database (PostgreSQL's update_process_title, on by
    default); parallel workers' titles do not, and are not counted. `opened` counts the
    backends that started meanwhile (connections opened, less any that lived under 50 ms)."""

    INTERVAL = 0.05

    def __init__(self, database: str) -> None:
        self._marker = f": {PG['user']} {database} ".encode()
        self._of_database: dict[int, bool] = {}
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._stopped = threading.Event()
        self._sample(initial=True)
        self._initial = set(self._first)
        self.opened = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _serves_database(self, pid: int) -> bool:
        if pid not in self._of_database:
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                return False
            if self._marker in title:
                self._of_database[pid] = True
            elif b"postgres" not in title:
                self._of_database[pid] = False
            # else: a PostgreSQL process, maybe a backend just forked that has not set its title yet
        return self._of_database.get(pid, False)

    def _sample(self, initial: bool = False) -> None:
        for name in os.listdir("/proc"):
            if name.isdigit() and self._serves_database(int(name)):
                with contextlib.suppress(OSError):
                    cpu = process_cpu(int(name))
                    self._first.setdefault(int(name), cpu if initial else 0.0)
                    self._last[int(name)] = cpu

    def _run(self) -> None:
        while not self._stopped.wait(self.INTERVAL):
            self._sample()

    def finish(self) -> float:
        self._stopped.set()
        self._thread.join()
        self._sample()
        self.opened = sum(1 for pid in self._last if pid not in self._initial)
        return sum(cpu - self._first[pid] for pid, cpu in self._last.items())


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants (gunicorn's worker is a child)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
            times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    family, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in family:
                family.add(child)
                frontier.append(child)
    return sum(times.get(member, 0.0) for member in family)


# ---------------------------------------------------------------- load


def run_wrk(url: str, duration: float, script: Path, script_args: list[str], *, connections: int, threads: int) -> dict:
    """One bounded wrk run; the script reports its figures with bench/wrk_common.lua's done()."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
        "--",
        *script_args,
    ]
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    result = json.loads(line.removeprefix("WRK_JSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors_total"] = sum(result["errors"].values())
    return result


# ---------------------------------------------------------------- results


@dataclass
class Verdict:
    target: str
    measured: str
    passed: bool


def machine(packages: tuple[str, ...] = ()) -> dict[str, Any]:
    """What the figures were measured on; `wrk` is None where wrk is not installed (benchmarks
    whose clients are Python threads do not need it)."""
    versions = {}
    for package in packages:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    wrk = None
    if shutil.which("wrk"):
        output = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
        wrk = (output.splitlines() or [""])[0].strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "loadavg_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "postgresql": sql("postgres", "SHOW server_version")[0][0],
        "pg_settings": dict(
            sql(
                "postgres",
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')",
            )
        ),
        "wrk": wrk,
        "packages": versions,
    }


def code_state() -> str:
    """The commit measured, and how many files the working tree changes on top of it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    changed = [line for line in git("status", "--porcelain", "--untracked-files=no").splitlines() if line]
    return f"{git('rev-parse', '--short', 'HEAD') or 'unknown'}" + (
        f" + {len(changed)} changed files" if changed else ""
    )


def publish(suite: str, text: str, payload: dict, verdicts: list[Verdict], notes: list[str]) -> None:
    """Write bench/results/<suite>-<time>.md and .json, print the report, and a banner for missed targets."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(exist_ok=True)  # gitignored: absent in a fresh clone
    (RESULTS / f"{suite}-{stamp}.md").write_text(text)
    (RESULTS / f"{suite}-{stamp}.json").write_text(json.dumps(payload, indent=2, default=str))
    print(text)
    for note in notes:
        print(f"!!! {note}")
    missed = [verdict for verdict in verdicts if not verdict.passed]
    if missed:
        banner = "!" * 78
        print(f"{banner}\n!!! {len(missed)} TARGET(S) MISSED:")
        for verdict in missed:
            print(f"!!!   {verdict.target}: {verdict.measured}")
        print(banner)
    elif verdicts:
        print("All targets met.")
    print(f"Results written to bench/results/{suite}-{stamp}.md and .json")
