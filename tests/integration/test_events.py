"""Domain events on both databases: what each change writes to the outbox (and what a repeated,
stale, unchanged or rolled-back change does not), the local subscribers, and GET /api/events."""

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from common.db import utcnow, write
from common.events import subscribers
from common.events.relay import relay
from common.models import (
    cart_items,
    categories,
    event_deliveries,
    event_outbox,
    product_price_history,
    products,
    tds_sync_queue,
)
from common.shop import cart
from common.sync import handlers
from common.sync.errors import PermanentSyncError
from tests import shop_fixtures as shop
from tests import zoho_payloads as zoho
from tests.fake_zoho import ADJUSTMENTS, ITEMS
from tests.helpers import ADMIN_KEY, drain_now, queue_webhook

ITEM = "460000000012345"


def _events(db) -> list:
    with db.engine.connect() as connection:
        return connection.execute(select(event_outbox).order_by(event_outbox.c.id)).all()


def _types(db) -> list[str]:
    return [row.event_type for row in _events(db)]


def _product_id(db, zoho_item_id: str = ITEM) -> int:
    with db.engine.connect() as connection:
        return connection.execute(select(products.c.id).where(products.c.zoho_item_id == zoho_item_id)).scalar_one()


def _category_id(db, name: str) -> int:
    with db.engine.connect() as connection:
        return connection.execute(select(categories.c.id).where(categories.c.name == name)).scalar_one()


def _relay_locally() -> None:
    from common.config import get_settings

    relay(get_settings(), budget_seconds=30)


def test_a_new_product_emits_product_created_in_the_contract_shape(client, db):
    before = utcnow()
    queue_webhook(client, "products", zoho.product())
    drain_now()
    [row] = _events(db)
    product_id = _product_id(db)
    payload = row.payload
    assert set(payload) == {"event_id", "event_type", "occurred_at", "aggregate", "data"}
    assert uuid.UUID(payload["event_id"]).version == 4 and payload["event_id"] == row.event_id
    assert payload["event_type"] == row.event_type == "product.created"
    assert payload["aggregate"] == {"type": "product", "id": str(product_id)}
    assert (row.aggregate_type, row.aggregate_id) == ("product", str(product_id))
    assert datetime.fromisoformat(payload["occurred_at"]) == row.occurred_at
    assert before <= row.occurred_at <= utcnow()
    data = payload["data"]
    assert data.pop("category_id") == _category_id(db, "Phones")  # the category the item names, created with it
    assert data == {
        "zoho_item_id": ITEM, "name": "Samsung Galaxy A54 128GB v1", "name_ar": None, "sku": "SM-A546-2345",
        "description": "Android smartphone", "unit": "pcs", "brand": "Samsung", "price": 450001, "cost": 390000,
        "stock_quantity": 38, "is_active": True,
    }  # fmt: skip
    assert (row.published_at, row.attempts, row.last_error) == (None, 0, None)


def test_a_price_change_emits_updated_and_price_changed_with_old_and_new_price(client, db):
    queue_webhook(client, "products", zoho.product(version=1))
    drain_now()
    queue_webhook(client, "products", zoho.product(version=2))
    drain_now()
    created, updated, price_changed = _events(db)
    assert [created.event_type, updated.event_type, price_changed.event_type] == [
        "product.created", "product.updated", "product.price_changed"]  # fmt: skip
    assert updated.payload["data"]["changes"] == {
        "name": {"old": "Samsung Galaxy A54 128GB v1", "new": "Samsung Galaxy A54 128GB v2"},
        "price": {"old": 450001, "new": 450002},
    }
    assert price_changed.payload["data"] == {"zoho_item_id": ITEM, "old_price": 450001, "new_price": 450002}
    assert price_changed.aggregate_id == created.aggregate_id


def test_a_repeated_stale_or_unchanged_update_emits_nothing(client, db):
    queue_webhook(client, "products", zoho.product(version=2))
    drain_now()
    assert _types(db) == ["product.created"]
    queue_webhook(client, "products", zoho.product(version=1))  # older than the stored row: stale
    # the same version again with only a field we do not keep changed: applied, nothing we store differs
    queue_webhook(client, "products", zoho.product(version=2, cf_warranty="24 months"))
    # a newer version that changes nothing we keep
    queue_webhook(client, "products", zoho.product(version=2, last_modified_time=zoho.stamp(3)))
    summary = drain_now()
    assert (summary.completed, summary.stale) == (3, 1)
    assert _types(db) == ["product.created"]


