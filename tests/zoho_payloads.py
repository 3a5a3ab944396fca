"""Zoho webhook bodies as Zoho sends them, for every entity, with knobs for versions and changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

BASE_TIME = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def stamp(version: int) -> str:
    """Zoho's timestamp format (offset without a colon) for the n-th version of a record."""
    return (
        (BASE_TIME + timedelta(minutes=version))
        .astimezone(timezone(timedelta(hours=3)))
        .strftime("%Y-%m-%dT%H:%M:%S%z")
    )


def product(item_id: str = "460000000012345", version: int = 1, **fields) -> dict:
    item = {
        "item_id": item_id,
        "name": f"Samsung Galaxy A54 128GB v{version}",
        "sku": f"SM-A546-{item_id[-4:]}",
        "description": "Android smartphone",
        "rate": 450000 + version,
        "purchase_rate": 390000,
        "stock_on_hand": 40,
        "available_stock": 38,
        "status": "active",
        "unit": "pcs",
        "brand": "Samsung",
        "category_id": "9001",
        "category_name": "Phones",
        "created_time": stamp(0),
        "last_modified_time": stamp(version),
        "cf_warranty": "12 months",
    }
    item.update(fields)
    return {"item": item}


def invoice(invoice_id: str = "770000000000101", version: int = 1, lines: list[dict] | None = None, **fields) -> dict:
    body = {
        "invoice_id": invoice_id,
        "invoice_number": f"INV-{invoice_id[-5:]}",
        "customer_id": "880000000000001",
        "date": "2026-11-01",
        "due_date": "2026-11-15",
        "total": 900000 + version,
        "status": "sent",
        "currency_code": "IQD",
        "last_modified_time": stamp(version),
        "line_items": lines if lines is not None else [{"item_id": "460000000012345", "quantity": 2, "rate": 450000}],
    }
    body.update(fields)
    return {"invoice": body}


def envelope(
    entity_type: str, entity_id: str, data: dict, event_type: str = "update", version: int = 1, **extra
) -> dict:
    return {
        "event_id": f"evt-{entity_id}-{version}",
        "event_type": event_type,
        "event_time": stamp(version),
        "entity_type": entity_type,
        "entity_id": entity_id,
        "data": {**data, "last_modified_time": stamp(version)},
        "organization_id": "600000001",
        **extra,
    }


def customer(contact_id: str = "880000000000001", version: int = 1, **fields) -> dict:
    data = {"contact_id": contact_id, "contact_name": f"Ali Hassan v{version}", "email": "ali@example.iq", **fields}
    return envelope("customer", contact_id, data, version=version)


def bill(bill_id: str = "990000000000001", version: int = 1, **fields) -> dict:
    data = {
        "bill_id": bill_id,
        "bill_number": f"BILL-{bill_id[-4:]}",
        "vendor_id": "550000000000001",
        "vendor_name": "Anker Iraq",
        "total": 1500000 + version,
        "status": "open",
        **fields,
    }
    return envelope("bill", bill_id, data, version=version)


def credit_note(creditnote_id: str = "330000000000001", version: int = 1, **fields) -> dict:
    data = {
        "creditnote_id": creditnote_id,
        "creditnote_number": f"CN-{creditnote_id[-4:]}",
        "customer_id": "880000000000001",
        "total": 25000 + version,
        "status": "open",
        **fields,
    }
    return envelope("credit_note", creditnote_id, data, version=version)


def stock(adjustment_id: str = "220000000000001", item_id: str = "460000000012345", version: int = 1, **fields) -> dict:
    data = {"adjustment_id": adjustment_id, "item_id": item_id, "quantity_adjusted": -3, "reason": "Damaged", **fields}
    return envelope("stock_adjustment", adjustment_id, data, event_type="create", version=version)


def price_list(pricelist_id: str = "110000000000001", version: int = 1, **fields) -> dict:
    data = {
        "pricelist_id": pricelist_id,
        "name": f"Wholesale v{version}",
        "currency_code": "IQD",
        "pricebook_items": [{"item_id": "460000000012345", "pricebook_rate": 430000 + version}],
        **fields,
    }
    return envelope("price_list", pricelist_id, data, version=version)


def sales_order(salesorder_id: str = "440000000000001", version: int = 1, **fields) -> dict:
    return {
        "salesorder": {
            "salesorder_id": salesorder_id,
            "salesorder_number": "SO-00001",
            "reference_number": "TSH-2026-000001",
            "status": "confirmed",
            "shipped_status": "pending",
            "last_modified_time": stamp(version),
            **fields,
        }
    }


# Zoho's name for each route's record in its webhook default payload, {"item": {...}}.
DOCUMENTS = {
    "products": "item",
    "customers": "contact",
    "invoices": "invoice",
    "bills": "bill",
    "credit-notes": "creditnote",
    "stock": "inventory_adjustment",
    "prices": "pricebook",
    "sales-orders": "salesorder",
}


def default_payload(route: str, body: dict) -> dict:
    """The same record as Zoho's webhook default payload carries it (an envelope loses its delivery fields)."""
    document = DOCUMENTS[route]
    return body if document in body else {document: body["data"]}


# route -> (builder, queue entity_type, priority)
ENTITY_CASES = {
    "products": (product, "products", 5),
    "customers": (customer, "customers", 5),
    "invoices": (invoice, "invoices", 2),
    "bills": (bill, "bills", 5),
    "credit-notes": (credit_note, "credit_notes", 8),
    "stock": (stock, "stock", 8),
    "prices": (price_list, "prices", 8),
    "sales-orders": (sales_order, "sales_orders", 2),
}
