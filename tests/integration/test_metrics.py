"""Request metrics on both databases: counted at the HTTP edge, flushed as per-minute rows, read back
by the stats endpoint; a database outage keeps them for the next flush."""

import pytest
from sqlalchemy import func, select

from common.clock import utcnow
from common.metrics import recording as metrics
from common.metrics.aggregate import LATENCY_BUCKETS_MS
from common.metrics.reading import function_stats
from common.models import tds_request_metrics
from tests.helpers import ADMIN_KEY

ADMIN = {"X-Admin-Key": ADMIN_KEY}


@pytest.fixture
def recorder(monkeypatch) -> metrics.Recorder:
    """A fresh recorder for this test, so requests of earlier tests do not count."""
    fresh = metrics.Recorder()
    monkeypatch.setattr(metrics, "RECORDER", fresh)
    return fresh


def _rows(db):
    with db.engine.connect() as connection:
        return connection.execute(select(tds_request_metrics).order_by(tds_request_metrics.c.route)).all()


def test_requests_are_counted_per_function_and_route_and_flushed_in_one_write(client, db, recorder):
    for _ in range(3):
        assert client.get("/health").status_code == 200
    assert client.get("/api/mobile/products/999999").status_code == 404
    assert client.get("/api/mobile/products/abc").status_code == 404
    assert client.get("/no/such/route").status_code == 404
    assert _rows(db) == [], "nothing is written per request"
    assert recorder.flush() == 3
    rows = {(row.function, row.route): row for row in _rows(db)}
    assert set(rows) == {("health", "health"), ("mobile_product", "mobile_product"), ("unmatched", "unmatched")}
    health = rows[("health", "health")]
    assert (health.requests, health.client_errors, health.server_errors) == (3, 0, 0)
    assert sum(health.histogram) == 3 and len(health.histogram) == len(LATENCY_BUCKETS_MS) + 1
    product = rows[("mobile_product", "mobile_product")]
    assert (product.requests, product.client_errors, product.server_errors) == (2, 2, 0)
    assert recorder.flush() == 0, "a flush writes only what came since the last one"


def test_server_errors_are_counted_apart_from_client_errors(client, db, recorder, configure, refused_database_url):
    configure(DATABASE_URL=refused_database_url, DB_CONNECT_TIMEOUT_SECONDS="0.5")
    assert client.get("/api/mobile/home").status_code == 503
    configure(DATABASE_URL=db.url)
    recorder.flush()
    [row] = _rows(db)
    assert (row.function, row.requests, row.client_errors, row.server_errors) == ("mobile_home", 1, 0, 1)


def test_a_flush_while_the_database_is_down_keeps_the_counts_for_the_next(
    client, db, recorder, configure, refused_database_url
):
    client.get("/health")
    configure(DATABASE_URL=refused_database_url, DB_CONNECT_TIMEOUT_SECONDS="0.5")
    assert recorder.flush() == 0
    configure(DATABASE_URL=db.url)
    client.get("/health")
    assert recorder.flush() == 1
    [row] = _rows(db)
    assert row.requests == 2


def test_metrics_can_be_turned_off(client, db, recorder, configure):
    configure(DATABASE_URL=db.url, REQUEST_METRICS="false")
    client.get("/health")
    assert recorder.flush() == 0
    with db.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(tds_request_metrics)).scalar_one() == 0


def test_percentiles_come_from_the_histogram_buckets(db, recorder):
    # 100 requests: 90 at 4 ms (bucket <= 5), 6 at 40 ms (<= 50), 4 at 400 ms (<= 500).
    for duration, count in ((4.0, 90), (40.0, 6), (400.0, 4)):
        for _ in range(count):
            recorder.record("mobile_search", "mobile_search", 200, duration)
    recorder.record("mobile_search", "mobile_search", 500, 12000.0)
    recorder.flush()
    with db.engine.connect() as connection:
        [stats] = function_stats(connection, utcnow())
    assert stats.function == "mobile_search"
    window = stats.last_hour
    assert (window.requests, window.server_errors, window.error_rate) == (101, 1, 0.99)
    assert (window.p50_ms, window.p95_ms, window.p99_ms) == (5.0, 50.0, 500.0)
    assert window.max_ms == 12000.0, "the slowest request, beyond the last bucket, is kept exactly"
    assert stats.last_24h == window


def test_the_stats_endpoint_shows_each_function(client, db, recorder, configure):
    configure(DATABASE_URL=db.url, ADMIN_API_KEY=ADMIN_KEY)
    client.get("/health")
    client.get("/api/zoho/dashboard/stats", headers={"X-Admin-Key": "wrong"})
    recorder.flush()
    body = client.get("/api/zoho/dashboard/stats", headers=ADMIN).get_json()
    functions = {entry["function"]: entry for entry in body["functions"]}
    assert functions["health"]["last_hour"]["requests"] == 1
    [health_row] = [row for row in _rows(db) if row.function == "health"]
    assert functions["health"]["last_24h"]["p95_ms"] == health_row.max_ms  # of one request: that request's time
    dashboard = functions["zoho_dashboard"]["last_hour"]
    assert (dashboard["requests"], dashboard["client_errors"], dashboard["client_error_rate"]) == (1, 1, 100.0)
