"""What the operations page reads beyond the dashboard API and common.sync.queue_reads: the hourly
chart's series and the last reconcile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from common.models import tds_sync_cursors
from common.sync import queue_reads
from common.sync.queue import COMPLETED


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
    for hour, count in queue_reads.received_per_hour(connection, start):
        series.get(hour, {})["received"] = count
    for hour, status, count in queue_reads.finished_per_hour(connection, start):
        series.get(hour, {})["completed" if status == COMPLETED else "dead_lettered"] = count
    return [HourBar(hour, **counts) for hour, counts in series.items()]


def last_reconcile(connection: Connection) -> datetime | None:
    """When a reconcile run last committed a page (each page stores its cursor with the time)."""
    return connection.execute(select(func.max(tds_sync_cursors.c.updated_at))).scalar()
