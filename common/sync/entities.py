"""The Zoho entities the webhook routes accept: Zoho's name for the record, its model, queue name, priority.

This is the only list of them; intake, the drain's handlers and the reconcile job key on `name`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from pydantic import RootModel

from common.routes import WEBHOOK_ENTITIES
from common.sync import payloads
from common.sync.payloads import BodyModels, ZohoEvent, ZohoRecord

# Lower runs first (contract: invoices and orders 2; products, customers, bills 5; the rest 8).
URGENT, NORMAL, LOW = 2, 5, 8


@dataclass(frozen=True)
class Entity:
    route: str  # the {entity} of /api/zoho/webhooks/{entity}
    name: str  # tds_sync_queue.entity_type
    priority: int
    document: str  # Zoho's key of the record in its webhook body and API answers: {"item": {...}}
    record: type[ZohoRecord]

    @cached_property
    def models(self) -> BodyModels:
        return BodyModels(self.document, self.record)

    def parse(self, payload: Any, operation: str | None = None) -> ZohoEvent:
        """Validate a webhook body of any accepted shape as an event on this entity (422 when it does not fit)."""
        return payloads.parse_event(self.models, payload, operation)


ENTITIES: tuple[Entity, ...] = (
    Entity("products", "products", NORMAL, "item", payloads.ZohoItem),
    Entity("customers", "customers", NORMAL, "contact", payloads.ZohoContact),
    Entity("invoices", "invoices", URGENT, "invoice", payloads.ZohoInvoice),
    Entity("bills", "bills", NORMAL, "bill", payloads.ZohoBill),
    Entity("credit-notes", "credit_notes", LOW, "creditnote", payloads.ZohoCreditNote),
    Entity("stock", "stock", LOW, "inventory_adjustment", payloads.ZohoStockAdjustment),
    Entity("prices", "prices", LOW, "pricebook", payloads.ZohoPriceBook),
)

BY_ROUTE = {entity.route: entity for entity in ENTITIES}
BY_NAME = {entity.name: entity for entity in ENTITIES}


@lru_cache(maxsize=None)
def _body_schema(name: str) -> type[RootModel]:
    route = next(route for route, body in WEBHOOK_ENTITIES.items() if body == name)
    return BY_ROUTE[route].models.documentation(name)


def __getattr__(name: str) -> Any:
    """The request body model of each webhook route, by the name the route table gives it,
    built when the OpenAPI document asks for it rather than at every cold start."""
    if name in WEBHOOK_ENTITIES.values():
        return _body_schema(name)
    raise AttributeError(name)
