"""The retention job on both databases: it deletes only what is past TDS_RETENTION_HOURS, in
chunks, as the scheduled function and on the local runner's timer; the drain, the relay and the
metrics flush no longer purge anything."""

import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from common.clock import utcnow
from common.config import get_settings
from common.db import transactions
from common.db.transactions import write
from common.events.relay import relay
from common.metrics.recording import Recorder
from common.models import event_deliveries, event_outbox, tds_drain_runs, tds_request_metrics, tds_sync_queue
from common.retention import RetentionTimer, purge_history
from functions.purge_history import purge_history as purge_history_function
from tests import zoho_payloads as zoho
from tests.helpers import drain_now, queue_webhook

# TDS_RETENTION_HOURS=2 in these tests: a row of three hours ago is past it, one of an hour ago is not.
RETENTION_HOURS = 2
PAST, WITHIN = timedelta(hours=3), timedelta(hours=1)


def _queue_item(connection, status: str, age: timedelta) -> int:
    when = utcnow() - age
    return connection.execute(
        tds_sync_queue.insert()
        .values(
            entity_type="customers",
            source_entity_id=uuid.uuid4().hex[:12],
            operation_type="update",
            status=status,
            priority=5,
            attempt_count=1,
            idempotency_key=uuid.uuid4().hex,
            payload={},
            created_at=when - age,
            completed_at=when if status in ("completed", "dead_letter") else None,
        )
        .returning(tds_sync_queue.c.id)
    ).scalar_one()


def _drain_run(connection, age: timedelta) -> int:
    when = utcnow() - age
    return connection.execute(
        tds_drain_runs.insert()
        .values(
            worker_id="test",
            trigger="test",
            started_at=when,
            finished_at=when,
            claimed=0,
            completed=0,
            retried=0,
            dead_lettered=0,
            stale=0,
            remaining=0,
            duration_ms=0,
        )
        .returning(tds_drain_runs.c.id)
    ).scalar_one()


def _event(connection, published_age: timedelta | None, delivered: bool | None = None) -> int:
    """An outbox event, published `published_age` ago (None: unpublished), with one delivery when
    `delivered` is not None."""
    now = utcnow()
    event_id = str(uuid.uuid4())
    outbox_id = connection.execute(
        event_outbox.insert()
        .values(
            event_id=event_id,
            event_type="product.updated",
            aggregate_type="product",
            aggregate_id=event_id,
            payload={},
            occurred_at=now - PAST - PAST,
            attempts=0,
            published_at=None if published_age is None else now - published_age,
        )
        .returning(event_outbox.c.id)
    ).scalar_one()
    if delivered is not None:
        connection.execute(
            event_deliveries.insert().values(
                outbox_id=outbox_id,
                subscriber="test",
                aggregate_type="product",
                aggregate_id=event_id,
                attempts=1,
                next_attempt_at=now,
                delivered_at=now if delivered else None,
            )
        )
    return outbox_id


def _metrics_row(connection, age: timedelta) -> int:
    return connection.execute(
        tds_request_metrics.insert()
        .values(
            minute=utcnow() - age,
            function="health",
            route="/health",
            requests=1,
            client_errors=0,
            server_errors=0,
            total_ms=1.0,
            max_ms=1.0,
            histogram=[0],
        )
        .returning(tds_request_metrics.c.id)
    ).scalar_one()


def _ids(db, table) -> set[int]:
    with db.engine.connect() as connection:
        return set(connection.scalars(select(table.c.id)))


@pytest.fixture
def retention(db, configure):
    configure(TDS_RETENTION_HOURS=RETENTION_HOURS)
    return db


