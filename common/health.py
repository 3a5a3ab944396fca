"""The health report: is the service up and does its database answer (within the connect timeout)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from common import __version__
from common.db import check_database, utcnow

HEALTHY_MESSAGE = "النظام يعمل بشكل طبيعي"
UNHEALTHY_MESSAGE = "قاعدة البيانات غير متاحة"


class DatabaseStatus(BaseModel):
    status: Literal["ok", "error"]
    latency_ms: float | None = None
    error: str | None = None


class HealthReport(BaseModel):
    status: Literal["healthy", "unhealthy"]
    message: str
    version: str
    timestamp: datetime
    database: DatabaseStatus


def health_report() -> HealthReport:
    database = DatabaseStatus(**check_database())
    healthy = database.status == "ok"
    return HealthReport(
        status="healthy" if healthy else "unhealthy",
        message=HEALTHY_MESSAGE if healthy else UNHEALTHY_MESSAGE,
        version=__version__,
        timestamp=utcnow(),
        database=database,
    )
