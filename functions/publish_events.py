"""The event relay's schedule (every minute): publish due outbox events to EventBridge and run the
local subscribers' deliveries. The drain also relays after each run; functions/purge_history.py
deletes the published events past retention."""

from common.config import get_settings
from common.events.relay import relay

# Below the one-minute period and the function's timeout.
BUDGET_SECONDS = 50.0


def publish_events(event=None, context=None) -> dict:
    """Scheduled entry point (a cron event on AWS, a background event under functions-framework)."""
    return relay(get_settings(), budget_seconds=BUDGET_SECONDS).model_dump()
