"""Shared fixtures: real databases (a SQLite file and a fresh PostgreSQL database), never mocks.

Tests that take `db` run once per backend; `pg` is for PostgreSQL-only tests
(concurrency, crashes, C locale). PostgreSQL comes from TEST_DATABASE_URL (default:
the local server's `test` database); the suite creates its own database there, with
LC_CTYPE=C so that search is proven on the hardest locale, and drops it at the end.
PostgreSQL being unreachable fails the run; TSH_TEST_BACKENDS=sqlite opts out explicitly.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from common import migrate, ssm_secrets
from common.config import Settings, get_settings
from common.db import engine as common_db
from common.db.engine import sqlalchemy_url
from common.logs import LOGGER_NAME
from common.models import metadata
from common.shop.catalog import CATEGORY_TILES
from common.shop.search import BROAD_RESULTS
from tests.fake_zoho import FakeZoho
from tests.pg_cluster import PgCluster

# Property tests judge answers, not speed: on a loaded two-core CI machine Hypothesis's
# default 200 ms deadline fails them for the wrong reason.
hypothesis_settings.register_profile("suite", deadline=None)
hypothesis_settings.load_profile("suite")

PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = [
    name.strip() for name in os.environ.get("TSH_TEST_BACKENDS", "sqlite,postgresql").split(",") if name.strip()
]
_SETTING_NAMES = [name.upper() for name in Settings.model_fields]


@dataclass
class TestDatabase:
    backend: str
    url: str
    engine: Engine

    @property
    def is_postgresql(self) -> bool:
        return self.backend == "postgresql"


def _create_postgres_database() -> str:
    admin = create_engine(sqlalchemy_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT", connect_args={"timeout": 5})
    name = f"tsh_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(
                text(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
            )
    except Exception as exc:
        raise RuntimeError(
            f"PostgreSQL is required by the test suite and is unreachable at {make_url(PG_ADMIN_URL)!r}: "
            f"{type(exc).__name__}. Start it, set TEST_DATABASE_URL, or run with TSH_TEST_BACKENDS=sqlite."
        ) from exc
    finally:
        admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(url: str) -> None:
    admin = create_engine(sqlalchemy_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)"))
    admin.dispose()


class _Databases:
    """One migrated database per backend for the whole session, created on first use."""

    def __init__(self, tmp_dir) -> None:
        self.tmp_dir = tmp_dir
        self.created: dict[str, TestDatabase] = {}

    def get(self, backend: str) -> TestDatabase:
        if backend not in self.created:
            if backend == "postgresql":
                url = _create_postgres_database()
            else:
                url = f"sqlite:///{self.tmp_dir / 'tsh_test.sqlite3'}"
            engine = common_db.create_engine_for(Settings(database_url=url, _env_file=None))
            migrate.upgrade(engine)
            self.created[backend] = TestDatabase(backend, url, engine)
        return self.created[backend]

    def close(self) -> None:
        for database in self.created.values():
            database.engine.dispose()
            if database.is_postgresql:
                _drop_postgres_database(database.url)


@pytest.fixture(scope="session")
def _databases(tmp_path_factory) -> Iterator[_Databases]:
    databases = _Databases(tmp_path_factory.mktemp("db"))
    yield databases
    common_db.ENGINES.clear()
    databases.close()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch) -> Iterator[None]:
    """Every test starts from default settings (no keys), whatever the shell exports."""
    for name in (*_SETTING_NAMES, ssm_secrets.LAMBDA_HANDLER_VARIABLE, "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    ssm_secrets.forget()
    monkeypatch.setattr(Settings, "model_config", {**Settings.model_config, "env_file": None})
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def configure(monkeypatch):
    """Set configuration variables for this test: configure(WEBHOOK_API_KEY="...")."""

    def apply(**values: object) -> Settings:
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, str(value))
        get_settings.cache_clear()
        return get_settings()

    return apply


def _empty_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


def _use(database: TestDatabase, configure) -> Iterator[TestDatabase]:
    configure(DATABASE_URL=database.url)
    CATEGORY_TILES.clear()
    BROAD_RESULTS.clear()
    try:
        yield database
    finally:
        _empty_tables(database.engine)


@pytest.fixture(params=BACKENDS)
def db(request, _databases, configure) -> Iterator[TestDatabase]:
    """A migrated, empty database on each backend in turn; the app is configured to use it."""
    yield from _use(_databases.get(request.param), configure)


@pytest.fixture
def pg(_databases, configure) -> Iterator[TestDatabase]:
    """The PostgreSQL test database, for tests that only PostgreSQL can run."""
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL excluded by TSH_TEST_BACKENDS")
    yield from _use(_databases.get("postgresql"), configure)


@pytest.fixture
def client(db):
    """A test client driving the real WSGI app of the local runner."""
    from werkzeug.test import Client

    from local_runner import create_app

    return Client(create_app())


@pytest.fixture
def refused_database_url() -> str:
    """A PostgreSQL URL on a loopback port where nothing listens: the database is down."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql://tsh:secret-password@127.0.0.1:{port}/tsh"


@pytest.fixture
def fake_zoho(configure) -> Iterator[FakeZoho]:
    """A fake Zoho on loopback, with the settings pointing the client at it."""
    with FakeZoho() as fake:
        configure(**fake.environment())
        yield fake


@pytest.fixture
def captured_logs(caplog) -> Iterator[Callable[[], str]]:
    """Every log record written so far in the test, as text with all its fields, at DEBUG and up.

    The project's logger does not propagate to the root (common.logs), so caplog is attached to
    it directly; the root level covers requests and urllib3.
    """
    project = logging.getLogger(LOGGER_NAME)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    project.addHandler(caplog.handler)
    try:
        yield lambda: "\n".join(json.dumps(vars(record), default=str, ensure_ascii=False) for record in caplog.records)
    finally:
        project.removeHandler(caplog.handler)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throwaway PostgreSQL cluster (tests/pg_cluster.py) for the fault tests to stop, kill,
    freeze and limit; started once per session, removed at the end."""
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL excluded by TSH_TEST_BACKENDS")
    cluster = PgCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()
