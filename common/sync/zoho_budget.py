"""Zoho's limits as one purse for every caller (reconcile, import, full pass, stock reads, order pushes).

Each call to Zoho's API takes one unit of its organisation's minute and one of its day
(`ZOHO_MINUTE_CALL_LIMIT`, `ZOHO_DAILY_CALL_LIMIT`) from `zoho_call_budget`, in one write
transaction: an UPDATE guarded by the limit, which restarts the count when a new period has
begun. Every process and Lambda spends from the same two rows, so together they stay within
the limits; PostgreSQL serialises the UPDATEs on the row, SQLite on its write lock. A refused
unit changes nothing (the transaction rolls back), and the caller learns when to come back.

Zoho's own 429 (which carries no Retry-After) fills the minute, so that every caller waits for
the next one instead of each finding out with a call of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, case, or_, select, update

from common.config import Settings
from common.db import insert, write
from common.models import zoho_call_budget as budget

MINUTE, DAY = "minute", "day"


@dataclass(frozen=True)
class Usage:
    today: int
    limit: int

    @property
    def spent(self) -> bool:
        return self.today >= self.limit


class _Refused(Exception):
    def __init__(self, resume_at: datetime) -> None:
        self.resume_at = resume_at


def _periods(settings: Settings, now: datetime) -> list[tuple[str, datetime, timedelta, int]]:
    """(period, its start, its length, its limit), the minute first."""
    minute = now.replace(second=0, microsecond=0)
    day = minute.replace(hour=0, minute=0)
    return [
        (MINUTE, minute, timedelta(minutes=1), settings.zoho_minute_call_limit),
        (DAY, day, timedelta(days=1), settings.zoho_daily_call_limit),
    ]


def _ensure_row(connection: Connection, organization_id: str, period: str, start: datetime) -> None:
    connection.execute(
        insert(connection, budget)
        .values(organization_id=organization_id, period=period, period_start=start, calls=0)
        .on_conflict_do_nothing(index_elements=[budget.c.organization_id, budget.c.period])
    )


def spend(settings: Settings, now: datetime, engine: Engine | None = None) -> datetime | None:
    """Take one call from the organisation's minute and day: None when granted, else when to try again."""
    organization_id = settings.zoho_organization_id
    try:
        with write(engine) as connection:
            for period, start, length, limit in _periods(settings, now):
                _ensure_row(connection, organization_id, period, start)
                # A stored start older than this period's is a finished period: the count restarts.
                # One a little newer (another process's clock) is this period.
                new_period = budget.c.period_start < start
                granted = connection.execute(
                    update(budget)
                    .where(
                        budget.c.organization_id == organization_id,
                        budget.c.period == period,
                        or_(new_period, budget.c.calls < limit),
                    )
                    .values(
                        calls=case((new_period, 1), else_=budget.c.calls + 1),
                        period_start=case((new_period, start), else_=budget.c.period_start),
                    )
                    .returning(budget.c.calls)
                ).first()
                if granted is None:
                    raise _Refused(start + length)  # rolls back the unit taken from the minute
    except _Refused as refused:
        return refused.resume_at
    return None


def fill_minute(settings: Settings, now: datetime, engine: Engine | None = None) -> datetime:
    """Zoho answered 429: nobody calls again this minute. Returns when the next one starts."""
    [(_, start, length, limit), _] = _periods(settings, now)
    with write(engine) as connection:
        _ensure_row(connection, settings.zoho_organization_id, MINUTE, start)
        connection.execute(
            update(budget)
            .where(budget.c.organization_id == settings.zoho_organization_id, budget.c.period == MINUTE)
            .values(period_start=start, calls=limit)
        )
    return start + length


def usage(connection: Connection, settings: Settings, now: datetime) -> Usage:
    """Calls spent today (UTC) against the day's limit."""
    [_, (_, day, _, limit)] = _periods(settings, now)
    row = connection.execute(
        select(budget.c.period_start, budget.c.calls).where(
            budget.c.organization_id == (settings.zoho_organization_id or ""), budget.c.period == DAY
        )
    ).first()
    return Usage(today=row.calls if row is not None and row.period_start >= day else 0, limit=limit)
