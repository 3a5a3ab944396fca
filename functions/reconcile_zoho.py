"""Zoho reconcile: `reconcile_zoho` runs every 15 minutes; `reconcile_zoho_http` is POST /api/zoho/reconcile
for operators. Both queue what changed in Zoho since the stored cursors, through the webhooks' dedupe.

This is the only function that imports `requests` (through the Zoho client); the others do not pay for it.
"""

from common.config import get_settings
from common.errors import ServiceUnavailable
from common.http import HTTP_BUDGET_SECONDS, ApiRequest, http_function
from common.logs import get_logger
from common.ops import jobs
from common.sync.reconcile import ReconcileStopped, reconcile
from common.sync.schemas import ReconcileSummary
from common.sync.zoho_client import ZohoError, ZohoNotConfigured

# API gateways cut requests at about 30 s; the scheduled run stays well inside its 15-minute period.
SCHEDULE_BUDGET_SECONDS = 600.0

log = get_logger("reconcile")


def reconcile_zoho(event=None, context=None) -> dict:
    """Scheduled entry point: a run Zoho cuts short returns what it managed (the job logged why).
    Its outcome is recorded for the job_failing alert rule: a run cut short counts as failed."""
    try:
        summary = reconcile(get_settings(), budget_seconds=SCHEDULE_BUDGET_SECONDS)
    except ZohoNotConfigured:
        log.info("Zoho reconcile skipped: Zoho API is not configured")
        return ReconcileSummary().model_dump()
    except ReconcileStopped as stopped:
        jobs.record(jobs.RECONCILE, stopped)
        return stopped.summary.model_dump()
    except Exception as exc:
        jobs.record(jobs.RECONCILE, exc)
        raise
    jobs.record(jobs.RECONCILE)
    return summary.model_dump()


def _reconcile_now(request: ApiRequest) -> ReconcileSummary:
    try:
        return reconcile(request.settings, budget_seconds=HTTP_BUDGET_SECONDS)
    except ZohoError as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
        raise ServiceUnavailable(str(exc), headers=headers) from exc


reconcile_zoho_http = http_function("reconcile_zoho_http", zoho_reconcile=_reconcile_now)
