"""Reading request metrics back: each function's requests over the last hour and day, from the
per-minute rows the hosts flushed (common.metrics.recording)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import Connection, select

from common.metrics.aggregate import LATENCY_BUCKETS_MS, Aggregate


class RequestWindow(BaseModel):
    requests: int
    client_errors: int = Field(description="Answers 400-499")
    server_errors: int = Field(description="Answers 500 and above")
    error_rate: float | None = Field(description="Percent of requests answered 5xx")
    client_error_rate: float | None = Field(description="Percent of requests answered 4xx")
    avg_ms: float | None
    p50_ms: float | None = Field(description="Upper bound of the latency bucket holding the median")
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


class FunctionStats(BaseModel):
    function: str
    last_hour: RequestWindow
    last_24h: RequestWindow


def _percentile(histogram: list[int], count: int, fraction: float, max_ms: float) -> float | None:
    if not count:
        return None
    rank = max(1, math.ceil(fraction * count))
    seen = 0
    for index, bucket_count in enumerate(histogram):
        seen += bucket_count
        if seen >= rank:
            bound = LATENCY_BUCKETS_MS[index] if index < len(LATENCY_BUCKETS_MS) else max_ms
            return float(min(bound, max_ms))
    return float(max_ms)


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _window(aggregate: Aggregate) -> RequestWindow:
    count = aggregate.requests
    return RequestWindow(
        requests=count,
        client_errors=aggregate.client_errors,
        server_errors=aggregate.server_errors,
        error_rate=_percent(aggregate.server_errors, count),
        client_error_rate=_percent(aggregate.client_errors, count),
        avg_ms=round(aggregate.total_ms / count, 2) if count else None,
        p50_ms=_percentile(aggregate.histogram, count, 0.50, aggregate.max_ms),
        p95_ms=_percentile(aggregate.histogram, count, 0.95, aggregate.max_ms),
        p99_ms=_percentile(aggregate.histogram, count, 0.99, aggregate.max_ms),
        max_ms=round(aggregate.max_ms, 2) if count else None,
    )


def function_stats(connection: Connection, now: datetime) -> list[FunctionStats]:
    """Each function's requests over the last hour and the last 24 hours (flushed minutes only)."""
    from common.models import tds_request_metrics as m

    hour_ago, day_ago = now - timedelta(hours=1), now - timedelta(hours=24)
    windows: dict[str, tuple[Aggregate, Aggregate]] = {}
    rows = connection.execute(
        select(
            m.c.function,
            m.c.minute,
            m.c.requests,
            m.c.client_errors,
            m.c.server_errors,
            m.c.total_ms,
            m.c.max_ms,
            m.c.histogram,
        ).where(m.c.minute >= day_ago)
    )
    for row in rows:
        hour, day = windows.setdefault(row.function, (Aggregate(), Aggregate()))
        aggregate = Aggregate(
            row.requests, row.client_errors, row.server_errors, row.total_ms, row.max_ms, list(row.histogram)
        )
        day.merge(aggregate)
        if row.minute >= hour_ago:
            hour.merge(aggregate)
    return [
        FunctionStats(function=name, last_hour=_window(hour), last_24h=_window(day))
        for name, (hour, day) in sorted(windows.items())
    ]
