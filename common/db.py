"""Engine and transactions: one engine per process, reused by every warm invocation.

`write()` opens a transaction that may change data; on SQLite it starts with
`BEGIN IMMEDIATE`, so concurrent writers in one process queue on the database lock
instead of failing halfway with "database is locked". `read()` is a plain transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from itertools import islice

from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.engine.url import URL

from common.config import Settings, get_settings

_WRITE_OPTION = "tsh_write"
# Statements of a web request or a queue item never legitimately wait this long on the
# network; a dead peer after connect is reported instead of hanging a worker forever.
_POSTGRES_IO_TIMEOUT_SECONDS = 60.0
_SQLITE_BUSY_TIMEOUT_MS = 10_000

_engine_lock = threading.Lock()
_engines: dict[str, Engine] = {}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


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
    _tune_pg8000()
    engine = create_engine(
        url,
        pool_size=size,
        max_overflow=size,
        pool_timeout=settings.db_connect_timeout_seconds,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"timeout": settings.db_connect_timeout_seconds, "application_name": "tsh-erp"},
    )

    @event.listens_for(engine, "connect")
    def _relax_io_timeout(dbapi_connection, _record):
        # pg8000 applies its connect timeout to every later socket read as well; keep the
        # connect bound short and give established connections a generous one.
        dbapi_connection._usock.settimeout(_POSTGRES_IO_TIMEOUT_SECONDS)

    return engine


@lru_cache(maxsize=1)
def _tune_pg8000() -> None:
    """Two pure-overhead costs of pg8000, removed without changing what is sent.

    It rewrites every statement's %s placeholders to $n by scanning the text character by
    character in Python on every execution (about half a millisecond for a long statement);
    for positional placeholders the rewrite depends on the text alone, so it is remembered.
    It sends COMMIT and ROLLBACK through the extended protocol, three round trips each;
    the simple protocol does the same in one.
    """
    import pg8000.legacy

    scan = pg8000.legacy.convert_paramstyle

    @lru_cache(maxsize=2048)
    def rewrite(style: str, statement: str) -> str:
        return scan(style, statement, ())[0]

    def convert_paramstyle(style, statement, args):
        if style in ("format", "numeric", "qmark"):
            return rewrite(style, statement), args
        return scan(style, statement, args)

    pg8000.legacy.convert_paramstyle = convert_paramstyle
    pg8000.legacy.Connection.commit = lambda self: self.execute_simple("commit")
    pg8000.legacy.Connection.rollback = lambda self: self.execute_simple("rollback") if self._in_transaction else None


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
        immediate = connection.get_execution_options().get(_WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def get_engine() -> Engine:
    """The process-wide engine for the configured database, created on first use."""
    settings = get_settings()
    engine = _engines.get(settings.database_url)
    if engine is None:
        with _engine_lock:
            engine = _engines.get(settings.database_url)
            if engine is None:
                engine = _engines[settings.database_url] = create_engine_for(settings)
    return engine


def reset_engine() -> None:
    """Dispose of the process's engines (the runner's shutdown and the tests use this)."""
    with _engine_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def write(engine: Engine | None = None) -> Iterator[Connection]:
    """A transaction that commits when the block ends and rolls back on any exception."""
    with writer(engine) as connection, connection.begin():
        yield connection


@contextmanager
def writer(engine: Engine | None = None) -> Iterator[Connection]:
    """A connection for several write transactions in a row (`with connection.begin(): ...`),
    checked out of the pool once: the queue drain applies a batch's items on one."""
    engine = engine or get_engine()
    with engine.connect() as connection:
        yield connection.execution_options(**{_WRITE_OPTION: True})


@contextmanager
def read(engine: Engine | None = None) -> Iterator[Connection]:
    engine = engine or get_engine()
    with engine.connect() as connection, connection.begin():
        yield connection


def is_postgresql(connection: Connection | Engine) -> bool:
    return connection.dialect.name == "postgresql"


def insert(connection: Connection, table: Table):
    """The dialect's INSERT, which has on_conflict_do_nothing / on_conflict_do_update (both databases)."""
    return dialect_insert(connection.dialect.name)(table)


def dialect_insert(dialect: str):
    # Imported on use: a function on SQLite need not load the PostgreSQL dialects, and back.
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def insert_rows(
    connection: Connection, table: Table, rows: Iterable[dict], *, skip_duplicates: bool = False,
    max_parameters: int = 30_000,
) -> int:  # fmt: skip
    """Insert many rows in multi-row VALUES statements; returns how many rows were given.

    RETURNING is what makes SQLAlchemy batch an executemany into multi-row VALUES
    ("insertmanyvalues") from a statement compiled once per table: pg8000's own executemany
    sends one statement per row, and a `.values(list_of_dicts)` statement is compiled afresh
    every time. Each page stays under both drivers' bound-parameter limits (32,767). With
    `skip_duplicates` rows that collide with a unique key are left out (ON CONFLICT DO NOTHING).
    """
    per_page = max(1, max_parameters // len(table.columns))
    statement = insert(connection, table)
    if skip_duplicates:
        statement = statement.on_conflict_do_nothing()
    statement = statement.returning(*table.primary_key.columns)
    page_size = {"insertmanyvalues_page_size": per_page}
    iterator, count = iter(rows), 0
    while page := list(islice(iterator, per_page)):
        connection.execute(statement, page, execution_options=page_size)
        count += len(page)
    return count


# The database could not be reached or stopped answering, as opposed to refusing a statement:
# requests answer 503 and the drain retries.
DATABASE_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError)


def check_database(engine: Engine | None = None) -> dict:
    """Round-trip to the database; never raises. Bounded by the connect timeout."""
    engine = engine or get_engine()
    started = time.perf_counter()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        return {"status": "error", "error": short_reason(exc)}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def short_reason(exc: BaseException) -> str:
    """A one-line, secret-free description of a database failure."""
    root = exc
    while root.__cause__ is not None or getattr(root, "orig", None) is not None:
        root = getattr(root, "orig", None) or root.__cause__
    kind = type(root).__name__
    if isinstance(root, TimeoutError) or "timed out" in str(root).lower():
        return f"{kind}: connection timed out"
    if isinstance(root, ConnectionRefusedError) or "refused" in str(root).lower():
        return f"{kind}: connection refused"
    if "password" in str(root).lower() or "authentication" in str(root).lower():
        return f"{kind}: authentication failed"
    return f"{kind}: database unavailable"
