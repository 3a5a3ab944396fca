"""The queue under concurrency and crashes, on PostgreSQL (FOR UPDATE SKIP LOCKED, real processes).

(a) four drain processes over 5,000 items; (b) a drain killed with SIGKILL mid-batch;
(c) every webhook delivered three times in random order; (d) eight overlapping drains
against a connection limit.
"""

import json
import random
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url

from common.clock import utcnow
from common.config import get_settings, load_settings
from common.db.engine import create_engine_for
from common.db.transactions import write
from common.models import tds_sync_queue
from common.retry import Backoff
from common.sync import stock_checks
from common.sync.drain import drain
from tests import sync_workload
from tests.fake_zoho import ITEMS
from tests.helpers import PROJECT_ROOT


def _statuses(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(select(tds_sync_queue.c.status, func.count()).group_by("status")).all())


def _drain_process(url: str, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.drain_process", *args],
        cwd=PROJECT_ROOT,
        env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin", "TDS_BATCH_SIZE": "10", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow  # four processes draining 5,000 items
@pytest.mark.postgres_only
def test_four_drain_processes_apply_5000_items_once_each(pg):
    work = sync_workload.build(5000)
    with write(pg.engine) as connection:
        sync_workload.seed_stock_products(connection, work)
        assert sync_workload.enqueue_all(connection, work.events) == 5000
    processes = [_drain_process(pg.url, "--budget", "300") for _ in range(4)]
    summaries = []
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-2000:]
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    assert _statuses(pg.engine) == {"completed": 5000}
    assert sum(summary["completed"] for summary in summaries) == 5000
    assert sum(1 for summary in summaries if summary["completed"]) >= 2, "the drains did not share the work"
    with pg.engine.connect() as connection:
        # Claimed exactly once each: a second holder would have raised attempt_count.
        assert connection.execute(select(func.max(tds_sync_queue.c.attempt_count))).scalar_one() == 1
        assert connection.execute(select(func.count()).where(tds_sync_queue.c.result == "stale")).scalar_one() > 0, (
            "the shuffled versions never met a newer stored one"
        )
        sync_workload.assert_final_state(connection, work)


@pytest.mark.postgres_only
def test_a_killed_drain_loses_nothing_its_items_come_back_after_the_lock_timeout(pg):
    work = sync_workload.build(120, seed=3)
    with write(pg.engine) as connection:
        sync_workload.seed_stock_products(connection, work)
        sync_workload.enqueue_all(connection, work.events)
    victim = _drain_process(pg.url, "--slow-ms", "100", TDS_LOCK_TIMEOUT_SECONDS="3", TDS_BATCH_SIZE="20")
    deadline = time.monotonic() + 30
    while _statuses(pg.engine).get("completed", 0) < 5:
        assert time.monotonic() < deadline and victim.poll() is None
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    held = _statuses(pg.engine).get("processing", 0)
    assert held > 0, "the drain was not killed while holding a batch"

    settings = load_settings(database_url=pg.url, tds_lock_timeout_seconds=3, _env_file=None)
    waiting = _statuses(pg.engine).get("pending", 0)
    assert drain(settings, trigger="test", budget_seconds=60).claimed == waiting
    assert _statuses(pg.engine)["processing"] == held  # still leased to the dead drain
    time.sleep(3.2)
    drain(settings, trigger="test", budget_seconds=60)
    assert _statuses(pg.engine) == {"completed": len(work.events)}
    with pg.engine.connect() as connection:
        retaken = connection.execute(select(func.count()).where(tds_sync_queue.c.attempt_count == 2)).scalar_one()
        assert retaken == held
        sync_workload.assert_final_state(connection, work)


