"""The Zoho entities the webhook route accepts: body model, queue name, priority, identity.

This is the only list of them; intake, the drain's handlers and the reconcile job key on `name`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from common.sync import schemas

# Lower runs first (contract: invoices and orders 2; products, customers, bills 5; the rest 8).
URGENT, NORMAL, LOW = 2, 5, 8


@dataclass(frozen=True)
class Entity:
    route: str  # the {entity} of /api/zoho/webhooks/{entity}
    name: str  # tds_sync_queue.entity_type
    priority: int
    body: type[BaseModel]
    record: Callable[[BaseModel], schemas.ZohoRecord]
    source_id: Callable[[BaseModel], str]
    operation: Callable[[BaseModel], str]

    def modified_at(self, body: BaseModel) -> datetime | None:
        """The version stamp used to skip stale updates: Zoho's last_modified_time, else the event time."""
        return self.record(body).last_modified_time or getattr(body, "event_time", None)


def _enveloped(route: str, name: str, priority: int, body: type[schemas.Envelope]) -> Entity:
    return Entity(
        route=route,
        name=name,
        priority=priority,
        body=body,
        record=lambda body: body.data,
        source_id=lambda body: body.entity_id,
        operation=lambda body: body.event_type,
    )


ENTITIES: tuple[Entity, ...] = (
    Entity(
        route="products",
        name="products",
        priority=NORMAL,
        body=schemas.ProductWebhook,
        record=lambda body: body.item,
        source_id=lambda body: body.item.item_id,
        operation=lambda body: body.event_type,
    ),
    Entity(
        route="invoices",
        name="invoices",
        priority=URGENT,
        body=schemas.InvoiceWebhook,
        record=lambda body: body.invoice,
        source_id=lambda body: body.invoice.invoice_id,
        operation=lambda body: body.event_type,
    ),
    _enveloped("customers", "customers", NORMAL, schemas.CustomerWebhook),
    _enveloped("bills", "bills", NORMAL, schemas.BillWebhook),
    _enveloped("credit-notes", "credit_notes", LOW, schemas.CreditNoteWebhook),
    _enveloped("stock", "stock", LOW, schemas.StockWebhook),
    _enveloped("prices", "prices", LOW, schemas.PriceListWebhook),
)

BY_ROUTE = {entity.route: entity for entity in ENTITIES}
BY_NAME = {entity.name: entity for entity in ENTITIES}

