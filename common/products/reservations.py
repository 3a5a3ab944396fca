"""Stock held for placed orders that Zoho's stock figure does not count yet.

What the shop may sell of a product = products.stock_quantity (Zoho's available stock, as
last synced) minus its open reservations. An order reserves its units when it is placed; the
reservation ends exactly once, at the first of:

- the order is cancelled (by the shop or by Zoho's void): the units are back for sale;
- Zoho counts the order: its sales order is confirmed (Zoho commits the stock at
  `orders.zoho_committed_at`, Zoho's clock) AND a stock figure of the item as of that moment or
  later has been taken: an item snapshot versioned at or after it, or a stock check (a read of
  Zoho's item, common.sync.stock_checks) that began after it by more than the clocks'
  allowance. From then the synced figure already holds the order, so
  keeping the reservation would subtract it twice. Whichever of the two arrives second ends it:
  the confirmation webhook (`release_counted_by_zoho` for the order) or the item's snapshot or
  check (`release_counted_in_snapshot` for the product).

An inventory adjustment is a difference, not a snapshot, so it never ends a reservation.
Both the shop (placing, cancelling) and the sync (confirmations, snapshots) call this module;
it imports neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, exists, func, or_, select, update

from common.models import orders, products, stock_reservations

CANCELLED, COUNTED_BY_ZOHO = "cancelled", "counted_by_zoho"
_OPEN = stock_reservations.c.released_at.is_(None)


def held_units(product_id: ColumnElement[int]) -> ColumnElement[int]:
    """SQL: the units of the product (an id column of the caller's query) held by open reservations."""
    return (
        select(func.coalesce(func.sum(stock_reservations.c.quantity), 0))
        .where(stock_reservations.c.product_id == product_id, _OPEN)
        .scalar_subquery()
    )


def reserved(connection: Connection, product_ids: Iterable[int]) -> dict[int, int]:
    """Units held by open reservations, per product (absent: none)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    rows = connection.execute(
        select(stock_reservations.c.product_id, func.sum(stock_reservations.c.quantity))
        .where(_OPEN, stock_reservations.c.product_id.in_(ids))
        .group_by(stock_reservations.c.product_id)
    ).all()
    return {product_id: int(total) for product_id, total in rows}


def reserve(connection: Connection, order_id: int, quantities: dict[int, int], now: datetime) -> None:
    """Hold `quantities` ({product_id: units}) for the order; the caller has locked the products."""
    if quantities:
        connection.execute(
            stock_reservations.insert(),
            [
                {"order_id": order_id, "product_id": product_id, "quantity": quantity, "created_at": now}
                for product_id, quantity in sorted(quantities.items())
            ],
        )


def release_order(connection: Connection, order_id: int, reason: str, now: datetime) -> int:
    """End the order's open reservations; returns how many ended (0 when none was open)."""
    return connection.execute(
        update(stock_reservations)
        .where(stock_reservations.c.order_id == order_id, _OPEN)
        .values(released_at=now, release_reason=reason)
    ).rowcount


def release_counted_by_zoho(
    connection: Connection, order_id: int, committed_at: datetime, now: datetime, clock_margin: timedelta
) -> int:
    """The order was just confirmed in Zoho at `committed_at` (Zoho's clock): end its reservations
    of the products whose stock figure is already that recent. That is, no stock check is pending
    (a snapshot whose figure was not taken makes one due), and either the applied snapshot is
    versioned at or after it, or the last check ended more than `clock_margin` (the allowance
    between the two clocks, far longer than a check's read) after it."""
    counted = (
        select(products.c.id)
        .where(
            products.c.stock_check_due_at.is_(None),
            or_(
                products.c.zoho_last_modified >= committed_at,
                products.c.stock_checked_at >= committed_at + clock_margin,
            ),
        )
        .scalar_subquery()
    )
    return connection.execute(
        update(stock_reservations)
        .where(stock_reservations.c.order_id == order_id, _OPEN, stock_reservations.c.product_id.in_(counted))
        .values(released_at=now, release_reason=COUNTED_BY_ZOHO)
    ).rowcount


def release_counted_in_snapshot(connection: Connection, product_id: int, snapshot_at: datetime, now: datetime) -> int:
    """A stock snapshot of the product versioned `snapshot_at` was applied: end the reservations
    of orders Zoho had committed by then."""
    committed = exists().where(
        orders.c.id == stock_reservations.c.order_id,
        orders.c.zoho_committed_at.is_not(None),
        orders.c.zoho_committed_at <= snapshot_at,
    )
    return connection.execute(
        update(stock_reservations)
        .where(and_(stock_reservations.c.product_id == product_id, _OPEN, committed))
        .values(released_at=now, release_reason=COUNTED_BY_ZOHO)
    ).rowcount
