"""Statements both databases run the same way: the dialect's INSERT (with ON CONFLICT) and batched inserts."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from sqlalchemy import Connection, Table


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
    connection: Connection,
    table: Table,
    rows: Iterable[dict],
    *,
    skip_duplicates: bool = False,
    max_parameters: int = 30_000,
) -> int:
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
