"""The queue's read-only statements: the dashboard's health and statistics, the operations page's
chart, dead letters and record history, and the dead-letter list. Every write is in common.sync.queue.

Hour buckets come back as aware UTC datetimes on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Row, Text, case, cast, func, literal_column, select

from common.db import is_postgresql
from common.models import tds_dead_letter_queue, tds_drain_runs, tds_sync_queue
from common.sync.queue import COMPLETED, DEAD_LETTER, OPEN, PENDING, RETRY, STALE, STATUSES

# What the dead-letter list shows of a stored payload and error. The table can hold rows no page
# could render (megabytes of payload, nesting past every serialiser's limit, written by an older
# version or by hand); replay reads the row itself, so trimming the view loses nothing.
SHOWN_PAYLOAD_CHARS = 64 * 1024
SHOWN_ERROR_CHARS = 4000

_FINISHED = (COMPLETED, DEAD_LETTER)


def _count_if(condition):
    """SQL: how many of the rows meet `condition` (0, not NULL, for none)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _hour_of(connection: Connection, column):
    """The UTC hour a timestamp falls in, in each database's own terms."""
    if is_postgresql(connection):
        return func.date_trunc(literal_column("'hour'"), column.op("AT TIME ZONE")(literal_column("'UTC'")))
    return func.strftime("%Y-%m-%d %H:00:00", column)


