"""Dead letters: list them, and replay one or all (back to the queue as new, and marked resolved)."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, func, select, update

from common.db import read, utcnow, write
from common.errors import Conflict, NotFound
from common.models import tds_dead_letter_queue as dead_letters
from common.sync import queue
from common.sync.entities import BY_NAME
from common.sync.intake import enqueue_event
from common.sync.schemas import DeadLetter, DeadLetterPage, DeadLetterQuery, Replayed


def list_dead_letters(query: DeadLetterQuery, engine: Engine | None = None) -> DeadLetterPage:
    filters = []
    if not query.include_resolved:
        filters.append(dead_letters.c.resolved.is_(False))
    if query.entity_type:
        filters.append(dead_letters.c.entity_type == query.entity_type)
    with read(engine) as connection:
        total = connection.execute(select(func.count()).select_from(dead_letters).where(*filters)).scalar_one()
        rows = connection.execute(
            select(dead_letters)
            .where(*filters)
            .order_by(dead_letters.c.created_at.desc(), dead_letters.c.id.desc())
            .limit(query.page_size)
            .offset((query.page - 1) * query.page_size)
        ).all()
    return DeadLetterPage(
        items=[DeadLetter.model_validate(row._mapping) for row in rows],
        total_count=total,
        page=query.page,
        page_size=query.page_size,
        has_more=query.page * query.page_size < total,
    )


def replay_one(dead_letter_id: int, engine: Engine | None = None) -> Replayed:
    with write(engine) as connection:
        row = connection.execute(
            select(dead_letters).where(dead_letters.c.id == dead_letter_id).with_for_update()
        ).first()
        if row is None:
            raise NotFound("Dead letter not found")
        if row.resolved:
            raise Conflict("Dead letter already resolved")
        _replay(connection, [row])
    return Replayed(message="Dead letter re-queued", requeued=1, dead_letter_ids=[dead_letter_id])


def replay_all(entity_type: str | None = None, engine: Engine | None = None) -> Replayed:
    filters = [dead_letters.c.resolved.is_(False)]
    if entity_type:
        filters.append(dead_letters.c.entity_type == entity_type)
    with write(engine) as connection:
        rows = connection.execute(
            select(dead_letters).where(*filters).order_by(dead_letters.c.id).with_for_update()
        ).all()
        _replay(connection, rows)
    ids = [row.id for row in rows]
    return Replayed(message=f"{len(ids)} dead letters re-queued", requeued=len(ids), dead_letter_ids=ids)


def _replay(connection: Connection, rows: list) -> None:
    """Re-queue each letter's item; an item no longer in the queue is queued again from its payload."""
    if not rows:
        return
    requeued = queue.requeue(connection, [row.sync_queue_id for row in rows if row.sync_queue_id is not None])
    for row in rows:
        if row.sync_queue_id not in requeued and row.entity_type in BY_NAME and row.last_payload is not None:
            enqueue_event(connection, BY_NAME[row.entity_type], row.last_payload)
    connection.execute(
        update(dead_letters)
        .where(dead_letters.c.id.in_([row.id for row in rows]))
        .values(resolved=True, resolved_at=utcnow())
    )
