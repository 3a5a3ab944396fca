"""The database unavailable in every way it can be, on a throwaway PostgreSQL cluster
(tests/pg_cluster.py): every route answers 503 `service_unavailable` (never another 5xx)
within its bound — /health in 3 s, the rest in 5 s — and the service recovers by itself.

The app connects as a plain role `tsh` (a superuser ignores CONNECTION LIMIT) to its own
database on the cluster.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from werkzeug.test import Client

from common import migrate
from common.config import Settings
from common.db import engine as common_db
from common.models import tds_sync_queue
from local_runner import create_app
from service import ROUTES
from tests import shop_fixtures as shop
from tests import zoho_payloads as zoho
from tests.helpers import ADMIN_KEY, drain_now

pytestmark = pytest.mark.slow  # a throwaway PostgreSQL cluster

HEALTH_BOUND, ROUTE_BOUND = 3.0, 5.0
# Routes that never touch the database (the API document and its viewer).
_NO_DATABASE = {"/openapi.json", "/docs", "/docs/{asset}"}
# Health reports answer 503 with their own body ("status": "unhealthy") rather than the error shape.
_HEALTH_REPORTS = {"/health", "/api/zoho/dashboard/health"}


@pytest.fixture(scope="module")
def app_url(pg_cluster) -> str:
    pg_cluster.sql("CREATE ROLE tsh LOGIN")
    pg_cluster.sql("CREATE DATABASE tsh OWNER tsh TEMPLATE template0 ENCODING 'UTF8'")
    url = f"postgresql://tsh@127.0.0.1:{pg_cluster.port}/tsh"
    engine = common_db.create_engine_for(Settings(database_url=url, _env_file=None))
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def service(pg_cluster, app_url, configure) -> Iterator[Client]:
    """The runner's app on the throwaway cluster; the cluster is healthy again afterwards."""
    configure(DATABASE_URL=app_url, ADMIN_API_KEY=ADMIN_KEY, MOBILE_TOKEN_SECRET="s" * 32)
    common_db.ENGINES.clear()
    try:
        yield Client(create_app())
    finally:
        common_db.ENGINES.clear()
        pg_cluster.thaw()
        if pg_cluster.postmaster_pid() is None:
            pg_cluster.start()
        pg_cluster.wait_ready()
        pg_cluster.sql("ALTER ROLE tsh CONNECTION LIMIT -1")
        pg_cluster.sql("TRUNCATE tds_sync_queue, tds_dead_letter_queue, tds_drain_runs CASCADE", "tsh")


def _requests() -> list[tuple[str, str, dict]]:
    """One request per route of the table, each with what it needs to reach the database."""
    admin = {"X-Admin-Key": ADMIN_KEY}
    calls = []
    for route in ROUTES:
        # The operations page answers a caller without a session with its login redirect, before
        # any query (its own tests cover it with a session).
        if route.path in _NO_DATABASE or route.path.startswith("/dashboard"):
            continue
        path = route.path.replace("{dead_letter_id}", "1").replace("{product_id}", "1")
        kwargs: dict = {"headers": {**admin, **shop.bearer(1)}}
        if route.path.startswith("/api/zoho/webhooks/"):
            kwargs["json"] = zoho.ENTITY_CASES[route.path.rsplit("/", 1)[1]][0]()
        elif route.body:
            kwargs["json"] = {"product_id": 1, "quantity": 1}
        if route.path in ("/api/mobile/search", "/api/zoho/dashboard/events"):
            path += "?q=phone"
        calls.append((route.method, path, kwargs))
    return calls


def _timed(client: Client, method: str, path: str, kwargs: dict) -> tuple[int, str | None, float]:
    started = time.monotonic()
    response = client.open(path, method=method, **kwargs)
    body = response.get_json(silent=True) or {}
    return response.status_code, body.get("code"), time.monotonic() - started


def _assert_every_route_unavailable(client: Client) -> None:
    for method, path, kwargs in _requests():
        status, code, seconds = _timed(client, method, path, kwargs)
        bound = HEALTH_BOUND if path == "/health" else ROUTE_BOUND
        if path in _HEALTH_REPORTS:
            assert status == 503, path
        else:
            assert (status, code) == (503, "service_unavailable"), (method, path, status, code)
        assert seconds <= bound, (method, path, round(seconds, 2))


def _assert_recovered(client: Client, within: float = 10.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        if client.get("/health").status_code == 200:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"not healthy {within}s after the database came back")


def test_stopped_database_is_503_everywhere_then_recovers(service, pg_cluster):
    assert service.get("/health").status_code == 200  # the pool holds live connections now
    pg_cluster.stop("fast")  # each session hears 57P01, then nothing listens: refused
    _assert_every_route_unavailable(service)
    pg_cluster.start()
    _assert_recovered(service)
    assert service.post("/api/zoho/webhooks/products", json=zoho.product()).status_code == 202


def test_killed_database_is_503_until_crash_recovery_ends(service, pg_cluster):
    assert service.get("/health").status_code == 200
    pg_cluster.kill()
    _assert_every_route_unavailable(service)
    pg_cluster.start()
    _assert_recovered(service)


