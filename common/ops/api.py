"""The operations endpoints of the JSON API (their routes: common.routes, function zoho_dashboard):
parse, call common.ops, answer. The admin-key guard has set the caller's role."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from common.db import read
from common.http import ApiRequest
from common.ops import audit, control
from common.ops import incidents as incident_reads
from common.ops.schemas import (
    AuditEntry,
    AuditPage,
    AuditQuery,
    BulkDiscarded,
    BulkReplayed,
    DeadLetterFilter,
    EventHit,
    EventSearchPage,
    EventSearchQuery,
    IncidentList,
    PauseBody,
    Paused,
)
from common.ops.search import search_payloads

Body = TypeVar("Body", bound=BaseModel)


def _body(request: ApiRequest, model: type[Body]) -> Body:
    """The JSON body as `model`; no body at all is `{}` (every field optional)."""
    if not request.body and not request.raw.mimetype:
        return model()
    return request.json_model(model)


def pause(request: ApiRequest) -> Paused:
    return control.pause(_body(request, PauseBody).entity_type, request.operator_role)


def resume(request: ApiRequest) -> Paused:
    return control.resume(_body(request, PauseBody).entity_type, request.operator_role)


def replay_matching(request: ApiRequest) -> BulkReplayed:
    return control.replay_matching(_body(request, DeadLetterFilter), request.operator_role)


def discard_matching(request: ApiRequest) -> BulkDiscarded:
    return control.discard_matching(_body(request, DeadLetterFilter), request.operator_role)


def incidents(request: ApiRequest) -> IncidentList:
    with read() as connection:
        return IncidentList(incidents=incident_reads.recent(connection))


def search_events(request: ApiRequest) -> EventSearchPage:
    query = request.query_model(EventSearchQuery)
    with read() as connection:
        rows = search_payloads(connection, query.q, query.limit)
    return EventSearchPage(items=[EventHit.model_validate(row._mapping) for row in rows])


def audit_trail(request: ApiRequest) -> AuditPage:
    limit = request.query_model(AuditQuery).limit
    with read() as connection:
        return AuditPage(items=[AuditEntry.model_validate(row._mapping) for row in audit.recent(connection, limit)])
