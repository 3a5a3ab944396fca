"""Pydantic models of the operations endpoints: alerts, pauses, bulk dead-letter actions, payload
search and the audit trail (CONTRACT.md, "Alerts, control and roles")."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, StringConstraints, model_validator

from common.sync.entities import BY_NAME

EntityName = Literal[tuple(sorted(BY_NAME))]  # type: ignore[valid-type]


class PauseBody(BaseModel):
    """`{}` pauses (or resumes) every entity type, `{"entity_type": "products"}` one."""

    entity_type: EntityName | None = None


class Paused(BaseModel):
    paused: list[str] = Field(description='The entity types now paused; ["*"] when every one is')


def _iso_text(value: Any) -> Any:
    if value is not None and not isinstance(value, str | dt.datetime):
        raise ValueError("must be an ISO 8601 date and time")
    return value


# A moment as JSON writes one: an ISO 8601 string (a bare number would be read as seconds since 1970).
Moment = Annotated[dt.datetime, BeforeValidator(_iso_text)]


class DeadLetterFilter(BaseModel):
    """Which unresolved dead letters a bulk action takes; every field narrows, none means all."""

    entity_type: EntityName | None = None
    error_contains: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = (
        Field(None, description="Text the last error holds (case-insensitive)")
    )
    since: Moment | None = Field(None, description="Dead-lettered at or after (ISO 8601 with a zone)")
    until: Moment | None = Field(None, description="Dead-lettered before")
    dry_run: StrictBool = Field(False, description="Only count the matching letters")

    @model_validator(mode="after")
    def _zoned_and_ordered(self) -> DeadLetterFilter:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} needs a time zone (for example 2026-12-06T10:00:00Z)")
            if value is not None and not 1970 <= value.year <= 9998:
                raise ValueError(f"{name} must be between the years 1970 and 9998")
        if self.since and self.until and self.since >= self.until:
            raise ValueError("since must be before until")
        return self

    def described(self) -> dict[str, Any]:
        """The filter as the audit trail keeps it: only what was given."""
        return self.model_dump(mode="json", exclude_none=True, exclude={"dry_run"})


class BulkReplayed(BaseModel):
    matched: int
    replayed: int


class BulkDiscarded(BaseModel):
    matched: int
    discarded: int


class EventSearchQuery(BaseModel):
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="A value held anywhere in the payload (an SKU, a phone number, an id), matched exactly"
    )
    limit: int = Field(50, ge=1, le=200)


class EventHit(BaseModel):
    id: int
    entity_type: str
    source_entity_id: str
    status: str
    created_at: dt.datetime


class EventSearchPage(BaseModel):
    items: list[EventHit]


class NotificationStatus(BaseModel):
    state: Literal["open", "resolved"]
    attempts: int
    sent_at: dt.datetime | None
    next_attempt_at: dt.datetime | None = Field(description="When the next try is due (null once sent)")
    last_error: str | None


class Incident(BaseModel):
    id: int
    rule: str
    state: Literal["open", "resolved"]
    summary: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    notifications: list[NotificationStatus]


class IncidentList(BaseModel):
    incidents: list[Incident]


class AuditEntry(BaseModel):
    id: int
    at: dt.datetime
    role: str
    action: str
    detail: dict[str, Any] | None
    affected: int | None


class AuditPage(BaseModel):
    items: list[AuditEntry]


class AuditQuery(BaseModel):
    limit: int = Field(100, ge=1, le=500)