def test_starting_up_57p03_is_503(service, pg_cluster):
    # A standby without hot standby refuses every connection with 57P03 for as long as it runs:
    # the "database system is starting up" window, held open.
    pg_cluster.stop("fast")
    (pg_cluster.data / "standby.signal").touch()
    with open(pg_cluster.data / "postgresql.auto.conf", "a") as conf:
        conf.write("hot_standby = off\n")
    pg_cluster.start_no_wait()
    try:
        deadline = time.monotonic() + 10
        while "not accepting connections" not in pg_cluster.connect_error() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "not accepting connections" in pg_cluster.connect_error()
        _assert_every_route_unavailable(service)
    finally:
        pg_cluster.stop("immediate")
        (pg_cluster.data / "standby.signal").unlink()
        auto = pg_cluster.data / "postgresql.auto.conf"
        auto.write_text(auto.read_text().replace("hot_standby = off\n", ""))
    pg_cluster.start()
    _assert_recovered(service)


def test_too_many_connections_53300_is_503(service, pg_cluster):
    pg_cluster.sql("ALTER ROLE tsh CONNECTION LIMIT 0")
    _assert_every_route_unavailable(service)
    pg_cluster.sql("ALTER ROLE tsh CONNECTION LIMIT -1")
    _assert_recovered(service)


def test_database_closed_to_connections_55000_is_503(service, pg_cluster):
    """A restore or maintenance closes the database to new sessions (SQLSTATE 55000): Zoho must
    hear 503 and retry, on every route."""
    assert service.get("/health").status_code == 200
    pg_cluster.sql("ALTER DATABASE tsh ALLOW_CONNECTIONS false")
    try:
        pg_cluster.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'tsh'")
        common_db.ENGINES.clear()  # the pool's sessions are gone; every request must connect anew
        assert "not currently accepting connections" in pg_cluster.connect_error("tsh")
        _assert_every_route_unavailable(service)
        # The operations page looks its session up in the database: a cookie meets the same 503.
        service.set_cookie("tsh_ops_session", "some-session.signature", path="/dashboard")
        for path in ("/dashboard", "/dashboard/panels"):
            page = service.get(path)
            assert (page.status_code, page.get_json()["code"]) == (503, "service_unavailable"), path
    finally:
        pg_cluster.sql("ALTER DATABASE tsh ALLOW_CONNECTIONS true")
    _assert_recovered(service)


def test_terminated_sessions_57p01_are_503_or_served(service, pg_cluster):
    """Sessions ended under the pool (an operator, a failover): answered, never a 500."""
    assert service.get("/health").status_code == 200
    pg_cluster.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'tsh'")
    for method, path, kwargs in _requests():
        status, code, _ = _timed(service, method, path, kwargs)
        assert status < 500 or (status, code) == (503, "service_unavailable"), (method, path, status)


def test_frozen_database_answers_503_in_bound_and_frees_every_thread(service, pg_cluster):
    assert service.get("/health").status_code == 200
    pg_cluster.freeze()
    try:
        # Every route at once, health twice: each is answered within its bound, none stays stuck.
        calls = [("GET", "/health", {}), *_requests()]
        with ThreadPoolExecutor(len(calls)) as pool:
            results = list(pool.map(lambda call: (call[1], *_timed(service, *call)), calls))
        for path, status, code, seconds in results:
            assert status == 503 and (path in _HEALTH_REPORTS or code == "service_unavailable"), (path, status)
            assert seconds <= (HEALTH_BOUND if path == "/health" else ROUTE_BOUND), (path, round(seconds, 2))
    finally:
        pg_cluster.thaw()
    _assert_recovered(service)


def test_a_connection_reset_at_connect_is_503(configure):
    """A peer that resets every connection (a proxy or balancer in front of a dying server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def reset_each() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            connection.close()

    thread = threading.Thread(target=reset_each, daemon=True)
    thread.start()
    try:
        configure(DATABASE_URL=f"postgresql://tsh@127.0.0.1:{listener.getsockname()[1]}/tsh", ADMIN_API_KEY=ADMIN_KEY)
        common_db.ENGINES.clear()
        _assert_every_route_unavailable(Client(create_app()))
    finally:
        stop.set()
        thread.join()
        listener.close()
        common_db.ENGINES.clear()


def test_intake_across_a_kill_loses_nothing_and_the_drain_retries(service, pg_cluster, app_url):
    """Webhooks keep coming while PostgreSQL is killed and restarted: every 202 is stored,
    every other answer is 503, and the drain applies them all once it is back."""
    answers: list[tuple[int, int | None]] = []
    stop = threading.Event()

    def send() -> None:
        version = 0
        while not stop.is_set():
            version += 1
            response = service.post("/api/zoho/webhooks/customers", json=zoho.customer(version=version))
            body = response.get_json()
            answers.append((response.status_code, int(body["event_id"]) if response.status_code == 202 else None))

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(0.3)
    pg_cluster.kill()
    time.sleep(0.5)
    pg_cluster.start()
    _assert_recovered(service)
    time.sleep(0.3)
    stop.set()
    sender.join()
    statuses = {status for status, _ in answers}
    assert statuses <= {202, 503} and 503 in statuses and 202 in statuses, statuses
    acknowledged = {queue_id for status, queue_id in answers if status == 202}
    engine = common_db.get_engine()
    with engine.connect() as connection:
        stored = set(connection.execute(select(tds_sync_queue.c.id)).scalars())
    assert acknowledged <= stored
    drain_now()
    with engine.connect() as connection:
        open_items = connection.execute(
            select(func.count()).where(tds_sync_queue.c.status.not_in(("completed",)))
        ).scalar_one()
    assert open_items == 0
