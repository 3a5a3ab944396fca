"""Pydantic models of the sync endpoints' queries and answers (Zoho's bodies: common.sync.payloads.bodies)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, JsonValue, StringConstraints, WithJsonSchema

from common.health import DatabaseStatus
from common.metrics.reading import FunctionStats
from common.sync.payloads.bodies import OPERATIONS, Operation


class WebhookQuery(BaseModel):
    """`?event_type=delete` is how a Zoho deletion workflow says what happened (any body naming the id)."""

    event_type: Annotated[
        Operation | None,
        BeforeValidator(lambda value: value or None),
        WithJsonSchema({"anyOf": [{"enum": list(OPERATIONS)}, {"const": ""}]}),
    ] = Field(
        None,
        description="Overrides the body's event type (blank: the body's); Zoho's deletion workflows send delete",
        json_schema_extra=lambda schema: schema.pop("default", None),  # absent, not null: a query has no null
    )


class WebhookAccepted(BaseModel):
    success: bool = True
    message: str
    event_id: str
    idempotency_key: str
    queued: bool
    duplicate: bool


class WebhookDryRun(BaseModel):
    """A validated webhook that was not queued (`X-Dry-Run: true` or `?dry_run=1`, admin key required)."""

    success: bool = True
    message: str
    dry_run: bool = True
    queued: bool = False
    entity_type: str
    source_entity_id: str
    operation_type: str
    priority: int
    idempotency_key: str
    duplicate: bool = Field(description="An identical event is already queued: a real delivery would not queue it")


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


class FailedPush(BaseModel):
    id: int
    number: str
    status: str
    created_at: dt.datetime
    zoho_push_attempts: int
    zoho_push_error: str
    zoho_push_due_at: dt.datetime = Field(description="When it is tried again")


class OrdersHealth(BaseModel):
    today: int = Field(description="Orders placed since midnight UTC")
    waiting_for_zoho: int = Field(description="Orders not cancelled whose sales order is not in Zoho yet")
    oldest_waiting_age_seconds: float | None
    failed_pushes: list[FailedPush] = Field(description="Pushes to Zoho that failed and wait for their retry")


class QueuePause(BaseModel):
    """An entity type whose items are queued but not drained, until an operator resumes it."""

    entity_type: str = Field(description='"*" for every entity type')
    since: dt.datetime
    by: str = Field(description="The role that paused it")


class PassProgress(BaseModel):
    """One entity of the import or of the latest full pass."""

    listed: int
    queued: int
    deactivated: int
    done: bool
    started_at: dt.datetime
    finished_at: dt.datetime | None
    rail_tripped: bool = Field(description="Deactivated nothing: over 10% of the stored active rows were not listed")
    last_complete_at: dt.datetime | None = Field(description="When this entity's last complete pass ended")
    last_queued: int | None = Field(description="What the last complete pass queued (repaired or new)")
    last_deactivated: int | None = Field(description="What the last complete pass queued as deletions")


class ZohoCallsUsed(BaseModel):
    today: int = Field(description="Calls to Zoho's API spent today (UTC) by every caller")
    limit: int = Field(description="ZOHO_DAILY_CALL_LIMIT")


class MirrorStatus(BaseModel):
    """How far the import of the organisation and the latest full pass are, and Zoho calls used today."""

    import_progress: dict[str, PassProgress]
    full_pass: dict[str, PassProgress]
    last_complete_full_pass_at: dt.datetime | None = Field(
        description="When the last full pass (or, before any, the import) completed for every entity"
    )
    zoho_calls: ZohoCallsUsed


class SyncHealth(BaseModel):
    status: Literal["healthy", "degraded", "unhealthy"]
    timestamp: dt.datetime
    database: DatabaseStatus
    queue: QueueHealth | None
    workers: WorkersHealth | None
    orders: OrdersHealth | None = None
    paused: list[QueuePause] = []
    mirror: MirrorStatus | None = None
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
    functions: list[FunctionStats] = Field(
        description="Each function's requests, error rates and latency over the last hour and 24 hours"
    )
    mirror: MirrorStatus | None = Field(None, description="The Zoho mirror's passes and calls (Zoho configured)")


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
    last_payload: JsonValue  # as stored; see common.sync.dead_letters for what is shown of it
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


class ReconcileQuery(BaseModel):
    mode: Literal["incremental", "full"] = Field(
        "incremental", description="full: list every record, repair what differs, deactivate what Zoho deleted"
    )


class EntityProgress(BaseModel):
    """One entity in a reconcile step: for the import and the full pass, the whole pass so far."""

    listed: int = Field(0, description="Records Zoho listed")
    queued: int = Field(0, description="Records queued because they differ from the stored ones (or are new)")
    deactivated: int = Field(0, description="Stored records that Zoho no longer lists, queued as deletions")
    done: bool = Field(False, description="Every page of this entity is read (and, in a full pass, swept)")


class ReconcileSummary(BaseModel):
    """One reconcile step: what it queued, what the webhooks' dedupe already held, where each entity resumes,
    and whether the pass is complete (callers repeat the call while it is not)."""

    mode: Literal["import", "incremental", "full"] = "incremental"
    complete: bool = True
    enqueued: int = 0
    duplicates: int = 0
    deactivated: int = Field(0, description="Deletions queued for records Zoho no longer lists (full pass)")
    pages: int = 0
    cursor: dict[str, str] = Field(
        default_factory=dict, description="Per entity type: the last_modified_time the next incremental run starts from"
    )
    entities: dict[str, EntityProgress] = Field(default_factory=dict)
    zoho_calls: ZohoCallsUsed = Field(default_factory=lambda: ZohoCallsUsed(today=0, limit=0))
