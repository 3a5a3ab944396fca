"""Health and statistics of the Zoho sync, from the queue, the dead letters and the drain runs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, Engine, case, func, literal_column, select

from common.db import check_database, get_engine, is_postgresql, read, utcnow
from common.health import DatabaseStatus
from common.metrics import function_stats
from common.models import tds_dead_letter_queue, tds_drain_runs
from common.models import tds_sync_queue as q
from common.sync import queue
from common.sync.schemas import (
    DrainSummary,
    EntityStats,
    HourCount,
    ProcessingTime,
    QueueDepth,
    QueueHealth,
    Received,
    SyncHealth,
    SyncStats,
    WorkersHealth,
)

PENDING_AGE_LIMIT_SECONDS = 300
SUCCESS_RATE_FLOOR = 95.0


def sync_health(engine: Engine | None = None) -> SyncHealth:
    """Unhealthy when the database is down; degraded by the contract's three rules."""
    engine = engine or get_engine()
    now = utcnow()
    database = DatabaseStatus(**check_database(engine))
    if database.status != "ok":
        return SyncHealth(
            status="unhealthy", timestamp=now, database=database, queue=None, workers=None,
            issues=["database unavailable"],
        )  # fmt: skip
    with read(engine) as connection:
        depth = queue.counts_by_status(connection)
        oldest = queue.oldest_pending_since(connection)
        unresolved = connection.execute(
            select(func.count()).select_from(tds_dead_letter_queue).where(tds_dead_letter_queue.c.resolved.is_(False))
        ).scalar_one()
        rate = _success_rate_since(connection, now - timedelta(hours=1))
        last_run = connection.execute(
            select(tds_drain_runs).order_by(tds_drain_runs.c.finished_at.desc(), tds_drain_runs.c.id.desc()).limit(1)
        ).first()
    age = (now - oldest).total_seconds() if oldest else None
    issues = []
    if age is not None and age > PENDING_AGE_LIMIT_SECONDS:
        issues.append(f"oldest pending item has waited {round(age)} s (limit {PENDING_AGE_LIMIT_SECONDS} s)")
    if unresolved:
        issues.append(f"{unresolved} unresolved dead letters")
    if rate is not None and rate < SUCCESS_RATE_FLOOR:
        issues.append(f"success rate over the last hour is {rate}% (floor {SUCCESS_RATE_FLOOR}%)")
    return SyncHealth(
        status="degraded" if issues else "healthy",
        timestamp=now,
        database=database,
        queue=QueueHealth(**depth, oldest_pending_age_seconds=None if age is None else round(age, 1)),
        workers=WorkersHealth(
            last_drain_at=last_run.finished_at if last_run else None,
            last_drain=DrainSummary.model_validate(last_run._mapping) if last_run else None,
        ),
        issues=issues,
    )


def _count_if(condition):
    """SQL: how many of the rows meet `condition` (0, not NULL, for none)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _success_rate(completed: int, dead_lettered: int) -> float | None:
    """Percent of the finished items that completed rather than dead-lettered."""
    finished = completed + dead_lettered
    return round(100.0 * completed / finished, 2) if finished else None


def _finished_since(since: datetime):
    return (q.c.completed_at >= since, q.c.status.in_((queue.COMPLETED, queue.DEAD_LETTER)))


def _success_rate_since(connection: Connection, since: datetime) -> float | None:
    completed, dead_lettered = connection.execute(
        select(_count_if(q.c.status == queue.COMPLETED), _count_if(q.c.status == queue.DEAD_LETTER)).where(
            *_finished_since(since)
        )
    ).one()
    return _success_rate(completed, dead_lettered)


def hour_of(connection: Connection, column):
    """The UTC hour a timestamp falls in, in each database's own terms."""
    if is_postgresql(connection):
        return func.date_trunc(literal_column("'hour'"), column.op("AT TIME ZONE")(literal_column("'UTC'")))
    return func.strftime("%Y-%m-%d %H:00:00", column)


def _p95(connection: Connection, since: datetime, count: int) -> float | None:
    """The 95th percentile by rank, the same way on both databases (no percentile_cont on SQLite)."""
    if not count:
        return None
    return connection.execute(
        select(q.c.processing_ms)
        .where(q.c.completed_at >= since, q.c.status == queue.COMPLETED, q.c.processing_ms.is_not(None))
        .order_by(q.c.processing_ms)
        .limit(1)
        .offset(int(0.95 * (count - 1)))
    ).scalar()


def sync_stats(hours: int, engine: Engine | None = None) -> SyncStats:
    now = utcnow()
    since = now - timedelta(hours=hours)
    with read(engine) as connection:
        hour = hour_of(connection, q.c.created_at)
        per_hour = connection.execute(
            select(hour.label("hour"), func.count()).where(q.c.created_at >= since).group_by(hour).order_by(hour)
        ).all()
        completed, dead, stale, timed, average = connection.execute(
            select(
                _count_if(q.c.status == queue.COMPLETED),
                _count_if(q.c.status == queue.DEAD_LETTER),
                _count_if(q.c.result == "stale"),
                func.count(q.c.processing_ms),
                func.avg(q.c.processing_ms),
            ).where(*_finished_since(since))
        ).one()
        retried = connection.execute(
            select(func.count()).where(
                q.c.created_at >= since, (q.c.attempt_count > 1) | (q.c.status == queue.RETRY)
            )
        ).scalar_one()
        by_entity = connection.execute(
            select(
                q.c.entity_type,
                func.count(),
                _count_if(q.c.status == queue.COMPLETED),
                _count_if(q.c.status == queue.DEAD_LETTER),
                _count_if(q.c.status.in_(queue.OPEN)),
            )
            .where(q.c.created_at >= since)
            .group_by(q.c.entity_type)
            .order_by(q.c.entity_type)
        ).all()
        p95 = _p95(connection, since, timed)
        depth = queue.counts_by_status(connection)
        functions = function_stats(connection, now)
    return SyncStats(
        window_hours=hours,
        since=since,
        generated_at=now,
        received=Received(
            total=sum(count for _, count in per_hour),
            per_hour=[HourCount(hour=as_utc(hour_value), count=count) for hour_value, count in per_hour],
        ),
        completed=completed,
        retried=retried,
        dead_lettered=dead,
        stale=stale,
        success_rate=_success_rate(completed, dead),
        processing_time=ProcessingTime(
            avg_ms=None if average is None else round(float(average), 2), p95_ms=None if p95 is None else float(p95)
        ),
        queue_depth=QueueDepth(**depth),
        by_entity=[
            EntityStats(entity_type=name, received=total, completed=done, dead_lettered=failed, waiting=open_)
            for name, total, done, failed, open_ in by_entity
        ],
        functions=functions,
    )


def as_utc(value: datetime | str) -> datetime:
    """Hour buckets come back as naive UTC (a string on SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
