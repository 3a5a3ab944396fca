"""Transactions: `read()`, `write()`, a connection for several writes, and a request's transaction.

`write()` opens a transaction that may change data; on SQLite it starts with `BEGIN IMMEDIATE`,
so concurrent writers in one process queue on the database lock instead of failing halfway with
"database is locked". `read()` is a plain transaction.

Inside a request's transaction (`request_transaction`, opened by the customer guards of
common.shop.auth around the token's customer lookup and the handler), `read()` and `write()` do
not open a transaction of their own: they hand out the request's connection, so the screen's
reads and writes commit or roll back together with the lookup. Outside one (every other route,
the drain, the jobs) each `read()` / `write()` block is its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Connection, Engine

from common.db.engine import WRITE_OPTION, get_engine


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
        yield connection.execution_options(**{WRITE_OPTION: True})


@contextmanager
def read(engine: Engine | None = None) -> Iterator[Connection]:
    joined = _request_transaction_for(engine, writes=False)
    if joined is not None:
        yield joined
        return
    engine = engine or get_engine()
    with engine.connect() as connection, connection.begin():
        yield connection


# The request's transaction that read() and write() join (see the module's docstring).
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
    if writes and not connection.get_execution_options().get(WRITE_OPTION):
        raise RuntimeError("a write inside a request's read-only transaction")
    return connection


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
