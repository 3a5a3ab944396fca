"""A throwaway PostgreSQL 15 cluster on its own port and data folder, to break on purpose:
stop it, kill it, freeze it (SIGSTOP), or cap its connections. Used by the fault tests (one
cluster per session) and by bench/faults.py.

Tiny and fast: fsync off (a kill -9 of the server keeps what the OS holds; only a power cut
would lose it; synchronous_commit stays on, so a commit has left the server when it returns), small buffers, trust authentication on loopback only. As root the
server runs as the `postgres` OS user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("TSH_PG_BIN", "/usr/lib/postgresql/15/bin"))
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "full_page_writes": "off",
    "shared_buffers": "16MB",
    "max_connections": "40",
    "max_wal_size": "64MB",
    "logging_collector": "off",
}


class ClusterUnavailable(RuntimeError):
    """The machine cannot run a throwaway cluster (no PostgreSQL 15 binaries)."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PgCluster:
    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists():
            raise ClusterUnavailable(f"no PostgreSQL binaries in {PG_BIN} (set TSH_PG_BIN)")
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="tsh-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.port}\nunix_socket_directories = '{self.folder}'\n")
            conf.writelines(f"{name} = {value}\n" for name, value in _SETTINGS.items())

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(PG_BIN / program), *args]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=60)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "start")

    def start_no_wait(self) -> None:
        """Start without waiting to accept connections (a standby that never will)."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-W", "start")

    def connect_error(self, database: str = "postgres") -> str:
        """What a connection attempt hears now: "" when it is accepted, else the server's error."""
        result = self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
                           "-Atqc", r"\set VERBOSITY verbose", "-c", "SELECT 1", check=False)  # fmt: skip
        return "" if result.returncode == 0 else result.stderr

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop: "fast" ends sessions (57P01 to each), "immediate" is a crash stop."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop", check=False)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def _server_pids(self) -> list[int]:
        """The postmaster and all its children (backends, checkpointer, ...)."""
        parent = self.postmaster_pid()
        if parent is None:
            return []
        children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
        return [parent, *(int(pid) for pid in children)]

    def kill(self) -> None:
        """kill -9 of the postmaster and every backend: the next start runs crash recovery."""
        self._signal_all(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self._accepting() and time.monotonic() < deadline:
            time.sleep(0.05)
        # The dead postmaster may linger as a zombie, which its lock files would take for alive.
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        (self.folder / f".s.PGSQL.{self.port}.lock").unlink(missing_ok=True)

    def freeze(self) -> None:
        """SIGSTOP every server process: connections are accepted by the kernel and never answered."""
        self._signal_all(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal_all(signal.SIGCONT)

    def _signal_all(self, signum: int) -> None:
        for pid in self._server_pids():
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass  # a backend that ended between the listing and the signal

    def sql(self, statement: str, database: str = "postgres") -> str:
        result = self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
                           "-Atqc", statement)  # fmt: skip
        return result.stdout.strip()

    def _accepting(self) -> bool:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-q", check=False)
            if ready.returncode == 0:
                return
            time.sleep(0.05)
        raise TimeoutError(f"throwaway PostgreSQL on port {self.port} not ready after {timeout}s")

    def destroy(self) -> None:
        self.thaw()
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
