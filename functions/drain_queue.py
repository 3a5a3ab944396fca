"""The queue drain: `drain_queue` runs on a schedule (every minute); `drain_queue_http` is
POST /api/zoho/queue/drain for operators. Both drain until nothing is due or the budget is spent,
then relay the events the drain wrote (what is left is `publish_events`' job)."""

from common.config import Settings, get_settings
from common.events.relay import relay
from common.http import HTTP_BUDGET_SECONDS, ApiRequest, http_function
from common.keys import admin_key
from common.ops import jobs
from common.routes import route
from common.sync.drain import drain
from common.sync.schemas import DrainSummary

# The relay after a drain, inside the function's timeout (the drain's budget leaves 10 s of it).
RELAY_BUDGET_SECONDS = 5.0


def _drain_and_relay(settings: Settings, trigger: str, budget: float) -> DrainSummary:
    summary = drain(settings, trigger=trigger, budget_seconds=budget)
    if summary.claimed:
        relay(settings, budget_seconds=RELAY_BUDGET_SECONDS)
    return summary


# After the drain: the alert rules (at most once a minute) and the alert messages due.
WATCH_BUDGET_SECONDS = 5.0


def drain_queue(event=None, context=None) -> dict:
    """Scheduled entry point (a cron event on AWS, a background event under functions-framework).
    Its outcome is recorded for the job_failing alert rule."""
    settings = get_settings()
    try:
        summary = _drain_and_relay(settings, "schedule", settings.tds_drain_budget_seconds)
    except Exception as exc:
        jobs.record(jobs.DRAIN, exc)
        raise
    jobs.record(jobs.DRAIN)
    from common.ops.watch import watch_once  # the schedule's alone: the HTTP drain does not load the alert rules

    watch_once(settings, budget_seconds=WATCH_BUDGET_SECONDS)
    return summary.model_dump()


@route(
    method="POST",
    path="/api/zoho/queue/drain",
    operation="queue_drain",
    summary="Drain the sync queue now (until nothing is due or the time budget is spent)",
    tag="zoho",
    auth=admin_key,
    responses={200: DrainSummary},
)
def drain_now(request: ApiRequest):
    return _drain_and_relay(
        request.settings, "http", min(HTTP_BUDGET_SECONDS, request.settings.tds_drain_budget_seconds)
    )


drain_queue_http = http_function("drain_queue_http", drain_now)
