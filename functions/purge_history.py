"""Retention (every hour): completed queue items, drain runs, published events and request metrics
older than TDS_RETENTION_HOURS are deleted, in chunks (common.retention)."""

from common import retention
from common.config import get_settings


def purge_history(event=None, context=None) -> dict:
    """Scheduled entry point (a cron event on AWS, a background event under functions-framework)."""
    return retention.purge_history(get_settings()).model_dump()
