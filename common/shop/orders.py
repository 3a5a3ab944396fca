"""Orders: placing one from the cart, reading them, cancelling one.

Placing runs in one transaction (the request's), in this order so that concurrent requests
take turns instead of deadlocking:

1. the Idempotency-Key row is inserted (ON CONFLICT DO NOTHING): a second request with the
   same key waits on PostgreSQL's unique index until the first commits, then finds its order
   (same body: that order, 200; another body: 422);
2. the customer's active cart row is locked (two orders of one customer take turns);
3. its products are locked FOR UPDATE in id order, and what each may still sell is read:
   Zoho's available stock less the open reservations (common.products.reservations);
4. prices, promotions and the code are re-read and compared with what checkout showed (the
   `checkout_token`); the order, its lines, its reservations and the code's redemption are
   written and the cart is closed (status `ordered`);
5. last, the rows every order shares: the promotion's use count and the year's counter row,
   which numbers the order; `order.placed` is written. Their row locks are held only from
   there to the commit, so concurrent orders queue on them for a moment, not for the whole
   transaction.

On SQLite the write transaction (BEGIN IMMEDIATE) is the lock for all of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Row, or_, select, update

from common import order_states
from common.clock import utcnow
from common.db.statements import insert
from common.db.transactions import read, write
from common.errors import (
    CartEmpty,
    CheckoutChanged,
    NotCancellable,
    NotFound,
    OutOfStock,
    ValidationFailed,
)
from common.events import outbox
from common.events.outbox import Event
from common.models import (
    cart_items,
    carts,
    customer_addresses,
    order_idempotency_keys,
    order_lines,
    order_number_counters,
    order_status_history,
    orders,
    products,
    promotion_redemptions,
    promotions,
)
from common.products import reservations
from common.shop.checkout import CART_LINE_COLUMNS, PricedCart, price_cart, read_checkout_token, totals_of
from common.shop.pricing import load_active_promotions
from common.shop.promo_codes import code_problem, find_code
from common.shop.schemas import Order, OrderCreate, OrderPage

NUMBER_PREFIX = "TSH"


def body_hash(body: OrderCreate) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def place_order(customer_id: int, key: str, body: OrderCreate) -> tuple[Order, bool]:
    """The order placed for this key: (order, True) when placed now, (order, False) when the key
    had placed it before."""
    digest = body_hash(body)
    with write() as connection:
        now = utcnow()
        claimed = connection.execute(
            insert(connection, order_idempotency_keys)
            .values(customer_id=customer_id, key=key, body_hash=digest, created_at=now)
            .on_conflict_do_nothing(index_elements=[order_idempotency_keys.c.customer_id, order_idempotency_keys.c.key])
            .returning(order_idempotency_keys.c.key)
        ).first()
        if claimed is None:
            stored = connection.execute(
                select(order_idempotency_keys.c.body_hash, order_idempotency_keys.c.order_id).where(
                    order_idempotency_keys.c.customer_id == customer_id, order_idempotency_keys.c.key == key
                )
            ).one()
            if stored.body_hash != digest:
                raise ValidationFailed(
                    "This Idempotency-Key was used with another body",
                    errors=[{"field": "Idempotency-Key", "message": "already used for a different order request"}],
                )
            return _order(connection, stored.order_id), False
        return _place(connection, customer_id, key, body, now), True


def _locked_lines(connection: Connection, cart_id: int) -> list[Row]:
    """The cart's lines with their products, the products locked in id order."""
    return connection.execute(
        select(
            *CART_LINE_COLUMNS,
            products.c.zoho_item_id,
        )
        .select_from(cart_items.join(products, products.c.id == cart_items.c.product_id))
        .where(cart_items.c.cart_id == cart_id)
        .order_by(products.c.id)
        .with_for_update(of=products)
    ).all()


