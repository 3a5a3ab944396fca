"""Why a process cannot start, as one line that names the cause and what to do about it.

The local runner and `python -m common.migrate` print these instead of a traceback: an
operator starting the service needs the fix, not the driver's stack.
"""

from __future__ import annotations

import errno

from sqlalchemy.engine import make_url

from common.db.errors import root_cause, short_reason, sqlstate

# invalid_password, invalid_authorization_specification (an unknown role, or no pg_hba.conf entry)
_AUTHENTICATION_SQLSTATES = {"28P01", "28000"}
_MISSING_DATABASE_SQLSTATE = "3D000"  # invalid_catalog_name


def database_problem(exc: BaseException, database_url: str) -> str:
    """One line for a failure to reach or use the configured database at start-up."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"cannot open the SQLite database {url.database}: {root_cause(exc)}; check that its folder is writable"
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    code = sqlstate(exc)
    if code in _AUTHENTICATION_SQLSTATES:
        return (
            f"authentication failed for PostgreSQL user {url.username!r} at {where}: create the role "
            f"(README, section PostgreSQL) or correct the user and password in DATABASE_URL"
        )
    if code == _MISSING_DATABASE_SQLSTATE:
        return (
            f"database {url.database!r} does not exist at {where}: create it "
            f"(createdb -h {url.host or 'localhost'} -U postgres -O {url.username} {url.database}) "
            f"or correct DATABASE_URL"
        )
    if code is None:
        return (
            f"database unreachable at {where} ({short_reason(exc).split(': ', 1)[-1]}): "
            f"start PostgreSQL or correct the host and port in DATABASE_URL"
        )
    return f"the database at {where} refused to start the service (SQLSTATE {code}): check DATABASE_URL"


def bind_problem(exc: OSError, host: str, port: int) -> str:
    """One line for a server that cannot listen on host:port."""
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use: stop the other server or choose another port with --port"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port} on {host}: choose a port above 1023 with --port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine: choose another with --host"
    return f"cannot listen on {host}:{port} ({exc.strerror}): choose another --host or --port"
