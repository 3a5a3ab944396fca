"""Request metrics: per function and route, counted in memory and flushed as per-minute aggregates.

The HTTP edge (common.http.handle) calls `record` once per request: a dictionary update under
a lock, no I/O. A host flushes the aggregates to `tds_request_metrics` every few seconds (the
local runner's `MetricsFlusher` thread, AWS Lambda at the end of an invocation when due) and
at shutdown; rows from several processes for the same minute are added up by the readers.
Latency goes into fixed buckets, so p50 / p95 / p99 are known to within one bucket.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, delete, insert, select

from common.config import ConfigError, get_settings
from common.logs import get_logger

# Upper bounds (ms) of the latency buckets; one more bucket holds everything slower.
LATENCY_BUCKETS_MS: tuple[float, ...] = (
    1,
    2,
    3,
    5,
    7,
    10,
    15,
    20,
    30,
    50,
    75,
    100,
    150,
    200,
    300,
    500,
    750,
    1000,
    1500,
    2000,
    3000,
    5000,
    10000,
)
# Kept at least a day (the page's longest window), otherwise as long as the queue's history
# (common.retention purges them).
MIN_RETENTION_HOURS = 24

log = get_logger("metrics")


@dataclass
class _Aggregate:
    requests: int = 0
    client_errors: int = 0
    server_errors: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    histogram: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_MS) + 1))

    def add(self, status: int, duration_ms: float) -> None:
        self.requests += 1
        if status >= 500:
            self.server_errors += 1
        elif status >= 400:
            self.client_errors += 1
        self.total_ms += duration_ms
        if duration_ms > self.max_ms:
            self.max_ms = duration_ms
        self.histogram[bisect.bisect_left(LATENCY_BUCKETS_MS, duration_ms)] += 1

    def merge(self, other: _Aggregate) -> None:
        self.requests += other.requests
        self.client_errors += other.client_errors
        self.server_errors += other.server_errors
        self.total_ms += other.total_ms
        self.max_ms = max(self.max_ms, other.max_ms)
        self.histogram = [mine + theirs for mine, theirs in zip(self.histogram, other.histogram, strict=True)]


_Key = tuple[int, str, str]  # (minute since the epoch, function, route)


class Recorder:
    """This process's unflushed aggregates."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[_Key, _Aggregate] = {}
        self._flush_lock = threading.Lock()
        self.last_flush = time.monotonic()

    def record(self, function: str, route: str, status: int, duration_ms: float) -> None:
        key = (int(time.time() // 60), function, route)
        with self._lock:
            aggregate = self._open.get(key)
            if aggregate is None:
                aggregate = self._open[key] = _Aggregate()
            aggregate.add(status, duration_ms)

    def _take(self) -> dict[_Key, _Aggregate]:
        with self._lock:
            taken, self._open = self._open, {}
        return taken

    def _give_back(self, taken: dict[_Key, _Aggregate]) -> None:
        with self._lock:
            for key, aggregate in taken.items():
                current = self._open.get(key)
                if current is None:
                    self._open[key] = aggregate
                else:
                    current.merge(aggregate)

    def flush(self, engine: Engine | None = None) -> int:
        """Write what was recorded since the last flush; the rows written. Never raises: when the
        database is away the aggregates are kept for the next flush."""
        from common.db.transactions import write
        from common.models import tds_request_metrics

        with self._flush_lock:
            self.last_flush = time.monotonic()
            taken = self._take()
            if not taken:
                return 0
            rows = [
                {
                    "minute": datetime.fromtimestamp(minute * 60, UTC),
                    "function": function,
                    "route": route,
                    "requests": aggregate.requests,
                    "client_errors": aggregate.client_errors,
                    "server_errors": aggregate.server_errors,
                    "total_ms": round(aggregate.total_ms, 3),
                    "max_ms": round(aggregate.max_ms, 3),
                    "histogram": aggregate.histogram,
                }
                for (minute, function, route), aggregate in taken.items()
            ]
            try:
                with write(engine) as connection:
                    connection.execute(insert(tds_request_metrics), rows)
            except Exception as exc:  # noqa: BLE001 - metrics must never take a request or a host down
                log.warning("request metrics not flushed, kept for the next try", extra={"error": type(exc).__name__})
                self._give_back(taken)
                return 0
            return len(rows)

    def flush_if_due(self, engine: Engine | None = None) -> int:
        """Flush when the configured interval has passed since the last flush (AWS Lambda's way).
        Never raises: a configuration that does not load has recorded nothing."""
        if not enabled() or time.monotonic() - self.last_flush < _flush_interval():
            return 0
        return self.flush(engine)


RECORDER = Recorder()


def purge_request_metrics(connection: Connection, before: datetime, limit: int) -> int:
    """Forget up to `limit` rows of minutes before `before`."""
    from common.models import tds_request_metrics

    chunk = select(tds_request_metrics.c.id).where(tds_request_metrics.c.minute < before).limit(limit).scalar_subquery()
    return connection.execute(delete(tds_request_metrics).where(tds_request_metrics.c.id.in_(chunk))).rowcount


def _flush_interval() -> float:
    return get_settings().metrics_flush_seconds


def enabled() -> bool:
    """REQUEST_METRICS (on by default); a configuration that does not load records nothing."""
    try:
        return get_settings().request_metrics
    except ConfigError:
        return False


def record(function: str, route: str, status: int, duration_ms: float) -> None:
    """Count one request; the HTTP edge's only call into this module."""
    if enabled():
        RECORDER.record(function, route, status, duration_ms)


class MetricsFlusher:
    """A daemon thread flushing RECORDER every `metrics_flush_seconds`, and once more at stop()."""

    def __init__(self, recorder: Recorder = RECORDER) -> None:
        self.recorder = recorder
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-flusher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(_flush_interval()):
            self.recorder.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.recorder.flush()


# ---------------------------------------------------------------- reading


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


def _window(aggregate: _Aggregate) -> RequestWindow:
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
    windows: dict[str, tuple[_Aggregate, _Aggregate]] = {}
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
        hour, day = windows.setdefault(row.function, (_Aggregate(), _Aggregate()))
        aggregate = _Aggregate(
            row.requests, row.client_errors, row.server_errors, row.total_ms, row.max_ms, list(row.histogram)
        )
        day.merge(aggregate)
        if row.minute >= hour_ago:
            hour.merge(aggregate)
    return [
        FunctionStats(function=name, last_hour=_window(hour), last_24h=_window(day))
        for name, (hour, day) in sorted(windows.items())
    ]