def _changes_since_checkout(token: str, priced: PricedCart, discount: int, code: str | None) -> list[dict]:
    """How the cart as priced now differs from what the checkout token showed."""
    seen = read_checkout_token(token)
    if seen is None:
        return [
            {
                "code": "checkout_token_invalid",
                "product_id": None,
                "message": "checkout_token was not issued by this service",
            }
        ]
    issues = []
    shown = {}
    for entry in seen["lines"]:
        if isinstance(entry, list) and len(entry) == 4:
            shown[entry[0]] = entry
    now_lines = {line.product_id: line for line in priced.lines}
    for product_id, line in now_lines.items():
        before = shown.get(product_id)
        if before is None or before[1] != line.quantity:
            issues.append(
                {
                    "code": "cart_changed",
                    "product_id": product_id,
                    "message": f"{line.product_name}: the cart changed since checkout",
                }
            )
        elif before[2] != line.price:
            issues.append(
                {
                    "code": "price_changed",
                    "product_id": product_id,
                    "message": f"{line.product_name} now costs {line.price} IQD (checkout showed {before[2]})",
                    "old_price": before[2],
                    "new_price": line.price,
                }
            )
        elif before[3] is not True:
            issues.append(
                {
                    "code": "availability_changed",
                    "product_id": product_id,
                    "message": f"{line.product_name} is available again",
                }
            )
    for product_id in set(shown) - set(now_lines):
        issues.append(
            {
                "code": "cart_changed",
                "product_id": product_id,
                "message": "A line shown at checkout is no longer in the cart",
            }
        )
    if seen.get("code") != code:
        issues.append({"code": "promo_code_changed", "product_id": None, "message": "The promotion code changed"})
    if not issues and seen["discount"] != discount:
        issues.append(
            {
                "code": "promotion_changed",
                "product_id": None,
                "message": f"The discount is now {discount} IQD (checkout showed {seen['discount']})",
                "old_discount": seen["discount"],
                "new_discount": discount,
            }
        )
    return issues


