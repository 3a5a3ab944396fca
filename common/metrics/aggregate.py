"""One minute's requests of one function and route: counts, and latency in fixed buckets, so that
p50 / p95 / p99 are known to within one bucket and minutes from several processes add up."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

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


@dataclass
class Aggregate:
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

    def merge(self, other: Aggregate) -> None:
        self.requests += other.requests
        self.client_errors += other.client_errors
        self.server_errors += other.server_errors
        self.total_ms += other.total_ms
        self.max_ms = max(self.max_ms, other.max_ms)
        self.histogram = [kept + added for kept, added in zip(self.histogram, other.histogram, strict=True)]
