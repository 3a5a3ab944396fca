"""Reading the alert incidents with their notifications, for the API and the operations page."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, select

from common.models import ops_alert_notifications, ops_incidents
from common.ops.schemas import Incident, NotificationStatus

SHOWN = 50


def recent(connection: Connection, limit: int = SHOWN) -> list[Incident]:
    """The newest incidents (open first), each with its messages in the order they were queued."""
    found = ops_incidents.c
    rows = connection.execute(
        select(ops_incidents)
        .order_by((found.state == "open").desc(), found.opened_at.desc(), found.id.desc())
        .limit(limit)
    ).all()
    sent = ops_alert_notifications.c
    messages = defaultdict(list)
    if rows:
        for message in connection.execute(
            select(ops_alert_notifications).where(sent.incident_id.in_([row.id for row in rows])).order_by(sent.id)
        ):
            messages[message.incident_id].append(
                NotificationStatus(
                    state=message.state,
                    attempts=message.attempts,
                    sent_at=message.sent_at,
                    next_attempt_at=None if message.sent_at else message.next_attempt_at,
                    last_error=message.last_error,
                )
            )
    return [Incident(**{**row._mapping, "notifications": messages[row.id]}) for row in rows]