def _place(connection: Connection, customer_id: int, key: str, body: OrderCreate, now: datetime) -> Order:
    cart = connection.execute(
        update(carts)
        .where(carts.c.customer_id == customer_id, carts.c.status == "active")
        .values(updated_at=now)
        .returning(carts.c.id, carts.c.promo_code)
    ).first()
    rows = _locked_lines(connection, cart.id) if cart else []
    if not rows:
        raise CartEmpty()
    address = connection.execute(
        select(customer_addresses).where(
            customer_addresses.c.id == body.address_id, customer_addresses.c.customer_id == customer_id
        )
    ).first()
    if address is None:
        raise ValidationFailed(errors=[{"field": "address_id", "message": "not one of the customer's addresses"}])
    held = reservations.reserved(connection, (row.product_id for row in rows))
    active = load_active_promotions(connection, now)
    priced = price_cart(rows, active, held)
    if priced.issues:
        raise OutOfStock(
            "Not enough stock for " + ", ".join(issue.message for issue in priced.issues),
            issues=[issue.model_dump() for issue in priced.issues],
        )
    code = cart.promo_code
    coded = find_code(connection, code) if code else None
    problem = code_problem(connection, coded, customer_id, priced.subtotal, now) if code else None
    if problem:
        raise CheckoutChanged(
            f"Promotion code {code}: {problem}",
            issues=[{"code": "promo_code_invalid", "product_id": None, "message": problem}],
        )
    totals, promotion = totals_of(priced, active, body.delivery_option, code)
    promo_code = code if promotion is not None and promotion.code else None
    if body.checkout_token is not None:
        issues = _changes_since_checkout(body.checkout_token, priced, totals.discount, code)
        if issues:
            raise CheckoutChanged(issues=issues)
    order_id = connection.execute(
        orders.insert()
        .values(
            customer_id=customer_id,
            status="placed",
            **totals.model_dump(),
            promotion_id=promotion.id if promotion else None,
            promo_code=promo_code,
            address_id=address.id,
            address_label=address.label,
            address_text=address.address,
            address_city=address.city,
            address_phone=address.phone,
            delivery_option=body.delivery_option,
            payment_method=body.payment_method,
            note=body.note,
            created_at=now,
            updated_at=now,
        )
        .returning(orders.c.id)
    ).scalar_one()
    zoho_items = {row.product_id: row.zoho_item_id for row in rows}
    connection.execute(
        order_lines.insert(),
        [
            {
                "order_id": order_id,
                "product_id": line.product_id,
                "zoho_item_id": zoho_items[line.product_id],
                "product_name": line.product_name,
                "quantity": line.quantity,
                "price": line.price,
                "subtotal": line.subtotal,
            }
            for line in priced.lines
        ],
    )
    reservations.reserve(connection, order_id, {line.product_id: line.quantity for line in priced.lines}, now)
    if promo_code:
        connection.execute(
            promotion_redemptions.insert().values(
                promotion_id=promotion.id, customer_id=customer_id, order_id=order_id, created_at=now
            )
        )
    order_states.record_status(connection, order_id, "placed", now, "app")
    connection.execute(cart_items.delete().where(cart_items.c.cart_id == cart.id))
    connection.execute(update(carts).where(carts.c.id == cart.id).values(status="ordered", updated_at=now))
    connection.execute(
        update(order_idempotency_keys)
        .where(order_idempotency_keys.c.customer_id == customer_id, order_idempotency_keys.c.key == key)
        .values(order_id=order_id)
    )
    # The rows every order shares (its promotion's use count, the year's counter) come last: their
    # row locks are held only from here to the commit, so concurrent orders queue on them briefly.
    if promotion is not None and not _use_promotion(connection, promotion.id):
        raise CheckoutChanged(
            issues=[{"code": "promotion_changed", "product_id": None, "message": f"{promotion.title} has no uses left"}]
        )
    number = _next_number(connection, now.year)
    connection.execute(update(orders).where(orders.c.id == order_id).values(number=number))
    items = [
        {
            "product_id": line.product_id,
            "product_name": line.product_name,
            "quantity": line.quantity,
            "price": line.price,
            "subtotal": line.subtotal,
        }
        for line in priced.lines
    ]
    outbox.write(
        connection,
        [
            Event(
                "order.placed",
                "order",
                order_id,
                {
                    "number": number,
                    "customer_id": customer_id,
                    "total": totals.total,
                    "currency": "IQD",
                    "items": [{key: item[key] for key in ("product_id", "quantity", "price")} for item in items],
                },
            )
        ],
        now,
    )
    return Order(
        id=order_id,
        number=number,
        status="placed",
        created_at=now,
        items=items,
        **totals.model_dump(),
        promo_code=promo_code,
        address={"label": address.label, "address": address.address, "city": address.city, "phone": address.phone},
        delivery_option=body.delivery_option,
        payment_method=body.payment_method,
        note=body.note,
        zoho=None,
        timeline=[{"status": "placed", "at": now}],
    )


def _use_promotion(connection: Connection, promotion_id: int) -> bool:
    """Take one use of the promotion; False when it has none left (someone took the last one)."""
    return (
        connection.execute(
            update(promotions)
            .where(
                promotions.c.id == promotion_id,
                or_(promotions.c.max_uses.is_(None), promotions.c.used_count < promotions.c.max_uses),
            )
            .values(used_count=promotions.c.used_count + 1)
        ).rowcount
        == 1
    )


def _next_number(connection: Connection, year: int) -> str:
    """TSH-<year>-<6 digits>: the year's counter row, incremented under its row lock."""
    statement = insert(connection, order_number_counters).values(year=year, last_value=1)
    value = connection.execute(
        statement.on_conflict_do_update(
            index_elements=[order_number_counters.c.year],
            set_={"last_value": order_number_counters.c.last_value + 1},
        ).returning(order_number_counters.c.last_value)
    ).scalar_one()
    return f"{NUMBER_PREFIX}-{year}-{value:06d}"


