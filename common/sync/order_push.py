"""Placed orders to Zoho as sales orders, exactly once; cancelled ones voided there.

The `zoho_sales_orders` subscriber of `order.placed` (common.events.subscribers) marks the
order due for the push (`orders.zoho_push_due_at`); cancelling it in the shop marks it due too. `push_due` runs after
the relay's deliveries (the runner's workers, the `publish_events` schedule) and works each
due order outside any database transaction, since Zoho may take seconds to answer:

1. claim: one transaction locks a due order whose lease has run out, counts the attempt and
   leases it (two pushers never work one order at once);
2. the Zoho calls, none inside a transaction: for an order that is not cancelled, a sales
   order with the order's number as `reference_number` is looked up first whenever an earlier
   attempt may have reached Zoho (a timeout, a 5xx or a crash after Zoho created it), and
   created only when there is none; the customer's Zoho contact is looked up by its display name and created
   first, once, when the customer has none. A cancelled order's sales order (recorded or found
   by reference) is voided.
3. record: the sales order's id and number, or the failure, with a retry after exponential
   backoff; a 429 or a spent call budget (the client's ZohoPaused) stops the round, and the
   order is due again when Zoho may be called again. The operations page lists the failures
   and pushes one now.

Zoho calls go through common.sync.zoho_client, so they spend the same call budget as the
sync; the client is imported only once an order is claimed, so a minute with nothing to push loads
no HTTP client.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Row, case, func, or_, select, update

from common.clock import utcnow
from common.config import Settings
from common.db.transactions import write
from common.logs import get_logger
from common.models import customers, order_lines, orders
from common.retry import Backoff
from common.sync.errors import SyncError

if TYPE_CHECKING:
    from common.sync.zoho_client import ZohoClient

log = get_logger("sync.order_push")

SALES_ORDERS_PATH = "/inventory/v1/salesorders"
CONTACTS_PATH = "/books/v3/contacts"
# Longer than the few Zoho calls of one push take at their timeouts (connect 3 s + read 10 s each).
LEASE = timedelta(minutes=2)
PUSH_BACKOFF = Backoff(base_seconds=30.0, cap_seconds=3600.0)
BAGHDAD = timezone(timedelta(hours=3))


class PushRefused(SyncError):
    """Zoho's answer or the order does not allow the push (a product Zoho does not know, an
    answer without the created record's id)."""


@dataclass(frozen=True)
class Claimed:
    order: Row
    lines: Sequence[Row]
    customer: Row


@dataclass
class PushSummary:
    created: int = 0
    found: int = 0
    voided: int = 0
    failed: int = 0

    @property
    def worked(self) -> bool:
        return bool(self.created or self.found or self.voided or self.failed)


def push_due(settings: Settings, *, budget_seconds: float, engine: Engine | None = None) -> PushSummary:
    """Push due orders until none is due or the budget is spent (nothing without Zoho configured)."""
    summary = PushSummary()
    if not settings.zoho_configured:
        return summary
    started = time.monotonic()
    claimed = _claim(engine, utcnow())
    if claimed is None:  # the usual minute: no HTTP client is loaded or opened
        return summary
    from common.sync.zoho_client import ZohoClient, ZohoError, ZohoPaused

    with ZohoClient(settings, engine) as client:
        while claimed is not None:
            try:
                _push(client, engine, claimed, summary)
            except ZohoPaused as paused:  # a 429 or the shared budget spent: nobody calls until then
                _failed(engine, claimed.order, str(paused), retry_at=paused.resume_at)
                summary.failed += 1
                break
            except (ZohoError, PushRefused) as exc:
                _failed(engine, claimed.order, str(exc))
                summary.failed += 1
            claimed = _claim(engine, utcnow()) if time.monotonic() - started < budget_seconds else None
    return summary