def test_stock_crossing_zero_emits_out_of_stock_then_back_in_stock(client, db, fake_zoho):
    queue_webhook(client, "products", zoho.product())  # 38 available
    drain_now()
    fake_zoho.add(ITEMS, {"item_id": ITEM, "stock_on_hand": 38, "available_stock": 38})
    adjustment = fake_zoho.adjust_stock((ITEM, -38), reason="Damaged")
    queue_webhook(client, "stock", fake_zoho.webhook(ADJUSTMENTS, adjustment))
    drain_now()  # the adjustment, then the check that reads Zoho's stock
    fake_zoho.delete(ADJUSTMENTS, adjustment["inventory_adjustment_id"])  # taken back in Zoho
    queue_webhook(client, "stock?event_type=delete", fake_zoho.webhook(ADJUSTMENTS, adjustment))
    drain_now()
    product_id = _product_id(db)
    rows = _events(db)[1:]
    assert [row.event_type for row in rows] == [
        "stock.adjusted", "product.updated", "product.out_of_stock",
        "stock.adjusted", "product.updated", "product.back_in_stock"]  # fmt: skip
    assert {row.aggregate_id for row in rows} == {str(product_id)}
    assert rows[0].payload["data"] == {
        "zoho_item_id": ITEM, "adjustment_id": adjustment["inventory_adjustment_id"], "quantity_adjusted": -38,
        "reason": "Damaged",
    }  # fmt: skip
    assert rows[1].payload["data"]["changes"] == {"stock_quantity": {"old": 38, "new": 0}}
    assert rows[2].payload["data"] == {"zoho_item_id": ITEM, "stock_quantity": 0}
    assert rows[3].payload["data"]["quantity_adjusted"] == 38
    assert rows[5].payload["data"] == {"zoho_item_id": ITEM, "stock_quantity": 38}


def test_deactivating_a_product_emits_deactivated(client, db):
    queue_webhook(client, "products", zoho.product(version=1))
    queue_webhook(client, "products", zoho.product("460000000099999", version=1))
    drain_now()
    queue_webhook(client, "products", zoho.product(version=2, rate=450001, name="Samsung Galaxy A54 128GB v1",
                                                   status="inactive"))  # fmt: skip
    queue_webhook(client, "products?event_type=delete", zoho.product("460000000099999", version=2))
    drain_now()
    rows = _events(db)[2:]
    assert [row.event_type for row in rows] == [
        "product.updated", "product.deactivated", "product.updated", "product.deactivated"]  # fmt: skip
    assert rows[0].payload["data"]["changes"] == {"is_active": {"old": True, "new": False}}
    assert rows[1].payload["data"] == {"zoho_item_id": ITEM}
    queue_webhook(client, "products?event_type=delete", zoho.product("460000000099999", version=3))
    drain_now()
    assert len(_events(db)) == 6  # deleting what is already inactive changes nothing


def test_customers_and_invoices_emit_created_updated_and_recorded(client, db):
    queue_webhook(client, "customers", zoho.customer(version=1))
    drain_now()
    queue_webhook(client, "customers", zoho.customer(version=2))
    drain_now()
    queue_webhook(client, "invoices", zoho.invoice())
    drain_now()
    queue_webhook(client, "customers", zoho.customer(version=3, contact_name="Ali Hassan v2"))  # nothing changes
    drain_now()
    created, updated, invoice = _events(db)
    assert (created.event_type, updated.event_type, invoice.event_type) == (
        "customer.created", "customer.updated", "invoice.recorded")  # fmt: skip
    customer_id = int(created.aggregate_id)
    assert created.payload["data"] == {"zoho_contact_id": "880000000000001", "name": "Ali Hassan v1",
                                       "company_name": None, "email": "ali@example.iq", "phone": None,
                                       "is_active": True}  # fmt: skip
    assert updated.payload["data"]["changes"] == {"name": {"old": "Ali Hassan v1", "new": "Ali Hassan v2"}}
    assert updated.aggregate_id == created.aggregate_id
    assert invoice.payload["data"] == {
        "zoho_invoice_id": "770000000000101", "invoice_number": "INV-00101", "zoho_customer_id": "880000000000001",
        "customer_id": customer_id, "date": "2026-11-01", "due_date": "2026-11-15", "status": "sent",
        "total": 900001, "balance": None, "currency_code": "IQD", "is_active": True,
    }  # fmt: skip


