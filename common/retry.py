"""When to try a failed item again: exponential backoff with jitter, capped."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 10.0
    cap_seconds: float = 3600.0

    def delay(self, attempt: int, fraction: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based).

        "Equal jitter": half of the exponential step is fixed, half is random, so retries of
        items that failed together spread out but never come back sooner than half the step.
        """
        step = min(self.cap_seconds, self.base_seconds * 2 ** min(attempt - 1, 32))
        fraction = random.random() if fraction is None else fraction
        return step / 2 + step / 2 * fraction
