"""Amazon EventBridge: each event is one entry on the bus, source `tsh.erp`, detail-type its type.

boto3 is imported when the first publisher is made, and only when a bus is configured, so
that functions which never publish do not pay for it at cold start.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from common.events.outbox import OutboxRow

SOURCE = "tsh.erp"
MAX_ENTRIES = 10  # PutEvents takes at most 10 entries per call


class Publisher(Protocol):
    def publish(self, rows: Sequence[OutboxRow]) -> list[str | None]:
        """Send up to MAX_ENTRIES events; per row, None when the bus accepted it, else why not.
        Raises when the whole call failed."""


def entry(row: OutboxRow, bus_name: str) -> dict[str, Any]:
    return {
        "Source": SOURCE,
        "DetailType": row.event_type,
        "Detail": json.dumps(row.payload, ensure_ascii=False, separators=(",", ":")),
        "EventBusName": bus_name,
        "Time": row.occurred_at,
        "Resources": [],
    }


class EventBridgePublisher:
    def __init__(self, bus_name: str, client: Any = None) -> None:
        self.bus_name = bus_name
        self.client = client if client is not None else _client()

    def publish(self, rows: Sequence[OutboxRow]) -> list[str | None]:
        if len(rows) > MAX_ENTRIES:
            raise ValueError(f"PutEvents takes at most {MAX_ENTRIES} entries")
        answer = self.client.put_events(Entries=[entry(row, self.bus_name) for row in rows])
        results = answer.get("Entries", [])
        if len(results) != len(rows):  # the bus must answer for every entry; anything else is a failed call
            raise RuntimeError(f"PutEvents answered {len(results)} entries for {len(rows)}")
        return [
            None
            if result.get("EventId") and not result.get("ErrorCode")
            else f"{result.get('ErrorCode', 'Unknown')}: {result.get('ErrorMessage', '')}".strip()
            for result in results
        ]


def _client() -> Any:
    from common import aws

    # One attempt: the relay retries with its own backoff, and a stuck call must not hold the
    # outbox rows it claimed for long.
    return aws.client("events", attempts=1)