def test_a_handler_that_fails_after_writing_leaves_no_event(client, db, monkeypatch):
    apply_product = handlers.apply_product

    def apply_then_fail(connection, event, now):
        assert apply_product(connection, event, now) == handlers.APPLIED
        assert _pending_in(connection) == 1  # written, in this transaction
        raise PermanentSyncError("the change fails after its event was written")

    monkeypatch.setitem(handlers.HANDLERS, "products", apply_then_fail)
    queue_id = queue_webhook(client, "products", zoho.product())
    summary = drain_now()
    assert summary.dead_lettered == 1
    with db.engine.connect() as connection:
        assert connection.execute(select(products.c.id)).all() == []
        assert connection.execute(select(tds_sync_queue.c.status)).scalar_one() == "dead_letter"
    [row] = _events(db)  # only the dead letter's, written with it
    assert row.event_type == "sync.dead_lettered"
    assert row.payload["aggregate"] == {"type": "sync_item", "id": str(queue_id)}
    assert row.payload["data"] == {
        "queue_id": queue_id, "entity_type": "products", "source_entity_id": ITEM, "operation": "upsert",
        "failure_reason": "permanent_error", "attempts": 1,
        "error": "PermanentSyncError: the change fails after its event was written",
    }  # fmt: skip


def _pending_in(connection) -> int:
    return len(connection.execute(select(event_outbox.c.id)).all())


def test_cart_changes_emit_cart_changed_and_an_unchanged_quantity_emits_nothing(db):
    with write(db.engine) as connection:
        customer = shop.customer(connection)
        charger = shop.product(connection, "Anker Nano 20W", 20_000)
    cart.add_item(customer, charger, 2)
    cart.set_quantity(customer, charger, 2)  # the same quantity: no change
    cart.set_quantity(customer, charger, 5)
    cart.remove_item(customer, charger)
    rows = _events(db)
    assert [row.event_type for row in rows] == ["cart.changed"] * 3
    assert len({row.aggregate_id for row in rows}) == 1 and rows[0].aggregate_type == "cart"
    assert [row.payload["data"] for row in rows] == [
        {"customer_id": customer, "product_id": charger, "quantity": 2, "items_count": 2, "subtotal": 40_000},
        {"customer_id": customer, "product_id": charger, "quantity": 5, "items_count": 5, "subtotal": 100_000},
        {"customer_id": customer, "product_id": charger, "quantity": 0, "items_count": 0, "subtotal": 0},
    ]


def test_a_refused_cart_change_emits_nothing(db):
    with write(db.engine) as connection:
        customer = shop.customer(connection)
        charger = shop.product(connection, "Anker Nano 20W", 20_000)
    cart.add_item(customer, charger, 999)
    with pytest.raises(Exception, match="more than 999"):
        cart.add_item(customer, charger, 1)
    assert _types(db) == ["cart.changed"]


# --- local subscribers -------------------------------------------------------------------------


def test_price_changes_feed_the_price_history_once_each(client, db):
    for version in (1, 2, 3):
        queue_webhook(client, "products", zoho.product(version=version))
        drain_now()
    _relay_locally()
    _relay_locally()  # nothing is delivered twice
    product_id = _product_id(db)
    with db.engine.connect() as connection:
        history = connection.execute(
            select(product_price_history.c.product_id, product_price_history.c.old_price,
                   product_price_history.c.new_price).order_by(product_price_history.c.id)
        ).all()  # fmt: skip
    assert [tuple(row) for row in history] == [(product_id, 450001, 450002), (product_id, 450002, 450003)]
    assert all(row.published_at is not None for row in _events(db))  # no bus: handed to the subscribers


def _flag(db, product_id: int) -> str | None:
    with db.engine.connect() as connection:
        return connection.execute(
            select(cart_items.c.availability_flag).where(cart_items.c.product_id == product_id)
        ).scalar_one()


def test_cart_lines_are_flagged_when_their_product_goes_out_of_stock_or_is_deactivated(client, db, fake_zoho):
    queue_webhook(client, "products", zoho.product(version=1))
    drain_now()
    product_id = _product_id(db)
    with write(db.engine) as connection:
        shop.cart(connection, shop.customer(connection), {product_id: 2})
    fake_zoho.add(ITEMS, {"item_id": ITEM, "stock_on_hand": 38, "available_stock": 38})
    adjustment = fake_zoho.adjust_stock((ITEM, -38))
    queue_webhook(client, "stock", fake_zoho.webhook(ADJUSTMENTS, adjustment))
    drain_now()
    _relay_locally()
    assert _flag(db, product_id) == "out_of_stock"
    fake_zoho.delete(ADJUSTMENTS, adjustment["inventory_adjustment_id"])
    queue_webhook(client, "stock?event_type=delete", fake_zoho.webhook(ADJUSTMENTS, adjustment))
    drain_now()
    _relay_locally()
    assert _flag(db, product_id) is None
    queue_webhook(client, "products", zoho.product(version=2, rate=450001, name="Samsung Galaxy A54 128GB v1",
                                                   status="inactive"))  # fmt: skip
    drain_now()
    _relay_locally()
    assert _flag(db, product_id) == "unavailable"
    queue_webhook(client, "products", zoho.product(version=3, rate=450001, name="Samsung Galaxy A54 128GB v1"))
    drain_now()
    _relay_locally()
    assert _flag(db, product_id) is None  # sold again