def _as_utc(value: datetime | str) -> datetime:
    """Hour buckets come back as naive UTC (a string on SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _finished_since(since: datetime):
    return tds_sync_queue.c.completed_at >= since, tds_sync_queue.c.status.in_(_FINISHED)


# ---------------------------------------------------------------- health


def counts_by_status(connection: Connection) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    status = tds_sync_queue.c.status
    counts.update(connection.execute(select(status, func.count()).group_by(status)).all())
    return counts


def count_open(connection: Connection) -> int:
    """Items waiting for or in a drain (the claim's partial index holds exactly these)."""
    return connection.execute(
        select(func.count()).select_from(tds_sync_queue).where(tds_sync_queue.c.status.in_(OPEN))
    ).scalar_one()


def oldest_pending_since(connection: Connection) -> datetime | None:
    items = tds_sync_queue.c
    return connection.execute(select(func.min(items.created_at)).where(items.status == PENDING)).scalar()


def unresolved_dead_letter_count(connection: Connection) -> int:
    letters = tds_dead_letter_queue.c
    return connection.execute(
        select(func.count()).select_from(tds_dead_letter_queue).where(letters.resolved.is_(False))
    ).scalar_one()


def last_drain_run(connection: Connection) -> Row | None:
    runs = tds_drain_runs.c
    return connection.execute(select(tds_drain_runs).order_by(runs.finished_at.desc(), runs.id.desc()).limit(1)).first()


def finished_since(connection: Connection, since: datetime) -> tuple[int, int]:
    """(completed, dead-lettered) among the items finished since `since`."""
    status = tds_sync_queue.c.status
    completed, dead_lettered = connection.execute(
        select(_count_if(status == COMPLETED), _count_if(status == DEAD_LETTER)).where(*_finished_since(since))
    ).one()
    return completed, dead_lettered


# ---------------------------------------------------------------- statistics


def received_per_hour(connection: Connection, since: datetime) -> list[tuple[datetime, int]]:
    """Items received (by arrival) in each hour since `since` that has any, oldest first."""
    hour = _hour_of(connection, tds_sync_queue.c.created_at)
    rows = connection.execute(
        select(hour, func.count()).where(tds_sync_queue.c.created_at >= since).group_by(hour).order_by(hour)
    ).all()
    return [(_as_utc(bucket), count) for bucket, count in rows]


def finished_per_hour(connection: Connection, since: datetime) -> list[tuple[datetime, str, int]]:
    """Items finished (completed or dead-lettered, by finish) in each hour since `since`, per status."""
    hour = _hour_of(connection, tds_sync_queue.c.completed_at)
    status = tds_sync_queue.c.status
    rows = connection.execute(
        select(hour, status, func.count()).where(*_finished_since(since)).group_by(hour, status)
    ).all()
    return [(_as_utc(bucket), state, count) for bucket, state, count in rows]


def finished_figures(connection: Connection, since: datetime) -> Row:
    """Of the items finished since `since`: completed, dead_lettered, stale, timed (with a
    processing time) and avg_ms."""
    items = tds_sync_queue.c
    return connection.execute(
        select(
            _count_if(items.status == COMPLETED).label("completed"),
            _count_if(items.status == DEAD_LETTER).label("dead_lettered"),
            _count_if(items.result == STALE).label("stale"),
            func.count(items.processing_ms).label("timed"),
            func.avg(items.processing_ms).label("avg_ms"),
        ).where(*_finished_since(since))
    ).one()


def retried_since(connection: Connection, since: datetime) -> int:
    """Items received since `since` that needed more than one attempt, or wait for another."""
    items = tds_sync_queue.c
    return connection.execute(
        select(func.count()).where(items.created_at >= since, (items.attempt_count > 1) | (items.status == RETRY))
    ).scalar_one()


def by_entity_since(connection: Connection, since: datetime) -> Sequence[Row]:
    """Per entity type, of the items received since `since`: received, completed, dead_lettered, waiting."""
    items = tds_sync_queue.c
    return connection.execute(
        select(
            items.entity_type,
            func.count().label("received"),
            _count_if(items.status == COMPLETED).label("completed"),
            _count_if(items.status == DEAD_LETTER).label("dead_lettered"),
            _count_if(items.status.in_(OPEN)).label("waiting"),
        )
        .where(items.created_at >= since)
        .group_by(items.entity_type)
        .order_by(items.entity_type)
    ).all()


def p95_processing_ms(connection: Connection, since: datetime, count: int) -> float | None:
    """The 95th percentile of the `count` timed items completed since `since`, by rank, the same
    way on both databases (no percentile_cont on SQLite)."""
    if not count:
        return None
    items = tds_sync_queue.c
    value = connection.execute(
        select(items.processing_ms)
        .where(items.completed_at >= since, items.status == COMPLETED, items.processing_ms.is_not(None))
        .order_by(items.processing_ms)
        .limit(1)
        .offset(int(0.95 * (count - 1)))
    ).scalar()
    return None if value is None else float(value)


# ---------------------------------------------------------------- dead letters and history


_payload_text = cast(tds_dead_letter_queue.c.last_payload, Text)
_LISTED = (
    *(column for column in tds_dead_letter_queue.c if column.name not in ("last_payload", "last_error_message")),
    func.substr(tds_dead_letter_queue.c.last_error_message, 1, SHOWN_ERROR_CHARS).label("last_error_message"),
    # Only a bounded prefix crosses the wire; the length says whether that is all of it.
    func.substr(_payload_text, 1, SHOWN_PAYLOAD_CHARS).label("payload_text"),
    func.length(_payload_text).label("payload_chars"),
)


def dead_letter_page(
    connection: Connection, *, include_resolved: bool, entity_type: str | None, limit: int, offset: int
) -> tuple[int, Sequence[Row]]:
    """(how many match, one page of them newest first): each with its error trimmed and, instead of
    its payload, `payload_text` (a prefix) and `payload_chars` (the whole length)."""
    letters = tds_dead_letter_queue.c
    filters = []
    if not include_resolved:
        filters.append(letters.resolved.is_(False))
    if entity_type:
        filters.append(letters.entity_type == entity_type)
    total = connection.execute(select(func.count()).select_from(tds_dead_letter_queue).where(*filters)).scalar_one()
    newest_first = (letters.created_at.desc(), letters.id.desc())
    # The page's ids first: the payloads' text is then made for those rows only, not for every
    # row the sort reads (megabytes each).
    ids = connection.execute(select(letters.id).where(*filters).order_by(*newest_first).limit(limit).offset(offset))
    rows = connection.execute(select(*_LISTED).where(letters.id.in_(ids.scalars().all())).order_by(*newest_first))
    return total, rows.all()


def unresolved_by_entity(connection: Connection) -> Sequence[Row]:
    letters = tds_dead_letter_queue.c
    return connection.execute(
        select(letters.entity_type, func.count())
        .where(letters.resolved.is_(False))
        .group_by(letters.entity_type)
        .order_by(letters.entity_type)
    ).all()


_event_payload_text = cast(tds_sync_queue.c.payload, Text)


def record_history(connection: Connection, zoho_id: str, limit: int, offset: int) -> tuple[int, Sequence[Row]]:
    """(how many events, one page of them oldest first) for one Zoho id (any entity type: ids do
    not collide in practice), each with `payload_text` (a prefix) and `payload_chars` instead of
    its payload, as the dead-letter list has."""
    items = tds_sync_queue.c
    total = connection.execute(select(func.count()).where(items.source_entity_id == zoho_id)).scalar_one()
    oldest_first = (items.created_at, items.id)
    ids = connection.execute(
        select(items.id).where(items.source_entity_id == zoho_id).order_by(*oldest_first).limit(limit).offset(offset)
    )  # the page's ids first, as for the dead letters
    rows = connection.execute(
        select(items.id, items.entity_type, items.operation_type, items.status, items.attempt_count, items.result,
               func.substr(items.error_message, 1, SHOWN_ERROR_CHARS).label("error_message"),
               func.substr(_event_payload_text, 1, SHOWN_PAYLOAD_CHARS).label("payload_text"),
               func.length(_event_payload_text).label("payload_chars"), items.created_at, items.completed_at)
        .where(items.id.in_(ids.scalars().all()))
        .order_by(*oldest_first)
    ).all()  # fmt: skip
    return total, rows


def stored_payload(connection: Connection, source: str, row_id: int) -> Any:
    """The whole stored payload of a queue item ("event") or a dead letter, for a download; None
    when there is no such row (or a dead letter without a payload)."""
    column = tds_sync_queue.c.payload if source == "event" else tds_dead_letter_queue.c.last_payload
    return connection.execute(select(column).where(column.table.c.id == row_id)).scalar()