def _claim(engine: Engine | None, now: datetime) -> Claimed | None:
    with write(engine) as connection:
        order_id = connection.execute(
            select(orders.c.id)
            .where(
                orders.c.zoho_push_due_at <= now,
                or_(orders.c.zoho_push_lease_until.is_(None), orders.c.zoho_push_lease_until < now),
            )
            .order_by(orders.c.zoho_push_due_at, orders.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).scalar()
        if order_id is None:
            return None
        order = connection.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(zoho_push_lease_until=now + LEASE, zoho_push_attempts=orders.c.zoho_push_attempts + 1)
            .returning(*orders.c)
        ).one()
        lines = connection.execute(
            select(order_lines).where(order_lines.c.order_id == order_id).order_by(order_lines.c.id)
        ).all()
        customer = connection.execute(select(customers).where(customers.c.id == order.customer_id)).one()
    return Claimed(order, lines, customer)


def _push(client: ZohoClient, engine: Engine | None, claimed: Claimed, summary: PushSummary) -> None:
    order = claimed.order
    # A first attempt cannot have reached Zoho before; any later one may have.
    may_exist = order.zoho_push_attempts > 1
    if order.status == "cancelled":
        salesorder = (
            {"salesorder_id": order.zoho_salesorder_id}
            if order.zoho_salesorder_id
            else _by_reference(client, order.number)
        )
        if salesorder is not None and order.zoho_voided_at is None:
            client.post(f"{SALES_ORDERS_PATH}/{salesorder['salesorder_id']}/status/void")
            summary.voided += 1
        _done(engine, order, salesorder, voided=salesorder is not None)
        return
    if order.zoho_salesorder_id is not None:
        _done(engine, order, None)
        return
    found = _by_reference(client, order.number) if may_exist else None
    if found is not None:
        summary.found += 1
        _done(engine, order, found)
        return
    contact_id = _contact_id(client, engine, claimed.customer)
    created = client.post(SALES_ORDERS_PATH, _sales_order(order, claimed.lines, contact_id)).get("salesorder")
    if not isinstance(created, dict) or not created.get("salesorder_id"):
        raise PushRefused("Zoho answered the sales order's creation without its salesorder_id")
    summary.created += 1
    _done(engine, order, created)


def _by_reference(client: ZohoClient, number: str) -> dict | None:
    """The sales order carrying the order's number as its reference (Zoho's search matches by substring)."""
    found = client.get(SALES_ORDERS_PATH, {"reference_number": number}).get("salesorders") or []
    return next((salesorder for salesorder in found if salesorder.get("reference_number") == number), None)


def contact_name(customer: Row) -> str:
    """The customer's display name in Zoho: unique there (Zoho requires it), and how the push finds it again."""
    return f"{customer.name} (app customer {customer.id})"


def _contact_id(client: ZohoClient, engine: Engine | None, customer: Row) -> str:
    if customer.zoho_contact_id:
        return customer.zoho_contact_id
    name = contact_name(customer)
    listed = client.get(CONTACTS_PATH, {"contact_name": name}).get("contacts") or []
    contact = next((found for found in listed if found.get("contact_name") == name), None)
    if contact is None:
        body = {"contact_name": name, "contact_type": "customer"}
        if customer.phone:
            body["phone"] = customer.phone
        if customer.email:
            body["email"] = customer.email
        contact = client.post(CONTACTS_PATH, body).get("contact") or {}
    contact_id = str(contact.get("contact_id") or "")
    if not contact_id:
        raise PushRefused("Zoho answered the contact's creation without its contact_id")
    with write(engine) as connection:
        connection.execute(
            update(customers)
            .where(customers.c.id == customer.id, customers.c.zoho_contact_id.is_(None))
            .values(zoho_contact_id=contact_id, updated_at=utcnow())
        )
    return contact_id


