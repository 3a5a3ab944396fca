"""Every admin view renders whatever rows the sync tables can hold (written by hand, by an older
version, or by a bug), on both databases: deep and huge payloads, payloads that are not objects,
odd text, NULLs in every nullable column, extreme numbers and dates."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, text

from common.clock import utcnow
from common.db.transactions import write
from common.models import tds_dead_letter_queue, tds_sync_queue
from common.sync.queue_reads import SHOWN_ERROR_CHARS
from tests.helpers import ADMIN_KEY

ADMIN = {"X-Admin-Key": ADMIN_KEY}
ODD = "\u202e\u0645\u0631\u062d\u0628\u0627 <b>&amp;</b> \"'\\ \U0001f600\x01\x7f\u200b"[:32]
# Payloads as JSON text, inserted as the database parses them (SQLAlchemy's serializer stops
# at about 1,000 levels; the databases do not).
PAYLOADS = {
    "deep-300": "[" * 300 + "]" * 300,  # the depth that once answered 500 for every caller
    "deep-5000": '{"a":' * 5000 + "1" + "}" * 5000,
    "huge": '{"blob": "' + "x" * 3_000_000 + '"}',
    "json-null": "null",
    "a-list": "[1, 2.5, -0.0, 1.5e3, true, null]",
    "a-string": '"just text \\u0645"',
    "a-number": "9007199254740993",
    "escaped-nul": '{"a": "\\u0000"}',
    "lone-surrogate": '{"a": "\\ud800"}',
    "sql-null": None,
}


def _insert_worst_rows(engine) -> None:
    now = utcnow()
    far_past, far_future = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    cast = "CAST(:payload AS JSONB)" if engine.dialect.name == "postgresql" else ":payload"
    # PostgreSQL's jsonb cannot hold NUL or a lone surrogate at all; SQLite's JSON text can.
    payloads = {
        name: payload
        for name, payload in PAYLOADS.items()
        if engine.dialect.name != "postgresql" or name not in ("escaped-nul", "lone-surrogate")
    }
    with write(engine) as connection:
        queue_rows = [
            {
                "entity_type": ODD,
                "source_entity_id": name,
                "operation_type": "upsert",
                "status": status,
                "priority": 10,
                "attempt_count": 2**31 - 1,
                "idempotency_key": f"{index:064d}",
                "payload": {},
                "processing_ms": processing_ms,
                "result": ODD,
                "created_at": created,
                "completed_at": created if status in ("completed", "dead_letter") else None,
            }
            for index, (name, status, processing_ms, created) in enumerate(
                [
                    ("retrying", "retry", None, now),
                    ("negative-time", "completed", -5, now),
                    ("huge-time", "completed", 2**31 - 1, now),
                    ("far-past", "pending", None, far_past),
                    ("far-future", "dead_letter", None, far_future),
                ]
            )
        ]
        connection.execute(tds_sync_queue.insert(), queue_rows)
        connection.execute(
            tds_dead_letter_queue.insert(),
            [
                {
                    "sync_queue_id": None,
                    "entity_type": "products" if index % 2 else ODD,
                    "source_entity_id": name,
                    "failure_reason": ODD,
                    "total_attempts": -1 if index % 3 else 2**31 - 1,
                    "last_error_message": None if index % 2 else "\u0645" * 2_000_000,
                    "resolved": bool(index % 4 == 3),
                    "resolved_at": None,
                    "created_at": (far_past, far_future, now)[index % 3],
                }
                for index, name in enumerate(payloads)
            ],
        )
        for name, payload in payloads.items():
            connection.execute(
                text(
                    f"UPDATE tds_dead_letter_queue SET last_payload = {cast} WHERE source_entity_id = :name"
                ).bindparams(bindparam("payload"), bindparam("name")),
                {"payload": payload, "name": name},
            )


def _shown(client, path: str) -> dict:
    response = client.get(path, headers=ADMIN)
    assert response.status_code == 200, (path, response.get_data()[:500])
    return response.get_json()


def test_dead_letter_list_health_and_stats_render_the_worst_rows(client, db):
    _insert_worst_rows(db.engine)
    listed = {}
    for page in range(1, 5):
        body = _shown(client, f"/api/zoho/dashboard/dead-letter?include_resolved=true&page_size=3&page={page}")
        listed.update({item["source_entity_id"]: item for item in body["items"]})
    expected = {name for name in PAYLOADS if db.backend == "sqlite" or name not in ("escaped-nul", "lone-surrogate")}
    assert set(listed) == expected
    # What renders is shown as stored; what cannot is a stand-in that says why, with its start.
    assert listed["a-list"]["last_payload"] == [1, 2.5, -0.0, 1500, True, None]
    assert listed["a-string"]["last_payload"] == "just text \u0645"
    assert listed["a-number"]["last_payload"] == 9007199254740993
    assert listed["sql-null"]["last_payload"] is None
    for name, reason in [("deep-300", "deeper than 64"), ("deep-5000", ""), ("huge", "larger than")]:
        stand_in = listed[name]["last_payload"]
        assert stand_in["truncated"] is True and reason in stand_in["reason"], (name, stand_in)
        assert PAYLOADS[name].replace(" ", "").startswith(stand_in["preview"][:50].replace(" ", ""))
    if db.backend == "sqlite":
        assert listed["lone-surrogate"]["last_payload"]["truncated"] is True
    assert all(len(item["last_error_message"] or "") <= SHOWN_ERROR_CHARS for item in listed.values())
    assert all(item["failure_reason"] == ODD for item in listed.values())

    only_odd = _shown(client, "/api/zoho/dashboard/dead-letter?entity_type=" + "%E2%80%AE%D9%85")
    assert only_odd["total_count"] == 0
    health = _shown(client, "/api/zoho/dashboard/health")
    assert health["status"] == "degraded" and health["queue"]["pending"] == 1
    stats = _shown(client, "/api/zoho/dashboard/stats?hours=168")
    assert stats["by_entity"][0]["entity_type"] == ODD
