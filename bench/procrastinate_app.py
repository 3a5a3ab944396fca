"""The peer a user would pick instead of the service's queue: procrastinate, applying the same events.

Two tasks under one name, so the same deferred jobs serve both:
- `bind`: the task runs the service's handler (`common.sync.handlers.apply`) on an SQLAlchemy
  connection in its own transaction, exactly as the service's drain does for an item; what differs is
  the queue machinery around it (procrastinate's fetch / finish functions, its worker, psycopg);
- `bind_plain_upsert`: what a team would write on procrastinate instead of the service's handlers, one
  plain `INSERT ... ON CONFLICT DO UPDATE` per job through psycopg into tables indexed like
  the service's (a unique Zoho id, a trigram index on the name, an index on the SKU or email), with no
  stale check, search columns, history or events.
"""

from __future__ import annotations

from typing import Any

from procrastinate import App, PsycopgConnector
from sqlalchemy import Engine

from common.clock import utcnow
from common.config import Settings
from common.db.engine import check_database, create_engine_for
from common.db.transactions import write
from common.sync import handlers
from common.sync.queue import QueueItem

_engine: Engine | None = None


def make_app(conninfo: str, pool_size: int = 2) -> App:
    return App(connector=PsycopgConnector(conninfo=conninfo, min_size=1, max_size=pool_size), import_paths=[])


def engine_for(database_url: str) -> Engine:
    """The task's engine: one per worker process, like the service's drain's."""
    global _engine
    if _engine is None:
        _engine = create_engine_for(Settings(database_url=database_url, tds_workers=0))
    return _engine


def warm(database_url: str) -> None:
    check_database(engine_for(database_url))


PEER_TABLES = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE peer_products (
    id bigserial PRIMARY KEY, zoho_item_id text NOT NULL UNIQUE, name text NOT NULL, sku text,
    price numeric(14, 2), stock integer, is_active boolean NOT NULL, data jsonb NOT NULL,
    updated_at timestamptz NOT NULL);
CREATE INDEX peer_products_name_trgm ON peer_products USING gin (name gin_trgm_ops);
CREATE INDEX peer_products_sku ON peer_products (sku);
CREATE TABLE peer_customers (
    id bigserial PRIMARY KEY, zoho_contact_id text NOT NULL UNIQUE, name text NOT NULL, email text,
    phone text, data jsonb NOT NULL, updated_at timestamptz NOT NULL);
CREATE INDEX peer_customers_name_trgm ON peer_customers USING gin (name gin_trgm_ops);
CREATE INDEX peer_customers_email ON peer_customers (email);
"""

_UPSERT_PRODUCT = """
INSERT INTO peer_products (zoho_item_id, name, sku, price, stock, is_active, data, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, now())
ON CONFLICT (zoho_item_id) DO UPDATE SET name = excluded.name, sku = excluded.sku, price = excluded.price,
    stock = excluded.stock, is_active = excluded.is_active, data = excluded.data, updated_at = excluded.updated_at"""
_UPSERT_CUSTOMER = """
INSERT INTO peer_customers (zoho_contact_id, name, email, phone, data, updated_at)
VALUES (%s, %s, %s, %s, %s, now())
ON CONFLICT (zoho_contact_id) DO UPDATE SET name = excluded.name, email = excluded.email, phone = excluded.phone,
    data = excluded.data, updated_at = excluded.updated_at"""


def bind_plain_upsert(app: App, conninfo: str) -> Any:
    """Register the plain-upsert task on `app` (one psycopg connection per worker process)."""
    import psycopg
    from psycopg.types.json import Jsonb

    connection = psycopg.connect(conninfo)

    @app.task(name="apply_zoho_event", queue="zoho")
    def apply_zoho_event(entity_type: str, source_entity_id: str, operation_type: str, payload: dict) -> str:
        with connection.transaction():
            if entity_type == "products":
                item = payload["item"]
                stock = item.get("available_stock", item.get("stock_on_hand"))
                connection.execute(
                    _UPSERT_PRODUCT,
                    (
                        item["item_id"],
                        item["name"],
                        item.get("sku"),
                        item.get("rate"),
                        stock,
                        item.get("status") == "active",
                        Jsonb(item),
                    ),
                )
            else:
                record = payload["contact"]
                connection.execute(
                    _UPSERT_CUSTOMER,
                    (
                        record["contact_id"],
                        record["contact_name"],
                        record.get("email"),
                        record.get("phone"),
                        Jsonb(record),
                    ),
                )
        return "applied"

    return apply_zoho_event


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
