"""Webhook intake: validate a Zoho event, and queue it once.

An event's identity is its entity and its content once the envelope's delivery fields
(event id and time, the sending organization) are set aside, so a redelivery is a duplicate and any change to the
record itself is a new event. The database's unique key enforces it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from common.clock import utcnow
from common.db.engine import remaining_seconds
from common.db.transactions import read, write
from common.sync import queue
from common.sync.clock import refuse_future_versions
from common.sync.entities import Entity
from common.sync.group_commit import DEFAULT_WAIT_SECONDS, GroupCommit
from common.sync.payloads.bodies import DELIVERY_FIELDS, ZohoEvent
from common.sync.schemas import WebhookAccepted, WebhookDryRun

# Zoho's form option posts the JSON body in this x-www-form-urlencoded field.
ZOHO_FORM_FIELD = "JSONString"


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 12500.0 and 12500 are the same price
    return value


def idempotency_key(entity: Entity, stored: dict[str, Any]) -> str:
    """The event's identity: its entity and canonical body, delivery fields set aside."""
    stable = {key: value for key, value in stored.items() if key not in DELIVERY_FIELDS}
    canonical = json.dumps(
        {"entity": entity.name, "body": _canonical(stable)}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def checked_event(entity: Entity, payload: Any, now: datetime, operation: str | None = None) -> ZohoEvent:
    """Validate an event (ValidationFailed when it does not fit, or when its version is from the
    future: common.sync.clock)."""
    event = entity.parse(payload, operation)
    refuse_future_versions(event, entity.document, now)
    return event


def queue_row(entity: Entity, event: ZohoEvent, now: datetime) -> dict[str, Any]:
    """A checked event as a tds_sync_queue row."""
    return {
        "entity_type": entity.name,
        "source_entity_id": event.source_id,
        "operation_type": event.operation,
        "priority": entity.priority,
        "idempotency_key": idempotency_key(entity, event.stored),
        "event_id": event.event_id,
        "payload": event.stored,
        "source_modified_at": event.modified_at,
        "created_at": now,
    }


def event_row(entity: Entity, payload: Any, operation: str | None = None) -> dict[str, Any]:
    """Validate an event and describe it as a tds_sync_queue row."""
    now = utcnow()
    return queue_row(entity, checked_event(entity, payload, now, operation), now)


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


def accept_webhook(entity: Entity, payload: Any, operation: str | None = None) -> WebhookAccepted:
    """Queue the event and wait for its commit before answering: a 2xx always means it is stored.

    `operation` (the route's ?event_type=) overrides the body's event type."""
    row = event_row(entity, payload, operation)
    # Behind a stuck writer (a frozen database) a caller gives up when its own time is spent.
    queue_id, queued = _intake.submit(row, wait_seconds=remaining_seconds(DEFAULT_WAIT_SECONDS))
    return WebhookAccepted(
        message="Event queued for processing" if queued else "Duplicate event: already queued",
        event_id=str(queue_id),
        idempotency_key=row["idempotency_key"],
        queued=queued,
        duplicate=not queued,
    )


def dry_run(entity: Entity, payload: Any, operation: str | None = None) -> WebhookDryRun:
    """Validate an event and say what queueing it would do, writing nothing (post-deployment checks)."""
    row = event_row(entity, payload, operation)
    with read() as connection:
        duplicate = bool(queue.queued_ids(connection, [row["idempotency_key"]]))
    return WebhookDryRun(
        message="Valid event; dry run, nothing queued",
        duplicate=duplicate,
        **{
            name: row[name]
            for name in ("entity_type", "source_entity_id", "operation_type", "priority", "idempotency_key")
        },
    )
