"""The Zoho sync dashboard: health (public), statistics and dead letters (admin)."""

from common.http import NO_STORE, ApiRequest, http_function, json_response
from common.keys import admin_key
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
    return dead_letters.replay_one(request.path_id("dead_letter_id", "Dead letter not found"))


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
    return dead_letters.replay_all(request.query_model(RetryAllQuery).entity_type)


zoho_dashboard = http_function(
    "zoho_dashboard", sync_health, sync_stats, list_dead_letters, retry_dead_letter, retry_all_dead_letters
)