def _sales_order(order: Row, lines: Sequence[Row], contact_id: str) -> dict[str, Any]:
    unknown = [line.product_name for line in lines if not line.zoho_item_id]
    if unknown:
        raise PushRefused(f"products not in Zoho: {', '.join(unknown)}")
    address = ", ".join(
        part for part in (order.address_label, order.address_text, order.address_city, order.address_phone) if part
    )
    notes = f"Deliver to: {address}. Delivery: {order.delivery_option}. Payment: {order.payment_method}."
    if order.note:
        notes += f" Customer's note: {order.note}"
    return {
        "customer_id": contact_id,
        "reference_number": order.number,
        "date": order.created_at.astimezone(BAGHDAD).date().isoformat(),
        "line_items": [{"item_id": line.zoho_item_id, "quantity": line.quantity, "rate": line.price} for line in lines],
        "discount": order.discount,
        "discount_type": "entity_level",
        "is_discount_before_tax": True,
        "shipping_charge": order.delivery_fee,
        "notes": notes,
    }


def _done(engine: Engine | None, order: Row, salesorder: dict | None, *, voided: bool = False) -> None:
    """Record the outcome; the order stays due when its status changed meanwhile (a cancel
    during the create: the next push voids what this one created)."""
    now = utcnow()
    values: dict[str, Any] = {
        "zoho_push_due_at": case((orders.c.status == order.status, None), else_=now),
        "zoho_push_error": None,
        "zoho_push_lease_until": None,
        "updated_at": now,
    }
    if salesorder is not None and order.zoho_salesorder_id is None:
        values.update(
            zoho_salesorder_id=str(salesorder["salesorder_id"]),
            zoho_synced_at=now,
            zoho_salesorder_number=salesorder.get("salesorder_number"),
        )
    if voided:
        values["zoho_voided_at"] = now
    with write(engine) as connection:
        connection.execute(update(orders).where(orders.c.id == order.id).values(**values))
    log.info("order pushed to Zoho", extra={"order": order.number, "status": order.status, "voided": voided})


def _failed(engine: Engine | None, order: Row, error: str, retry_at: datetime | None = None) -> None:
    """Record the failure; the push is due again after its backoff (or at `retry_at`, when Zoho
    may be called again)."""
    retry_at = retry_at or utcnow() + timedelta(seconds=PUSH_BACKOFF.delay(order.zoho_push_attempts))
    with write(engine) as connection:
        connection.execute(
            update(orders)
            .where(orders.c.id == order.id)
            .values(zoho_push_due_at=retry_at, zoho_push_error=error[:2000], zoho_push_lease_until=None)
        )
    log.warning(
        "order push to Zoho failed; retried later",
        extra={"order": order.number, "attempt": order.zoho_push_attempts, "error": error},
    )


def replay(connection: Connection, order_id: int) -> bool:
    """An operator's replay: the pending push is due now (False when the order has none pending)."""
    return (
        connection.execute(
            update(orders)
            .where(orders.c.id == order_id, orders.c.zoho_push_due_at.is_not(None))
            .values(zoho_push_due_at=utcnow(), zoho_push_lease_until=None)
        ).rowcount
        == 1
    )


FAILED_SHOWN = 20


def orders_health(connection: Connection, now: datetime) -> dict[str, Any]:
    """Today's orders (UTC day), the orders not yet in Zoho with the oldest one's age, and the
    pushes that failed (newest first, at most FAILED_SHOWN)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = connection.execute(select(func.count()).where(orders.c.created_at >= midnight)).scalar_one()
    waiting, oldest = connection.execute(
        select(func.count(), func.min(orders.c.created_at)).where(
            orders.c.zoho_salesorder_id.is_(None), orders.c.status != "cancelled"
        )
    ).one()
    failed = connection.execute(
        select(
            orders.c.id,
            orders.c.number,
            orders.c.status,
            orders.c.created_at,
            orders.c.zoho_push_attempts,
            orders.c.zoho_push_error,
            orders.c.zoho_push_due_at,
        )
        .where(orders.c.zoho_push_error.is_not(None), orders.c.zoho_push_due_at.is_not(None))
        .order_by(orders.c.id.desc())
        .limit(FAILED_SHOWN)
    ).all()
    return {
        "today": today,
        "waiting_for_zoho": waiting,
        "oldest_waiting_age_seconds": None if oldest is None else round((now - oldest).total_seconds(), 1),
        "failed_pushes": [dict(row._mapping) for row in failed],
    }