# --- Reading -------------------------------------------------------------------------------------


def _orders(connection: Connection, rows: Sequence[Row]) -> list[Order]:
    ids = [row.id for row in rows]
    lines: dict[int, list] = {order_id: [] for order_id in ids}
    timeline: dict[int, list] = {order_id: [] for order_id in ids}
    if ids:
        for line in connection.execute(
            select(order_lines).where(order_lines.c.order_id.in_(ids)).order_by(order_lines.c.id)
        ):
            lines[line.order_id].append(
                {
                    "product_id": line.product_id,
                    "product_name": line.product_name,
                    "quantity": line.quantity,
                    "price": line.price,
                    "subtotal": line.subtotal,
                }
            )
        for change in connection.execute(
            select(order_status_history)
            .where(order_status_history.c.order_id.in_(ids))
            .order_by(order_status_history.c.id)
        ):
            timeline[change.order_id].append({"status": change.status, "at": change.at})
    return [
        Order(
            id=row.id,
            number=row.number,
            status=row.status,
            created_at=row.created_at,
            items=lines[row.id],
            subtotal=row.subtotal,
            discount=row.discount,
            delivery_fee=row.delivery_fee,
            total=row.total,
            currency=row.currency,
            promo_code=row.promo_code,
            address={
                "label": row.address_label,
                "address": row.address_text,
                "city": row.address_city,
                "phone": row.address_phone,
            },
            delivery_option=row.delivery_option,
            payment_method=row.payment_method,
            note=row.note,
            zoho={
                "salesorder_id": row.zoho_salesorder_id,
                "salesorder_number": row.zoho_salesorder_number,
                "synced_at": row.zoho_synced_at,
            }
            if row.zoho_salesorder_id
            else None,
            timeline=timeline[row.id],
        )
        for row in rows
    ]


def _order(connection: Connection, order_id: int) -> Order:
    return _orders(connection, connection.execute(select(orders).where(orders.c.id == order_id)).all())[0]


def customer_order(connection: Connection, customer_id: int, order_id: int) -> Order:
    row = connection.execute(select(orders).where(orders.c.id == order_id, orders.c.customer_id == customer_id)).first()
    if row is None:
        raise NotFound("Order not found")
    return _orders(connection, [row])[0]


def get_order(customer_id: int, order_id: int) -> Order:
    with read() as connection:
        return customer_order(connection, customer_id, order_id)


def list_orders(customer_id: int, cursor: str | None, limit: int) -> OrderPage:
    """Newest first; the cursor is the id of the last order of the previous page."""
    before = None
    if cursor:  # blank: the first page
        if not cursor.isdigit():
            raise ValidationFailed(errors=[{"field": "cursor", "message": "not a cursor this API issued"}])
        before = int(cursor)
    query = select(orders).where(orders.c.customer_id == customer_id)
    if before is not None:
        query = query.where(orders.c.id < before)
    with read() as connection:
        rows = connection.execute(query.order_by(orders.c.id.desc()).limit(limit + 1)).all()
        page = _orders(connection, rows[:limit])
    return OrderPage(orders=page, next_cursor=str(rows[limit - 1].id) if len(rows) > limit else None)


# --- Cancelling ------------------------------------------------------------------------------


def cancel_order(customer_id: int, order_id: int) -> Order:
    """Cancel a placed or confirmed order: its stock is released, its code's use given back, and
    its Zoho sales order (if one exists or may exist) is voided by the push."""
    with write() as connection:
        row = connection.execute(
            select(orders).where(orders.c.id == order_id, orders.c.customer_id == customer_id).with_for_update()
        ).first()
        if row is None:
            raise NotFound("Order not found")
        if not order_states.move(connection, row, "cancelled", utcnow(), "app"):
            raise NotCancellable(f"An order that is {row.status} can no longer be cancelled")
        return customer_order(connection, customer_id, order_id)
