"""The alert webhook's own small queue (ops_alert_notifications): messages are queued in the
transaction that changes their incident and sent later by `deliver_due`, at least once, each
POST with a timeout, a failure retried with backoff (its error shown on the operations page).

One body suits Slack's and Microsoft Teams' incoming webhooks (`text`) and any other receiver
(`alert`). An incident's messages leave in order: a later one waits until the earlier is sent.
Without ALERT_WEBHOOK_URL nothing is queued; the incidents are still listed.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, exists, select, update
from sqlalchemy.orm import aliased

from common.clock import utcnow
from common.config import Settings
from common.db.transactions import write
from common.logs import get_logger
from common.models import ops_alert_notifications
from common.retry import Backoff

log = get_logger("ops.notify")

SEND_TIMEOUT_SECONDS = 5.0
# A message being sent is held this long; a sender that died mid-way leaves it due again after.
_LEASE = timedelta(seconds=60)
_BACKOFF = Backoff(base_seconds=30.0, cap_seconds=3600.0)
_BATCH = 20
_MAX_ERROR_CHARS = 500


def _when(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def message_body(incident: dict[str, Any], repeat: bool = False) -> dict[str, Any]:
    state = incident["state"]
    label = "RESOLVED" if state == "resolved" else ("STILL OPEN" if repeat else "OPEN")
    opened = incident["opened_at"].strftime("%Y-%m-%d %H:%M UTC")
    text = f"[{label}] TSH ERP sync alert {incident['rule']}: {incident['summary']} (opened {opened})"
    alert = {
        "id": incident["id"],
        "rule": incident["rule"],
        "state": state,
        "summary": incident["summary"],
        "opened_at": _when(incident["opened_at"]),
        "resolved_at": _when(incident["resolved_at"]),
    }
    return {"text": text, "alert": alert}


def queue_message(
    connection: Connection, incident: dict[str, Any], now: datetime, settings: Settings, repeat: bool = False
) -> None:
    if not settings.alert_webhook_url:
        return
    connection.execute(
        ops_alert_notifications.insert().values(
            incident_id=incident["id"],
            state=incident["state"],
            body=message_body(incident, repeat),
            next_attempt_at=now,
            created_at=now,
        )
    )


def _claim(connection: Connection, now: datetime) -> list[Any]:
    """Due messages whose incident has no earlier unsent one, held for this sender."""
    sent = ops_alert_notifications.c
    earlier = aliased(ops_alert_notifications)
    waits = exists().where(
        and_(earlier.c.incident_id == sent.incident_id, earlier.c.id < sent.id, earlier.c.sent_at.is_(None))
    )
    due = connection.execute(
        select(sent.id, sent.body, sent.attempts)
        .where(sent.sent_at.is_(None), sent.next_attempt_at <= now, ~waits)
        .order_by(sent.id)
        .limit(_BATCH)
    ).all()
    held = []
    for row in due:
        taken = connection.execute(
            update(ops_alert_notifications)
            .where(sent.id == row.id, sent.sent_at.is_(None), sent.next_attempt_at <= now)
            .values(next_attempt_at=now + _LEASE)
        ).rowcount
        if taken:
            held.append(row)
    return held


def post(url: str, body: dict[str, Any], timeout: float = SEND_TIMEOUT_SECONDS) -> None:
    """POST the JSON body; raises on a connection failure, a timeout or a non-2xx answer."""
    import urllib.request  # imported when a message is sent, not at every drain's cold start

    request = urllib.request.Request(
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "tsh-erp-alerts"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # http(s) only: checked by the settings
        answer.read(1024)


def _describe(exc: Exception) -> str:
    import urllib.error

    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return f"unreachable: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"


def deliver_due(
    settings: Settings, engine: Engine | None = None, budget_seconds: float = 20.0, now: datetime | None = None
) -> int:
    """Send the messages due at `now` (within about `budget_seconds`); returns how many were sent."""
    if not settings.alert_webhook_url:
        return 0
    url = settings.alert_webhook_url.get_secret_value()
    now = now or utcnow()
    deadline = time.monotonic() + budget_seconds
    with write(engine) as connection:
        held = _claim(connection, now)
    sent = 0
    for row in held:
        if time.monotonic() >= deadline:
            changes = {"next_attempt_at": now}  # not tried: due again at once
        else:
            try:
                post(url, row.body)
            except Exception as exc:  # noqa: BLE001 - every failure is retried and shown
                attempts = row.attempts + 1
                changes = {
                    "attempts": attempts,
                    "last_error": _describe(exc)[:_MAX_ERROR_CHARS],
                    "next_attempt_at": now + timedelta(seconds=_BACKOFF.delay(attempts)),
                }
                log.warning("alert not delivered", extra={"notification": row.id, "error": changes["last_error"]})
            else:
                changes = {"attempts": row.attempts + 1, "sent_at": now, "last_error": None}
                sent += 1
        with write(engine) as connection:
            connection.execute(
                update(ops_alert_notifications).where(ops_alert_notifications.c.id == row.id).values(**changes)
            )
    return sent
