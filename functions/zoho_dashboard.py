"""The Zoho sync dashboard: health (public); statistics, dead letters, incidents, payload search,
the audit trail, pause and resume, and bulk dead-letter actions (admin; the viewer key reads).
The admin-key guard has set the caller's role (`request.operator_role`), which changes record."""

from common.db.transactions import read
from common.http import NO_STORE, ApiRequest, http_function, json_response
from common.keys import admin_key
from common.ops import audit, control, incidents
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
from common.routes import route
from common.sync import dashboard, dead_letters
from common.sync.schemas import (
    DeadLetterPage,
    DeadLetterQuery,
    Replayed,
    RetryAllQuery,
    StatsQuery,
    SyncHealth,
    SyncStats,
)

_TAG = "zoho dashboard"


@route(
    method="GET",
    path="/api/zoho/dashboard/health",
    operation="dashboard_health",
    summary="Health of the Zoho sync: queue depth, oldest pending item, last drain, issues",
    tag=_TAG,
    responses={200: SyncHealth, 503: SyncHealth},
)
def sync_health(request: ApiRequest):
    report = dashboard.sync_health()
    return json_response(report, 503 if report.status == "unhealthy" else 200, {"Cache-Control": NO_STORE})


@route(
    method="GET",
    path="/api/zoho/dashboard/stats",
    operation="dashboard_stats",
    summary="Sync statistics over the last `hours` hours",
    tag=_TAG,
    auth=admin_key,
    query=StatsQuery,
    responses={200: SyncStats},
)
def sync_stats(request: ApiRequest):
    return dashboard.sync_stats(request.query_model(StatsQuery).hours)


@route(
    method="GET",
    path="/api/zoho/dashboard/dead-letter",
    operation="dead_letter_list",
    summary="Dead letters, newest first, paginated",
    tag=_TAG,
    auth=admin_key,
    query=DeadLetterQuery,
    responses={200: DeadLetterPage},
)
def list_dead_letters(request: ApiRequest):
    return dead_letters.list_dead_letters(request.query_model(DeadLetterQuery))


@route(
    method="POST",
    path="/api/zoho/dashboard/dead-letter/{dead_letter_id}/retry",
    operation="dead_letter_retry",
    summary="Re-queue one dead letter and mark it resolved",
    tag=_TAG,
    auth=admin_key,
    path_params={"dead_letter_id": {"type": "integer", "minimum": 1}},
    errors=(404, 409),
    responses={200: Replayed},
)
def retry_dead_letter(request: ApiRequest):
    return dead_letters.replay_one(request.path_id("dead_letter_id", "Dead letter not found"), request.operator_role)


@route(
    method="POST",
    path="/api/zoho/dashboard/dead-letter/retry",
    operation="dead_letter_retry_all",
    summary="Re-queue every unresolved dead letter (optionally of one entity type) and mark them resolved",
    tag=_TAG,
    auth=admin_key,
    query=RetryAllQuery,
    responses={200: Replayed},
)
def retry_all_dead_letters(request: ApiRequest):
    return dead_letters.replay_all(request.query_model(RetryAllQuery).entity_type, request.operator_role)


@route(
    method="POST",
    path="/api/zoho/dashboard/dead-letter/replay",
    operation="dead_letter_replay_matching",
    body_required=False,
    summary="Re-queue the unresolved dead letters a filter matches (dry_run: count only)",
    tag=_TAG,
    auth=admin_key,
    body=DeadLetterFilter,
    errors=(403,),
    responses={200: BulkReplayed},
)
def replay_matching(request: ApiRequest) -> BulkReplayed:
    return control.replay_matching(request.json_model(DeadLetterFilter), request.operator_role)


@route(
    method="POST",
    path="/api/zoho/dashboard/dead-letter/discard",
    operation="dead_letter_discard_matching",
    body_required=False,
    summary="Resolve, without re-queueing, the unresolved dead letters a filter matches (dry_run: count only)",
    tag=_TAG,
    auth=admin_key,
    body=DeadLetterFilter,
    errors=(403,),
    responses={200: BulkDiscarded},
)
def discard_matching(request: ApiRequest) -> BulkDiscarded:
    return control.discard_matching(request.json_model(DeadLetterFilter), request.operator_role)


@route(
    method="POST",
    path="/api/zoho/queue/pause",
    operation="queue_pause",
    body_required=False,
    summary='Pause the drain for one entity type (`{"entity_type": ...}`) or all (`{}`)',
    tag=_TAG,
    auth=admin_key,
    body=PauseBody,
    errors=(403,),
    responses={200: Paused},
)
def pause(request: ApiRequest) -> Paused:
    return control.pause(request.json_model(PauseBody).entity_type, request.operator_role)


@route(
    method="POST",
    path="/api/zoho/queue/resume",
    operation="queue_resume",
    body_required=False,
    summary='Resume the drain for one entity type (`{"entity_type": ...}`) or all (`{}`)',
    tag=_TAG,
    auth=admin_key,
    body=PauseBody,
    errors=(403,),
    responses={200: Paused},
)
def resume(request: ApiRequest) -> Paused:
    return control.resume(request.json_model(PauseBody).entity_type, request.operator_role)


@route(
    method="GET",
    path="/api/zoho/dashboard/incidents",
    operation="dashboard_incidents",
    summary="Alert incidents, newest first, with their notifications",
    tag=_TAG,
    auth=admin_key,
    responses={200: IncidentList},
)
def list_incidents(request: ApiRequest) -> IncidentList:
    with read() as connection:
        return IncidentList(incidents=incidents.recent(connection))


@route(
    method="GET",
    path="/api/zoho/dashboard/events",
    operation="dashboard_event_search",
    summary="Queue items (dead letters included) whose payload holds a value anywhere, newest first",
    tag=_TAG,
    auth=admin_key,
    query=EventSearchQuery,
    responses={200: EventSearchPage},
)
def search_events(request: ApiRequest) -> EventSearchPage:
    query = request.query_model(EventSearchQuery)
    with read() as connection:
        rows = search_payloads(connection, query.q, query.limit)
    return EventSearchPage(items=[EventHit.model_validate(row._mapping) for row in rows])


@route(
    method="GET",
    path="/api/zoho/dashboard/audit",
    operation="dashboard_audit",
    summary="The operators' audit trail, newest first",
    tag=_TAG,
    auth=admin_key,
    query=AuditQuery,
    responses={200: AuditPage},
)
def audit_trail(request: ApiRequest) -> AuditPage:
    limit = request.query_model(AuditQuery).limit
    with read() as connection:
        return AuditPage(items=[AuditEntry.model_validate(row._mapping) for row in audit.recent(connection, limit)])


zoho_dashboard = http_function(
    "zoho_dashboard",
    sync_health,
    sync_stats,
    list_dead_letters,
    retry_dead_letter,
    retry_all_dead_letters,
    pause,
    resume,
    replay_matching,
    discard_matching,
    list_incidents,
    search_events,
    audit_trail,
)
