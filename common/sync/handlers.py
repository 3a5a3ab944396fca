"""Applying one queued Zoho event to the local tables, inside the drain's per-item transaction.

Every entity has a handler. An event older than the stored row (Zoho's
`last_modified_time`) is skipped as `stale`; otherwise the fields the event carries are
written and the others keep their stored values. `delete` deactivates the row and keeps
its history. Documents are written with one upsert whose stale check runs under the
row lock; products read the stored row first, since their search columns merge both.

A change writes its domain events (common.events) in the same transaction, comparing the
stored values with the new ones, so a redelivery or an update that changes nothing kept here
emits none. Products, customers, invoices and stock emit; bills, credit notes and price
lists have no events yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Column, Connection, Row, Table, and_, bindparam, not_, select, update
from sqlalchemy.sql.expression import ClauseElement

from common.db.statements import dialect_insert, insert, insert_rows
from common.errors import ValidationFailed
from common.events import outbox
from common.events.outbox import Event
from common.models import (
    bills,
    categories,
    credit_notes,
    customers,
    invoice_lines,
    invoices,
    pricelists,
    product_prices,
    products,
    search_terms,
    stock_adjustments,
)
from common.money import to_iqd
from common.products import reservations
from common.products.sales import recompute_sales_counts, units_sold
from common.products.search_index import PRODUCT_TEXT, product_search, vocabulary_rows
from common.sync import stock
from common.sync.clock import trusted_until
from common.sync.entities import BY_NAME
from common.sync.errors import PermanentSyncError, TransientSyncError
from common.sync.payloads import records
from common.sync.payloads.bodies import ZohoEvent
from common.sync.queue import APPLIED, NOOP, STALE, QueueItem
from common.sync.sales_orders import apply_sales_order

_INACTIVE_STATUSES = {"inactive", "void", "deleted"}

Values = dict[str, Any]


def apply(connection: Connection, item: QueueItem, now: datetime) -> str:
    """Apply the event; returns the result recorded on the queue item (applied, stale or noop)."""
    entity = BY_NAME.get(item.entity_type)
    if entity is None:
        raise PermanentSyncError(f"unknown entity type {item.entity_type!r}")
    try:
        event = entity.parse(item.payload)
    except ValidationFailed as exc:  # queued before a schema change, or written by hand
        raise PermanentSyncError(f"stored event does not validate: {exc.errors}") from None
    return HANDLERS[entity.name](connection, event, now)


def _whole(quantity: Decimal) -> int:
    return int(quantity.to_integral_value(rounding=ROUND_HALF_UP))


def _given(record: BaseModel, field: str) -> bool:
    """Did the event carry this field (even as null)? Absent fields keep the stored value."""
    return field in record.model_fields_set


def _given_values(record: BaseModel, fields: dict[str, str]) -> Values:
    """{column: value} for the record fields the event carries."""
    return {column: getattr(record, field) for column, field in fields.items() if _given(record, field)}


def _money(record: BaseModel, field: str) -> int | None:
    value = getattr(record, field, None)
    return None if value is None else to_iqd(value)


def _is_active(record: BaseModel) -> bool:
    return (getattr(record, "status", None) or "").lower() not in _INACTIVE_STATUSES


def _newer_than(table: Table, modified_at: datetime | None, now: datetime):
    """SQL: the stored row is newer than this event (events without a version never are, and
    a stored version from the future never fences: common.sync.clock)."""
    if modified_at is None:
        return False
    stored = table.c.zoho_last_modified
    return and_(stored.is_not(None), stored > modified_at, stored <= trusted_until(now))


def _versioned(values: Values, modified_at: datetime | None, now: datetime) -> Values:
    values = {**values, "updated_at": now}
    if modified_at is not None:
        values["zoho_last_modified"] = modified_at
    return values


@lru_cache(maxsize=16)
def _excluded(table: Table):
    """The row an upsert proposed ("excluded"), built once per table: `Insert.excluded` copies
    the whole table on every statement."""
    return table.alias("excluded")


# The drain's statements are built once per shape and take their values as parameters:
# building and cache-keying a statement cost more CPU than sending it (bench/README.md).
_EVENT_VERSION = "event_modified_at"  # the bound parameters of the upserts' stale check
_TRUSTED_UNTIL = "trusted_until"


@lru_cache(maxsize=256)
def _upsert_statement(
    dialect: str,
    table: Table,
    key: Column,
    columns: tuple[str, ...],
    insert_only: bool,
    versioned: bool,
    returning: tuple[Column, ...],
):
    """INSERT ... ON CONFLICT of a record whose values come as parameters, for one set of
    `columns`; `versioned` adds the stale check against the bound event version."""
    statement = dialect_insert(dialect)(table)
    if insert_only:
        statement = statement.on_conflict_do_nothing(index_elements=[key])
    else:
        excluded = _excluded(table)
        stored = table.c.zoho_last_modified
        statement = statement.on_conflict_do_update(
            index_elements=[key],
            set_={column: excluded.c[column] for column in columns},
            where=not_(
                and_(stored.is_not(None), stored > bindparam(_EVENT_VERSION), stored <= bindparam(_TRUSTED_UNTIL))
            )
            if versioned
            else None,
        )
    return statement.returning(table.c.id, *returning)


def _upsert_document(
    connection: Connection,
    table: Table,
    key: Column,
    key_value: str,
    modified_at: datetime | None,
    values: Values,
    now: datetime,
    returning: tuple[Column, ...] = (),
    insert_only: bool = False,
) -> tuple[str, Row | None]:
    """Insert the record, or update the given columns unless the stored version is newer;
    returns the written row's id and `returning` columns. `insert_only` writes nothing when the
    record exists (result NOOP): the caller read no stored row, and must read it first."""
    values = _versioned(values, modified_at, now)
    statement = _upsert_statement(
        connection.dialect.name, table, key, tuple(values), insert_only, modified_at is not None, returning
    )
    # A value that is SQL (a looked-up id: an invoice's customer) goes into the statement; the rest are parameters.
    expressions = {column: value for column, value in values.items() if isinstance(value, ClauseElement)}
    if expressions:
        statement = statement.values(**expressions)
    parameters = {column: value for column, value in values.items() if column not in expressions}
    parameters.update({key.name: key_value, "created_at": now})
    if modified_at is not None and not insert_only:
        parameters.update({_EVENT_VERSION: modified_at, _TRUSTED_UNTIL: trusted_until(now)})
    row = connection.execute(statement, parameters).first()
    if row is not None:
        return APPLIED, row
    return (NOOP if insert_only else STALE), None


def _deactivate(
    connection: Connection,
    table: Table,
    key: Column,
    key_value: str,
    modified_at: datetime | None,
    now: datetime,
    returning: tuple[Column, ...] = (),
) -> tuple[str, Row | None]:
    row = connection.execute(
        update(table)
        .where(key == key_value, not_(_newer_than(table, modified_at, now)))
        .values(is_active=False, **_versioned({}, modified_at, now))
        .returning(table.c.id, *returning)
    ).first()
    if row is not None:
        return APPLIED, row
    exists = connection.execute(select(table.c.id).where(key == key_value)).scalar()
    return (STALE if exists else NOOP), None


def _changes(stored: Values, new: Values) -> dict[str, dict[str, Any]]:
    return {column: {"old": stored[column], "new": value} for column, value in new.items() if stored[column] != value}


@dataclass(frozen=True)
class _DocumentEvents:
    """What a document's changes emit: `created` for a new row, `updated` (with the changed
    columns, old and new) when one of `tracked` changed; both carry the tracked values."""

    aggregate: str
    created: str
    updated: str
    key_name: str
    tracked: tuple[str, ...]

    def stored(self, connection: Connection, table: Table, key: Column, key_value: str) -> Values | None:
        row = connection.execute(_locked_columns(table, key, self.tracked), {"key": key_value}).first()
        return None if row is None else dict(row._mapping)

    def of(self, key_value: str, stored: Values | None, row: Row) -> list[Event]:
        new = {column: row._mapping[column] for column in self.tracked}
        data = {self.key_name: key_value, **new}
        if stored is None:
            return [Event(self.created, self.aggregate, row.id, data)]
        changes = _changes(stored, new)
        return [Event(self.updated, self.aggregate, row.id, {**data, "changes": changes})] if changes else []


@lru_cache(maxsize=32)
def _locked_columns(table: Table, key: Column, columns: tuple[str, ...]):
    """SELECT the columns of the row with key = :key, FOR UPDATE."""
    return select(*(table.c[column] for column in columns)).where(key == bindparam("key")).with_for_update()


def _document_handler(
    table: Table,
    key: Column,
    fields: dict[str, str],
    money_fields: tuple[str, ...] = ("total", "balance"),
    customer_field: str | None = None,
    extra_values: Callable[[BaseModel], Values] = lambda record: {},
    after: Callable[[Connection, BaseModel, int, bool, datetime], None] | None = None,
    ignore: Callable[[BaseModel], bool] = lambda record: False,
    events: _DocumentEvents | None = None,
):
    """A handler for a Zoho document kept in one table (customers, bills, credit notes, ...)."""
    returning = tuple(table.c[column] for column in events.tracked) if events else ()

    def handler(connection: Connection, event: ZohoEvent, now: datetime) -> str:
        record = event.record
        if ignore(record):
            return NOOP
        key_value = event.source_id
        modified_at = event.modified_at
        deleting = event.deleting
        stored = events.stored(connection, table, key, key_value) if events else None
        if deleting:
            result, row = _deactivate(connection, table, key, key_value, modified_at, now, returning)
        else:
            values = _given_values(record, fields)
            values.update({field: _money(record, field) for field in money_fields if _given(record, field)})
            if customer_field and _given(record, customer_field):
                values["customer_id"] = _customer_by_zoho_id(getattr(record, customer_field))
            values.update(extra_values(record))
            values["is_active"] = _is_active(record)
            values["zoho_data"] = record.model_dump(mode="json", exclude_none=True)
            # Emitting events needs the stored values: with none read, only an insert is written,
            # and a record another drain inserted meanwhile is read (and locked) before the update.
            result, row = _upsert_document(
                connection,
                table,
                key,
                key_value,
                modified_at,
                values,
                now,
                returning,
                insert_only=events is not None and stored is None,
            )
            if events is not None and stored is None and row is None:
                stored = events.stored(connection, table, key, key_value)
                result, row = _upsert_document(connection, table, key, key_value, modified_at, values, now, returning)
        if result != APPLIED:
            return result
        if events:
            outbox.write(connection, events.of(key_value, stored, row), now)
        if after is not None:
            after(connection, record, row.id, deleting, now)
        return result

    return handler


def _customer_by_zoho_id(zoho_contact_id: str | None):
    return select(customers.c.id).where(customers.c.zoho_contact_id == zoho_contact_id).scalar_subquery()


def _replace_invoice_lines(
    connection: Connection, invoice: records.ZohoInvoice, invoice_id: int, deleting: bool, now: datetime
) -> None:
    """Swap the invoice's lines for the event's, and recount the sales of every item touched."""
    touched = set(
        connection.scalars(select(invoice_lines.c.zoho_item_id).where(invoice_lines.c.invoice_id == invoice_id))
    )
    if not deleting and _given(invoice, "line_items"):
        connection.execute(invoice_lines.delete().where(invoice_lines.c.invoice_id == invoice_id))
        lines = [
            {
                "invoice_id": invoice_id,
                "zoho_item_id": line.item_id,
                "name": line.name,
                "quantity": _whole(line.quantity),
                "rate": to_iqd(line.rate),
                "total": to_iqd(line.item_total if line.item_total is not None else line.rate * line.quantity),
            }
            for line in invoice.line_items
        ]
        insert_rows(connection, invoice_lines, lines)
        touched |= {line["zoho_item_id"] for line in lines}
    recompute_sales_counts(connection, touched - {None})


def _replace_prices(
    connection: Connection, pricebook: records.ZohoPriceBook, pricelist_id: int, deleting: bool, now: datetime
) -> None:
    """The price book's items become its product prices; an item not synced yet keeps its price
    here, keyed by its Zoho id, and has it from the moment it arrives."""
    if deleting or pricebook.pricebook_items is None:
        return
    connection.execute(product_prices.delete().where(product_prices.c.pricelist_id == pricelist_id))
    rates = {item.item_id: to_iqd(item.pricebook_rate) for item in pricebook.pricebook_items}
    insert_rows(
        connection,
        product_prices,
        [
            {"pricelist_id": pricelist_id, "zoho_item_id": item, "price": price, "updated_at": now}
            for item, price in rates.items()
        ],
    )


def _contact_details(contact: records.ZohoContact) -> Values:
    """Email and phone, from wherever the event carries them (see ZohoContact); absent, the stored ones stay."""
    values: Values = {}
    if any(_given(contact, field) for field in ("email", "contact_persons")):
        values["email"] = contact.contact_email
    if any(_given(contact, field) for field in ("phone", "mobile", "contact_persons", "billing_address")):
        values["phone"] = contact.contact_phone
    return values


apply_customer = _document_handler(
    customers,
    customers.c.zoho_contact_id,
    {"name": "contact_name", "company_name": "company_name"},
    money_fields=(),
    extra_values=_contact_details,
    # Zoho's contacts include suppliers; bills keep their vendor id, the shop has no use for them.
    ignore=lambda contact: contact.is_vendor,
    events=_DocumentEvents(
        "customer",
        "customer.created",
        "customer.updated",
        "zoho_contact_id",
        ("name", "company_name", "email", "phone", "is_active"),
    ),
)
apply_bill = _document_handler(
    bills,
    bills.c.zoho_bill_id,
    {
        "bill_number": "bill_number",
        "zoho_vendor_id": "vendor_id",
        "vendor_name": "vendor_name",
        "date": "date",
        "due_date": "due_date",
        "status": "status",
    },
)
apply_credit_note = _document_handler(
    credit_notes,
    credit_notes.c.zoho_creditnote_id,
    {"creditnote_number": "creditnote_number", "zoho_customer_id": "customer_id", "date": "date", "status": "status"},
    customer_field="customer_id",
)
apply_invoice = _document_handler(
    invoices,
    invoices.c.zoho_invoice_id,
    {
        "invoice_number": "invoice_number",
        "zoho_customer_id": "customer_id",
        "date": "date",
        "due_date": "due_date",
        "status": "status",
        "currency_code": "currency_code",
    },
    customer_field="customer_id",
    after=_replace_invoice_lines,
    events=_DocumentEvents(
        "invoice",
        "invoice.recorded",
        "invoice.recorded",
        "zoho_invoice_id",
        (
            "invoice_number",
            "zoho_customer_id",
            "customer_id",
            "date",
            "due_date",
            "status",
            "total",
            "balance",
            "currency_code",
            "is_active",
        ),
    ),
)
apply_prices = _document_handler(
    pricelists,
    pricelists.c.zoho_pricelist_id,
    {"name": "name", "currency_code": "currency_code", "pricing_scheme": "pricing_scheme"},
    money_fields=(),
    extra_values=lambda record: (
        {"percentage": None if record.percentage is None else _whole(record.percentage)}
        if _given(record, "percentage")
        else {}
    ),
    after=_replace_prices,
)


# A product's columns taken as Zoho's item gives them: {column: Zoho's field}.
PRODUCT_FIELDS = {field: field for field in ("name", "name_ar", "sku", "description", "unit", "brand")}


def _product_values(
    connection: Connection, item: records.ZohoItem, stored: Row | None, modified_at: datetime | None, now: datetime
) -> Values:
    values = _given_values(item, PRODUCT_FIELDS)
    text = {field: values.get(field, getattr(stored, field) if stored else None) for field in PRODUCT_TEXT}
    if not text["name"]:
        raise PermanentSyncError(f"item {item.item_id} has no name")
    if item.rate is not None:
        values["price"] = to_iqd(item.rate)
    if _given(item, "purchase_rate"):
        values["cost"] = _money(item, "purchase_rate")
    if item.stock is not None:
        quantity = max(0, _whole(item.stock))
        values.update(stock.snapshot_values(connection, item.item_id, stored, modified_at, quantity, now))
    if _given(item, "status"):
        values["is_active"] = item.status == "active"
    if item.category_id and (stored is None or (stored.zoho_data or {}).get("category_id") != item.category_id):
        values["category_id"] = _category_id(connection, item, now)
    search = product_search(text, stored._mapping if stored else None)
    values.update(search.columns)
    _add_vocabulary(connection, search.terms)
    values["zoho_data"] = item.model_dump(mode="json", exclude_none=True)
    return values


def _category_id(connection: Connection, item: records.ZohoItem, now: datetime) -> int:
    return connection.execute(
        insert(connection, categories)
        .values(
            zoho_category_id=item.category_id,
            name=item.category_name or "Uncategorised",
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_update(index_elements=[categories.c.zoho_category_id], set_={"updated_at": now})
        .returning(categories.c.id)
    ).scalar_one()


def _add_vocabulary(connection: Connection, terms: set[str]) -> None:
    insert_rows(connection, search_terms, vocabulary_rows(terms), skip_duplicates=True)


# Product columns whose change is a product.updated event (search columns and Zoho's record follow them).
_PRODUCT_TRACKED = (
    "name",
    "name_ar",
    "sku",
    "description",
    "unit",
    "brand",
    "category_id",
    "price",
    "cost",
    "stock_quantity",
    "is_active",
)


def _stock_crossing(product_id: int, zoho_item_id: str, before: int, after: int) -> list[Event]:
    """product.out_of_stock / back_in_stock when the stock crosses zero."""
    data = {"zoho_item_id": zoho_item_id, "stock_quantity": after}
    if before > 0 >= after:
        return [Event("product.out_of_stock", "product", product_id, data)]
    if before <= 0 < after:
        return [Event("product.back_in_stock", "product", product_id, data)]
    return []


def _product_events(stored: Row | None, product_id: int, zoho_item_id: str, values: Values) -> list[Event]:
    new = {column: values[column] if column in values else getattr(stored, column, None) for column in _PRODUCT_TRACKED}
    data = {"zoho_item_id": zoho_item_id, **new}
    if stored is None:
        return [Event("product.created", "product", product_id, data)]
    changes = _changes(stored._mapping, new)
    if not changes:
        return []
    events = [Event("product.updated", "product", product_id, {**data, "changes": changes})]
    if "price" in changes:
        events.append(
            Event(
                "product.price_changed",
                "product",
                product_id,
                {"zoho_item_id": zoho_item_id, "old_price": stored.price, "new_price": new["price"]},
            )
        )
    events += _stock_crossing(product_id, zoho_item_id, stored.stock_quantity, new["stock_quantity"])
    if stored.is_active and not new["is_active"]:
        events.append(Event("product.deactivated", "product", product_id, {"zoho_item_id": zoho_item_id}))
    return events


_LOCKED_PRODUCT = select(products).where(products.c.zoho_item_id == bindparam("zoho_item_id")).with_for_update()
# The SET columns come from the parameters' keys; the row from this bound id.
_UPDATE_PRODUCT = update(products).where(products.c.id == bindparam("product_row_id"))


def _is_stale(stored: Row | None, modified_at: datetime | None, now: datetime) -> bool:
    """The stored row is newer than this event, and its version is not from the future."""
    version = stored.zoho_last_modified if stored is not None else None
    return bool(version and modified_at and modified_at < version <= trusted_until(now))


def _locked_product(connection: Connection, zoho_item_id: str) -> Row | None:
    return connection.execute(_LOCKED_PRODUCT, {"zoho_item_id": zoho_item_id}).first()


def apply_product(connection: Connection, event: ZohoEvent, now: datetime) -> str:
    item: records.ZohoItem = event.record
    modified_at = event.modified_at
    if event.deleting:
        stored = _locked_product(connection, item.item_id)
        result, _ = _deactivate(connection, products, products.c.zoho_item_id, item.item_id, modified_at, now)
        if result == APPLIED:
            outbox.write(connection, _product_events(stored, stored.id, item.item_id, {"is_active": False}), now)
        return result
    for _ in range(2):
        stored = _locked_product(connection, item.item_id)
        if _is_stale(stored, modified_at, now):
            return STALE
        values = _versioned(_product_values(connection, item, stored, modified_at, now), modified_at, now)
        if stored is not None:
            connection.execute(_UPDATE_PRODUCT, {**values, "product_row_id": stored.id})
            outbox.write(connection, _product_events(stored, stored.id, item.item_id, values), now)
            if "stock_quantity" in values:  # a snapshot: Zoho's figure now counts the orders it committed
                reservations.release_counted_in_snapshot(connection, stored.id, modified_at or now, now)
            return APPLIED
        created = connection.execute(
            insert(connection, products)
            .values(**values, zoho_item_id=item.item_id, sales_count=units_sold(item.item_id), created_at=now)
            .on_conflict_do_nothing(index_elements=[products.c.zoho_item_id])
            .returning(products.c.id, *(products.c[column] for column in _PRODUCT_TRACKED))
        ).first()
        if created is not None:
            outbox.write(connection, _product_events(None, created.id, item.item_id, dict(created._mapping)), now)
            return APPLIED
        # Another drain created this product meanwhile; the second pass updates it.
    raise TransientSyncError(f"product {item.item_id}: concurrent writes, try again")


def apply_stock(connection: Connection, event: ZohoEvent, now: datetime) -> str:
    """An inventory adjustment never adds to the stored stock (common.sync.stock): each
    (adjustment, item) is recorded once, however often it arrives, and each item whose recorded
    quantity changed (a new line, an edited one, or Zoho deleting the adjustment) gets its stock
    check due. An item not synced yet is no error: the record stays, and the item's stock
    arrives with it. A copy arriving after Zoho deleted the adjustment changes nothing."""
    adjustment: records.ZohoStockAdjustment = event.record
    adjustment_id = adjustment.inventory_adjustment_id
    wanted: dict[str, Decimal] = {}
    if not event.deleting:
        for line in adjustment.line_items:
            wanted[line.item_id] = wanted.get(line.item_id, Decimal(0)) + line.quantity_adjusted
    recorded = {
        row.zoho_item_id: row
        for row in connection.execute(
            select(stock_adjustments).where(stock_adjustments.c.zoho_adjustment_id == adjustment_id).with_for_update()
        )
    }
    if any(row.reversed_at is not None for row in recorded.values()):
        return STALE  # Zoho deleted this adjustment; this copy is older than the deletion
    moved: dict[str, int] = {}
    for item_id in sorted(set(wanted) | set(recorded)):
        row = recorded.get(item_id)
        before = row.quantity_adjusted if row is not None else 0
        after = _whole(wanted[item_id]) if item_id in wanted else 0
        if row is None:
            recorded_id = connection.execute(
                insert(connection, stock_adjustments)
                .values(
                    zoho_adjustment_id=adjustment_id,
                    zoho_item_id=item_id,
                    quantity_adjusted=after,
                    reason=adjustment.reason,
                    adjusted_at=event.modified_at,
                    applied_at=now,
                )
                .on_conflict_do_nothing(
                    index_elements=[stock_adjustments.c.zoho_adjustment_id, stock_adjustments.c.zoho_item_id]
                )
                .returning(stock_adjustments.c.id)
            ).scalar()
            if recorded_id is None:
                raise TransientSyncError(f"adjustment {adjustment_id}: concurrent writes, try again")
        elif item_id not in wanted:
            connection.execute(
                update(stock_adjustments).where(stock_adjustments.c.id == row.id).values(reversed_at=now)
            )
        elif after != before:
            connection.execute(
                update(stock_adjustments)
                .where(stock_adjustments.c.id == row.id)
                .values(quantity_adjusted=after, applied_at=now)
            )
        if after != before:
            moved[item_id] = after - before
    held = stock.mark_due(connection, moved, now)
    outbox.write(
        connection,
        [
            Event(
                "stock.adjusted",
                "product",
                held[item_id],
                {
                    "zoho_item_id": item_id,
                    "adjustment_id": adjustment_id,
                    "quantity_adjusted": quantity,
                    "reason": adjustment.reason,
                },
            )
            for item_id, quantity in moved.items()
            if item_id in held
        ],
        now,
    )
    if moved or (event.deleting and recorded):
        return APPLIED
    return STALE if recorded else NOOP


def apply_checked_stock(
    connection: Connection, zoho_item_id: str, quantity: Decimal | None, read_started: datetime, now: datetime
) -> None:
    """Zoho's stock of the item, read at a check that began at `read_started`, becomes the
    stored one (None: Zoho no longer has the item, or gave no figure). The check stays due when
    it was marked again after the read began."""
    stored = _locked_product(connection, zoho_item_id)
    if stored is None:
        return
    values: Values = {"stock_checked_at": now, "stock_check_leased_until": None, "updated_at": now}
    if stored.stock_check_due_at is not None and stored.stock_check_due_at <= read_started:
        values["stock_check_due_at"] = None
    if quantity is not None:
        values["stock_quantity"] = max(0, _whole(quantity))
    connection.execute(_UPDATE_PRODUCT, {**values, "product_row_id": stored.id})
    if "stock_quantity" in values:
        changed = {"stock_quantity": values["stock_quantity"]}
        outbox.write(connection, _product_events(stored, stored.id, zoho_item_id, changed), now)
        # Zoho's figure counts the orders it committed before the read (less the clocks' allowance).
        reservations.release_counted_in_snapshot(connection, stored.id, read_started - stock.CLOCK_MARGIN, now)


# Each entity's handler, by tds_sync_queue.entity_type (common.sync.entities.ENTITIES).
HANDLERS: dict[str, Callable[[Connection, ZohoEvent, datetime], str]] = {
    "products": apply_product,
    "customers": apply_customer,
    "invoices": apply_invoice,
    "bills": apply_bill,
    "credit_notes": apply_credit_note,
    "stock": apply_stock,
    "prices": apply_prices,
    "sales_orders": apply_sales_order,
}
