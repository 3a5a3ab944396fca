"""The health report: is the service up, does its database answer (within the connect timeout),
and is the database's schema the one this code was written for."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import text

from common import __version__
from common.clock import utcnow
from common.config import PROJECT_ROOT
from common.db.engine import check_database, get_engine
from common.db.errors import is_schema_missing, short_reason

HEALTHY_MESSAGE = "النظام يعمل بشكل طبيعي"
UNHEALTHY_MESSAGE = "قاعدة البيانات غير متاحة"
SCHEMA_MESSAGE = "مخطط قاعدة البيانات لا يطابق إصدار النظام"
# Alembic's revisions and heads, recorded when a migration is added (`python -m common.migrate
# --revisions`; tests/integration/test_health.py checks the record): asking Alembic here (importing
# it and the scripts) took 0.6-1.0 s on top of the health function's 2.8-3.7 s import, measured
# on the same shared 2-core machine.
REVISIONS_PATH = PROJECT_ROOT / "migrations" / "revisions.json"
MIGRATE_HINT = "run python -m common.migrate"


class DatabaseStatus(BaseModel):
    status: Literal["ok", "error"]
    latency_ms: float | None = None
    error: str | None = None
    # The Alembic revision the database is at, and the newest one of this code.
    revision: str | None = None
    expected_revision: str | None = None


class HealthReport(BaseModel):
    status: Literal["healthy", "unhealthy"]
    message: str
    version: str
    timestamp: datetime
    database: DatabaseStatus


@lru_cache(maxsize=1)
def code_revisions(record: Path = REVISIONS_PATH) -> tuple[frozenset[str], frozenset[str]]:
    """(every revision, the heads) of this code's migrations, read once per process."""
    recorded = json.loads(record.read_text())
    return frozenset(recorded["revisions"]), frozenset(recorded["heads"])


def schema_problem(database_revisions: set[str], record: Path = REVISIONS_PATH) -> str | None:
    """Why the database's schema is not this code's (missing, behind or ahead), or None."""
    known, heads = code_revisions(record)
    if not database_revisions:
        return f"schema missing: the database has no migrations applied; {MIGRATE_HINT}"
    unknown = database_revisions - known
    if unknown:
        return f"schema ahead: the database is at {', '.join(sorted(unknown))}, newer than this code"
    if database_revisions != heads:
        return (
            f"schema behind: the database is at {', '.join(sorted(database_revisions))}, "
            f"this code needs {', '.join(sorted(heads))}; {MIGRATE_HINT}"
        )
    return None


def _database_revisions() -> set[str]:
    """The revisions recorded in alembic_version; empty when the table does not exist."""
    try:
        with get_engine().connect() as connection:
            return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except Exception as exc:
        if is_schema_missing(exc):
            return set()
        raise


def database_status() -> DatabaseStatus:
    database = DatabaseStatus(**check_database())
    if database.status != "ok":
        return database
    try:
        revisions = _database_revisions()
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        return DatabaseStatus(status="error", error=short_reason(exc))
    expected = ", ".join(sorted(code_revisions()[1]))
    current = ", ".join(sorted(revisions)) or None
    problem = schema_problem(revisions)
    if problem:
        return DatabaseStatus(status="error", error=problem, revision=current, expected_revision=expected)
    return database.model_copy(update={"revision": current, "expected_revision": expected})


def health_report() -> HealthReport:
    database = database_status()
    healthy = database.status == "ok"
    if healthy:
        message = HEALTHY_MESSAGE
    else:
        message = SCHEMA_MESSAGE if database.error.startswith("schema ") else UNHEALTHY_MESSAGE
    return HealthReport(
        status="healthy" if healthy else "unhealthy",
        message=message,
        version=__version__,
        timestamp=utcnow(),
        database=database,
    )
