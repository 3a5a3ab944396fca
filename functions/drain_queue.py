"""The queue drain: `drain_queue` runs on a schedule (every minute); `drain_queue_http` is
POST /api/zoho/queue/drain for operators. Both drain until nothing is due or the budget is spent."""

from common.config import get_settings
from common.http import ApiRequest, http_function
from common.keys import require_admin_key
from common.sync.drain import drain

# API gateways cut requests at about 30 s; a scheduled run may use the configured budget.
HTTP_BUDGET_SECONDS = 20.0


def drain_queue(event=None, context=None) -> dict:
    """Scheduled entry point (a cron event on AWS, a background event under functions-framework)."""
    settings = get_settings()
    return drain(settings, trigger="schedule", budget_seconds=settings.tds_drain_budget_seconds).model_dump()


def _drain_now(request: ApiRequest):
    require_admin_key(request)
    budget = min(HTTP_BUDGET_SECONDS, request.settings.tds_drain_budget_seconds)
    return drain(request.settings, trigger="http", budget_seconds=budget)


drain_queue_http = http_function("drain_queue_http", queue_drain=_drain_now)
