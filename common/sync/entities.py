"""The Zoho entities: route, queue name, priority, Zoho's name and model of the record, the name
of its webhook body in the API document, and where the reconcile job lists it.

This is the only list of them; the webhook routes (functions/zoho_webhook.py), intake, the drain
(its handlers: common.sync.handlers.HANDLERS) and the reconcile job all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import RootModel

from common.sync.payloads import records
from common.sync.payloads.bodies import BodyModels, ZohoEvent, parse_event
from common.sync.payloads.records import ZohoRecord

# Lower runs first (contract: invoices and orders 2; products, customers, bills 5; the rest 8).
URGENT, NORMAL, LOW = 2, 5, 8


@dataclass(frozen=True)
class Entity:
    route: str  # the {entity} of /api/zoho/webhooks/{entity}
    name: str  # tds_sync_queue.entity_type
    priority: int
    document: str  # Zoho's key of the record in its webhook body and API answers: {"item": {...}}
    record: type[ZohoRecord]
    body_name: str  # the name of its webhook route's body in the API document
    list_path: str | None = None  # Zoho's list endpoint, for the reconcile job (None: not reconciled)
    list_key: str | None = None  # the list's key in Zoho's answer

    @cached_property
    def models(self) -> BodyModels:
        return BodyModels(self.document, self.record)

    def parse(self, payload: Any, operation: str | None = None) -> ZohoEvent:
        """Validate a webhook body of any accepted shape as an event on this entity (ValidationFailed
        when it does not fit)."""
        return parse_event(self.models, payload, operation)

    def body_schema(self) -> type[RootModel]:
        """The webhook route's body for the API document: any of the three shapes, built when
        the document asks for it rather than at every cold start."""
        return self.models.documentation(self.body_name)


ENTITIES: tuple[Entity, ...] = (
    Entity("products", "products", NORMAL, "item", records.ZohoItem, "ProductWebhook", "/inventory/v1/items", "items"),
    Entity(
        "customers",
        "customers",
        NORMAL,
        "contact",
        records.ZohoContact,
        "CustomerWebhook",
        "/books/v3/contacts",
        "contacts",
    ),
    Entity(
        "invoices",
        "invoices",
        URGENT,
        "invoice",
        records.ZohoInvoice,
        "InvoiceWebhook",
        "/books/v3/invoices",
        "invoices",
    ),
    Entity("bills", "bills", NORMAL, "bill", records.ZohoBill, "BillWebhook", "/books/v3/bills", "bills"),
    Entity(
        "credit-notes",
        "credit_notes",
        LOW,
        "creditnote",
        records.ZohoCreditNote,
        "CreditNoteWebhook",
        "/books/v3/creditnotes",
        "creditnotes",
    ),
    # Not reconciled: items carry their stock, so the products pass brings stock levels back in line.
    Entity("stock", "stock", LOW, "inventory_adjustment", records.ZohoStockAdjustment, "StockWebhook"),
    Entity(
        "prices",
        "prices",
        LOW,
        "pricebook",
        records.ZohoPriceBook,
        "PriceListWebhook",
        "/inventory/v1/pricebooks",
        "pricebooks",
    ),
    # Orders are urgent: their status is what the customer sees. Not listed by the reconcile: its
    # full pass keeps tables that mirror Zoho's records (and deactivates what Zoho lacks), while
    # orders are the shop's own; a lost status webhook is caught up by the next change of that sales order.
    Entity("sales-orders", "sales_orders", URGENT, "salesorder", records.ZohoSalesOrder, "SalesOrderWebhook"),
)

BY_ROUTE = {entity.route: entity for entity in ENTITIES}
BY_NAME = {entity.name: entity for entity in ENTITIES}
