"""The database's ceiling for the drain: the same SQL as the service's drain, issued from a bare driver loop.

No SQLAlchemy, no pydantic, no drain bookkeeping: a DB-API cursor sends the statement the service's
queue claim sends, then for each item, in its own transaction, the statements the service's handler
sends for that entity (common/sync/handlers.py), the outbox row it writes with each applied
change (common/events/outbox.py), and the same fenced completion UPDATE.
Parameter values are computed with the same pure-Python helpers the handlers use for the
stored search columns and money, so the rows written are the same.

The pg8000 loop connects with the product's own tuned connection (common/pg8000_tuning.py),
so that the ceiling is not lower than the product for a reason outside it.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from common.money import to_iqd
from common.products.search_index import product_search, vocabulary_rows
from common.sync.handlers import PRODUCT_FIELDS

BATCH_SIZE = 10
LOCK_SECONDS = 300

CLAIM = """
UPDATE tds_sync_queue
   SET status = 'processing', attempt_count = attempt_count + 1, locked_by = %s, lock_expires_at = %s, started_at = %s
 WHERE id IN (
       SELECT id FROM tds_sync_queue
        WHERE status IN ('pending', 'retry', 'processing')
          AND (status = 'pending' OR (status = 'retry' AND next_retry_at <= %s)
               OR (status = 'processing' AND lock_expires_at <= %s))
        ORDER BY priority, created_at, id
        LIMIT %s
          FOR UPDATE SKIP LOCKED)
RETURNING id, entity_type, payload, attempt_count, priority, created_at"""

COMPLETE = """
UPDATE tds_sync_queue
   SET status = 'completed', result = %s, processing_ms = %s, error_message = NULL, completed_at = %s,
       locked_by = NULL, lock_expires_at = NULL
 WHERE id = %s AND status = 'processing' AND locked_by = %s AND attempt_count = %s"""

CUSTOMER_FIELDS = {"name": "contact_name", "company_name": "company_name", "email": "email", "phone": "phone"}
PRODUCT_LOCK = "SELECT * FROM products WHERE zoho_item_id = %s FOR UPDATE"
CATEGORY_UPSERT = """
INSERT INTO categories (zoho_category_id, name, created_at, updated_at) VALUES (%s, %s, %s, %s)
ON CONFLICT (zoho_category_id) DO UPDATE SET updated_at = %s RETURNING id"""
SALES_LOCK = "SELECT id FROM products WHERE zoho_item_id IN (%s) ORDER BY id FOR UPDATE"
SALES_UPDATE = """
UPDATE products SET sales_count = (
       SELECT coalesce(sum(invoice_lines.quantity), 0)
         FROM invoice_lines JOIN invoices ON invoices.id = invoice_lines.invoice_id
        WHERE invoice_lines.zoho_item_id = products.zoho_item_id AND invoices.is_active)
 WHERE zoho_item_id IN (%s)"""


def connect(driver: str, database: str, host: str, port: int, user: str):
    if driver == "pg8000":
        from common import pg8000_tuning

        pg8000_tuning.install()
        return pg8000_tuning.connection_class()(user=user, host=host, port=port, database=database)
    import psycopg

    return psycopg.connect(host=host, port=port, user=user, dbname=database)


def _stamp(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z") if value[-5] in "+-" else datetime.fromisoformat(value)
    return parsed.astimezone(UTC)


def _columns(fields: dict[str, str], record: dict[str, Any]) -> dict[str, Any]:
    return {column: record[field] for column, field in fields.items() if field in record}


def _insert(table: str, row: dict[str, Any]) -> str:
    marks = ", ".join("%s::jsonb" if name == "zoho_data" else "%s" for name in row)
    return f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})"


def _versioned(values: dict[str, Any], modified_at: datetime | None, now: datetime) -> dict[str, Any]:
    values["updated_at"] = now
    if modified_at is not None:
        values["zoho_last_modified"] = modified_at
    return values


OUTBOX_INSERT = """
INSERT INTO event_outbox (event_id, event_type, aggregate_type, aggregate_id, payload, occurred_at, attempts)
VALUES (%s, %s, %s, %s, %s::jsonb, %s, 0)"""
CUSTOMER_LOCK = (
    "SELECT name, company_name, email, phone, is_active FROM customers WHERE zoho_contact_id = %s FOR UPDATE"
)


def _emit(cursor, event_type: str, aggregate: str, aggregate_id: int, data: dict[str, Any], now: datetime) -> None:
    """The outbox row the service's handlers write with each applied change (common/events/outbox.py)."""
    event_id = str(uuid.uuid4())
    payload = {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": now.isoformat(),
        "aggregate": {"type": aggregate, "id": str(aggregate_id)},
        "data": data,
    }
    cursor.execute(
        OUTBOX_INSERT, [event_id, event_type, aggregate, str(aggregate_id), json.dumps(payload, default=str), now]
    )


