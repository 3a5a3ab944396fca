"""The clock every stored timestamp comes from: UTC, timezone-aware."""

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
