"""Pydantic models of the event feed (GET /api/events) and of the relay's summary."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RelaySummary(BaseModel):
    published: int = 0
    publish_failures: int = 0
    delivered: int = 0
    delivery_failures: int = 0


class EventQuery(BaseModel):
    after: int = Field(
        0, ge=0, le=2**63 - 1, description="Return events with an id above this one (the previous page's next_after)"
    )
    limit: int = Field(100, ge=1, le=500)


class EventAggregate(BaseModel):
    type: str
    id: str


class EventPayload(BaseModel):
    """What a subscriber and the bus receive (the EventBridge entry's detail)."""

    model_config = ConfigDict(extra="allow")

    event_id: str
    event_type: str
    occurred_at: str = Field(description="ISO 8601, UTC, as written when the change committed")
    aggregate: EventAggregate
    data: dict[str, Any]


class EventDelivery(BaseModel):
    subscriber: str
    attempts: int
    delivered_at: dt.datetime | None
    last_error: str | None


class OutboxEvent(BaseModel):
    id: int
    event_id: str
    event_type: str
    aggregate_type: str
    aggregate_id: str
    occurred_at: dt.datetime
    published_at: dt.datetime | None
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    payload: EventPayload
    deliveries: list[EventDelivery]


class EventPage(BaseModel):
    items: list[OutboxEvent]
    next_after: int = Field(description="Pass as `after` for the next page (the last id here, or `after` when empty)")
    has_more: bool
