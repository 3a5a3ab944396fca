"""Why applying a queued event failed, and whether trying again can help.

Handlers raise `TransientSyncError` (later may work: a dependency not synced yet, a rate
limit) or `PermanentSyncError` (the event can never be applied). Anything else is
classified by `is_transient`, which maps database and network errors at one boundary.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from common.db import DATABASE_UNAVAILABLE


class SyncError(Exception):
    """Root of the sync pipeline's own errors."""


class TransientSyncError(SyncError):
    """Trying again later may succeed."""


class PermanentSyncError(SyncError):
    """The event cannot be applied as it is; retrying will not change that."""


class LeaseLost(SyncError):
    """Another drain took the item after this drain's lease expired; this drain must let go."""


# PostgreSQL SQLSTATEs worth retrying: serialization failure, deadlock, lock timeout,
# query cancelled (statement timeout), too many connections, and the connection classes.
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014", "53300", "57P01", "57P02", "57P03"}
_TRANSIENT_SQLSTATE_CLASSES = ("08",)


def _sqlstate(exc: sa_exc.DBAPIError) -> str | None:
    detail = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
    return detail.get("C") if isinstance(detail, dict) else None


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TransientSyncError):
        return True
    # ValueError covers pydantic's ValidationError, LookupError covers KeyError and IndexError.
    if isinstance(exc, (PermanentSyncError, ValueError, TypeError, LookupError)):
        return False
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        code = _sqlstate(exc)
        if code and (code in _TRANSIENT_SQLSTATES or code.startswith(_TRANSIENT_SQLSTATE_CLASSES)):
            return True
        if isinstance(exc, (sa_exc.IntegrityError, sa_exc.DataError, sa_exc.ProgrammingError)):
            return False
        return exc.connection_invalidated
    if isinstance(exc, OSError):  # sockets, timeouts, and requests' errors, which subclass it
        return True
    # Unknown failures are retried with backoff and dead-lettered after the last attempt.
    return True


def describe(exc: BaseException, limit: int = 500) -> str:
    """A short description for the queue and the dead-letter table: never SQL or parameters."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        detail = exc.orig.args[0] if exc.orig.args else ""
        message = detail.get("M", "") if isinstance(detail, dict) else str(detail)
        text = f"{type(exc.orig).__name__}: {message}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:limit]
