"""The relay: after commit, hands outbox events on to the bus and to the local subscribers.

`relay()` runs after each drain, in the local runner's workers and as the scheduled function
`publish_events`. Each round claims the unpublished events of a few aggregates (oldest
first), records one delivery per local subscriber, and sends the events to EventBridge when
a bus is configured, at most one event per aggregate per PutEvents call: an event the bus
refused stops its aggregate's later events for this run, so the bus accepts each
aggregate's events in order. Only what the bus accepted is marked published; the rest is
retried with backoff. Then each due delivery runs in a transaction of its own. Published
events past the retention period are purged by the retention job (common.retention).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Connection, Engine

from common.cache import Cache
from common.config import Settings
from common.db import utcnow, writer
from common.events import outbox
from common.events.outbox import OutboxRow
from common.events.publisher import MAX_ENTRIES, EventBridgePublisher, Publisher
from common.events.schemas import RelaySummary
from common.events.subscribers import subscriber, subscribers_of
from common.logs import get_logger
from common.retry import Backoff

log = get_logger("events.relay")

CLAIM_LIMIT = 100
PUBLISH_BACKOFF = Backoff(base_seconds=5.0, cap_seconds=900.0)
DELIVERY_BACKOFF = Backoff(base_seconds=5.0, cap_seconds=3600.0)


# One EventBridge client per bus, reused while the process is warm.
PUBLISHERS: Cache[str, EventBridgePublisher] = Cache()


def publisher_for(settings: Settings) -> Publisher | None:
    """The process's EventBridge publisher; None without a bus."""
    bus_name = settings.event_bus_name
    return PUBLISHERS.get(bus_name, lambda: EventBridgePublisher(bus_name)) if bus_name else None


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def relay(
    settings: Settings,
    *,
    budget_seconds: float,
    engine: Engine | None = None,
    publisher: Publisher | None = None,
) -> RelaySummary:
    """Publish what is due, then run the due deliveries; returns what was done."""
    started = time.monotonic()
    publisher = publisher if publisher is not None else publisher_for(settings)
    summary = RelaySummary()

    def time_left() -> bool:
        return time.monotonic() - started < budget_seconds

    with writer(engine) as connection:
        bus_answered = True
        while time_left():
            with connection.begin():
                rows = outbox.claim(connection, CLAIM_LIMIT, utcnow())
                if rows:
                    outbox.add_deliveries(connection, rows, subscribers_of)
                    bus_answered = _hand_on(connection, rows, publisher, summary)
            if len(rows) < CLAIM_LIMIT or not bus_answered:
                break
        while time_left() and _deliver_one(connection, summary):
            pass
    if summary.published or summary.publish_failures or summary.delivered or summary.delivery_failures:
        log.info("events relayed", extra=summary.model_dump())
    return summary


def _hand_on(
    connection: Connection, rows: Sequence[OutboxRow], publisher: Publisher | None, summary: RelaySummary
) -> bool:
    """Publish the claimed rows; False when a whole PutEvents call failed (the bus is not answering)."""
    if publisher is None:  # local subscribers only: their deliveries are recorded, which is all there is to do
        outbox.mark_published(connection, [row.id for row in rows], utcnow())
        summary.published += len(rows)
        return True
    waiting: OrderedDict[tuple[str, str], list[OutboxRow]] = OrderedDict()
    for row in rows:
        waiting.setdefault((row.aggregate_type, row.aggregate_id), []).append(row)
    accepted: list[int] = []
    answered = True
    while waiting and answered:
        call = [(key, events.pop(0)) for key, events in list(waiting.items())[:MAX_ENTRIES]]
        try:
            errors = publisher.publish([row for _, row in call])
        except Exception as exc:  # noqa: BLE001 - a failed call is recorded on each of its events
            errors, answered = [_error(exc)] * len(call), False
        now = utcnow()
        for (key, row), error in zip(call, errors, strict=True):
            if error is None:
                accepted.append(row.id)
                continue
            outbox.mark_failed(
                connection, row.id, error, now + timedelta(seconds=PUBLISH_BACKOFF.delay(row.attempts + 1))
            )
            summary.publish_failures += 1
            waiting.pop(key, None)  # its later events wait for it
            log.warning("event not accepted by the bus",
                        extra={"outbox_id": row.id, "event_type": row.event_type, "attempt": row.attempts + 1, "error": error})  # fmt: skip
        for key in [key for key, events in waiting.items() if not events]:
            del waiting[key]
    outbox.mark_published(connection, accepted, utcnow())
    summary.published += len(accepted)
    return answered


def _deliver_one(connection: Connection, summary: RelaySummary) -> bool:
    """Run one due delivery in its own transaction; False when none is due."""
    delivery = None
    try:
        with connection.begin():
            delivery = outbox.claim_delivery(connection, utcnow())
            if delivery is None:
                return False
            subscriber(delivery.subscriber)(connection, delivery.payload)
            outbox.mark_delivered(connection, delivery.id, utcnow())
    except Exception as exc:  # noqa: BLE001 - recorded on the delivery, retried later
        if delivery is None:
            raise
        retry_at = utcnow() + timedelta(seconds=DELIVERY_BACKOFF.delay(delivery.attempts + 1))
        with connection.begin():
            outbox.mark_delivery_failed(connection, delivery.id, _error(exc), retry_at)
        summary.delivery_failures += 1
        log.warning("subscriber failed; retried later",
                    extra={"subscriber": delivery.subscriber, "event_id": delivery.payload.get("event_id"),
                           "attempt": delivery.attempts + 1, "error": _error(exc)})  # fmt: skip
        return True
    summary.delivered += 1
    return True
