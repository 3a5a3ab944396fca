"""Dead letters: list them, and replay one or all (back to the queue as new, and marked resolved)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Row

from common.clock import utcnow
from common.db.transactions import read, write
from common.errors import Conflict, NotFound
from common.ops import audit
from common.sync import queue, queue_reads
from common.sync.entities import BY_NAME
from common.sync.intake import enqueue_event
from common.sync.queue_reads import SHOWN_PAYLOAD_CHARS
from common.sync.schemas import DeadLetter, DeadLetterPage, DeadLetterQuery, Replayed
from common.validation import json_value_problem

_PREVIEW_CHARS = 2000


def list_dead_letters(query: DeadLetterQuery, engine: Engine | None = None) -> DeadLetterPage:
    with read(engine) as connection:
        total, rows = queue_reads.dead_letter_page(
            connection,
            include_resolved=query.include_resolved,
            entity_type=query.entity_type,
            limit=query.page_size,
            offset=(query.page - 1) * query.page_size,
        )
    return DeadLetterPage(
        items=[_listed(row._mapping) for row in rows],
        total_count=total,
        page=query.page,
        page_size=query.page_size,
        has_more=query.page * query.page_size < total,
    )


def _listed(row: Any) -> DeadLetter:
    fields = {key: value for key, value in row.items() if key not in ("payload_text", "payload_chars")}
    return DeadLetter.model_validate(
        {**fields, "last_payload": shown_payload(row["payload_text"], row["payload_chars"])}
    )


def shown_payload(text: str | None, chars: int | None) -> Any:
    """The stored payload as the page shows it: itself when it renders, otherwise a stand-in
    saying why, with the start of its text."""
    if text is None:
        return None
    reason = None
    if chars is not None and chars > SHOWN_PAYLOAD_CHARS:
        reason = f"payload of {chars} characters is larger than the {SHOWN_PAYLOAD_CHARS} shown"
    else:
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            value, reason = None, "payload is not readable JSON"
        else:
            reason = json_value_problem(value)
            if reason is None:
                return value
            reason = f"payload {reason}"
    return {"truncated": True, "reason": reason, "preview": text[:_PREVIEW_CHARS]}


def replay_one(dead_letter_id: int, role: str, engine: Engine | None = None) -> Replayed:
    with write(engine) as connection:
        row = queue.lock_dead_letter(connection, dead_letter_id)
        if row is None:
            raise NotFound("Dead letter not found")
        if row.resolved:
            raise Conflict("Dead letter already resolved")
        requeue_letters(connection, [row])
        audit.record(connection, role, audit.REPLAY, {"dead_letter_id": dead_letter_id}, 1)
    return Replayed(message="Dead letter re-queued", requeued=1, dead_letter_ids=[dead_letter_id])


def replay_all(entity_type: str | None, role: str, engine: Engine | None = None) -> Replayed:
    with write(engine) as connection:
        rows = queue.lock_unresolved_dead_letters(connection, entity_type)
        requeue_letters(connection, rows)
        audit.record(connection, role, audit.REPLAY, {"entity_type": entity_type} if entity_type else {}, len(rows))
    ids = [row.id for row in rows]
    return Replayed(message=f"{len(ids)} dead letters re-queued", requeued=len(ids), dead_letter_ids=ids)


def requeue_letters(connection: Connection, rows: Sequence[Row]) -> None:
    """Re-queue each letter's item; an item no longer in the queue is queued again from its payload."""
    if not rows:
        return
    requeued = queue.requeue(connection, [row.sync_queue_id for row in rows if row.sync_queue_id is not None])
    for row in rows:
        if row.sync_queue_id not in requeued and row.entity_type in BY_NAME and row.last_payload is not None:
            enqueue_event(connection, BY_NAME[row.entity_type], row.last_payload)
    queue.resolve_dead_letters(connection, [row.id for row in rows], utcnow())
