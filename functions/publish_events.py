"""The event relay's schedule (every minute): publish due outbox events to EventBridge and run the
local subscribers' deliveries, then push due orders to Zoho as sales orders. The drain also
relays after each run; functions/purge_history.py deletes the published events past retention."""

import time
from dataclasses import asdict

from common.config import get_settings
from common.events.relay import relay
from common.sync.order_push import push_due

# Below the one-minute period and the function's timeout.
BUDGET_SECONDS = 50.0


def publish_events(event=None, context=None) -> dict:
    """Scheduled entry point (a cron event on AWS, a background event under functions-framework)."""
    settings = get_settings()
    started = time.monotonic()
    relayed = relay(settings, budget_seconds=BUDGET_SECONDS).model_dump()
    pushed = push_due(settings, budget_seconds=BUDGET_SECONDS - (time.monotonic() - started))
    return {**relayed, "orders_pushed": asdict(pushed)}
