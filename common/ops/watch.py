"""Who runs the alert rules and sends their messages: the scheduled drain function after each
run (`watch_once`), and in the local runner a thread of the coordinating process (`AlertTimer`).
Neither is a request or the drain itself, so a slow alert endpoint delays no one."""

from __future__ import annotations

from sqlalchemy import Engine

from common.config import Settings
from common.logs import get_logger
from common.ops import notify
from common.ops.alerts import AlertClock
from common.periodic import PeriodicJob

log = get_logger("ops.watch")

CLOCK = AlertClock()
# How often the runner's thread looks for due rules and messages.
WATCH_INTERVAL_SECONDS = 15.0


def watch_once(settings: Settings, engine: Engine | None = None, budget_seconds: float = 20.0) -> None:
    """Evaluate the rules if a minute has passed, then send the due messages; never raises."""
    try:
        CLOCK.evaluate_if_due(settings, engine)
        notify.deliver_due(settings, engine, budget_seconds)
    except Exception:  # alerting must not break the job that hosts it
        log.exception("alert evaluation or delivery failed; trying again at the next run")


class AlertTimer(PeriodicJob):
    """The local runner's alert watcher: one thread of the coordinating process."""

    def __init__(self, settings: Settings, interval_seconds: float = WATCH_INTERVAL_SECONDS) -> None:
        super().__init__("alert watch", interval_seconds, lambda: watch_once(settings))
