"""The process's engines and their connections: one engine per database URL, reused by every
warm invocation, and the time limit on every wait for the database.

Waiting on PostgreSQL is bounded everywhere: the pool wait, the connect, and every socket
read within the caller's `time_limit` (the HTTP edge gives each request one), so a database
that is down, refusing or frozen costs a request seconds, never a thread. On SQLite a
connection opened for writing begins `BEGIN IMMEDIATE` (common.db.transactions.writer).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.engine.url import URL

from common.config import Settings, get_settings
from common.db.errors import short_reason
from common.logs import get_logger

# The execution option that marks a connection as a writer's (common.db.transactions.writer).
WRITE_OPTION = "tsh_write"
# Outside any time limit (a scheduled drain, a migration) no statement legitimately waits
# this long on the network; a dead peer is reported instead of hanging a worker forever.
_POSTGRES_IO_TIMEOUT_SECONDS = 60.0
# A pooled connection is pinged (one round trip) only when it has been idle this long; one
# used since needs none, and one the server closed meanwhile is seen without asking.
_PING_AFTER_IDLE_SECONDS = 5.0
# The ping runs before the caller's limit is applied; a live server answers it in milliseconds.
_PING_TIMEOUT_SECONDS = 0.5
# A request waits this long at most for a pooled connection, then hears 503.
_POOL_WAIT_SECONDS = 0.5
# The least time given to a socket operation, so an almost spent limit fails cleanly.
_MIN_IO_SECONDS = 0.05
_SQLITE_BUSY_TIMEOUT_MS = 10_000


_deadline: ContextVar[float | None] = ContextVar("tsh_db_deadline", default=None)


def sqlalchemy_url(database_url: str) -> URL:
    """Map the contract's URLs to drivers: postgres(ql):// goes through pg8000."""
    url = make_url(database_url)
    if url.drivername in ("postgres", "postgresql", "postgresql+pg8000"):
        return url.set(drivername="postgresql+pg8000")
    if url.drivername.startswith("postgres"):
        raise ValueError(f"unsupported PostgreSQL driver {url.drivername!r}; use postgresql://")
    return url


def create_engine_for(settings: Settings, *, pool_size: int | None = None) -> Engine:
    url = sqlalchemy_url(settings.database_url)
    size = pool_size or settings.db_pool_size
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, size)
    return _postgresql_engine(url, size, settings)


def _postgresql_engine(url: URL, size: int, settings: Settings) -> Engine:
    # Imported on use, as the dialect itself is: pg8000 stays out of a function's import (its
    # cold start) and out of a SQLite process.
    from common import pg8000_tuning
    from common.db import tls

    pg8000_tuning.install()
    url, ssl_context, tls_line = tls.split_tls(url, production=settings.is_production)
    if settings.is_production or ssl_context is not False:  # a local run without TLS is the default: no news
        get_logger("db").info(tls_line)
    engine = create_engine(
        url,
        pool_size=size,
        max_overflow=size,
        pool_timeout=min(_POOL_WAIT_SECONDS, settings.db_connect_timeout_seconds),
        pool_recycle=1800,
        connect_args={
            "timeout": settings.db_connect_timeout_seconds,
            "application_name": "tsh-erp",
            "ssl_context": ssl_context,
        },
    )
    connect_timeout = settings.db_connect_timeout_seconds

    @event.listens_for(engine, "do_connect")
    def _bounded_connect(_dialect, _record, _cargs, cparams):
        # pg8000's timeout covers the TCP connect and the start-up exchange (a frozen server
        # accepts the connection in the kernel and then says nothing).
        cparams["timeout"] = _io_seconds(connect_timeout)
        return pg8000_tuning.connection_class()(*_cargs, **cparams)

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection, record):
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _live_connection(dbapi_connection, record, _proxy):
        # Instead of a ping per checkout: a connection the server closed (restart, failover,
        # terminated session, idle timeout) is readable; only a long-idle one is asked.
        # DisconnectionError makes the pool replace the connection and check out again.
        if pg8000_tuning.closed_by_server(dbapi_connection):
            raise sa_exc.DisconnectionError("the server closed this pooled connection")
        if time.monotonic() - record.info.get("returned_at", 0.0) > _PING_AFTER_IDLE_SECONDS:
            pg8000_tuning.set_io_timeout(dbapi_connection, _PING_TIMEOUT_SECONDS)
            try:
                pg8000_tuning.ping(dbapi_connection)
            except Exception as exc:
                raise sa_exc.DisconnectionError(f"a pooled connection did not answer: {exc}") from exc
        # pg8000 applies one socket timeout to every read: the caller's remaining time.
        pg8000_tuning.set_io_timeout(dbapi_connection, _io_seconds(_POSTGRES_IO_TIMEOUT_SECONDS))

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        record.info["returned_at"] = time.monotonic()

    return engine


def _io_seconds(ceiling: float) -> float:
    deadline = _deadline.get()
    if deadline is None:
        return ceiling
    return max(_MIN_IO_SECONDS, min(ceiling, deadline - time.monotonic()))


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Bound every database wait in this block (pool, connect, each read) to `seconds` from
    now, or to the enclosing limit when that ends sooner; None lifts the limit (the drain,
    whose budget is its own)."""
    outer = _deadline.get()
    deadline = None if seconds is None else time.monotonic() + seconds
    if seconds is not None and outer is not None:
        deadline = min(deadline, outer)
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining_seconds(default: float) -> float:
    """What is left of the current time limit (`default` outside one)."""
    return _io_seconds(default)


def _sqlite_engine(url: URL, pool_size: int) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        from pathlib import Path

        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"check_same_thread": False, "timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # Transactions are started explicitly by the "begin" hook below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a 202 promises the event survives a power cut
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        immediate = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Engines:
    """The process's engines, one per database URL, each created on first use (under a lock: two
    engines would be two pools) and reused by every warm invocation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: dict[str, Engine] = {}

    def get(self, settings: Settings) -> Engine:
        engine = self._engines.get(settings.database_url)
        if engine is None:
            with self._lock:
                engine = self._engines.get(settings.database_url)
                if engine is None:
                    engine = self._engines[settings.database_url] = create_engine_for(settings)
        return engine

    def clear(self) -> None:
        """Close every pooled connection and forget the engines (a host's shutdown; tests)."""
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()


ENGINES = Engines()


def get_engine() -> Engine:
    """The process-wide engine for the configured database, created on first use."""
    return ENGINES.get(get_settings())


def is_postgresql(connection: Connection | Engine) -> bool:
    return connection.dialect.name == "postgresql"


# The contract answers health within 3 s; the pool wait, a ping and a connect fit in this.
HEALTH_CHECK_SECONDS = 1.0


def check_database(engine: Engine | None = None) -> dict:
    """Round-trip to the database; never raises, and returns within HEALTH_CHECK_SECONDS."""
    engine = engine or get_engine()
    started = time.perf_counter()
    try:
        with time_limit(HEALTH_CHECK_SECONDS), engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        return {"status": "error", "error": short_reason(exc)}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
