"""Changing a customer's cart lines (add, set the quantity, remove) safely under double taps.

One active cart per customer (the partial unique index uq_carts_active_customer), created
with INSERT ... ON CONFLICT DO NOTHING; the cart row is then locked (an UPDATE of its
updated_at: a row lock on PostgreSQL, and SQLite's write transactions are serial already) so
that two changes of one customer take turns; a line changes with one atomic upsert on
(cart_id, product_id). Each change answers with the cart priced as checkout shows it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, text, update

from common.clock import utcnow
from common.db.statements import insert
from common.db.transactions import write
from common.errors import Conflict, NotFound
from common.events import outbox
from common.events.outbox import Event
from common.models import cart_items, carts, products
from common.shop.checkout import current_cart
from common.shop.schemas import MAX_QUANTITY, Cart


def _require_active_product(connection: Connection, product_id: int) -> None:
    row = connection.execute(select(products.c.is_active).where(products.c.id == product_id)).first()
    if row is None:
        raise NotFound("Product not found")
    if not row.is_active:
        raise Conflict("Product is no longer sold")


def _lock_cart(connection: Connection, customer_id: int, now: datetime) -> int | None:
    """The id of the customer's active cart, row-locked until the transaction ends (None: no cart)."""
    return connection.execute(
        update(carts)
        .where(carts.c.customer_id == customer_id, carts.c.status == "active")
        .values(updated_at=now)
        .returning(carts.c.id)
    ).scalar_one_or_none()


def _changed_cart(
    connection: Connection, customer_id: int, cart_id: int, product_id: int, quantity: int, now: datetime
) -> Cart:
    """The cart after a change; its cart.changed event (the line's new quantity, 0 when removed)
    is written in the changing transaction."""
    cart, priced = current_cart(connection, customer_id, now)
    outbox.write(
        connection,
        [
            Event(
                "cart.changed",
                "cart",
                cart_id,
                {
                    "customer_id": customer_id,
                    "product_id": product_id,
                    "quantity": quantity,
                    "items_count": priced.items_count,
                    "subtotal": priced.subtotal,
                },
            )
        ],
        now,
    )
    return cart


def add_item(customer_id: int, product_id: int, quantity: int) -> Cart:
    """Add `quantity` to the product's line (created when missing); the sum must stay ≤ 999."""
    with write() as connection:
        _require_active_product(connection, product_id)
        now = utcnow()
        connection.execute(
            insert(connection, carts)
            .values(customer_id=customer_id, status="active", created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=[carts.c.customer_id], index_where=text("status = 'active'"))
        )
        cart_id = _lock_cart(connection, customer_id, now)
        upsert = insert(connection, cart_items).values(
            cart_id=cart_id, product_id=product_id, quantity=quantity, created_at=now, updated_at=now
        )
        summed = cart_items.c.quantity + upsert.excluded.quantity
        changed = connection.execute(
            upsert.on_conflict_do_update(
                index_elements=[cart_items.c.cart_id, cart_items.c.product_id],
                set_={"quantity": summed, "updated_at": now},
                where=summed <= MAX_QUANTITY,
            ).returning(cart_items.c.quantity)
        ).first()
        if changed is None:  # a valid request, but not on top of what the cart holds now
            raise Conflict(f"The cart would hold more than {MAX_QUANTITY} of this product")
        return _changed_cart(connection, customer_id, cart_id, product_id, changed.quantity, now)


def set_quantity(customer_id: int, product_id: int, quantity: int) -> Cart:
    """Set the quantity of a product already in the cart."""
    with write() as connection:
        _require_active_product(connection, product_id)
        now = utcnow()
        cart_id = _lock_cart(connection, customer_id, now)
        line = (cart_items.c.cart_id == cart_id, cart_items.c.product_id == product_id)
        stored = connection.execute(select(cart_items.c.quantity).where(*line)).scalar()
        if stored is None:
            raise NotFound("Product is not in the cart")
        if stored == quantity:  # nothing changes: no write, no event
            return current_cart(connection, customer_id, now)[0]
        connection.execute(update(cart_items).where(*line).values(quantity=quantity, updated_at=now))
        return _changed_cart(connection, customer_id, cart_id, product_id, quantity, now)


def remove_item(customer_id: int, product_id: int) -> Cart:
    """Take a product's line out of the cart (inactive products too: that is how a customer clears them)."""
    with write() as connection:
        now = utcnow()
        cart_id = _lock_cart(connection, customer_id, now)
        removed = connection.execute(
            cart_items.delete().where(cart_items.c.cart_id == cart_id, cart_items.c.product_id == product_id)
        )
        if removed.rowcount == 0:
            raise NotFound("Product is not in the cart")
        return _changed_cart(connection, customer_id, cart_id, product_id, 0, now)
