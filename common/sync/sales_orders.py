"""Zoho's sales orders coming back: their status moves the shop's order (common.order_states).

An order is found by `salesorder_id`, or by `reference_number` (its order number) when the
webhook arrives before the push recorded the id (a create whose answer was lost); a sales
order entered in Zoho by hand matches none and changes nothing (noop). An update older than
the one applied (Zoho's `last_modified_time`) is stale and moves nothing.

Zoho's statuses map to the order's (docs/ZOHO.md): `void` → cancelled; `shipped_status`
fulfilled or delivered → delivered, shipped or partially_shipped → shipped; `status` confirmed,
open, closed or onhold → confirmed; draft and pending_approval leave the order placed. Statuses
only move forward. The first confirmed-or-later version records when Zoho committed the stock
(`zoho_committed_at`), which ends the order's reservations once the items' stock snapshots are
that recent (common.products.reservations).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, or_, select, update

from common import order_states
from common.models import orders
from common.products import reservations
from common.sync import stock
from common.sync.payloads.bodies import ZohoEvent
from common.sync.payloads.records import ZohoSalesOrder
from common.sync.queue import APPLIED, NOOP, STALE

_CONFIRMED = {"confirmed", "open", "closed", "onhold"}
_SHIPPED = {"shipped", "partially_shipped"}
_DELIVERED = {"fulfilled", "delivered"}


def order_status(salesorder: ZohoSalesOrder) -> str | None:
    """The order status for Zoho's sales order; None while Zoho has not confirmed it (a draft)."""
    status = (salesorder.status or salesorder.order_status or "").lower()
    shipped = (salesorder.shipped_status or "").lower()
    if status == "void":
        return "cancelled"
    if shipped in _DELIVERED:
        return "delivered"
    if shipped in _SHIPPED:
        return "shipped"
    if status in _CONFIRMED:
        return "confirmed"
    return None


def apply_sales_order(connection: Connection, event: ZohoEvent, now: datetime) -> str:
    salesorder: ZohoSalesOrder = event.record
    keys = [orders.c.zoho_salesorder_id == salesorder.salesorder_id]
    if salesorder.reference_number:
        keys.append(orders.c.number == salesorder.reference_number)
    row = connection.execute(select(orders).where(or_(*keys)).with_for_update()).first()
    if row is None:
        return NOOP
    modified_at = event.modified_at
    if modified_at is not None and row.zoho_last_modified is not None and modified_at < row.zoho_last_modified:
        return STALE
    status = "cancelled" if event.deleting else order_status(salesorder)
    values = {"zoho_status": salesorder.status, "updated_at": now}
    if modified_at is not None:
        values["zoho_last_modified"] = modified_at
    if row.zoho_salesorder_id is None:
        values.update(zoho_salesorder_id=salesorder.salesorder_id, zoho_synced_at=now)
    if salesorder.salesorder_number and row.zoho_salesorder_number is None:
        values["zoho_salesorder_number"] = salesorder.salesorder_number
    if status == "cancelled" and row.zoho_voided_at is None:
        values["zoho_voided_at"] = now  # void or deleted in Zoho already: nothing to push back
    committed_at = None
    if status in ("confirmed", "shipped", "delivered") and row.zoho_committed_at is None:
        committed_at = values["zoho_committed_at"] = modified_at or now
    connection.execute(update(orders).where(orders.c.id == row.id).values(**values))
    if status is not None:
        order_states.move(connection, row, status, now, "zoho")
    if committed_at is not None:
        reservations.release_counted_by_zoho(connection, row.id, committed_at, now, stock.CLOCK_MARGIN)
    return APPLIED
