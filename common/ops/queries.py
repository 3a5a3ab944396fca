"""What the operations page reads beyond the dashboard API: the hourly chart, the dead letters by
entity type, the last reconcile, and one record's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from common.models import tds_dead_letter_queue as dead_letters
from common.models import tds_sync_cursors
from common.models import tds_sync_queue as q
from common.sync import queue
from common.sync.dashboard import as_utc, hour_of

HISTORY_LIMIT = 100
DEAD_LETTERS_SHOWN = 50


@dataclass(frozen=True)
class HourBar:
    hour: datetime
    received: int
    completed: int
    dead_lettered: int


def hourly(connection: Connection, now: datetime, hours: int = 24) -> list[HourBar]:
    """Received (by arrival) and completed / dead-lettered (by finish) for each of the last `hours` hours."""
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    series: dict[datetime, dict[str, int]] = {
        start + timedelta(hours=index): {"received": 0, "completed": 0, "dead_lettered": 0} for index in range(hours)
    }
    arrived = hour_of(connection, q.c.created_at)
    for hour, count in connection.execute(
        select(arrived, func.count()).where(q.c.created_at >= start).group_by(arrived)
    ):
        series.get(as_utc(hour), {})["received"] = count
    finished = hour_of(connection, q.c.completed_at)
    for hour, status, count in connection.execute(
        select(finished, q.c.status, func.count())
        .where(q.c.completed_at >= start, q.c.status.in_((queue.COMPLETED, queue.DEAD_LETTER)))
        .group_by(finished, q.c.status)
    ):
        series.get(as_utc(hour), {})["completed" if status == queue.COMPLETED else "dead_lettered"] = count
    return [HourBar(hour, **counts) for hour, counts in series.items()]


def unresolved_dead_letters(connection: Connection) -> list:
    return connection.execute(
        select(dead_letters)
        .where(dead_letters.c.resolved.is_(False))
        .order_by(dead_letters.c.created_at.desc(), dead_letters.c.id.desc())
        .limit(DEAD_LETTERS_SHOWN)
    ).all()


def unresolved_by_entity(connection: Connection) -> list[tuple[str, int]]:
    return connection.execute(
        select(dead_letters.c.entity_type, func.count())
        .where(dead_letters.c.resolved.is_(False))
        .group_by(dead_letters.c.entity_type)
        .order_by(dead_letters.c.entity_type)
    ).all()


def last_reconcile(connection: Connection) -> datetime | None:
    """When a reconcile run last committed a page (each page stores its cursor with the time)."""
    return connection.execute(select(func.max(tds_sync_cursors.c.updated_at))).scalar()


def record_history(connection: Connection, zoho_id: str) -> list:
    """Every queued event for one Zoho id, oldest first (any entity type: ids do not collide in practice)."""
    return connection.execute(
        select(q.c.id, q.c.entity_type, q.c.operation_type, q.c.status, q.c.attempt_count, q.c.result,
               q.c.error_message, q.c.payload, q.c.created_at, q.c.completed_at)
        .where(q.c.source_entity_id == zoho_id)
        .order_by(q.c.created_at, q.c.id)
        .limit(HISTORY_LIMIT)
    ).all()  # fmt: skip
