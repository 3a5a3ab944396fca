"""The operators' audit trail: who (by role) did what, with which filter, to how many rows.

A change and its audit row commit in one transaction, so the trail never misses a change that
happened nor records one that rolled back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from common.clock import utcnow
from common.models import ops_audit_log

LOGIN, LOGOUT, REPLAY, DISCARD, PAUSE, RESUME = "login", "logout", "replay", "discard", "pause", "resume"
# Kept at least this long, whatever TDS_RETENTION_HOURS says (common.retention).
MIN_RETENTION_HOURS = 90 * 24


def record(
    connection: Connection, role: str, action: str, detail: dict[str, Any] | None = None, affected: int | None = None
) -> None:
    connection.execute(
        ops_audit_log.insert().values(at=utcnow(), role=role, action=action, detail=detail, affected=affected)
    )


def recent(connection: Connection, limit: int) -> Sequence[Row]:
    log = ops_audit_log.c
    return connection.execute(select(ops_audit_log).order_by(log.at.desc(), log.id.desc()).limit(limit)).all()


def purge(connection: Connection, before: datetime, limit: int) -> int:
    """Forget up to `limit` entries written before `before`."""
    chunk = select(ops_audit_log.c.id).where(ops_audit_log.c.at < before).limit(limit).scalar_subquery()
    return connection.execute(ops_audit_log.delete().where(ops_audit_log.c.id.in_(chunk))).rowcount
