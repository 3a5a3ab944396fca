"""A shop ready to order from, and shortcuts to the order routes, for the order tests."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from common.db.transactions import write
from common.models import cart_items, carts, event_outbox, orders, products, stock_reservations
from tests import shop_fixtures as shop
from tests.helpers import count

ORDERS = "/api/mobile/orders"
CHECKOUT = "/api/mobile/checkout"


def setup_shop(engine, *, stock: int = 10, customers: int = 1) -> dict:
    """A phone (250,000, Zoho item 9001) and a cable (7,000, item 9002), and customers each with
    a default address and a cart of one phone and two cables."""
    with write(engine) as c:
        ids = {
            "phone": shop.product(c, "Galaxy A55", 250_000, stock_quantity=stock, zoho_item_id="9001"),
            "cable": shop.product(c, "USB-C Cable", 7_000, stock_quantity=100, zoho_item_id="9002"),
            "customers": [],
        }
        for n in range(customers):
            customer = shop.customer(c, f"Customer {n}", phone=f"+96477000000{n:02d}")
            address = shop.address(c, customer, "Home", is_default=True, phone="+9647700000000")
            shop.cart(c, customer, {ids["phone"]: 1, ids["cable"]: 2})
            ids["customers"].append((customer, address))
    ids["customer"], ids["address"] = ids["customers"][0]
    return ids


def order_body(address_id: int, **extra) -> dict:
    return {"address_id": address_id, "delivery_option": "standard", "payment_method": "cash_on_delivery", **extra}


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


def place(client, customer_id: int, body: dict, key: str | None = None):
    headers = {**shop.bearer(customer_id), "Idempotency-Key": key or new_key()}
    return client.post(ORDERS, json=body, headers=headers)


def checkout_token(client, customer_id: int) -> str:
    return client.get(CHECKOUT, headers=shop.bearer(customer_id)).get_json()["checkout_token"]


def order_count(engine) -> int:
    return count(engine, orders)


def cart_lines(engine, customer_id: int) -> int:
    return count(
        engine,
        cart_items.join(carts, carts.c.id == cart_items.c.cart_id),
        carts.c.customer_id == customer_id,
        carts.c.status == "active",
    )


def open_reserved(engine, product_id: int) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.coalesce(func.sum(stock_reservations.c.quantity), 0)).where(
                stock_reservations.c.product_id == product_id, stock_reservations.c.released_at.is_(None)
            )
        ).scalar_one()


def sellable(engine, product_id: int) -> int:
    """What the shop may still sell of the product: Zoho's stock less the open reservations."""
    with engine.connect() as connection:
        stock = connection.execute(select(products.c.stock_quantity).where(products.c.id == product_id)).scalar_one()
    return stock - open_reserved(engine, product_id)


def events_of(engine, event_type: str) -> list[dict]:
    with engine.connect() as connection:
        return [
            row.payload
            for row in connection.execute(
                select(event_outbox.c.payload)
                .where(event_outbox.c.event_type == event_type)
                .order_by(event_outbox.c.id)
            )
        ]
