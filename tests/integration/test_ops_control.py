"""Operators' control of the queue: pause and resume (every drain path holds back, webhooks are
still queued, nothing is lost), replay or discard dead letters by a filter (exactly the matching
ones), payload search (a value inside a nested line item), and the audit trail of every change."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug.test import Client

from common.clock import utcnow
from common.config import get_settings
from common.models import ops_audit_log, products, tds_dead_letter_queue, tds_sync_queue
from common.sync.workers import DrainWorkers
from tests import zoho_payloads as zoho
from tests.helpers import ADMIN_KEY, drain_now, queue_webhook

ADMIN = {"X-Admin-Key": ADMIN_KEY}


@pytest.fixture
def admin(configure, db):
    configure(DATABASE_URL=db.url, ADMIN_API_KEY=ADMIN_KEY)


def _statuses(db) -> dict[str, int]:
    with db.engine.connect() as connection:
        status = tds_sync_queue.c.status
        return dict(connection.execute(select(status, func.count()).group_by(status)).all())


def _audit(db) -> list[tuple]:
    with db.engine.connect() as connection:
        log = ops_audit_log.c
        return [
            tuple(row)
            for row in connection.execute(select(log.role, log.action, log.detail, log.affected).order_by(log.id))
        ]


@pytest.mark.postgres_only
def test_a_pause_holds_back_every_drain_while_webhooks_keep_arriving_and_resume_loses_nothing(pg, configure):
    from functions.drain_queue import drain_queue
    from local_runner import create_app

    configure(DATABASE_URL=pg.url, ADMIN_API_KEY=ADMIN_KEY, TDS_WORKERS="2", TDS_QUEUE_POLL_INTERVAL_MS="20")
    app = create_app()
    control = Client(app)
    assert control.post("/api/zoho/queue/pause", json={}, headers=ADMIN).get_json() == {"paused": ["*"]}
    workers = DrainWorkers(get_settings())
    workers.start()
    posted, claimed = [], []

    def send(offset: int) -> None:
        sender = Client(app)
        for number in range(offset, offset + 60):
            body = zoho.product(f"4600000{number:05d}")
            assert sender.post("/api/zoho/webhooks/products", json=body).status_code == 202
            posted.append(number)

    def drain_every_way() -> None:
        drainer = Client(app)
        while len(posted) < 240:
            claimed.append(drain_queue()["claimed"])
            claimed.append(drainer.post("/api/zoho/queue/drain", headers=ADMIN).get_json()["claimed"])

    threads = [threading.Thread(target=send, args=(offset,)) for offset in range(0, 240, 60)]
    threads.append(threading.Thread(target=drain_every_way))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    workers.stop()
    assert len(posted) == 240 and claimed and set(claimed) == {0}
    assert _statuses(pg) == {"pending": 240}, "the workers drained nothing either"
    health = control.get("/api/zoho/dashboard/health").get_json()
    assert [pause["entity_type"] for pause in health["paused"]] == ["*"] and health["paused"][0]["by"] == "admin"
    assert any("paused since" in issue for issue in health["issues"]) and health["status"] == "degraded"

    assert control.post("/api/zoho/queue/resume", json={}, headers=ADMIN).get_json() == {"paused": []}
    workers = DrainWorkers(get_settings())
    workers.start()
    try:
        for _ in range(600):
            if _statuses(pg) == {"completed": 240}:
                break
            threading.Event().wait(0.1)
    finally:
        workers.stop()
    assert _statuses(pg) == {"completed": 240}
    with pg.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(products)).scalar_one() == 240
        assert connection.execute(select(func.max(tds_sync_queue.c.attempt_count))).scalar_one() == 1


def test_pausing_one_entity_type_drains_the_others(client, db, admin):
    queue_webhook(client, "products", zoho.product("460000000000001"))
    queue_webhook(client, "customers", zoho.customer("880000000000009"))
    answer = client.post("/api/zoho/queue/pause", json={"entity_type": "products"}, headers=ADMIN)
    assert answer.status_code == 200 and answer.get_json() == {"paused": ["products"]}
    assert drain_now().completed == 1
    assert _statuses(db) == {"pending": 1, "completed": 1}
    assert client.post("/api/zoho/queue/resume", json={"entity_type": "products"}, headers=ADMIN).get_json() == {
        "paused": []
    }
    assert drain_now().completed == 1


def test_resuming_one_entity_type_while_all_are_paused_leaves_the_others_paused(client, db, admin):
    client.post("/api/zoho/queue/pause", json={}, headers=ADMIN)
    left = client.post("/api/zoho/queue/resume", json={"entity_type": "customers"}, headers=ADMIN).get_json()
    assert "customers" not in left["paused"] and "products" in left["paused"] and "*" not in left["paused"]
    queue_webhook(client, "products", zoho.product("460000000000002"))
    queue_webhook(client, "customers", zoho.customer("880000000000010"))
    assert drain_now().completed == 1 and _statuses(db) == {"pending": 1, "completed": 1}


def test_a_pause_for_an_unknown_entity_type_is_refused_and_changes_nothing(client, db, admin):
    answer = client.post("/api/zoho/queue/pause", json={"entity_type": "planets"}, headers=ADMIN)
    assert answer.status_code == 422 and answer.get_json()["code"] == "validation_error"
    assert client.get("/api/zoho/dashboard/health").get_json()["paused"] == []
    assert _audit(db) == []


def _dead_letters(db, letters: list[tuple[str, str, timedelta]]) -> list[int]:
    """Queue and dead-letter one item per (entity, error, age)."""
    ids = []
    with db.engine.begin() as connection:
        for number, (entity, error, age) in enumerate(letters):
            at = utcnow() - age
            queue_id = connection.execute(
                tds_sync_queue.insert()
                .values(
                    entity_type=entity,
                    source_entity_id=f"dl-{number}",
                    operation_type="update",
                    status="dead_letter",
                    priority=5,
                    attempt_count=5,
                    idempotency_key=f"dl-key-{number}",
                    payload={"n": number},
                    error_message=error,
                    created_at=at,
                    completed_at=at,
                )
                .returning(tds_sync_queue.c.id)
            ).scalar_one()
            ids.append(
                connection.execute(
                    tds_dead_letter_queue.insert()
                    .values(
                        sync_queue_id=queue_id,
                        entity_type=entity,
                        source_entity_id=f"dl-{number}",
                        failure_reason="max_attempts_exceeded",
                        total_attempts=5,
                        last_error_message=error,
                        last_payload={"n": number},
                        resolved=False,
                        created_at=at,
                    )
                    .returning(tds_dead_letter_queue.c.id)
                ).scalar_one()
            )
    return ids


_LETTERS = [
    ("products", "Zoho answered 503 Service Unavailable", timedelta(hours=1)),  # 0 matches
    ("products", "zoho ANSWERED 503 again", timedelta(hours=3)),  # 1 matches
    ("products", "Zoho answered 503", timedelta(days=3)),  # 2 too old
    ("products", "deadlock detected", timedelta(hours=1)),  # 3 other error
    ("customers", "Zoho answered 503", timedelta(hours=1)),  # 4 other entity
    ("products", "Zoho answered 503 100%_done", timedelta(minutes=10)),  # 5 too recent
]


def _resolved(db) -> dict[int, bool]:
    with db.engine.connect() as connection:
        letters = tds_dead_letter_queue.c
        return dict(connection.execute(select(letters.id, letters.resolved)).all())


def test_a_bulk_replay_by_filter_counts_then_touches_exactly_the_matching_rows(client, db, admin):
    ids = _dead_letters(db, _LETTERS)
    where = {
        "entity_type": "products",
        "error_contains": "answered 503",
        "since": (utcnow() - timedelta(days=1)).isoformat(),
        "until": (utcnow() - timedelta(minutes=30)).isoformat(),
    }
    dry = client.post("/api/zoho/dashboard/dead-letter/replay", json={**where, "dry_run": True}, headers=ADMIN)
    assert dry.get_json() == {"matched": 2, "replayed": 0}
    assert set(_resolved(db).values()) == {False}, "a dry run changes nothing"
    done = client.post("/api/zoho/dashboard/dead-letter/replay", json=where, headers=ADMIN)
    assert done.status_code == 200 and done.get_json() == {"matched": 2, "replayed": 2}
    assert _resolved(db) == {ident: index in (0, 1) for index, ident in enumerate(ids)}
    with db.engine.connect() as connection:
        pending = (
            connection.execute(select(tds_sync_queue.c.source_entity_id).where(tds_sync_queue.c.status == "pending"))
            .scalars()
            .all()
        )
    assert sorted(pending) == ["dl-0", "dl-1"]
    again = client.post("/api/zoho/dashboard/dead-letter/replay", json=where, headers=ADMIN).get_json()
    assert again == {"matched": 0, "replayed": 0}


def test_a_bulk_discard_by_filter_resolves_exactly_the_matching_rows_without_a_replay(client, db, admin):
    ids = _dead_letters(db, _LETTERS)
    answer = client.post("/api/zoho/dashboard/dead-letter/discard", json={"error_contains": "100%_"}, headers=ADMIN)
    assert answer.get_json() == {"matched": 1, "discarded": 1}, "% and _ are text, not wildcards"
    assert _resolved(db) == {ident: index == 5 for index, ident in enumerate(ids)}
    assert _statuses(db) == {"dead_letter": 6}, "a discarded item is not queued again"
    everything = client.post("/api/zoho/dashboard/dead-letter/discard", json={}, headers=ADMIN).get_json()
    assert everything == {"matched": 5, "discarded": 5}


@pytest.mark.parametrize(
    "body",
    [
        {"since": "2026-12-06T10:00:00"},
        {"since": "2026-12-06T10:00:00Z", "until": "2026-12-05T10:00:00Z"},
        {"entity_type": "planets"},
        {"error_contains": ""},
        {"dry_run": "perhaps"},
        {"since": "0001-01-01T00:00:00+14:00"},
        {"until": "9999-12-31T23:59:59-14:00"},
    ],
)
def test_a_bad_filter_is_refused_and_changes_nothing(client, db, admin, body):
    _dead_letters(db, _LETTERS[:1])
    answer = client.post("/api/zoho/dashboard/dead-letter/discard", json=body, headers=ADMIN)
    assert answer.status_code == 422 and answer.get_json()["code"] == "validation_error"
    assert set(_resolved(db).values()) == {False} and _audit(db) == []


def test_payload_search_finds_a_value_inside_a_nested_line_item(client, db, admin):
    lines = [
        {
            "item_id": "460000000012345",
            "sku": "SKU-BLUE-77",
            "quantity": 2,
            "rate": 450000,
            "item_custom_fields": [{"label": "colour", "value": "أزرق"}],
        }
    ]
    wanted = queue_webhook(client, "invoices", zoho.invoice("770000000000301", lines=lines))
    queue_webhook(client, "invoices", zoho.invoice("770000000000302"))
    other = queue_webhook(client, "products", zoho.product("460000000000077", sku="SKU-BLUE-7"))
    found = client.get("/api/zoho/dashboard/events", query_string={"q": "SKU-BLUE-77"}, headers=ADMIN).get_json()
    assert [item["id"] for item in found["items"]] == [wanted]
    assert found["items"][0]["entity_type"] == "invoices" and found["items"][0]["source_entity_id"] == "770000000000301"
    arabic = client.get("/api/zoho/dashboard/events", query_string={"q": "أزرق"}, headers=ADMIN).get_json()
    assert [item["id"] for item in arabic["items"]] == [wanted]
    by_number = client.get("/api/zoho/dashboard/events", query_string={"q": "450000"}, headers=ADMIN).get_json()
    assert wanted in [item["id"] for item in by_number["items"]], "a number in the payload is found by its digits"
    none = client.get("/api/zoho/dashboard/events", query_string={"q": "SKU-BLUE"}, headers=ADMIN).get_json()
    assert none == {"items": []}, "a value matches whole, not as a prefix"
    for tricky in ('") || true || ("', "😀", "NaN", "1e999", "9" * 40, "-1", "$.**", "\\"):
        answer = client.get("/api/zoho/dashboard/events", query_string={"q": tricky}, headers=ADMIN)
        assert answer.status_code == 200 and answer.get_json() == {"items": []}, tricky
    assert other > wanted


def test_payload_search_finds_dead_letters_too(client, db, admin):
    queue_webhook(client, "products", {"item": {"item_id": "broken-search", "sku": "SKU-DEAD-1", "rate": 5}})
    assert drain_now().dead_lettered == 1
    [item] = client.get("/api/zoho/dashboard/events", query_string={"q": "SKU-DEAD-1"}, headers=ADMIN).get_json()[
        "items"
    ]
    assert item["status"] == "dead_letter"


def test_every_change_is_in_the_audit_trail_with_role_filter_and_count(client, db, admin):
    _dead_letters(db, _LETTERS)
    client.post("/api/zoho/queue/pause", json={"entity_type": "products"}, headers=ADMIN)
    client.post("/api/zoho/queue/resume", json={}, headers=ADMIN)
    client.post("/api/zoho/dashboard/dead-letter/replay", json={"entity_type": "customers"}, headers=ADMIN)
    client.post("/api/zoho/dashboard/dead-letter/discard", json={"error_contains": "deadlock"}, headers=ADMIN)
    client.post("/api/zoho/dashboard/dead-letter/replay", json={"dry_run": True}, headers=ADMIN)  # no change
    [letter] = client.get("/api/zoho/dashboard/dead-letter", headers=ADMIN).get_json()["items"][:1]
    client.post(f"/api/zoho/dashboard/dead-letter/{letter['id']}/retry", headers=ADMIN)
    client.post("/api/zoho/dashboard/dead-letter/retry", headers=ADMIN)
    assert _audit(db) == [
        ("admin", "pause", {"entity_type": "products"}, None),
        ("admin", "resume", {"entity_type": "*"}, None),
        ("admin", "replay", {"entity_type": "customers"}, 1),
        ("admin", "discard", {"error_contains": "deadlock"}, 1),
        ("admin", "replay", {"dead_letter_id": letter["id"]}, 1),
        ("admin", "replay", {}, 3),
    ]
    listed = client.get("/api/zoho/dashboard/audit", headers=ADMIN).get_json()["items"]
    assert [entry["action"] for entry in listed] == ["replay", "replay", "discard", "replay", "resume", "pause"]
    assert set(listed[0]) == {"id", "at", "role", "action", "detail", "affected"}


def test_the_audit_trail_is_kept_ninety_days_whatever_the_retention(client, db, configure):
    from common.retention import purge_history

    configure(DATABASE_URL=db.url, ADMIN_API_KEY=ADMIN_KEY, TDS_RETENTION_HOURS="24")
    client.post("/api/zoho/queue/pause", json={}, headers=ADMIN)
    client.post("/api/zoho/queue/resume", json={}, headers=ADMIN)
    with db.engine.begin() as connection:
        first = connection.execute(select(func.min(ops_audit_log.c.id))).scalar_one()
        connection.execute(
            update(ops_audit_log).where(ops_audit_log.c.id == first).values(at=utcnow() - timedelta(days=91))
        )
        connection.execute(
            update(ops_audit_log).where(ops_audit_log.c.id != first).values(at=utcnow() - timedelta(days=30))
        )
    assert purge_history(get_settings()).audit_entries == 1
    assert [row[1] for row in _audit(db)] == ["resume"]
