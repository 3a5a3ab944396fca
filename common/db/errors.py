"""What a database failure means: the database unavailable (503, retry later), its schema behind
the code's, or a statement refused; and a short, secret-free description of it.

`is_unavailable` is the one judgement of which errors mean "the database is not there".
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

# The database could not be reached or stopped answering, as opposed to refusing a statement:
# requests answer 503 and the drain retries.
_UNAVAILABLE_TYPES = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError)
# PostgreSQL's own words for the same: statement timeout or cancel (57014), shutting down
# (57P01 admin, 57P02 crash), starting up (57P03), database dropped (57P04), idle session ended
# (57P05), a read-only standby after a failover (25006), every connection exception (class 08)
# and every lack of resources (class 53: too many connections, out of memory, disk full).
# pg8000 raises some of them as ProgrammingError or DatabaseError, so the code is what counts,
# not the class.
_UNAVAILABLE_SQLSTATES = frozenset({"57014", "57P01", "57P02", "57P03", "57P04", "57P05", "25006"})
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53")
# 55000 (object not in prerequisite state) is also a statement's error; at connect it is a
# database closed to connections (ALTER DATABASE ... ALLOW_CONNECTIONS false: a restore, maintenance).
_CLOSED_DATABASE = ("55000", "not currently accepting connections")


def root_cause(exc: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's wrappers and re-raises."""
    root = exc
    while root.__cause__ is not None or getattr(root, "orig", None) is not None:
        root = getattr(root, "orig", None) or root.__cause__
    return root


def sqlstate(exc: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE of a failure (pg8000 carries the server's fields as a dict), if any."""
    fields = next(iter(root_cause(exc).args), None)
    return fields.get("C") if isinstance(fields, dict) else None


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database is down, refusing, overloaded or not answering in
    time, as opposed to refusing a statement: the HTTP edge answers 503, the drain retries."""
    if isinstance(exc, _UNAVAILABLE_TYPES):
        return True
    code = sqlstate(exc)
    if code == _CLOSED_DATABASE[0]:
        return _CLOSED_DATABASE[1] in str(root_cause(exc))
    if code is not None:
        return code in _UNAVAILABLE_SQLSTATES or code.startswith(_UNAVAILABLE_SQLSTATE_CLASSES)
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated
    # A socket error the driver let through unwrapped (a reset during the start-up exchange),
    # or a wait on the database that ran out.
    return isinstance(exc, (ConnectionError, TimeoutError))


# undefined_table, undefined_column: the code expects tables or columns the database lacks.
_SCHEMA_SQLSTATES = {"42P01", "42703"}
_SQLITE_SCHEMA_MESSAGES = ("no such table", "no such column", "has no column named")


def is_schema_missing(exc: BaseException) -> bool:
    """True when a statement failed because the database's schema is behind the code's."""
    if sqlstate(exc) in _SCHEMA_SQLSTATES:
        return True
    root = root_cause(exc)
    return type(root).__name__ == "OperationalError" and str(root).startswith(_SQLITE_SCHEMA_MESSAGES)


def short_reason(exc: BaseException) -> str:
    """A one-line, secret-free description of a database failure."""
    root = root_cause(exc)
    kind = type(root).__name__
    if isinstance(root, TimeoutError) or "timed out" in str(root).lower():
        return f"{kind}: connection timed out"
    if isinstance(root, ConnectionRefusedError) or "refused" in str(root).lower():
        return f"{kind}: connection refused"
    if "password" in str(root).lower() or "authentication" in str(root).lower():
        return f"{kind}: authentication failed"
    return f"{kind}: database unavailable"
