"""Dead letters: list them, and replay one or all (back to the queue as new, and marked resolved)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, Text, cast, func, select, update

from common.db import read, utcnow, write
from common.errors import Conflict, NotFound
from common.models import tds_dead_letter_queue as dead_letters
from common.sync import queue
from common.sync.entities import BY_NAME
from common.sync.intake import enqueue_event
from common.sync.schemas import DeadLetter, DeadLetterPage, DeadLetterQuery, Replayed
from common.validation import json_value_problem

# What the list shows of a stored payload and error. The table can hold rows no page could
# render (megabytes of payload, nesting past every serialiser's limit, written by an older
# version or by hand); replay reads the row itself, so trimming the view loses nothing.
SHOWN_PAYLOAD_CHARS = 64 * 1024
SHOWN_ERROR_CHARS = 4000
_PREVIEW_CHARS = 2000

_payload_text = cast(dead_letters.c.last_payload, Text)
_LISTED = (
    *(column for column in dead_letters.c if column.name not in ("last_payload", "last_error_message")),
    func.substr(dead_letters.c.last_error_message, 1, SHOWN_ERROR_CHARS).label("last_error_message"),
    # Only a bounded prefix crosses the wire; the length says whether that is all of it.
    func.substr(_payload_text, 1, SHOWN_PAYLOAD_CHARS).label("payload_text"),
    func.length(_payload_text).label("payload_chars"),
)


def list_dead_letters(query: DeadLetterQuery, engine: Engine | None = None) -> DeadLetterPage:
    filters = []
    if not query.include_resolved:
        filters.append(dead_letters.c.resolved.is_(False))
    if query.entity_type:
        filters.append(dead_letters.c.entity_type == query.entity_type)
    with read(engine) as connection:
        total = connection.execute(select(func.count()).select_from(dead_letters).where(*filters)).scalar_one()
        rows = connection.execute(
            select(*_LISTED)
            .where(*filters)
            .order_by(dead_letters.c.created_at.desc(), dead_letters.c.id.desc())
            .limit(query.page_size)
            .offset((query.page - 1) * query.page_size)
        ).all()
    return DeadLetterPage(
        items=[_listed(row._mapping) for row in rows],
        total_count=total,
        page=query.page,
        page_size=query.page_size,
        has_more=query.page * query.page_size < total,
    )


def _listed(row: Any) -> DeadLetter:
    fields = {key: value for key, value in row.items() if key not in ("payload_text", "payload_chars")}
    return DeadLetter.model_validate({**fields, "last_payload": shown_payload(row["payload_text"], row["payload_chars"])})


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
