"""Every write on the queue's tables, kept together: enqueue, claim, complete, retry, dead-letter,
replay, purge, and the drain's run record (tds_sync_queue, tds_dead_letter_queue, tds_drain_runs),
with the reads those writes depend on. The dashboard's read-only statements: common.sync.queue_reads.

A claimed item is leased: `locked_by` names the drain and `attempt_count` the attempt.
Every later change of the item is fenced on both, so a drain whose lease expired and
whose item another drain took can no longer complete or fail it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, exists, func, literal, or_, select, update

from common.db.statements import dialect_insert
from common.models import ops_queue_pauses, tds_dead_letter_queue, tds_drain_runs, tds_sync_queue

PENDING, PROCESSING, COMPLETED, RETRY, DEAD_LETTER = "pending", "processing", "completed", "retry", "dead_letter"
STATUSES = (PENDING, PROCESSING, COMPLETED, RETRY, DEAD_LETTER)
OPEN = (PENDING, RETRY, PROCESSING)
# What applying an item recorded as its result (common.sync.handlers decides which).
APPLIED, STALE, NOOP = "applied", "stale", "noop"
_MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class QueueItem:
    id: int
    entity_type: str
    source_entity_id: str
    operation_type: str
    payload: dict[str, Any]
    attempt_count: int
    source_modified_at: datetime | None


@dataclass(frozen=True)
class Lease:
    """Who holds an item and for which attempt: the fence for every later change."""

    worker_id: str
    item: QueueItem

    def fence(self) -> dict[str, Any]:
        """Parameters of `_HELD`: this item, still processing, by this drain, on this attempt."""
        return {"lease_id": self.item.id, "lease_worker": self.worker_id, "lease_attempt": self.item.attempt_count}


_HELD = and_(
    tds_sync_queue.c.id == bindparam("lease_id"),
    tds_sync_queue.c.status == PROCESSING,
    tds_sync_queue.c.locked_by == bindparam("lease_worker"),
    tds_sync_queue.c.attempt_count == bindparam("lease_attempt"),
)
_RELEASED = {"locked_by": None, "lock_expires_at": None}
# Built once: these run for every item, and building SQLAlchemy expressions is not free.
_COMPLETE = (
    update(tds_sync_queue)
    .where(_HELD)
    .values(
        status=COMPLETED,
        result=bindparam("outcome"),
        processing_ms=bindparam("elapsed_ms"),
        error_message=None,
        completed_at=bindparam("finished_at"),
        **_RELEASED,
    )
)
_RETRY = (
    update(tds_sync_queue)
    .where(_HELD)
    .values(status=RETRY, next_retry_at=bindparam("retry_at"), error_message=bindparam("error"), **_RELEASED)
)
_DEAD = (
    update(tds_sync_queue)
    .where(_HELD)
    .values(
        status=DEAD_LETTER,
        result=bindparam("outcome"),
        error_message=bindparam("error"),
        completed_at=bindparam("finished_at"),
        **_RELEASED,
    )
)


@lru_cache(maxsize=2)
def _enqueue_statement(dialect: str):
    """Built once per dialect: every webhook runs it, and building statements is not free."""
    return (
        dialect_insert(dialect)(tds_sync_queue)
        .on_conflict_do_nothing(index_elements=[tds_sync_queue.c.idempotency_key])
        .returning(tds_sync_queue.c.idempotency_key, tds_sync_queue.c.id)
    )


def enqueue(connection: Connection, events: list[dict[str, Any]]) -> list[tuple[int, bool]]:
    """Queue each event once: (queue id, True) when new, (id of the earlier copy, False) for a
    duplicate, in the order given. `events` are rows of tds_sync_queue's event columns.

    The unique idempotency key decides, so concurrent deliveries cannot both be queued; one
    multi-row INSERT (SQLAlchemy's insertmanyvalues) writes them all.
    """
    rows = [{**event, "status": PENDING, "attempt_count": 0} for event in events]
    inserted = dict(connection.execute(_enqueue_statement(connection.dialect.name), rows).all())
    missing = {event["idempotency_key"] for event in events} - inserted.keys()
    earlier = queued_ids(connection, missing) if missing else {}
    results, queued_now = [], set()
    for event in events:
        key = event["idempotency_key"]
        first = key in inserted and key not in queued_now  # a key twice in one batch is queued once
        queued_now.add(key)
        results.append((inserted[key], True) if first else (inserted.get(key) or earlier[key], False))
    return results


def queued_ids(connection: Connection, idempotency_keys: Iterable[str]) -> dict[str, int]:
    """The queue ids of those keys already queued (key -> id)."""
    keys = tds_sync_queue.c.idempotency_key
    return dict(connection.execute(select(keys, tds_sync_queue.c.id).where(keys.in_(list(idempotency_keys)))).all())


def _due(now: datetime):
    # Each arm names its status, which is how PostgreSQL proves the claim index's predicate;
    # a separate "status IN (...)" beside it made the planner misjudge the row count and
    # sort every due row instead of walking the index.
    return or_(
        tds_sync_queue.c.status == PENDING,
        and_(tds_sync_queue.c.status == RETRY, tds_sync_queue.c.next_retry_at <= now),
        and_(tds_sync_queue.c.status == PROCESSING, tds_sync_queue.c.lock_expires_at <= now),
    )


ALL_ENTITIES = "*"
# An item of a paused entity type (or of any, while "*" is paused) is not claimed; read in the
# claim's own statement, so a pause committed before a claim starts always holds it back.
NOT_PAUSED = ~exists().where(ops_queue_pauses.c.entity_type.in_([tds_sync_queue.c.entity_type, literal(ALL_ENTITIES)]))


def claim(connection: Connection, worker_id: str, limit: int, lock_seconds: int, now: datetime) -> list[QueueItem]:
    """Lease up to `limit` due items of entity types not paused, by priority then age; an item
    whose lease expired is due again.

    PostgreSQL skips rows other drains are claiming (FOR UPDATE SKIP LOCKED); SQLite runs
    this inside BEGIN IMMEDIATE, which admits one writer at a time.
    """
    chosen = (
        select(tds_sync_queue.c.id)
        .where(_due(now), NOT_PAUSED)
        .order_by(tds_sync_queue.c.priority, tds_sync_queue.c.created_at, tds_sync_queue.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = connection.execute(
        update(tds_sync_queue)
        .where(tds_sync_queue.c.id.in_(chosen.scalar_subquery()))
        .values(
            status=PROCESSING,
            locked_by=worker_id,
            lock_expires_at=now + timedelta(seconds=lock_seconds),
            attempt_count=tds_sync_queue.c.attempt_count + 1,
            started_at=now,
        )
        .returning(
            tds_sync_queue.c.id,
            tds_sync_queue.c.entity_type,
            tds_sync_queue.c.source_entity_id,
            tds_sync_queue.c.operation_type,
            tds_sync_queue.c.payload,
            tds_sync_queue.c.attempt_count,
            tds_sync_queue.c.source_modified_at,
            tds_sync_queue.c.priority,
            tds_sync_queue.c.created_at,
        )
    ).all()
    rows.sort(key=lambda row: (row.priority, row.created_at, row.id))
    return [
        QueueItem(
            id=row.id,
            entity_type=row.entity_type,
            source_entity_id=row.source_entity_id,
            operation_type=row.operation_type,
            payload=row.payload,
            attempt_count=row.attempt_count,
            source_modified_at=row.source_modified_at,
        )
        for row in rows
    ]


def complete(connection: Connection, lease: Lease, result: str, processing_ms: int, now: datetime) -> bool:
    """Mark the leased item done; False when the lease was lost (the caller must roll back)."""
    done = connection.execute(
        _COMPLETE, {**lease.fence(), "outcome": result, "elapsed_ms": processing_ms, "finished_at": now}
    )
    return done.rowcount == 1


def retry_later(connection: Connection, lease: Lease, error: str, retry_at: datetime) -> bool:
    moved = connection.execute(_RETRY, {**lease.fence(), "retry_at": retry_at, "error": error[:_MAX_ERROR_LENGTH]})
    return moved.rowcount == 1


def dead_letter(connection: Connection, lease: Lease, reason: str, error: str, now: datetime) -> bool:
    """Give up on the item: status dead_letter plus a tds_dead_letter_queue row, in one transaction."""
    moved = connection.execute(
        _DEAD, {**lease.fence(), "outcome": reason, "error": error[:_MAX_ERROR_LENGTH], "finished_at": now}
    )
    if moved.rowcount != 1:
        return False
    item = lease.item
    connection.execute(
        tds_dead_letter_queue.insert().values(
            sync_queue_id=item.id,
            entity_type=item.entity_type,
            source_entity_id=item.source_entity_id,
            failure_reason=reason,
            total_attempts=item.attempt_count,
            last_error_message=error[:_MAX_ERROR_LENGTH],
            last_payload=item.payload,
            resolved=False,
            created_at=now,
        )
    )
    return True


def lock_dead_letter(connection: Connection, dead_letter_id: int) -> Row | None:
    """One dead letter, locked until the replay's transaction ends; None when there is no such letter."""
    return connection.execute(
        select(tds_dead_letter_queue).where(tds_dead_letter_queue.c.id == dead_letter_id).with_for_update()
    ).first()


def unresolved_dead_letters_where(
    entity_type: str | None = None,
    error_contains: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list:
    """The conditions picking unresolved dead letters: of an entity type, whose last error holds a
    text (case-insensitive), dead-lettered in [since, until)."""
    letters = tds_dead_letter_queue.c
    filters = [letters.resolved.is_(False)]
    if entity_type:
        filters.append(letters.entity_type == entity_type)
    if error_contains:
        filters.append(func.lower(letters.last_error_message).contains(error_contains.lower(), autoescape=True))
    if since:
        filters.append(letters.created_at >= since)
    if until:
        filters.append(letters.created_at < until)
    return filters


def lock_unresolved_dead_letters(
    connection: Connection, entity_type: str | None = None, **narrower: Any
) -> Sequence[Row]:
    """Every unresolved dead letter (narrowed as `unresolved_dead_letters_where`), oldest first,
    locked for a replay or a discard."""
    where = unresolved_dead_letters_where(entity_type, **narrower)
    return connection.execute(
        select(tds_dead_letter_queue).where(*where).order_by(tds_dead_letter_queue.c.id).with_for_update()
    ).all()


def count_unresolved_dead_letters(connection: Connection, **narrower: Any) -> int:
    where = unresolved_dead_letters_where(**narrower)
    return connection.execute(select(func.count()).select_from(tds_dead_letter_queue).where(*where)).scalar_one()


def requeue(connection: Connection, queue_ids: list[int]) -> set[int]:
    """Put those of the items still dead-lettered back as new (pending, no attempts, no error); returns their ids."""
    if not queue_ids:
        return set()
    return set(
        connection.scalars(
            update(tds_sync_queue)
            .where(tds_sync_queue.c.id.in_(sorted(queue_ids)), tds_sync_queue.c.status == DEAD_LETTER)
            .values(
                status=PENDING,
                attempt_count=0,
                next_retry_at=None,
                error_message=None,
                result=None,
                completed_at=None,
            )
            .returning(tds_sync_queue.c.id)
        )
    )


def resolve_dead_letters(connection: Connection, dead_letter_ids: list[int], now: datetime) -> None:
    connection.execute(
        update(tds_dead_letter_queue)
        .where(tds_dead_letter_queue.c.id.in_(dead_letter_ids))
        .values(resolved=True, resolved_at=now)
    )


def pauses(connection: Connection) -> Sequence[Row]:
    """The paused entity types ("*": all), with when and by whom."""
    return connection.execute(select(ops_queue_pauses).order_by(ops_queue_pauses.c.entity_type)).all()


def count_due(connection: Connection, now: datetime) -> int:
    return connection.execute(select(func.count()).select_from(tds_sync_queue).where(_due(now))).scalar_one()


def record_drain_run(connection: Connection, **run: Any) -> None:
    """One drain run's summary (tds_drain_runs' columns): the dashboard's "last drain"."""
    connection.execute(tds_drain_runs.insert().values(**run))


def purge_completed(connection: Connection, before: datetime, limit: int) -> int:
    """Forget up to `limit` items completed before `before` (their dedupe keys go with them)."""
    chunk = (
        select(tds_sync_queue.c.id)
        .where(tds_sync_queue.c.status == COMPLETED, tds_sync_queue.c.completed_at < before)
        .limit(limit)
        .scalar_subquery()
    )
    return connection.execute(tds_sync_queue.delete().where(tds_sync_queue.c.id.in_(chunk))).rowcount


def purge_drain_runs(connection: Connection, before: datetime, limit: int) -> int:
    """Forget up to `limit` drain runs that finished before `before`."""
    chunk = select(tds_drain_runs.c.id).where(tds_drain_runs.c.finished_at < before).limit(limit).scalar_subquery()
    return connection.execute(tds_drain_runs.delete().where(tds_drain_runs.c.id.in_(chunk))).rowcount
