"""The Zoho dashboard on both databases: health rules, statistics, dead-letter listing and replay."""

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from werkzeug.test import Client

from common.clock import utcnow
from common.db.transactions import read, write
from common.models import tds_dead_letter_queue, tds_sync_queue
from common.ops import queries
from common.sync import handlers
from common.sync.errors import TransientSyncError
from local_runner import create_app
from tests import zoho_payloads as zoho
from tests.helpers import ADMIN_KEY, dead_letter_one, drain_now, queue_webhook

ADMIN = {"X-Admin-Key": ADMIN_KEY}


def test_an_idle_sync_is_healthy(client, db):
    response = client.get("/api/zoho/dashboard/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "healthy" and body["issues"] == []
    assert body["database"]["status"] == "ok"
    assert body["queue"] == {
        "pending": 0,
        "processing": 0,
        "retry": 0,
        "completed": 0,
        "dead_letter": 0,
        "oldest_pending_age_seconds": None,
    }
    assert body["workers"] == {"last_drain_at": None, "last_drain": None}


def test_health_reports_the_last_drain(client, db):
    queue_webhook(client, "customers", zoho.customer())
    before = utcnow().replace(microsecond=0)  # the answer may carry its time truncated
    drain_now()
    after = utcnow()
    body = client.get("/api/zoho/dashboard/health").get_json()
    assert body["status"] == "healthy"
    assert body["queue"]["completed"] == 1
    assert body["workers"]["last_drain"]["completed"] == 1
    assert before <= datetime.fromisoformat(body["workers"]["last_drain_at"]) <= after


def test_an_old_pending_item_degrades_health(client, db):
    queue_id = queue_webhook(client, "customers", zoho.customer())
    assert client.get("/api/zoho/dashboard/health").get_json()["status"] == "healthy"
    with write(db.engine) as connection:
        connection.execute(
            update(tds_sync_queue)
            .where(tds_sync_queue.c.id == queue_id)
            .values(created_at=utcnow() - timedelta(minutes=6))
        )
    body = client.get("/api/zoho/dashboard/health").get_json()
    assert body["status"] == "degraded"
    assert body["queue"]["oldest_pending_age_seconds"] > 300
    assert any("oldest pending" in issue for issue in body["issues"])


def test_unresolved_dead_letters_and_a_low_success_rate_degrade_health(client, db):
    dead_letter_one(client)
    response = client.get("/api/zoho/dashboard/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert any("dead letters" in issue for issue in body["issues"])
    assert any("success rate" in issue for issue in body["issues"])


def test_database_down_is_unhealthy_503(configure, refused_database_url):
    configure(DATABASE_URL=refused_database_url)
    response = Client(create_app()).get("/api/zoho/dashboard/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unhealthy" and body["database"]["status"] == "error"


def test_stats_count_the_window(client, db, configure):
    for number in range(3):
        queue_webhook(client, "customers", zoho.customer(contact_id=str(number)))
    queue_webhook(client, "customers", zoho.customer(contact_id="0", version=0))  # older than stored: stale
    dead_letter_one(client)
    drain_now()
    with write(db.engine) as connection:  # known processing times for the four completed items, in queue order
        done = (
            connection.execute(
                select(tds_sync_queue.c.id).where(tds_sync_queue.c.status == "completed").order_by(tds_sync_queue.c.id)
            )
            .scalars()
            .all()
        )
        for queue_id, elapsed_ms in zip(done, (10, 20, 400, 400), strict=True):
            timed = update(tds_sync_queue).where(tds_sync_queue.c.id == queue_id).values(processing_ms=elapsed_ms)
            connection.execute(timed)
    configure(ADMIN_API_KEY=ADMIN["X-Admin-Key"])
    assert client.get("/api/zoho/dashboard/stats").status_code == 401
    response = client.get("/api/zoho/dashboard/stats?hours=24", headers=ADMIN)
    assert response.status_code == 200
    stats = response.get_json()
    assert stats["window_hours"] == 24
    assert stats["received"]["total"] == 5
    assert sum(hour["count"] for hour in stats["received"]["per_hour"]) == 5
    assert stats["received"]["per_hour"][-1]["hour"].endswith(":00:00Z")
    assert (stats["completed"], stats["dead_lettered"], stats["stale"]) == (4, 1, 1)
    assert stats["success_rate"] == 80.0
    # (10 + 20 + 400 + 400) / 4; the two slowest are alike, so any rank-based p95 of the four is 400.
    assert stats["processing_time"] == {"avg_ms": 207.5, "p95_ms": 400.0}
    assert stats["queue_depth"]["completed"] == 4 and stats["queue_depth"]["dead_letter"] == 1
    by_entity = {row["entity_type"]: row for row in stats["by_entity"]}
    assert by_entity["customers"]["received"] == 4 and by_entity["products"]["dead_lettered"] == 1


def test_the_operations_chart_counts_each_hour_by_arrival_and_by_finish(client, db):
    queue_webhook(client, "customers", zoho.customer(contact_id="1"))
    queue_webhook(client, "customers", zoho.customer(contact_id="2"))
    dead_letter_one(client)  # drains the customers too
    now = utcnow()
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    items = tds_sync_queue.c
    with write(db.engine) as connection:  # customer 1 arrived three hours ago and finished two hours ago
        connection.execute(update(tds_sync_queue).values(created_at=this_hour, completed_at=this_hour))
        connection.execute(
            update(tds_sync_queue)
            .where(items.source_entity_id == "1")
            .values(created_at=this_hour - timedelta(hours=3), completed_at=this_hour - timedelta(hours=2))
        )
    with read(db.engine) as connection:
        bars = queries.hourly(connection, now)
    assert len(bars) == 24 and bars[-1].hour == this_hour
    counts = {index: (bar.received, bar.completed, bar.dead_lettered) for index, bar in enumerate(reversed(bars))}
    assert counts[0] == (2, 1, 1) and counts[2] == (0, 1, 0) and counts[3] == (1, 0, 0)
    assert sum(bar.received for bar in bars) == 3


def test_stats_hours_are_validated(client, db):
    response = client.get("/api/zoho/dashboard/stats?hours=0")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "hours"


def _unavailable(connection, event, now):
    raise TransientSyncError("the bill's dependency is unavailable")


def test_dead_letters_are_listed_filtered_and_paginated(client, db, monkeypatch):
    dead_letter_one(client)
    monkeypatch.setitem(handlers.HANDLERS, "bills", _unavailable)
    queue_webhook(client, "bills", zoho.bill(bill_id="missing"))
    with write(db.engine) as connection:  # four attempts behind it: the next failure is the fifth and last
        connection.execute(update(tds_sync_queue).where(tds_sync_queue.c.status == "pending").values(attempt_count=4))
    drain_now()
    page = client.get("/api/zoho/dashboard/dead-letter?page_size=1").get_json()
    assert page["total_count"] == 2 and page["has_more"] is True and len(page["items"]) == 1
    bills_only = client.get("/api/zoho/dashboard/dead-letter?entity_type=bills").get_json()
    assert [item["entity_type"] for item in bills_only["items"]] == ["bills"]
    assert bills_only["items"][0]["failure_reason"] == "max_attempts_exceeded"
    assert bills_only["items"][0]["last_payload"]["bill"]["bill_id"] == "missing"


def test_replaying_one_dead_letter_requeues_its_item_and_resolves_it(client, db):
    queue_id = dead_letter_one(client)
    letter_id = client.get("/api/zoho/dashboard/dead-letter").get_json()["items"][0]["id"]
    response = client.post(f"/api/zoho/dashboard/dead-letter/{letter_id}/retry")
    assert response.status_code == 200
    assert response.get_json()["requeued"] == 1
    with db.engine.connect() as connection:
        item = connection.execute(select(tds_sync_queue).where(tds_sync_queue.c.id == queue_id)).one()
        letter = connection.execute(select(tds_dead_letter_queue)).one()
    assert (item.status, item.attempt_count, item.error_message) == ("pending", 0, None)
    assert letter.resolved is True and letter.resolved_at is not None
    assert client.post(f"/api/zoho/dashboard/dead-letter/{letter_id}/retry").status_code == 409
    assert client.post("/api/zoho/dashboard/dead-letter/999999/retry").status_code == 404
    assert client.post("/api/zoho/dashboard/dead-letter/abc/retry").status_code == 404
    assert client.get("/api/zoho/dashboard/dead-letter").get_json()["total_count"] == 0


def test_replaying_all_requeues_every_unresolved_letter(client, db):
    dead_letter_one(client)
    queue_webhook(client, "products", {"item": {"item_id": "broken-2", "rate": 5}})
    drain_now()
    response = client.post("/api/zoho/dashboard/dead-letter/retry")
    assert response.status_code == 200
    assert response.get_json()["requeued"] == 2
    with db.engine.connect() as connection:
        statuses = connection.scalars(select(tds_sync_queue.c.status)).all()
        unresolved = connection.execute(
            select(func.count()).select_from(tds_dead_letter_queue).where(tds_dead_letter_queue.c.resolved.is_(False))
        ).scalar_one()
    assert statuses == ["pending", "pending"] and unresolved == 0
    # A replayed item that fails again is dead-lettered again, as a new letter.
    assert drain_now().dead_lettered == 2
    assert client.post("/api/zoho/dashboard/dead-letter/retry").get_json()["requeued"] == 2
