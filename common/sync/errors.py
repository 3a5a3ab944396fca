"""Why applying a queued event failed, and whether trying again can help.

Handlers raise `TransientSyncError` (later may work: a dependency not synced yet, a rate
limit) or `PermanentSyncError` (the event can never be applied). Anything else is
classified by `is_transient`, which maps database and network errors at one boundary.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from common.db import is_unavailable, sqlstate
from common.errors import AppError


class SyncError(AppError):
    """Root of the sync pipeline's own errors."""


class TransientSyncError(SyncError):
    """Trying again later may succeed."""


class PermanentSyncError(SyncError):
    """The event cannot be applied as it is; retrying will not change that."""


class LeaseLost(SyncError):
    """Another drain took the item after this drain's lease expired; this drain must let go."""


# Besides an unavailable database (common.db.is_unavailable), contention is worth retrying:
# serialization failure, deadlock, lock timeout.
_CONTENTION_SQLSTATES = {"40001", "40P01", "55P03"}


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TransientSyncError):
        return True
    # ValueError covers pydantic's ValidationError, LookupError covers KeyError and IndexError.
    if isinstance(exc, (PermanentSyncError, ValueError, TypeError, LookupError)):
        return False
    if is_unavailable(exc) or sqlstate(exc) in _CONTENTION_SQLSTATES:
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return False
    # Sockets, timeouts and requests' errors (OSError), and failures we do not know, are
    # retried with backoff and dead-lettered after the last attempt.
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
