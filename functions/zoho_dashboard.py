"""The Zoho sync dashboard: health (public); statistics, dead letters, incidents, payload search,
the audit trail, pause and resume, and bulk dead-letter actions (admin; the viewer key reads)."""

from common.http import NO_STORE, ApiRequest, http_function, json_response
from common.ops import api
from common.sync import dashboard, dead_letters
from common.sync.schemas import DeadLetterQuery, RetryAllQuery, StatsQuery


def _health(request: ApiRequest):
    report = dashboard.sync_health()
    return json_response(report, 503 if report.status == "unhealthy" else 200, {"Cache-Control": NO_STORE})


def _stats(request: ApiRequest):
    return dashboard.sync_stats(request.query_model(StatsQuery).hours)


def _dead_letter_list(request: ApiRequest):
    return dead_letters.list_dead_letters(request.query_model(DeadLetterQuery))


def _dead_letter_retry(request: ApiRequest):
    return dead_letters.replay_one(request.path_id("dead_letter_id", "Dead letter not found"), request.operator_role)


def _dead_letter_retry_all(request: ApiRequest):
    return dead_letters.replay_all(request.query_model(RetryAllQuery).entity_type, request.operator_role)


zoho_dashboard = http_function(
    "zoho_dashboard",
    dashboard_health=_health,
    dashboard_stats=_stats,
    dead_letter_list=_dead_letter_list,
    dead_letter_retry=_dead_letter_retry,
    dead_letter_retry_all=_dead_letter_retry_all,
    dead_letter_replay_matching=api.replay_matching,
    dead_letter_discard_matching=api.discard_matching,
    queue_pause=api.pause,
    queue_resume=api.resume,
    dashboard_incidents=api.incidents,
    dashboard_event_search=api.search_events,
    dashboard_audit=api.audit_trail,
)
