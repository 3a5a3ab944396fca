"""Health and statistics of the Zoho sync, from the queue, the dead letters, the drain runs and,
with Zoho configured, the mirror's passes and its Zoho calls (common.sync.mirror)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from common.clock import utcnow
from common.config import get_settings
from common.db.engine import check_database, get_engine
from common.db.transactions import read
from common.health import DatabaseStatus
from common.metrics.reading import function_stats
from common.sync import mirror, order_push, queue, queue_reads
from common.sync.schemas import (
    DrainSummary,
    EntityStats,
    HourCount,
    MirrorStatus,
    OrdersHealth,
    ProcessingTime,
    QueueDepth,
    QueueHealth,
    QueuePause,
    Received,
    SyncHealth,
    SyncStats,
    WorkersHealth,
)

PENDING_AGE_LIMIT_SECONDS = 300
ORDER_WAIT_LIMIT_SECONDS = 900  # an order not in Zoho after 15 minutes degrades the health
SUCCESS_RATE_FLOOR = 95.0


def sync_health(engine: Engine | None = None) -> SyncHealth:
    """Unhealthy when the database is down; degraded by the contract's rules (the queue's three, and
    the mirror's: a stale full pass, a full pass stopped by its safety rail, a spent Zoho budget),
    and when an order has waited for Zoho over ORDER_WAIT_LIMIT_SECONDS."""
    engine = engine or get_engine()
    now = utcnow()
    database = DatabaseStatus(**check_database(engine))
    if database.status != "ok":
        return SyncHealth(
            status="unhealthy",
            timestamp=now,
            database=database,
            queue=None,
            workers=None,
            issues=["database unavailable"],
        )
    with read(engine) as connection:
        depth = queue_reads.counts_by_status(connection)
        oldest = queue_reads.oldest_pending_since(connection)
        unresolved = queue_reads.unresolved_dead_letter_count(connection)
        rate = _success_rate(*queue_reads.finished_since(connection, now - timedelta(hours=1)))
        last_run = queue_reads.last_drain_run(connection)
        orders = OrdersHealth(**order_push.orders_health(connection, now))
        paused = queue_paused(connection)
        status = _mirror_status(connection, now)
    age = (now - oldest).total_seconds() if oldest else None
    issues = []
    if age is not None and age > PENDING_AGE_LIMIT_SECONDS:
        issues.append(f"oldest pending item has waited {round(age)} s (limit {PENDING_AGE_LIMIT_SECONDS} s)")
    if unresolved:
        issues.append(f"{unresolved} unresolved dead letters")
    if rate is not None and rate < SUCCESS_RATE_FLOOR:
        issues.append(f"success rate over the last hour is {rate}% (floor {SUCCESS_RATE_FLOOR}%)")
    waited = orders.oldest_waiting_age_seconds
    if waited is not None and waited > ORDER_WAIT_LIMIT_SECONDS:
        issues.append(f"an order has waited {round(waited)} s for Zoho (limit {ORDER_WAIT_LIMIT_SECONDS} s)")
    issues.extend(pause_line(pause) for pause in paused)
    if status is not None:
        issues += mirror.mirror_issues(status, now)
    return SyncHealth(
        status="degraded" if issues else "healthy",
        timestamp=now,
        database=database,
        queue=QueueHealth(**depth, oldest_pending_age_seconds=None if age is None else round(age, 1)),
        workers=WorkersHealth(
            last_drain_at=last_run.finished_at if last_run else None,
            last_drain=DrainSummary.model_validate(last_run._mapping) if last_run else None,
        ),
        orders=orders,
        paused=paused,
        mirror=status,
        issues=issues,
    )


def queue_paused(connection: Connection) -> list[QueuePause]:
    return [
        QueuePause(entity_type=row.entity_type, since=row.paused_at, by=row.paused_by)
        for row in queue.pauses(connection)
    ]


def pause_line(pause: QueuePause) -> str:
    """The page's banner and health's issue for one pause: "drain of products paused since ... by admin"."""
    what = "drain of every entity type" if pause.entity_type == queue.ALL_ENTITIES else f"drain of {pause.entity_type}"
    return f"{what} paused since {pause.since.strftime('%Y-%m-%d %H:%M UTC')} by {pause.by}"


def _success_rate(completed: int, dead_lettered: int) -> float | None:
    """Percent of the finished items that completed rather than dead-lettered."""
    finished = completed + dead_lettered
    return round(100.0 * completed / finished, 2) if finished else None


def sync_stats(hours: int, engine: Engine | None = None) -> SyncStats:
    now = utcnow()
    since = now - timedelta(hours=hours)
    with read(engine) as connection:
        per_hour = queue_reads.received_per_hour(connection, since)
        finished = queue_reads.finished_figures(connection, since)
        retried = queue_reads.retried_since(connection, since)
        by_entity = queue_reads.by_entity_since(connection, since)
        p95 = queue_reads.p95_processing_ms(connection, since, finished.timed)
        depth = queue_reads.counts_by_status(connection)
        functions = function_stats(connection, now)
        status = _mirror_status(connection, now)
    return SyncStats(
        window_hours=hours,
        since=since,
        generated_at=now,
        received=Received(
            total=sum(count for _, count in per_hour),
            per_hour=[HourCount(hour=hour, count=count) for hour, count in per_hour],
        ),
        completed=finished.completed,
        retried=retried,
        dead_lettered=finished.dead_lettered,
        stale=finished.stale,
        success_rate=_success_rate(finished.completed, finished.dead_lettered),
        processing_time=ProcessingTime(
            avg_ms=None if finished.avg_ms is None else round(float(finished.avg_ms), 2), p95_ms=p95
        ),
        queue_depth=QueueDepth(**depth),
        by_entity=[EntityStats.model_validate(row._mapping) for row in by_entity],
        functions=functions,
        mirror=status,
    )


def _mirror_status(connection: Connection, now: datetime) -> MirrorStatus | None:
    settings = get_settings()
    return mirror.mirror_status(connection, settings, now) if settings.zoho_configured else None
