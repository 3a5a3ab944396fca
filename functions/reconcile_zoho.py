"""Zoho reconcile: `reconcile_zoho` runs every 15 minutes (and, with `{"mode": "full"}`, begins the
nightly full pass); `reconcile_zoho_http` is POST /api/zoho/reconcile?mode=incremental|full for
operators. Each call is one bounded step (common.sync.reconcile): the import of an organisation
first, then incremental or full, through the webhooks' dedupe.

This is the only function that imports `requests` (through the Zoho client); the others do not pay for it.
"""

from common.config import get_settings
from common.http import HTTP_BUDGET_SECONDS, ApiRequest, http_function
from common.keys import admin_key
from common.logs import get_logger
from common.ops import jobs
from common.routes import route
from common.sync.reconcile import ReconcileStopped, reconcile
from common.sync.schemas import ReconcileQuery, ReconcileSummary
from common.sync.zoho_client import ZohoNotConfigured

# API gateways cut requests at about 30 s; the scheduled run stays well inside its 15-minute period.
SCHEDULE_BUDGET_SECONDS = 600.0

log = get_logger("reconcile")


def reconcile_zoho(event=None, context=None) -> dict:
    """Scheduled entry point: a run Zoho cuts short returns what it managed (the job logged why).
    Its outcome is recorded for the job_failing alert rule: a run cut short counts as failed."""
    mode = event.get("mode") if isinstance(event, dict) and event.get("mode") == "full" else None
    try:
        summary = reconcile(get_settings(), mode=mode, budget_seconds=SCHEDULE_BUDGET_SECONDS)
    except ZohoNotConfigured:
        log.info("Zoho reconcile skipped: Zoho API is not configured")
        return ReconcileSummary().model_dump(mode="json")
    except ReconcileStopped as stopped:
        jobs.record(jobs.RECONCILE, stopped)
        return stopped.summary.model_dump(mode="json")
    except Exception as exc:
        jobs.record(jobs.RECONCILE, exc)
        raise
    jobs.record(jobs.RECONCILE)
    return summary.model_dump(mode="json")


@route(
    method="POST",
    path="/api/zoho/reconcile",
    operation="zoho_reconcile",
    summary="One step of the reconcile (the import first; incremental or full): repeat while complete is false",
    tag="zoho",
    auth=admin_key,
    query=ReconcileQuery,
    responses={200: ReconcileSummary},
)
def reconcile_now(request: ApiRequest) -> ReconcileSummary:
    # Zoho failing (ZohoError, a kind of Unavailable) is a 503 with Zoho's Retry-After (common.http).
    query = request.query_model(ReconcileQuery)
    return reconcile(request.settings, mode=query.mode, budget_seconds=HTTP_BUDGET_SECONDS)


reconcile_zoho_http = http_function("reconcile_zoho_http", reconcile_now)
