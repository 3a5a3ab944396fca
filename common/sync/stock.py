"""Stock is Zoho's number: the rules that keep the stored copy of an item's stock from drifting.

Zoho's item stock already includes every inventory adjustment made before it was read, and
adjustments and item snapshots arrive in any order (late, repeated, some lost). Adding an
adjustment's quantity to the stored stock would count it twice whenever the stored snapshot was
taken after it. So an adjustment never adds: it marks the stock of each item it touches as due
for a check, and the check (common.sync.stock_checks) reads the item from Zoho and takes its
number.

An item snapshot (webhook or reconcile) carries Zoho's stock as of some moment at or after its
`last_modified_time`, which adjustments do not move. Its stock is taken when it is certainly
newer than what is known: modified after the last check, after the adjustments recorded (with a
margin for the two clocks), and not the same version as the stored one with a different number.
Otherwise, when it differs from the stored stock, the check is made due and decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from common.models import products, stock_adjustments

# How far Zoho's clock (which stamps last_modified_time) may be from the service's.
CLOCK_MARGIN = timedelta(minutes=2)


def snapshot_values(
    connection: Connection,
    zoho_item_id: str,
    stored: Row | None,
    modified_at: datetime | None,
    quantity: int,
    now: datetime,
) -> dict[str, Any]:
    """The stock columns an item snapshot carrying `quantity` writes over the `stored` product row."""
    if stored is not None and stored.stock_quantity == quantity:
        return {}
    fence = _stock_known_at(connection, zoho_item_id, stored)
    same_version = stored is not None and modified_at is not None and stored.zoho_last_modified == modified_at
    newer = fence is None or (modified_at is not None and modified_at > fence + CLOCK_MARGIN)
    if newer and not same_version:
        return {"stock_quantity": quantity, "stock_check_due_at": None}
    if stored is None:  # a new product needs a figure until its check reads Zoho's
        return {"stock_quantity": quantity, "stock_check_due_at": now}
    return {"stock_check_due_at": now}


def _stock_known_at(connection: Connection, zoho_item_id: str, stored: Row | None) -> datetime | None:
    """The latest moment at which Zoho's stock of the item may have changed without a snapshot
    showing it: the last check, a check still due, or (for an item not held yet) the last
    adjustment recorded for it."""
    if stored is not None:
        times = [at for at in (stored.stock_checked_at, stored.stock_check_due_at) if at is not None]
        return max(times, default=None)
    return connection.execute(
        select(func.max(stock_adjustments.c.applied_at)).where(stock_adjustments.c.zoho_item_id == zoho_item_id)
    ).scalar()


def mark_due(connection: Connection, zoho_item_ids: Iterable[str], now: datetime) -> dict[str, int]:
    """Make the stock checks of the stored items among these due now; returns {zoho item id: product id}.

    The latest mark wins, so that a check whose read began before it does not clear it."""
    wanted = sorted(set(zoho_item_ids))
    if not wanted:
        return {}
    held = dict(
        connection.execute(
            select(products.c.zoho_item_id, products.c.id)
            .where(products.c.zoho_item_id.in_(wanted))
            .order_by(products.c.zoho_item_id)
            .with_for_update()
        ).all()
    )
    if held:
        connection.execute(
            update(products).where(products.c.id.in_(sorted(held.values()))).values(stock_check_due_at=now)
        )
    return held
