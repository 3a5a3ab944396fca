"""Zoho reconcile: `reconcile_zoho` runs every 15 minutes (and, with `{"mode": "full"}`, begins the
nightly full pass); `reconcile_zoho_http` is POST /api/zoho/reconcile?mode=incremental|full for
operators. Each call is one bounded step (common.sync.reconcile): the import of an organisation
first, then incremental or full, through the webhooks' dedupe.

This is the only function that imports `requests` (through the Zoho client); the others do not pay for it.
"""

from common.config import get_settings
from common.errors import ServiceUnavailable
from common.http import HTTP_BUDGET_SECONDS, ApiRequest, http_function
from common.logs import get_logger
from common.sync.reconcile import ReconcileStopped, reconcile
from common.sync.schemas import ReconcileQuery, ReconcileSummary
from common.sync.zoho_client import ZohoError, ZohoNotConfigured

# API gateways cut requests at about 30 s; the scheduled run stays well inside its 15-minute period.
SCHEDULE_BUDGET_SECONDS = 600.0

log = get_logger("reconcile")


def reconcile_zoho(event=None, context=None) -> dict:
    """Scheduled entry point: a run Zoho cuts short returns what it managed (the job logged why)."""
    mode = event.get("mode") if isinstance(event, dict) and event.get("mode") == "full" else None
    try:
        return reconcile(get_settings(), mode=mode, budget_seconds=SCHEDULE_BUDGET_SECONDS).model_dump(mode="json")
    except ZohoNotConfigured:
        log.info("Zoho reconcile skipped: Zoho API is not configured")
        return ReconcileSummary().model_dump(mode="json")
    except ReconcileStopped as stopped:
        return stopped.summary.model_dump(mode="json")


def _reconcile_now(request: ApiRequest) -> ReconcileSummary:
    query = request.query_model(ReconcileQuery)
    try:
        return reconcile(request.settings, mode=query.mode, budget_seconds=HTTP_BUDGET_SECONDS)
    except ZohoError as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
        raise ServiceUnavailable(str(exc), headers=headers) from exc


reconcile_zoho_http = http_function("reconcile_zoho_http", zoho_reconcile=_reconcile_now)
