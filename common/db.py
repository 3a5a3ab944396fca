"""Engine and transactions: one engine per process, reused by every warm invocation.

`write()` opens a transaction that may change data; on SQLite it starts with
`BEGIN IMMEDIATE`, so concurrent writers in one process queue on the database lock
instead of failing halfway with "database is locked". `read()` is a plain transaction.

Waiting on PostgreSQL is bounded everywhere: the pool wait, the connect, and every socket
read within the caller's `time_limit` (the HTTP edge gives each request one), so a database
that is down, refusing or frozen costs a request seconds, never a thread. `is_unavailable`
is the one judgement of which errors mean "the database is not there" (503, retry later).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from itertools import islice

from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.engine.url import URL

from common.config import Settings, get_settings

_WRITE_OPTION = "tsh_write"
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
    return _postgresql_engine(url, size, settings)


def _postgresql_engine(url: URL, size: int, settings: Settings) -> Engine:
    # Imported on use, as the dialect itself is: pg8000 stays out of a function's import (its
    # cold start) and out of a SQLite process.
    from common import pg8000_tuning

    pg8000_tuning.install()
    engine = create_engine(
        url,
        pool_size=size,
        max_overflow=size,
        pool_timeout=min(_POOL_WAIT_SECONDS, settings.db_connect_timeout_seconds),
        pool_recycle=1800,
        connect_args={"timeout": settings.db_connect_timeout_seconds, "application_name": "tsh-erp"},
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
            except Exception as exc:  # noqa: BLE001 - any failure means: use another connection
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
        immediate = connection.get_execution_options().get(_WRITE_OPTION)
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


@contextmanager
def write(engine: Engine | None = None) -> Iterator[Connection]:
    """A transaction that commits when the block ends and rolls back on any exception (inside a
    request's transaction, that one)."""
    joined = _request_transaction_for(engine, writes=True)
    if joined is not None:
        yield joined
        return
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
    joined = _request_transaction_for(engine, writes=False)
    if joined is not None:
        yield joined
        return
    engine = engine or get_engine()
    with engine.connect() as connection, connection.begin():
        yield connection


# A signed-in screen runs in one transaction (common.shop.auth opens it around the token's
# customer lookup and the handler): read() and write() inside it join it.
_request_connection: ContextVar[Connection | None] = ContextVar("tsh_request_connection", default=None)


@contextmanager
def request_transaction(writes: bool) -> Iterator[Connection]:
    """One transaction for the rest of a request, committed when the block ends and rolled back on
    any exception; `writes` when the request may change data (SQLite begins it IMMEDIATE, as write())."""
    with write() if writes else read() as connection:
        token = _request_connection.set(connection)
        try:
            yield connection
        finally:
            _request_connection.reset(token)


def _request_transaction_for(engine: Engine | None, writes: bool) -> Connection | None:
    connection = _request_connection.get()
    if connection is None or (engine is not None and engine is not connection.engine):
        return None
    if writes and not connection.get_execution_options().get(_WRITE_OPTION):
        raise RuntimeError("a write inside a request's read-only transaction")
    return connection


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
_UNAVAILABLE_TYPES = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError)
# PostgreSQL's own words for the same: statement timeout or cancel (57014), shutting down
# (57P01 admin, 57P02 crash), starting up (57P03), database dropped (57P04), idle session ended
# (57P05), a read-only standby after a failover (25006), every connection exception (class 08)
# and every lack of resources (class 53: too many connections, out of memory, disk full).
# pg8000 raises some of them as ProgrammingError or DatabaseError, so the code is what counts,
# not the class.
_UNAVAILABLE_SQLSTATES = frozenset({"57014", "57P01", "57P02", "57P03", "57P04", "57P05", "25006"})
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53")
# 55000 (object not in prerequisite state) is also a statement's error; at connect it is a
# database closed to connections (ALTER DATABASE ... ALLOW_CONNECTIONS false: a restore, maintenance).
_CLOSED_DATABASE = ("55000", "not currently accepting connections")


def root_cause(exc: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's wrappers and re-raises."""
    root = exc
    while root.__cause__ is not None or getattr(root, "orig", None) is not None:
        root = getattr(root, "orig", None) or root.__cause__
    return root


def sqlstate(exc: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE of a failure (pg8000 carries the server's fields as a dict), if any."""
    fields = next(iter(root_cause(exc).args), None)
    return fields.get("C") if isinstance(fields, dict) else None


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database is down, refusing, overloaded or not answering in
    time, as opposed to refusing a statement: the HTTP edge answers 503, the drain retries."""
    if isinstance(exc, _UNAVAILABLE_TYPES):
        return True
    code = sqlstate(exc)
    if code == _CLOSED_DATABASE[0]:
        return _CLOSED_DATABASE[1] in str(root_cause(exc))
    if code is not None:
        return code in _UNAVAILABLE_SQLSTATES or code.startswith(_UNAVAILABLE_SQLSTATE_CLASSES)
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated
    # A socket error the driver let through unwrapped (a reset during the start-up exchange),
    # or a wait on the database that ran out.
    return isinstance(exc, (ConnectionError, TimeoutError))


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


# undefined_table, undefined_column: the code expects tables or columns the database lacks.
_SCHEMA_SQLSTATES = {"42P01", "42703"}
_SQLITE_SCHEMA_MESSAGES = ("no such table", "no such column", "has no column named")


def is_schema_missing(exc: BaseException) -> bool:
    """True when a statement failed because the database's schema is behind the code's."""
    if sqlstate(exc) in _SCHEMA_SQLSTATES:
        return True
    root = root_cause(exc)
    return type(root).__name__ == "OperationalError" and str(root).startswith(_SQLITE_SCHEMA_MESSAGES)


def short_reason(exc: BaseException) -> str:
    """A one-line, secret-free description of a database failure."""
    root = root_cause(exc)
    kind = type(root).__name__
    if isinstance(root, TimeoutError) or "timed out" in str(root).lower():
        return f"{kind}: connection timed out"
    if isinstance(root, ConnectionRefusedError) or "refused" in str(root).lower():
        return f"{kind}: connection refused"
    if "password" in str(root).lower() or "authentication" in str(root).lower():
        return f"{kind}: authentication failed"
    return f"{kind}: database unavailable"


PURGE_CHUNK_ROWS = 5000


def delete_in_chunks(engine: Engine | None, delete_chunk: Callable[[Connection, int], int]) -> int:
    """Run `delete_chunk(connection, limit)` (which deletes at most `limit` rows and says how many)
    in transactions of its own until it deletes fewer, so no transaction holds a million rows."""
    total = 0
    while True:
        with write(engine) as connection:
            deleted = delete_chunk(connection, PURGE_CHUNK_ROWS)
        total += deleted
        if deleted < PURGE_CHUNK_ROWS:
            return total