def test_the_purge_deletes_only_what_is_past_retention(retention):
    db = retention
    with write(db.engine) as connection:
        old_completed = _queue_item(connection, "completed", PAST)
        kept_items = {
            _queue_item(connection, "completed", WITHIN),
            _queue_item(connection, "dead_letter", PAST),  # dead letters stay until replayed
            _queue_item(connection, "pending", PAST),
            _queue_item(connection, "retry", PAST),
        }
        old_run, recent_run = _drain_run(connection, PAST), _drain_run(connection, WITHIN)
        old_events = {_event(connection, PAST), _event(connection, PAST, delivered=True)}
        kept_events = {
            _event(connection, WITHIN, delivered=True),
            _event(connection, PAST, delivered=False),  # a delivery still owed keeps its event
            _event(connection, None),  # not published yet
        }
        # Request metrics are kept at least a day, whatever TDS_RETENTION_HOURS says.
        old_metrics, recent_metrics = _metrics_row(connection, timedelta(hours=25)), _metrics_row(connection, PAST)

    summary = purge_history(get_settings())

    assert summary.model_dump() == {
        "queue_items": 1,
        "drain_runs": 1,
        "events": 2,
        "request_metrics": 1,
        "job_runs": 0,
        "incidents": 0,
        "audit_entries": 0,
    }
    assert old_completed not in _ids(db, tds_sync_queue) and _ids(db, tds_sync_queue) == kept_items
    assert _ids(db, tds_drain_runs) == {recent_run} and old_run != recent_run
    assert _ids(db, event_outbox) == kept_events and not old_events & kept_events
    assert _ids(db, tds_request_metrics) == {recent_metrics} and old_metrics != recent_metrics
    assert purge_history(get_settings()).model_dump() == dict.fromkeys(summary.model_dump(), 0)


def test_the_purge_deletes_in_chunks_until_nothing_is_left(retention, monkeypatch):
    db = retention
    monkeypatch.setattr(transactions, "PURGE_CHUNK_ROWS", 2)
    with write(db.engine) as connection:
        for _ in range(5):
            _queue_item(connection, "completed", PAST)
        recent = _queue_item(connection, "completed", WITHIN)
    assert purge_history(get_settings()).queue_items == 5
    assert _ids(db, tds_sync_queue) == {recent}


def test_the_scheduled_function_purges_and_says_what_it_deleted(retention):
    with write(retention.engine) as connection:
        _queue_item(connection, "completed", PAST)
        _drain_run(connection, PAST)
    answer = purge_history_function({"source": "aws.events", "detail-type": "Scheduled Event"}, None)
    assert answer == {
        "queue_items": 1,
        "drain_runs": 1,
        "events": 0,
        "request_metrics": 0,
        "job_runs": 0,
        "incidents": 0,
        "audit_entries": 0,
    }


def test_the_drain_the_relay_and_the_metrics_flush_purge_nothing(retention, client):
    db = retention
    with write(db.engine) as connection:
        old_item, old_run = _queue_item(connection, "completed", PAST), _drain_run(connection, PAST)
        old_event, old_metrics = _event(connection, PAST), _metrics_row(connection, timedelta(hours=25))
    queue_webhook(client, "customers", zoho.customer())
    assert drain_now().completed == 1  # a drain that did work, and recorded its run
    relay(get_settings(), budget_seconds=10)
    recorder = Recorder()
    recorder.record("health", "/health", 200, 1.0)
    assert recorder.flush() == 1
    assert old_item in _ids(db, tds_sync_queue) and old_run in _ids(db, tds_drain_runs)
    assert old_event in _ids(db, event_outbox) and old_metrics in _ids(db, tds_request_metrics)


def test_the_runner_s_timer_purges_at_start_and_stops_at_once(retention):
    db = retention
    with write(db.engine) as connection:
        old = _queue_item(connection, "completed", PAST)
    timer = RetentionTimer(get_settings())  # the next purge would be an hour away
    timer.start()
    deadline = time.monotonic() + 10
    while old in _ids(db, tds_sync_queue):
        assert time.monotonic() < deadline, "the timer did not purge at start"
        time.sleep(0.05)
    started = time.monotonic()
    timer.stop()
    assert time.monotonic() - started < 5  # it does not sit out its interval
