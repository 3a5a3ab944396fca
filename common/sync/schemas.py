"""Pydantic models of what Zoho sends, and of what the sync endpoints answer.

Zoho records keep fields we do not know (`extra="allow"`): they are stored with the
event and are not rejected. Zoho ids arrive as strings or numbers; both become strings.
A timestamp without an offset is taken as UTC. Known fields take exactly what their JSON
Schema says (common.validation).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from common.health import DatabaseStatus
from common.validation import JsonDate, JsonDateTime, json_integer_value, json_number


def _assume_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


_MAX_NUMERIC_ID = 10**18


def _id_text(value: object) -> object:
    """Zoho's ids are digit strings; a plain non-negative whole number is taken as one."""
    if isinstance(value, str):
        return value
    number = json_integer_value(value)
    if not 0 <= number <= _MAX_NUMERIC_ID:
        raise ValueError("must be a string or a non-negative integer")
    return str(number)


ZohoId = Annotated[
    str,
    BeforeValidator(_id_text),
    StringConstraints(min_length=1, max_length=64),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 64},
                   {"type": "integer", "minimum": 0, "maximum": _MAX_NUMERIC_ID}]}
    ),
]  # fmt: skip
Timestamp = Annotated[JsonDateTime, AfterValidator(_assume_utc)]
Amount = json_number(0, 10**15)
Quantity = json_number(-(10**9), 10**9)
Operation = Literal["create", "update", "delete", "upsert"]


def _text(limit: int):
    return Annotated[str, StringConstraints(max_length=limit)]


class ZohoRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    last_modified_time: Timestamp | None = None


class ZohoItem(ZohoRecord):
    item_id: ZohoId
    name: _text(500) | None = None
    name_ar: _text(500) | None = Field(None, validation_alias=AliasChoices("name_ar", "cf_name_ar"))
    sku: _text(128) | None = None
    description: _text(20_000) | None = None
    rate: Amount | None = None
    purchase_rate: Amount | None = None
    stock_on_hand: Quantity | None = None
    available_stock: Quantity | None = None
    status: Literal["active", "inactive"] | None = None
    unit: _text(64) | None = None
    brand: _text(255) | None = None
    category_id: ZohoId | None = None
    category_name: _text(255) | None = None
    image_name: _text(500) | None = None
    created_time: Timestamp | None = None


class ZohoInvoiceLine(ZohoRecord):
    item_id: ZohoId | None = None
    name: _text(500) | None = None
    quantity: Amount = Field(1, validate_default=True)
    rate: Amount = Field(0, validate_default=True)
    item_total: Amount | None = None


class ZohoInvoice(ZohoRecord):
    invoice_id: ZohoId
    invoice_number: _text(64) | None = None
    customer_id: ZohoId | None = None
    date: JsonDate | None = None
    due_date: JsonDate | None = None
    total: Amount | None = None
    balance: Amount | None = None
    status: _text(32) | None = None
    currency_code: _text(8) | None = None
    line_items: list[ZohoInvoiceLine] = Field(default_factory=list, max_length=2000)


class ZohoContact(ZohoRecord):
    contact_id: ZohoId
    contact_name: _text(255)
    contact_type: _text(32) | None = None  # "customer" or "vendor"
    company_name: _text(255) | None = None
    email: _text(255) | None = None
    phone: _text(64) | None = None
    mobile: _text(64) | None = None
    status: _text(32) | None = None


class ZohoBill(ZohoRecord):
    bill_id: ZohoId
    bill_number: _text(64)
    vendor_id: ZohoId
    vendor_name: _text(255) | None = None
    date: JsonDate | None = None
    due_date: JsonDate | None = None
    total: Amount | None = None
    balance: Amount | None = None
    status: _text(32) | None = None


class ZohoCreditNote(ZohoRecord):
    creditnote_id: ZohoId
    creditnote_number: _text(64)
    customer_id: ZohoId | None = None
    date: JsonDate | None = None
    total: Amount | None = None
    balance: Amount | None = None
    status: _text(32) | None = None


class ZohoStockAdjustment(ZohoRecord):
    adjustment_id: ZohoId
    item_id: ZohoId
    quantity_adjusted: Quantity | None = None
    stock_on_hand: Amount | None = None
    reason: _text(500) | None = None
    date: JsonDate | None = None


class ZohoPriceListItem(ZohoRecord):
    item_id: ZohoId
    rate: Amount = Field(validation_alias=AliasChoices("pricebook_rate", "rate"))


