"""Zoho reconcile: `reconcile_zoho` runs every 15 minutes; `reconcile_zoho_http` is POST /api/zoho/reconcile
for operators. Both queue what changed in Zoho since the stored cursors, through the webhooks' dedupe.

This is the only function that imports `requests` (through the Zoho client); the others do not pay for it.
"""

from common.config import get_settings
from common.http import HTTP_BUDGET_SECONDS, ApiRequest, http_function
from common.keys import admin_key
from common.logs import get_logger
from common.routes import route
from common.sync.reconcile import ReconcileStopped, reconcile
from common.sync.schemas import ReconcileSummary
from common.sync.zoho_client import ZohoNotConfigured

# API gateways cut requests at about 30 s; the scheduled run stays well inside its 15-minute period.
SCHEDULE_BUDGET_SECONDS = 600.0

log = get_logger("reconcile")


def reconcile_zoho(event=None, context=None) -> dict:
    """Scheduled entry point: a run Zoho cuts short returns what it managed (the job logged why)."""
    try:
        return reconcile(get_settings(), budget_seconds=SCHEDULE_BUDGET_SECONDS).model_dump()
    except ZohoNotConfigured:
        log.info("Zoho reconcile skipped: Zoho API is not configured")
        return ReconcileSummary().model_dump()
    except ReconcileStopped as stopped:
        return stopped.summary.model_dump()


@route(
    method="POST",
    path="/api/zoho/reconcile",
    operation="zoho_reconcile",
    summary="Queue what changed in Zoho since the stored cursors (through the webhooks' dedupe)",
    tag="zoho",
    auth=admin_key,
    responses={200: ReconcileSummary},
)
def reconcile_now(request: ApiRequest) -> ReconcileSummary:
    # Zoho failing (ZohoError, a kind of Unavailable) is a 503 with Zoho's Retry-After (common.http).
    return reconcile(request.settings, budget_seconds=HTTP_BUDGET_SECONDS)


reconcile_zoho_http = http_function("reconcile_zoho_http", reconcile_now)
