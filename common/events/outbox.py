"""Writing events in the transaction of the change, and every statement on event_outbox and event_deliveries.

An event row is unpublished (`published_at` NULL) until the relay has handed it on: to the
bus when one is configured, otherwise to the local subscribers' deliveries. The relay claims
the earliest unpublished row of each aggregate (its "head"); the rows behind a head wait for
it, which keeps each aggregate's events in order across concurrent relays.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, exists, or_, select, tuple_, update

from common.db.statements import insert_rows
from common.models import event_deliveries, event_outbox

EVENT_TYPES = (
    "product.created",
    "product.updated",
    "product.price_changed",
    "product.out_of_stock",
    "product.back_in_stock",
    "product.deactivated",
    "customer.created",
    "customer.updated",
    "invoice.recorded",
    "stock.adjusted",
    "sync.dead_lettered",
    "cart.changed",
    "order.placed",
    "order.status_changed",
    "order.cancelled",
)
_MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class Event:
    """A change to one aggregate (a product, a customer, a cart, ...), before it is written."""

    type: str
    aggregate_type: str
    aggregate_id: str | int
    data: dict[str, Any]

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")


@dataclass(frozen=True)
class OutboxRow:
    id: int
    event_id: str
    event_type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: dt.datetime
    attempts: int


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


_INSERT = event_outbox.insert()


def write(connection: Connection, events: Iterable[Event], occurred_at: dt.datetime) -> None:
    """Add the events to the outbox, in the caller's transaction; they share its fate."""
    rows = []
    for event in events:
        event_id = str(uuid.uuid4())
        aggregate_id = str(event.aggregate_id)
        payload = {
            "event_id": event_id,
            "event_type": event.type,
            "occurred_at": occurred_at.isoformat(),
            "aggregate": {"type": event.aggregate_type, "id": aggregate_id},
            "data": _jsonable(event.data),
        }
        rows.append(
            {
                "event_id": event_id,
                "event_type": event.type,
                "aggregate_type": event.aggregate_type,
                "aggregate_id": aggregate_id,
                "payload": payload,
                "occurred_at": occurred_at,
                "attempts": 0,
            }
        )
    if rows:
        connection.execute(_INSERT, rows)


# --- The relay's statements ------------------------------------------------------------------

_earlier = event_outbox.alias("earlier")
_UNPUBLISHED = event_outbox.c.published_at.is_(None)


