"""An order's status moves, shared by the shop (a customer cancels) and the sync (Zoho's
sales-order webhooks move it on), which never import each other.

Statuses only move forward, placed → confirmed → shipped → delivered; cancelled ends an order
from placed or confirmed. Each move is a row of the order's timeline and an
`order.status_changed` event (a cancellation also `order.cancelled`), in the moving transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Row, and_, update

from common.events import outbox
from common.events.outbox import Event
from common.models import order_status_history, orders, promotion_redemptions, promotions
from common.products import reservations

RANK = {"placed": 0, "confirmed": 1, "shipped": 2, "delivered": 3}
CANCELLABLE = ("placed", "confirmed")


def record_status(connection: Connection, order_id: int, status: str, at: datetime, source: str) -> None:
    connection.execute(order_status_history.insert().values(order_id=order_id, status=status, at=at, source=source))


def move(connection: Connection, row: Row, status: str, now: datetime, source: str) -> bool:
    """Move the order (`row`, locked, as it was) to `status` if that is forward; True when it moved."""
    if row.status == "cancelled" or status == row.status:
        return False
    if status == "cancelled":
        if row.status not in CANCELLABLE:
            return False
    elif RANK[status] <= RANK[row.status]:
        return False
    values = {"status": status, "updated_at": now}
    if status == "cancelled" and source != "zoho":
        values["zoho_push_due_at"] = now  # the push voids the Zoho sales order, if there is one
    connection.execute(update(orders).where(orders.c.id == row.id).values(**values))
    record_status(connection, row.id, status, now, source)
    data = {"number": row.number, "customer_id": row.customer_id, "source": source}
    events = [Event("order.status_changed", "order", row.id, {**data, "old_status": row.status, "new_status": status})]
    if status == "cancelled":
        _undo(connection, row, now)
        events.append(Event("order.cancelled", "order", row.id, data))
    outbox.write(connection, events, now)
    return True


def _undo(connection: Connection, row: Row, now: datetime) -> None:
    """What a cancelled order gives back: its reserved stock and its promotion's use."""
    reservations.release_order(connection, row.id, reservations.CANCELLED, now)
    if row.promotion_id is not None:
        connection.execute(
            update(promotions)
            .where(and_(promotions.c.id == row.promotion_id, promotions.c.used_count > 0))
            .values(used_count=promotions.c.used_count - 1)
        )
        connection.execute(promotion_redemptions.delete().where(promotion_redemptions.c.order_id == row.id))
