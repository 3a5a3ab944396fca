"""GET /health against real databases: healthy ones, and an unreachable one that must not hang."""

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from werkzeug.test import Client

from common.health import HEALTHY_MESSAGE, code_revisions, schema_problem
from local_runner import create_app


def test_healthy_database_answers_200_with_the_arabic_message(client, db):
    started = time.perf_counter()
    response = client.get("/health")
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "healthy"
    assert body["message"] == HEALTHY_MESSAGE
    assert body["database"]["status"] == "ok"
    assert 0 < body["database"]["latency_ms"] <= elapsed_ms  # its round trip, in ms, within the request's time
    assert body["version"] and body["timestamp"].endswith("Z")
    # Arabic travels as UTF-8 characters, not \u escapes.
    assert HEALTHY_MESSAGE.encode() in response.data


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts TCP connections and never says a word: a hung database."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def silent_database_url(silent_server) -> str:
    return f"postgresql://tsh:secret-password@127.0.0.1:{silent_server}/tsh"


@pytest.mark.parametrize("url", ["silent_database_url", "refused_database_url"])
def test_unreachable_database_is_503_within_the_connect_timeout(configure, request, url):
    configure(DATABASE_URL=request.getfixturevalue(url))
    started = time.monotonic()
    response = Client(create_app()).get("/health")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unhealthy"
    assert body["database"]["status"] == "error"
    assert body["database"]["error"]
    assert "secret-password" not in response.get_data(as_text=True)
    assert elapsed < 4.5, f"health took {elapsed:.1f}s; the connect timeout is 3s"


def test_the_schema_is_judged_against_the_recorded_revisions(tmp_path):
    record = tmp_path / "revisions.json"
    record.write_text(json.dumps({"revisions": ["a1", "b2", "c3"], "heads": ["c3"]}))
    assert code_revisions(record) == ({"a1", "b2", "c3"}, {"c3"})
    assert schema_problem({"c3"}, record) is None
    assert schema_problem({"b2"}, record).startswith("schema behind: the database is at b2, this code needs c3")
    assert schema_problem({"z9"}, record).startswith("schema ahead")
    assert schema_problem(set(), record).startswith("schema missing")


def test_the_recorded_revisions_are_alembic_s():
    """Whatever migrations are added, the record says what Alembic says."""
    from common.migrate import REVISIONS_PATH, revisions_record

    assert REVISIONS_PATH.read_text() == revisions_record(), (
        "migrations/revisions.json is stale: regenerate it with "
        "`python -m common.migrate --revisions > migrations/revisions.json`"
    )


@contextmanager
def _recorded_revision(db, revision: str | None) -> Iterator[None]:
    """The test database claims another revision (or none) for the duration of the block."""
    with db.engine.begin() as connection:
        real = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        connection.execute(text("DELETE FROM alembic_version"))
        if revision:
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:r)"), {"r": revision})
    try:
        yield
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM alembic_version"))
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:r)"), {"r": real})


@pytest.mark.parametrize(("revision", "reason"), [("9999_from_the_future", "schema ahead"), (None, "schema missing")])
def test_a_schema_other_than_the_code_s_is_unhealthy_with_the_reason(client, db, revision, reason):
    with _recorded_revision(db, revision):
        response = client.get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unhealthy"
    assert body["database"]["status"] == "error"
    assert body["database"]["error"].startswith(reason)
    assert body["database"]["expected_revision"] == ", ".join(sorted(code_revisions()[1]))
    assert client.get("/health").get_json()["database"]["revision"] == body["database"]["expected_revision"]


def test_a_never_migrated_database_is_unhealthy_and_its_screens_say_so(configure, tmp_path):
    configure(DATABASE_URL=f"sqlite:///{tmp_path / 'never_migrated.sqlite3'}")
    app = Client(create_app())
    health = app.get("/health").get_json()
    assert health["status"] == "unhealthy"
    assert health["database"]["error"] == (
        "schema missing: the database has no migrations applied; run python -m common.migrate"
    )
    screen = app.get("/api/mobile/home")
    assert screen.status_code == 503
    assert screen.get_json()["message"] == "Database schema is not migrated: run python -m common.migrate"


def test_a_missing_table_on_postgresql_is_a_schema_problem_not_an_outage(pg):
    with pg.engine.begin() as connection:
        connection.execute(text("ALTER TABLE promotions RENAME TO promotions_moved"))
    try:
        response = Client(create_app()).get("/api/mobile/home")
    finally:
        with pg.engine.begin() as connection:
            connection.execute(text("ALTER TABLE promotions_moved RENAME TO promotions"))
    assert response.status_code == 503
    assert response.get_json()["message"] == "Database schema is not migrated: run python -m common.migrate"


def test_the_deployment_package_carries_the_scripts_health_reads():
    """Without them a deployed health check would call every database ahead of the code."""
    import yaml

    from common.config import PROJECT_ROOT

    patterns = yaml.safe_load((PROJECT_ROOT / "serverless.yml").read_text())["package"]["patterns"]
    assert {"migrations/versions/*.py", "migrations/versions/**"} & set(patterns)
