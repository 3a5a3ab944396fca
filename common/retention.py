"""Retention: one job deletes the history older than TDS_RETENTION_HOURS, in chunks.

What goes: completed queue items (their dedupe keys with them; open and dead-lettered items
stay), drain runs, published events whose every delivery is done, request metrics (kept at
least MIN_RETENTION_HOURS, the operations page's longest window), scheduled jobs' outcomes,
resolved alert incidents, and the operators' audit trail (kept at least 90 days). The job runs every hour as the
scheduled function `purge_history` and, in the local runner, on a timer in the coordinating
process (`RetentionTimer`); no drain, relay or request purges.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import Connection, Engine

from common.clock import utcnow
from common.config import Settings
from common.db.transactions import delete_in_chunks
from common.events import outbox
from common.logs import get_logger
from common.metrics.recording import MIN_RETENTION_HOURS, purge_request_metrics
from common.ops import alerts, audit, jobs
from common.periodic import PeriodicJob
from common.sync import queue

log = get_logger("retention")

# The local runner's period; serverless.yml schedules the function at the same rate.
PURGE_INTERVAL_SECONDS = 3600.0


class PurgeSummary(BaseModel):
    """Rows deleted by one purge."""

    queue_items: int
    drain_runs: int
    events: int
    request_metrics: int
    job_runs: int
    incidents: int
    audit_entries: int


def purge_history(settings: Settings, engine: Engine | None = None) -> PurgeSummary:
    """Delete what is past retention now, each table in chunks."""
    now = utcnow()
    before = now - timedelta(hours=settings.tds_retention_hours)
    metrics_before = now - timedelta(hours=max(MIN_RETENTION_HOURS, settings.tds_retention_hours))
    audit_before = now - timedelta(hours=max(audit.MIN_RETENTION_HOURS, settings.tds_retention_hours))

    def purge(delete_chunk: Callable[[Connection, datetime, int], int], cutoff: datetime) -> int:
        return delete_in_chunks(engine, lambda connection, limit: delete_chunk(connection, cutoff, limit))

    summary = PurgeSummary(
        queue_items=purge(queue.purge_completed, before),
        drain_runs=purge(queue.purge_drain_runs, before),
        events=purge(outbox.purge_published, before),
        request_metrics=purge(purge_request_metrics, metrics_before),
        job_runs=purge(jobs.purge, before),
        incidents=purge(alerts.purge_resolved, before),
        audit_entries=purge(audit.purge, audit_before),
    )
    log.info("history purged", extra=summary.model_dump())
    return summary


class RetentionTimer(PeriodicJob):
    """The local runner's retention job: a purge at start, then one every `interval_seconds`."""

    def __init__(self, settings: Settings, interval_seconds: float = PURGE_INTERVAL_SECONDS) -> None:
        super().__init__("history purge", interval_seconds, lambda: purge_history(settings))
