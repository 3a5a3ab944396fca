"""Webhook intake: validate a Zoho event, and queue it once.

An event's identity is its entity and its content once the envelope's delivery fields
(event id and time) are set aside, so a redelivery is a duplicate and any change to the
record itself is a new event. The database's unique key enforces it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection

from common.db import utcnow, write
from common.errors import ValidationFailed
from common.sync import queue
from common.sync.entities import Entity
from common.sync.group_commit import GroupCommit
from common.sync.schemas import WebhookAccepted
from common.validation import validate

# Delivery metadata: differs between redeliveries of one event, says nothing about the record.
VOLATILE_FIELDS = frozenset({"event_id", "event_time"})


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 12500.0 and 12500 are the same price
    return value


def idempotency_key(entity: Entity, payload: dict[str, Any]) -> str:
    stable = {key: value for key, value in payload.items() if key not in VOLATILE_FIELDS}
    canonical = json.dumps(
        {"entity": entity.name, "body": _canonical(stable)}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def event_row(entity: Entity, payload: Any) -> dict[str, Any]:
    """Validate an event and describe it as a tds_sync_queue row (422 when it does not fit)."""
    if not isinstance(payload, dict):
        raise ValidationFailed(errors=[{"field": "body", "message": "must be a JSON object"}])
    body = validate(entity.body, payload)
    return {
        "entity_type": entity.name,
        "source_entity_id": entity.source_id(body),
        "operation_type": entity.operation(body),
        "priority": entity.priority,
        "idempotency_key": idempotency_key(entity, payload),
        "event_id": getattr(body, "event_id", None),
        "payload": payload,
        "source_modified_at": entity.modified_at(body),
        "created_at": utcnow(),
    }


def enqueue_event(connection: Connection, entity: Entity, payload: Any) -> tuple[int, str, bool]:
    """Validate and queue one event in the caller's transaction: (queue id, idempotency key, newly queued?)."""
    row = event_row(entity, payload)
    [(queue_id, queued)] = queue.enqueue(connection, [row])
    return queue_id, row["idempotency_key"], queued


def _write_events(rows: list[dict[str, Any]]) -> list[tuple[int, bool]]:
    with write() as connection:
        return queue.enqueue(connection, rows)


# Webhooks arriving together share one INSERT and one commit (common.sync.group_commit).
_intake = GroupCommit(_write_events)


def accept_webhook(entity: Entity, payload: Any) -> WebhookAccepted:
    """Queue the event and wait for its commit before answering: a 2xx always means it is stored."""
    row = event_row(entity, payload)
    queue_id, queued = _intake.submit(row)
    return WebhookAccepted(
        message="Event queued for processing" if queued else "Duplicate event: already queued",
        event_id=str(queue_id),
        idempotency_key=row["idempotency_key"],
        queued=queued,
        duplicate=not queued,
    )