def apply_customer(cursor, payload: dict[str, Any], now: datetime) -> str:
    record = payload["contact"]
    cursor.execute(CUSTOMER_LOCK, [record["contact_id"]])
    stored = cursor.fetchall()
    modified_at = _stamp(record.get("last_modified_time")) or _stamp(payload.get("event_time"))
    values = _columns(CUSTOMER_FIELDS, record)
    values["is_active"] = (record.get("status") or "").lower() not in {"inactive", "void", "deleted"}
    values["zoho_data"] = json.dumps(record)
    values = _versioned(values, modified_at, now)
    row = {**values, "zoho_contact_id": record["contact_id"], "created_at": now}
    cursor.execute(
        _insert("customers", row)
        + " ON CONFLICT (zoho_contact_id) DO UPDATE SET "
        + ", ".join(f"{name} = excluded.{name}" for name in values)
        + " WHERE NOT (customers.zoho_last_modified IS NOT NULL AND customers.zoho_last_modified > %s)"
        " RETURNING id, name, company_name, email, phone, is_active",
        [*row.values(), modified_at],
    )
    written = cursor.fetchall()
    if not written:
        return "stale"
    customer_id, *tracked = written[0]
    data = dict(
        zip(("name", "company_name", "email", "phone", "is_active"), tracked, strict=True),
        zoho_contact_id=record["contact_id"],
    )
    _emit(cursor, "customer.updated" if stored else "customer.created", "customer", customer_id, data, now)
    return "applied"


def apply_product(cursor, payload: dict[str, Any], now: datetime) -> str:
    item = payload["item"]
    modified_at = _stamp(item.get("last_modified_time"))
    cursor.execute(PRODUCT_LOCK, [item["item_id"]])
    rows = cursor.fetchall()
    stored = dict(zip([column[0] for column in cursor.description], rows[0], strict=True)) if rows else None
    if stored and stored["zoho_last_modified"] and modified_at and modified_at < stored["zoho_last_modified"]:
        return "stale"
    values = _columns(PRODUCT_FIELDS, item)
    text = {
        field: values.get(field, stored[field] if stored else None)
        for field in ("name", "name_ar", "sku", "brand", "description")
    }
    if item.get("rate") is not None:
        values["price"] = to_iqd(item["rate"])
    if "purchase_rate" in item:
        values["cost"] = None if item["purchase_rate"] is None else to_iqd(item["purchase_rate"])
    stock = item.get("available_stock") if item.get("available_stock") is not None else item.get("stock_on_hand")
    if stock is not None:
        values["stock_quantity"] = max(0, to_iqd(stock))
    if "status" in item:
        values["is_active"] = item["status"] == "active"
    category = item.get("category_id")
    if category and (stored is None or (stored["zoho_data"] or {}).get("category_id") != category):
        cursor.execute(CATEGORY_UPSERT, [category, item.get("category_name") or "Uncategorised", now, now, now])
        values["category_id"] = cursor.fetchall()[0][0]
    search = product_search({**text, "description_ar": stored["description_ar"] if stored else None}, stored)
    values.update(search.columns)
    rows = vocabulary_rows(search.terms)
    if rows:
        cursor.execute(
            "INSERT INTO search_terms (variant, term) VALUES "
            + ", ".join(["(%s, %s)"] * len(rows))
            + " ON CONFLICT DO NOTHING",
            [value for row in rows for value in (row["variant"], row["term"])],
        )
    values["zoho_data"] = json.dumps(item)
    values = _versioned(values, modified_at, now)
    if stored is not None:
        assignments = ", ".join(f"{name} = %s{'::jsonb' if name == 'zoho_data' else ''}" for name in values)
        cursor.execute(f"UPDATE products SET {assignments} WHERE id = %s", [*values.values(), stored["id"]])
        _emit(
            cursor,
            "product.updated",
            "product",
            stored["id"],
            {"zoho_item_id": item["item_id"], "name": values.get("name")},
            now,
        )
        return "applied"
    row = {**values, "zoho_item_id": item["item_id"], "created_at": now}
    cursor.execute(_insert("products", row) + " ON CONFLICT (zoho_item_id) DO NOTHING RETURNING id", list(row.values()))
    created = cursor.fetchall()
    if not created:
        raise RuntimeError(f"product {item['item_id']} created concurrently")  # the workload never does this
    _emit(
        cursor,
        "product.created",
        "product",
        created[0][0],
        {"zoho_item_id": item["item_id"], "name": values.get("name")},
        now,
    )
    cursor.execute(SALES_LOCK, [item["item_id"]])
    cursor.fetchall()
    cursor.execute(SALES_UPDATE, [item["item_id"]])
    return "applied"


APPLY = {"customers": apply_customer, "products": apply_product}


def drain(connection, worker_id: str) -> int:
    """Claim batches and apply every item in its own transaction until a batch comes back short."""
    cursor = connection.cursor()
    done = 0
    while True:
        now = datetime.now(UTC)
        cursor.execute(CLAIM, [worker_id, now + timedelta(seconds=LOCK_SECONDS), now, now, now, BATCH_SIZE])
        batch = sorted(cursor.fetchall(), key=lambda row: (row[4], row[5], row[0]))
        connection.commit()
        for queue_id, entity_type, payload, attempt, _, _ in batch:
            started = time.perf_counter()
            result = APPLY[entity_type](cursor, payload, datetime.now(UTC))
            elapsed_ms = round((time.perf_counter() - started) * 1000)
            cursor.execute(COMPLETE, [result, elapsed_ms, datetime.now(UTC), queue_id, worker_id, attempt])
            if cursor.rowcount != 1:
                connection.rollback()
                continue
            connection.commit()
            done += 1
        if len(batch) < BATCH_SIZE:
            return done