def test_a_failing_subscriber_is_retried_and_reported_without_holding_up_the_others(client, db, monkeypatch):
    calls = []

    def broken(connection, event):
        calls.append(event["event_id"])
        raise RuntimeError("the accounting service is down")

    monkeypatch.setitem(subscribers.SUBSCRIBERS, "accounting", (broken, ("product.price_changed",)))
    for version in (1, 2, 3):
        queue_webhook(client, "products", zoho.product(version=version))
        drain_now()
    _relay_locally()
    with db.engine.connect() as connection:
        rows = connection.execute(select(event_deliveries).order_by(event_deliveries.c.id)).all()
    by_subscriber = {name: [row for row in rows if row.subscriber == name] for name in ("price_history", "accounting")}
    assert [row.delivered_at is not None for row in by_subscriber["price_history"]] == [True, True]
    first, second = by_subscriber["accounting"]
    assert (first.attempts, first.delivered_at, first.last_error) == (
        1, None, "RuntimeError: the accounting service is down")  # fmt: skip
    assert first.next_attempt_at > utcnow()
    assert second.attempts == 0  # in order per aggregate: it waits for the first
    assert len(calls) == 1

    monkeypatch.setitem(subscribers.SUBSCRIBERS, "accounting", (lambda connection, event: calls.append(event["event_id"]),
                                                               ("product.price_changed",)))  # fmt: skip
    with write(db.engine) as connection:
        connection.execute(update(event_deliveries).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    _relay_locally()
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(event_deliveries)
            .where(event_deliveries.c.subscriber == "accounting")
            .order_by(event_deliveries.c.id)
        ).all()
    assert [(row.attempts, row.delivered_at is not None) for row in rows] == [(2, True), (1, True)]
    price_events = [row.event_id for row in _events(db) if row.event_type == "product.price_changed"]
    assert calls == [price_events[0], price_events[0], price_events[1]]


# --- GET /api/events ---------------------------------------------------------------------------


def test_the_feed_pages_through_the_outbox_for_admins(client, db, configure):
    configure(ADMIN_API_KEY=ADMIN_KEY)
    for n in range(3):
        queue_webhook(client, "customers", zoho.customer(f"88000000000000{n}"))
    drain_now()
    ids = [row.id for row in _events(db)]
    headers = {"X-Admin-Key": ADMIN_KEY}
    first = client.get("/api/events?limit=2", headers=headers)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "private, no-store"
    page = first.get_json()
    assert [item["id"] for item in page["items"]] == ids[:2]
    assert (page["next_after"], page["has_more"]) == (ids[1], True)
    item = page["items"][0]
    assert item["payload"] == _events(db)[0].payload
    assert (item["event_type"], item["published_at"], item["attempts"], item["deliveries"]) == (
        "customer.created", None, 0, [])  # fmt: skip
    rest = client.get(f"/api/events?after={ids[1]}&limit=2", headers=headers).get_json()
    assert ([item["id"] for item in rest["items"]], rest["next_after"], rest["has_more"]) == ([ids[2]], ids[2], False)
    empty = client.get(f"/api/events?after={ids[2]}", headers=headers).get_json()
    assert empty == {"items": [], "next_after": ids[2], "has_more": False}


@pytest.mark.parametrize("query", ["after=-1", "after=x", "limit=0", "limit=501", "limit=1.5"])
def test_the_feed_refuses_bad_input_in_the_contract_shape(client, db, configure, query):
    configure(ADMIN_API_KEY=ADMIN_KEY)
    answer = client.get(f"/api/events?{query}", headers={"X-Admin-Key": ADMIN_KEY})
    assert answer.status_code in (400, 422)
    body = answer.get_json()
    assert body["success"] is False and body["errors"] and {"message", "code"} <= set(body)


def test_the_feed_needs_the_admin_key(client, db, configure):
    configure(ADMIN_API_KEY=ADMIN_KEY)
    assert client.get("/api/events").status_code == 401
    assert client.get("/api/events", headers={"X-Admin-Key": "wrong-key-0123456789"}).status_code == 401
