"""Stock checks: read Zoho's stock of the items whose check is due, and store it.

Adjustments and ambiguous item snapshots mark checks due (common.sync.stock); every drain
runs the due ones after the queue, oldest first, one `GET /inventory/v1/items/{item_id}`
each from the shared Zoho call budget (common.sync.zoho_budget), each item leased to one drain
at a time. Zoho's 429, a spent budget or Zoho failing stops the run and leaves the rest due for
the next one: nothing is retried against the queue's attempts and nothing is dead-lettered.
Without Zoho configured nothing is checked.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, or_, select, update

from common.clock import utcnow
from common.config import Settings
from common.db.transactions import write
from common.errors import ValidationFailed
from common.logs import get_logger
from common.models import products
from common.sync import handlers
from common.sync.entities import BY_NAME

if TYPE_CHECKING:
    from common.sync.zoho_client import ZohoClient

log = get_logger("sync.stock")

BATCH = 50  # checks per drain run at most
LEASE = timedelta(minutes=2)  # longer than BATCH calls take within a drain's budget
_ITEMS = BY_NAME["products"]
_DUE = products.c.stock_check_due_at
_LEASED = products.c.stock_check_leased_until


def check_due(settings: Settings, engine: Engine | None = None, *, deadline: float | None = None) -> int:
    """Check up to BATCH due items, oldest mark first; none is started after `deadline` (time.monotonic)
    except the first. Returns how many were checked."""
    if not settings.zoho_configured:
        return 0
    item_ids = _lease(engine)
    if not item_ids:
        return 0
    # Imported when there is something to check: the HTTP client stays out of the drain's cold start.
    from common.sync.zoho_client import ZohoClient, ZohoError, ZohoPaused

    checked = 0
    try:
        with ZohoClient(settings, engine) as client:
            for item_id in item_ids:
                if checked and deadline is not None and time.monotonic() >= deadline:
                    break
                started = utcnow()
                try:
                    quantity = zoho_stock(client, item_id)
                except ZohoError as exc:
                    paused = isinstance(exc, ZohoPaused)  # Zoho's 429 or the budget: come back later
                    (log.info if paused else log.warning)(
                        "stock checks paused" if paused else "stock checks stopped",
                        extra={"checked": checked, "due": len(item_ids) - checked, "reason": str(exc)},
                    )
                    break
                with write(engine) as connection:
                    handlers.apply_checked_stock(connection, item_id, quantity, started, utcnow())
                checked += 1
    finally:
        _release(engine, item_ids[checked:])
    return checked


def _lease(engine: Engine | None) -> list[str]:
    """Take up to BATCH due items that no other drain is checking, for LEASE: concurrent drains
    never spend two calls on one item. A drain that dies lets its lease run out."""
    now = utcnow()
    chosen = (
        select(products.c.id)
        .where(_DUE.is_not(None), or_(_LEASED.is_(None), now >= _LEASED))
        .order_by(_DUE)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    with write(engine) as connection:
        leased = connection.execute(
            update(products)
            .where(products.c.id.in_(chosen.scalar_subquery()))
            .values(stock_check_leased_until=now + LEASE)
            .returning(products.c.zoho_item_id, products.c.stock_check_due_at)
        ).all()
    return [row.zoho_item_id for row in sorted(leased, key=lambda row: row.stock_check_due_at)]


def _release(engine: Engine | None, item_ids: list[str]) -> None:
    if item_ids:
        with write(engine) as connection:
            connection.execute(
                update(products).where(products.c.zoho_item_id.in_(item_ids)).values(stock_check_leased_until=None)
            )


def zoho_stock(client: ZohoClient, zoho_item_id: str) -> Decimal | None:
    """Zoho's current stock of one item; None when Zoho no longer has it or gives no figure."""
    return _stock_of(client.get_item(zoho_item_id))


def _stock_of(record: Any) -> Decimal | None:
    if record is None:
        return None
    try:
        return _ITEMS.parse({_ITEMS.document: record}).record.stock
    except ValidationFailed:
        log.warning("Zoho item answer failed validation; its stock is not taken", extra={"errors": "item"})
        return None