def test_every_webhook_delivered_three_times_in_random_order_gives_the_same_state(db, client, fake_zoho):
    """Runs on both databases: redelivery and reordering are not a PostgreSQL-only concern."""
    work = sync_workload.build(400, seed=5)
    with write(db.engine) as connection:
        sync_workload.seed_stock_products(connection, work)
    fake_zoho.add(
        ITEMS,
        *(
            {"item_id": item, "stock_on_hand": quantity, "available_stock": quantity}
            for item, quantity in work.zoho_stock().items()
        ),
    )
    deliveries = [event for event in work.events for _ in range(3)]
    random.Random(8).shuffle(deliveries)
    settings = get_settings()
    for number, (route, body) in enumerate(deliveries, start=1):
        redelivery = {**body, "event_id": uuid.uuid4().hex} if "event_type" in body and "entity_id" in body else body
        assert client.post(f"/api/zoho/webhooks/{route}", json=redelivery).status_code == 202
        if number % 97 == 0:
            drain(settings, trigger="test", budget_seconds=60)
    drain(settings, trigger="test", budget_seconds=60)
    while stock_checks.check_due(settings):
        pass
    assert _statuses(db.engine) == {"completed": len(work.events)}
    with db.engine.connect() as connection:
        sync_workload.assert_final_state(connection, work, stock_checked=True)


def _backends_of(engine, role: str, settle_seconds: float = 5.0) -> int:
    """Server processes still serving `role`; a closed connection's backend exits a moment later."""
    deadline = time.monotonic() + settle_seconds
    while True:
        with engine.connect() as connection:
            count = connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE usename = :role"), {"role": role}
            ).scalar_one()
        if count == 0 or time.monotonic() > deadline:
            return count
        time.sleep(0.05)


@pytest.fixture
def limited_role_url(pg):
    """The test database through a role allowed only 6 connections: a max_connections-style limit."""
    role = f"tsh_limited_{uuid.uuid4().hex[:6]}"
    with pg.engine.connect() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 6"))
        connection.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
        connection.execute(text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}"))
        connection.commit()
    yield make_url(pg.url).set(username=role, password=None).render_as_string(hide_password=False), role
    with pg.engine.connect() as connection:
        connection.execute(text(f"DROP OWNED BY {role}"))
        connection.execute(text(f"DROP ROLE {role}"))
        connection.commit()


@pytest.mark.postgres_only
def test_eight_drains_over_a_connection_limit_fail_cleanly_and_lose_nothing(pg, limited_role_url):
    url, role = limited_role_url
    work = sync_workload.build(1500, seed=9)
    with write(pg.engine) as connection:
        sync_workload.seed_stock_products(connection, work)
        sync_workload.enqueue_all(connection, work.events)
    settings = load_settings(database_url=url, tds_lock_timeout_seconds=2, db_connect_timeout_seconds=2, _env_file=None)
    engines = [create_engine_for(settings, pool_size=1) for _ in range(8)]  # at most 2 connections each
    failures: list[BaseException] = []

    def run(engine):
        try:
            drain(settings, trigger="test", budget_seconds=60, engine=engine, backoff=Backoff(base_seconds=0.2))
        except Exception as exc:  # noqa: BLE001 - collected and checked below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for engine in engines:
        assert engine.pool.checkedout() == 0, "a connection was not returned to its pool"
        engine.dispose()
    assert failures, "the connection limit was never reached: the test proved nothing"
    for failure in failures:  # only the limit's refusal or a pool wait, never a half-applied item
        assert "too many connections" in str(failure) or "QueuePool limit" in str(failure), repr(failure)
    assert _backends_of(pg.engine, role) == 0, "connections of the drains are still open"

    # Whatever a refused drain left leased or scheduled for retry is finished by the next drains.
    deadline = time.monotonic() + 60
    clean = load_settings(database_url=pg.url, tds_lock_timeout_seconds=2, _env_file=None)
    while _statuses(pg.engine) != {"completed": len(work.events)}:
        assert time.monotonic() < deadline, _statuses(pg.engine)
        with write(pg.engine) as connection:  # the test's backoff is short; don't wait out the default
            connection.execute(
                update(tds_sync_queue).where(tds_sync_queue.c.status == "retry").values(next_retry_at=utcnow())
            )
        drain(clean, trigger="test", budget_seconds=60)
        time.sleep(0.5)
    with pg.engine.connect() as connection:
        sync_workload.assert_final_state(connection, work)
