"""The clock every stored timestamp comes from: UTC, timezone-aware."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
