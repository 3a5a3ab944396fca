"""The queue drain: claim batches, apply each item in its own transaction, retry or dead-letter failures.

Every trigger (the scheduled function, the admin endpoint, the local runner's workers)
calls `drain`, which keeps claiming while batches come back full and stops when nothing
is due or its time budget is spent.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from common.config import Settings
from common.db import read, time_limit, utcnow, write, writer
from common.events import outbox
from common.events.outbox import Event
from common.logs import get_logger
from common.retry import Backoff
from common.sync import handlers, queue, stock_checks
from common.sync.errors import LeaseLost, describe, is_transient
from common.sync.schemas import DrainSummary

log = get_logger("sync.drain")

PERMANENT_ERROR, MAX_ATTEMPTS = "permanent_error", "max_attempts_exceeded"
# Beyond its budget, how long a drain may wait on the database (the item in hand, the run record).
_IO_GRACE_SECONDS = 5.0

# What became of one claimed item; all but LOST are counted in the drain's summary.
COMPLETED, STALE, RETRIED, DEAD_LETTERED, LOST = "completed", "stale", "retried", "dead_lettered", "lost"


def new_worker_id() -> str:
    """Unique per drain run: the lease fence tells one run from another, even in one thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def drain(
    settings: Settings,
    *,
    trigger: str,
    budget_seconds: float,
    engine: Engine | None = None,
    backoff: Backoff = Backoff(),
    keep_going: Callable[[], bool] = lambda: True,
) -> DrainSummary:
    # The drain's budget is its own: an HTTP request's database limit gives way to it.
    with time_limit(None), time_limit(budget_seconds + _IO_GRACE_SECONDS):
        return _drain(settings, trigger, budget_seconds, engine, backoff, keep_going)


def _drain(
    settings: Settings,
    trigger: str,
    budget_seconds: float,
    engine: Engine | None,
    backoff: Backoff,
    keep_going: Callable[[], bool],
) -> DrainSummary:
    started = time.monotonic()
    started_at = utcnow()
    worker_id = new_worker_id()
    outcomes: Counter[str] = Counter()
    claimed = 0
    with writer(engine) as connection:
        while keep_going():
            with connection.begin():
                batch = queue.claim(
                    connection, worker_id, settings.tds_batch_size, settings.tds_lock_timeout_seconds, utcnow()
                )
            claimed += len(batch)
            for item in batch:
                outcomes[_process(connection, settings, queue.Lease(worker_id, item), backoff)] += 1
            if len(batch) < settings.tds_batch_size or time.monotonic() - started >= budget_seconds:
                break
    stock_checked = stock_checks.check_due(settings, engine, deadline=started + budget_seconds)
    with read(engine) as connection:
        remaining = queue.count_due(connection, utcnow())
    summary = DrainSummary(
        claimed=claimed,
        completed=outcomes[COMPLETED] + outcomes[STALE],  # a stale item is completed, with result "stale"
        retried=outcomes[RETRIED],
        dead_lettered=outcomes[DEAD_LETTERED],
        stale=outcomes[STALE],
        remaining=remaining,
        duration_ms=round((time.monotonic() - started) * 1000),
    )
    if claimed or stock_checked or trigger != "worker":
        _record_run(engine, worker_id, trigger, started_at, summary)
        log.info(
            "drain finished",
            extra={"trigger": trigger, "lost_leases": outcomes[LOST], "stock_checked": stock_checked,
                   **summary.model_dump()},
        )  # fmt: skip
    return summary


def _process(connection: Connection, settings: Settings, lease: queue.Lease, backoff: Backoff) -> str:
    """Apply one item in its own transaction; returns what became of it."""
    started = time.perf_counter()
    try:
        with connection.begin():
            result = handlers.apply(connection, lease.item, utcnow())
            elapsed_ms = round((time.perf_counter() - started) * 1000)
            if not queue.complete(connection, lease, result, elapsed_ms, utcnow()):
                raise LeaseLost(lease.item.id)
    except LeaseLost:
        log.warning("lease lost; another drain owns the item now", extra={"queue_id": lease.item.id})
        return LOST
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the item
        return _record_failure(connection, settings, lease, exc, backoff)
    return STALE if result == queue.STALE else COMPLETED


def _record_failure(
    connection: Connection, settings: Settings, lease: queue.Lease, exc: Exception, backoff: Backoff
) -> str:
    transient = is_transient(exc)
    attempts = lease.item.attempt_count
    error = describe(exc)
    now = utcnow()
    with connection.begin():
        if transient and attempts < settings.tds_max_retry_attempts:
            retry_at = now + timedelta(seconds=backoff.delay(attempts))
            outcome = RETRIED if queue.retry_later(connection, lease, error, retry_at) else LOST
        else:
            reason = MAX_ATTEMPTS if transient else PERMANENT_ERROR
            outcome = DEAD_LETTERED if queue.dead_letter(connection, lease, reason, error, now) else LOST
            if outcome == DEAD_LETTERED:
                outbox.write(connection, [_dead_lettered(lease.item, reason, error)], now)
    log.warning(
        "item failed",
        extra={"queue_id": lease.item.id, "entity_type": lease.item.entity_type, "attempt": attempts,
               "transient": transient, "error": error},
    )  # fmt: skip
    return outcome


def _dead_lettered(item: queue.QueueItem, reason: str, error: str) -> Event:
    return Event(
        "sync.dead_lettered",
        "sync_item",
        item.id,
        {"queue_id": item.id, "entity_type": item.entity_type, "source_entity_id": item.source_entity_id,
         "operation": item.operation_type, "failure_reason": reason, "attempts": item.attempt_count,
         "error": error[:500]},
    )  # fmt: skip


def _record_run(
    engine: Engine | None, worker_id: str, trigger: str, started_at: datetime, summary: DrainSummary
) -> None:
    with write(engine) as connection:
        queue.record_drain_run(
            connection, worker_id=worker_id, trigger=trigger, started_at=started_at, finished_at=utcnow(),
            **summary.model_dump(),
        )  # fmt: skip
