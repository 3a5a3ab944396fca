"""The local subscribers and the one registry that says which event types each receives.

A subscriber is a plain function `(connection, event payload) -> None`. The relay runs it
after the event's commit, in a transaction of its own that also marks its delivery done;
a subscriber that raises is rolled back and retried later, without holding up the others.
Delivery is at least once, in order per aggregate, so each one is idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select, update

from common.db.statements import insert
from common.models import cart_items, carts, orders, product_price_history, products

Subscriber = Callable[[Connection, dict[str, Any]], None]


def record_price_change(connection: Connection, event: dict[str, Any]) -> None:
    """product.price_changed → one row of the product's price history (once per event)."""
    connection.execute(
        insert(connection, product_price_history)
        .values(
            product_id=int(event["aggregate"]["id"]),
            event_id=event["event_id"],
            old_price=event["data"]["old_price"],
            new_price=event["data"]["new_price"],
            changed_at=dt.datetime.fromisoformat(event["occurred_at"]),
        )
        .on_conflict_do_nothing(index_elements=[product_price_history.c.event_id])
    )


def flag_cart_lines(connection: Connection, event: dict[str, Any]) -> None:
    """The product's lines in active carts say whether it can be bought: "out_of_stock",
    "unavailable" (no longer sold) or nothing. Read from the product as it is now, so a
    redelivered or late event cannot set a flag that no longer holds."""
    if event["event_type"] == "product.updated" and "is_active" not in event["data"].get("changes", {}):
        return
    product_id = int(event["aggregate"]["id"])
    product = connection.execute(
        select(products.c.is_active, products.c.stock_quantity).where(products.c.id == product_id)
    ).first()
    if product is None:
        return
    flag = "unavailable" if not product.is_active else "out_of_stock" if product.stock_quantity <= 0 else None
    connection.execute(
        update(cart_items)
        .where(
            cart_items.c.product_id == product_id,
            cart_items.c.cart_id.in_(select(carts.c.id).where(carts.c.status == "active")),
            cart_items.c.availability_flag.is_distinct_from(flag),
        )
        .values(availability_flag=flag, flagged_at=dt.datetime.fromisoformat(event["occurred_at"]) if flag else None)
    )


def mark_order_due_for_zoho(connection: Connection, event: dict[str, Any]) -> None:
    """order.placed → the order is due for its push to Zoho (common.sync.order_push), once:
    a redelivery changes nothing."""
    connection.execute(
        update(orders)
        .where(
            orders.c.id == int(event["aggregate"]["id"]),
            orders.c.zoho_salesorder_id.is_(None),
            orders.c.zoho_push_due_at.is_(None),
        )
        .values(zoho_push_due_at=dt.datetime.fromisoformat(event["occurred_at"]))
    )


# name (stored with each delivery: never rename one that has deliveries) → (function, event types)
SUBSCRIBERS: dict[str, tuple[Subscriber, tuple[str, ...]]] = {
    "price_history": (record_price_change, ("product.price_changed",)),
    "cart_availability": (
        flag_cart_lines,
        ("product.out_of_stock", "product.back_in_stock", "product.deactivated", "product.updated"),
    ),
    "zoho_sales_orders": (mark_order_due_for_zoho, ("order.placed",)),
}


def subscribers_of(event_type: str) -> list[str]:
    return [name for name, (_, types) in SUBSCRIBERS.items() if event_type in types]


def subscriber(name: str) -> Subscriber:
    return SUBSCRIBERS[name][0]