class ZohoPriceList(ZohoRecord):
    pricelist_id: ZohoId = Field(validation_alias=AliasChoices("pricelist_id", "pricebook_id"))
    name: _text(255)
    currency_code: _text(8) | None = None
    pricing_scheme: _text(32) | None = None
    percentage: json_number(-100, 1000) | None = None
    status: _text(32) | None = None
    items: list[ZohoPriceListItem] | None = Field(
        None, validation_alias=AliasChoices("items", "pricebook_items"), max_length=50_000
    )


class ProductWebhook(BaseModel):
    model_config = ConfigDict(extra="allow")

    item: ZohoItem
    event_type: Operation = "upsert"


class InvoiceWebhook(BaseModel):
    model_config = ConfigDict(extra="allow")

    invoice: ZohoInvoice
    event_type: Operation = "upsert"


Data = TypeVar("Data", bound=ZohoRecord)


class Envelope(BaseModel, Generic[Data]):
    """The generic event envelope; the route, not `entity_type`, decides the entity."""

    model_config = ConfigDict(extra="allow")

    event_id: _text(128) | None = None
    event_type: Operation
    event_time: Timestamp | None = None
    entity_type: _text(64)
    entity_id: ZohoId
    data: Data
    organization_id: _text(64) | None = None


class CustomerWebhook(Envelope[ZohoContact]):
    pass


class BillWebhook(Envelope[ZohoBill]):
    pass


class CreditNoteWebhook(Envelope[ZohoCreditNote]):
    pass


class StockWebhook(Envelope[ZohoStockAdjustment]):
    pass


class PriceListWebhook(Envelope[ZohoPriceList]):
    pass


class WebhookAccepted(BaseModel):
    success: bool = True
    message: str
    event_id: str
    idempotency_key: str
    queued: bool
    duplicate: bool


class DrainSummary(BaseModel):
    claimed: int = 0
    completed: int = 0
    retried: int = 0
    dead_lettered: int = 0
    stale: int = 0
    remaining: int = 0
    duration_ms: int = 0


class QueueDepth(BaseModel):
    pending: int
    processing: int
    retry: int
    completed: int
    dead_letter: int


class QueueHealth(QueueDepth):
    oldest_pending_age_seconds: float | None


class WorkersHealth(BaseModel):
    last_drain_at: dt.datetime | None
    last_drain: DrainSummary | None


class SyncHealth(BaseModel):
    status: Literal["healthy", "degraded", "unhealthy"]
    timestamp: dt.datetime
    database: DatabaseStatus
    queue: QueueHealth | None
    workers: WorkersHealth | None
    issues: list[str]


class HourCount(BaseModel):
    hour: dt.datetime
    count: int


class Received(BaseModel):
    total: int
    per_hour: list[HourCount]


class ProcessingTime(BaseModel):
    avg_ms: float | None
    p95_ms: float | None


class EntityStats(BaseModel):
    entity_type: str
    received: int
    completed: int
    dead_lettered: int
    waiting: int


class SyncStats(BaseModel):
    window_hours: int
    since: dt.datetime
    generated_at: dt.datetime
    received: Received
    completed: int
    retried: int
    dead_lettered: int
    stale: int
    success_rate: float | None = Field(description="Percent of items finished in the window that completed")
    processing_time: ProcessingTime
    queue_depth: QueueDepth
    by_entity: list[EntityStats]


class StatsQuery(BaseModel):
    hours: int = Field(24, ge=1, le=168)


class DeadLetter(BaseModel):
    id: int
    sync_queue_id: int | None
    entity_type: str
    source_entity_id: str
    failure_reason: str
    total_attempts: int
    last_error_message: str | None
    last_payload: dict | None
    resolved: bool
    resolved_at: dt.datetime | None
    created_at: dt.datetime


class DeadLetterQuery(BaseModel):
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=100)
    entity_type: Annotated[str, StringConstraints(max_length=32)] | None = None
    include_resolved: bool = False


class DeadLetterPage(BaseModel):
    items: list[DeadLetter]
    total_count: int
    page: int
    page_size: int
    has_more: bool


class RetryAllQuery(BaseModel):
    entity_type: Annotated[str, StringConstraints(max_length=32)] | None = None


class Replayed(BaseModel):
    success: bool = True
    message: str
    requeued: int
    dead_letter_ids: list[int]


class ReconcileSummary(BaseModel):
    """One reconcile run: what it queued, what the webhooks' dedupe already held, and where each entity resumes."""

    enqueued: int = 0
    duplicates: int = 0
    invalid: int = Field(0, description="Records Zoho listed that failed validation; logged, not queued")
    pages: int = 0
    cursor: dict[str, str] = Field(
        default_factory=dict, description="Per entity type: the last_modified_time the next run starts from"
    )
