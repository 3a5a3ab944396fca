"""AWS clients, all built here with explicit time limits.

botocore's defaults (60 s to connect, 60 s to read, retried up to 5 times) would let one endpoint
that accepts and never answers hold a function until Lambda kills it; every call here ends well
inside the shortest function's limit instead. boto3 is imported on first use: the Lambda Python
runtime provides it, and a function that never calls AWS never pays for importing it.
"""

from __future__ import annotations

from typing import Any

# A regional endpoint or a VPC interface endpoint connects in milliseconds and answers these
# small calls in well under a second; the margins are for a slow start, not for waiting.
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 3.0
# Standard mode's backoff sleeps at most this long between two attempts.
MAX_BACKOFF_SECONDS = 1.0


def worst_case_seconds(attempts: int) -> float:
    """How long one call made with `client(..., attempts=attempts)` can take at most."""
    return attempts * (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS) + (attempts - 1) * MAX_BACKOFF_SECONDS


def client(service: str, *, attempts: int) -> Any:
    """A boto3 client for `service` whose calls make at most `attempts` attempts, each with
    the timeouts above (`worst_case_seconds` in all). AWS_ENDPOINT_URL, when set, points every
    client at another endpoint (moto_server in tests)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"total_max_attempts": attempts, "mode": "standard"},
    )
    return boto3.client(service, config=config)
