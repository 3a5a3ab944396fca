"""Every reach into pg8000's internals, in one place, for the one driver version it was written for.

Two pure-overhead costs are removed without changing what is sent to the server:
- pg8000 rewrites every statement's %s placeholders to $n by scanning the text character by
  character in Python on every execution (about half a millisecond for a long statement); for
  positional placeholders the rewrite depends on the text alone, so it is remembered.
- It sends COMMIT and ROLLBACK through the extended protocol, three round trips each; the simple
  protocol does the same in one.
Both replace pg8000 functions process-wide (`pg8000.legacy.convert_paramstyle`,
`Connection.commit` / `rollback`), so `tune()` applies them only when the installed pg8000 is
WRITTEN_FOR, the version requirements.txt pins; on any other it logs one warning and leaves the
driver as it is, which works, at the old cost. tests/integration/test_pg8000_tuning.py fails when
the installed version differs, so an upgrade comes with a review of this file.

And one read: pg8000 takes a socket timeout only at connect, so `set_socket_timeout` reaches the
connection's socket (`Connection._usock`) to give each use the caller's remaining time.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from common.logs import get_logger

# The pg8000 of requirements.txt; the patches below were checked against its source.
WRITTEN_FOR = "1.31.6"

log = get_logger("db")


def installed_version() -> str:
    import pg8000

    return getattr(pg8000, "__version__", "unknown")


@cache
def tune() -> bool:
    """Patch pg8000 once per process if it is WRITTEN_FOR (True), else warn once and leave it (False)."""
    installed = installed_version()
    if installed != WRITTEN_FOR:
        log.warning(
            "pg8000 %s is installed, but common/pg8000_tuning.py was written for %s: running it unpatched "
            "(slower statements and commits) until the patches are reviewed for this version",
            installed, WRITTEN_FOR,
        )  # fmt: skip
        return False
    _patch()
    return True


def _patch() -> None:
    import pg8000.legacy

    scan = pg8000.legacy.convert_paramstyle

    @lru_cache(maxsize=2048)
    def rewrite(style: str, statement: str) -> str:
        return scan(style, statement, ())[0]

    def convert_paramstyle(style, statement, args):
        if style in ("format", "numeric", "qmark"):
            return rewrite(style, statement), args
        return scan(style, statement, args)

    pg8000.legacy.convert_paramstyle = convert_paramstyle
    pg8000.legacy.Connection.commit = lambda self: self.execute_simple("commit")
    pg8000.legacy.Connection.rollback = lambda self: self.execute_simple("rollback") if self._in_transaction else None


def set_socket_timeout(dbapi_connection: Any, seconds: float) -> None:
    """Bound each read on this pg8000 connection to `seconds` (a closed connection has no socket)."""
    sock = getattr(dbapi_connection, "_usock", None)
    if sock is not None:
        sock.settimeout(seconds)
