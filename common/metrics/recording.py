"""Recording request metrics: per function and route, counted in memory and flushed as per-minute
aggregates.

The HTTP edge (common.http.handle) calls `record` once per request: a dictionary update under
a lock, no I/O. A host flushes the aggregates to `tds_request_metrics` every few seconds (the
local runner's `MetricsFlusher` thread, AWS Lambda at the end of an invocation when due) and
at shutdown; rows from several processes for the same minute are added up by the readers
(common.metrics.reading).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, insert, select

from common.config import ConfigError, get_settings
from common.logs import get_logger
from common.metrics.aggregate import Aggregate

# Kept at least a day (the page's longest window), otherwise as long as the queue's history
# (common.retention purges them).
MIN_RETENTION_HOURS = 24

log = get_logger("metrics")


_Key = tuple[int, str, str]  # (minute since the epoch, function, route)


class Recorder:
    """This process's unflushed aggregates."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[_Key, Aggregate] = {}
        self._flush_lock = threading.Lock()
        self.last_flush = time.monotonic()

    def record(self, function: str, route: str, status: int, duration_ms: float) -> None:
        key = (int(time.time() // 60), function, route)
        with self._lock:
            aggregate = self._open.get(key)
            if aggregate is None:
                aggregate = self._open[key] = Aggregate()
            aggregate.add(status, duration_ms)

    def _take(self) -> dict[_Key, Aggregate]:
        with self._lock:
            taken, self._open = self._open, {}
        return taken

    def _give_back(self, taken: dict[_Key, Aggregate]) -> None:
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