def claim(connection: Connection, limit: int, now: dt.datetime) -> list[OutboxRow]:
    """Lock the due heads of up to `limit` aggregates, and return their unpublished rows in id order.

    A head is locked FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite runs this in BEGIN IMMEDIATE),
    so two relays never take the same aggregate; a head waiting for its retry keeps the rows
    behind it waiting too. Returns at most `limit` rows.
    """
    heads = connection.execute(
        select(event_outbox.c.aggregate_type, event_outbox.c.aggregate_id)
        .where(
            _UNPUBLISHED,
            or_(event_outbox.c.next_attempt_at.is_(None), event_outbox.c.next_attempt_at <= now),
            ~exists().where(
                _earlier.c.published_at.is_(None),
                _earlier.c.aggregate_type == event_outbox.c.aggregate_type,
                _earlier.c.aggregate_id == event_outbox.c.aggregate_id,
                _earlier.c.id < event_outbox.c.id,
            ),
        )
        .order_by(event_outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not heads:
        return []
    rows = connection.execute(
        select(event_outbox)
        .where(
            _UNPUBLISHED,
            tuple_(event_outbox.c.aggregate_type, event_outbox.c.aggregate_id).in_([tuple(h) for h in heads]),
        )
        .order_by(event_outbox.c.id)
        .limit(limit)
    ).all()
    return [
        OutboxRow(
            row.id,
            row.event_id,
            row.event_type,
            row.aggregate_type,
            row.aggregate_id,
            row.payload,
            row.occurred_at,
            row.attempts,
        )
        for row in rows
    ]


def add_deliveries(connection: Connection, rows: Sequence[OutboxRow], subscribers_of) -> None:
    """One delivery per (event, subscriber of its type); a row claimed again adds none twice."""
    insert_rows(
        connection,
        event_deliveries,
        [
            {
                "outbox_id": row.id,
                "subscriber": name,
                "aggregate_type": row.aggregate_type,
                "aggregate_id": row.aggregate_id,
                "attempts": 0,
                "next_attempt_at": row.occurred_at,
            }
            for row in rows
            for name in subscribers_of(row.event_type)
        ],
        skip_duplicates=True,
    )


def mark_published(connection: Connection, ids: Sequence[int], now: dt.datetime) -> None:
    if ids:
        connection.execute(
            update(event_outbox)
            .where(event_outbox.c.id.in_(sorted(ids)))
            .values(published_at=now, next_attempt_at=None, last_error=None)
        )


def mark_failed(connection: Connection, row_id: int, error: str, retry_at: dt.datetime) -> None:
    connection.execute(
        update(event_outbox)
        .where(event_outbox.c.id == row_id)
        .values(attempts=event_outbox.c.attempts + 1, last_error=error[:_MAX_ERROR_LENGTH], next_attempt_at=retry_at)
    )


_held = event_deliveries.alias("held")


@dataclass(frozen=True)
class Delivery:
    id: int
    subscriber: str
    attempts: int
    payload: dict[str, Any]


def claim_delivery(connection: Connection, now: dt.datetime) -> Delivery | None:
    """Lock one due delivery whose subscriber has nothing earlier pending on the same aggregate."""
    row = connection.execute(
        select(
            event_deliveries.c.id, event_deliveries.c.subscriber, event_deliveries.c.attempts, event_outbox.c.payload
        )
        .join(event_outbox, event_outbox.c.id == event_deliveries.c.outbox_id)
        .where(
            event_deliveries.c.delivered_at.is_(None),
            event_deliveries.c.next_attempt_at <= now,
            ~exists().where(
                _held.c.delivered_at.is_(None),
                _held.c.subscriber == event_deliveries.c.subscriber,
                _held.c.aggregate_type == event_deliveries.c.aggregate_type,
                _held.c.aggregate_id == event_deliveries.c.aggregate_id,
                _held.c.id < event_deliveries.c.id,
            ),
        )
        .order_by(event_deliveries.c.next_attempt_at, event_deliveries.c.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=event_deliveries)
    ).first()
    return None if row is None else Delivery(row.id, row.subscriber, row.attempts, row.payload)


def mark_delivered(connection: Connection, delivery_id: int, now: dt.datetime) -> None:
    connection.execute(
        update(event_deliveries)
        .where(event_deliveries.c.id == delivery_id)
        .values(delivered_at=now, attempts=event_deliveries.c.attempts + 1)
    )


def mark_delivery_failed(connection: Connection, delivery_id: int, error: str, retry_at: dt.datetime) -> None:
    connection.execute(
        update(event_deliveries)
        .where(event_deliveries.c.id == delivery_id, event_deliveries.c.delivered_at.is_(None))
        .values(
            attempts=event_deliveries.c.attempts + 1, last_error=error[:_MAX_ERROR_LENGTH], next_attempt_at=retry_at
        )
    )


def purge_published(connection: Connection, before: dt.datetime, limit: int) -> int:
    """Forget up to `limit` events published before `before` whose every delivery is done."""
    chunk = (
        select(event_outbox.c.id)
        .where(
            event_outbox.c.published_at < before,
            ~exists().where(
                event_deliveries.c.outbox_id == event_outbox.c.id, event_deliveries.c.delivered_at.is_(None)
            ),
        )
        .limit(limit)
        .scalar_subquery()
    )
    return connection.execute(event_outbox.delete().where(event_outbox.c.id.in_(chunk))).rowcount


# --- The feed ----------------------------------------------------------------------------------


def events_after(connection: Connection, after: int, limit: int) -> tuple[list, dict[int, list]]:
    """Outbox rows with id > after (oldest first), and the deliveries of each."""
    rows = connection.execute(
        select(event_outbox).where(event_outbox.c.id > after).order_by(event_outbox.c.id).limit(limit)
    ).all()
    by_event: dict[int, list] = {row.id: [] for row in rows}
    if rows:
        for delivery in connection.execute(
            select(event_deliveries)
            .where(event_deliveries.c.outbox_id.in_(list(by_event)))
            .order_by(event_deliveries.c.id)
        ):
            by_event[delivery.outbox_id].append(delivery)
    return rows, by_event
