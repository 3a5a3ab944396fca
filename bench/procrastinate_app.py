"""The peer a user would pick instead of our queue: procrastinate, applying the same events.

The task runs our handler (`common.sync.handlers.apply`) on an SQLAlchemy connection in
its own transaction, exactly as our drain does for an item; what differs is the queue
machinery around it (procrastinate's fetch / finish functions, its worker, psycopg).
"""

from __future__ import annotations

from typing import Any

from procrastinate import App, PsycopgConnector
from sqlalchemy import Engine

from common.config import Settings
from common.db import check_database, create_engine_for, utcnow, write
from common.sync import handlers
from common.sync.queue import QueueItem

_engine: Engine | None = None


def make_app(conninfo: str, pool_size: int = 2) -> App:
    return App(connector=PsycopgConnector(conninfo=conninfo, min_size=1, max_size=pool_size), import_paths=[])


def engine_for(database_url: str) -> Engine:
    """The task's engine: one per worker process, like our drain's."""
    global _engine
    if _engine is None:
        _engine = create_engine_for(Settings(database_url=database_url, tds_workers=0))
    return _engine


def warm(database_url: str) -> None:
    check_database(engine_for(database_url))


def bind(app: App, database_url: str) -> Any:
    """Register the task on `app`; it applies events to the database at `database_url`."""

    @app.task(name="apply_zoho_event", queue="zoho")
    def apply_zoho_event(entity_type: str, source_entity_id: str, operation_type: str, payload: dict) -> str:
        item = QueueItem(
            id=0,
            entity_type=entity_type,
            source_entity_id=source_entity_id,
            operation_type=operation_type,
            payload=payload,
            attempt_count=1,
            source_modified_at=None,
        )
        with write(engine_for(database_url)) as connection:
            return handlers.apply(connection, item, utcnow())

    return apply_zoho_event
