"""Operators' control of the queue: pause and resume the drain (all entity types or one), and
replay or discard dead letters by a filter. Every change writes its audit row in its own
transaction (common.ops.audit).

A pause holds back every drain (the scheduled function, POST /api/zoho/queue/drain, the local
runner's workers: common.sync.queue.claim reads the pauses in its own statement); webhooks are
still accepted and queued, and drain once the entity type is resumed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, Row

from common.clock import utcnow
from common.db.statements import insert
from common.db.transactions import read, write
from common.errors import Conflict
from common.models import ops_queue_pauses
from common.ops import audit
from common.ops.schemas import BulkDiscarded, BulkReplayed, DeadLetterFilter, Paused
from common.sync import queue
from common.sync.dead_letters import requeue_letters
from common.sync.entities import BY_NAME
from common.sync.queue import ALL_ENTITIES


def _names(connection: Connection) -> list[str]:
    return [row.entity_type for row in queue.pauses(connection)]


def pause(entity_type: str | None, role: str, engine: Engine | None = None) -> Paused:
    """Pause one entity type, or every one (None); pausing what is paused changes nothing but the trail."""
    name = entity_type or ALL_ENTITIES
    with write(engine) as connection:
        if name == ALL_ENTITIES:
            connection.execute(ops_queue_pauses.delete())  # "*" covers them; resuming all clears it
        statement = insert(connection, ops_queue_pauses).values(entity_type=name, paused_at=utcnow(), paused_by=role)
        connection.execute(statement.on_conflict_do_nothing(index_elements=[ops_queue_pauses.c.entity_type]))
        audit.record(connection, role, audit.PAUSE, {"entity_type": name})
        return Paused(paused=_names(connection))


def resume(entity_type: str | None, role: str, engine: Engine | None = None) -> Paused:
    """Resume every entity type (None), or one: while all are paused, that leaves the others paused."""
    with write(engine) as connection:
        paused = {row.entity_type: row for row in queue.pauses(connection)}
        if entity_type is None:
            connection.execute(ops_queue_pauses.delete())
        else:
            if ALL_ENTITIES in paused:
                since = paused[ALL_ENTITIES]
                connection.execute(ops_queue_pauses.delete())
                connection.execute(
                    ops_queue_pauses.insert(),
                    [
                        {"entity_type": other, "paused_at": since.paused_at, "paused_by": since.paused_by}
                        for other in sorted(BY_NAME)
                        if other != entity_type
                    ],
                )
            else:
                connection.execute(ops_queue_pauses.delete().where(ops_queue_pauses.c.entity_type == entity_type))
        audit.record(connection, role, audit.RESUME, {"entity_type": entity_type or ALL_ENTITIES})
        return Paused(paused=_names(connection))


def _narrowing(where: DeadLetterFilter) -> dict:
    return where.model_dump(exclude={"dry_run"})


def count_matching(where: DeadLetterFilter, engine: Engine | None = None) -> int:
    with read(engine) as connection:
        return queue.count_unresolved_dead_letters(connection, **_narrowing(where))


def _act(
    where: DeadLetterFilter, role: str, action: str, expected: int | None, engine: Engine | None
) -> tuple[int, Sequence[Row]]:
    """Lock the matching letters and hand them to the action, in one transaction with its audit row.

    `expected` is the count the operator confirmed: when the letters changed since (new ones
    arrived, someone else replayed), nothing is done and Conflict says how many match now."""
    if where.dry_run:
        return count_matching(where, engine), ()
    with write(engine) as connection:
        rows = queue.lock_unresolved_dead_letters(connection, **_narrowing(where))
        if expected is not None and expected != len(rows):
            raise Conflict(f"{len(rows)} dead letters match now, not the {expected} confirmed")
        if action == audit.REPLAY:
            requeue_letters(connection, rows)
        elif rows:
            queue.resolve_dead_letters(connection, [row.id for row in rows], utcnow())
        audit.record(connection, role, action, where.described(), len(rows))
    return len(rows), rows


def replay_matching(
    where: DeadLetterFilter, role: str, expected: int | None = None, engine: Engine | None = None
) -> BulkReplayed:
    """Re-queue the matching unresolved dead letters (resolved as replayed)."""
    matched, rows = _act(where, role, audit.REPLAY, expected, engine)
    return BulkReplayed(matched=matched, replayed=len(rows))


def discard_matching(
    where: DeadLetterFilter, role: str, expected: int | None = None, engine: Engine | None = None
) -> BulkDiscarded:
    """Mark the matching unresolved dead letters resolved without re-queueing them."""
    matched, rows = _act(where, role, audit.DISCARD, expected, engine)
    return BulkDiscarded(matched=matched, discarded=len(rows))
