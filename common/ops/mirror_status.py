"""What the alert rules need from the Zoho mirror: when the last complete full pass finished
(common.sync.mirror, from zoho_sync_progress) and the day's Zoho calls against the daily limit
(common.sync.zoho_budget, from zoho_call_budget).

With Zoho not configured there is no mirror: both answer None and their rules (full_pass_stale,
zoho_budget) stay quiet. Before any complete pass the health says so; no incident opens for it,
since every new installation would open one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from common.config import Settings
from common.sync import mirror, zoho_budget


def last_complete_full_pass(connection: Connection, settings: Settings) -> datetime | None:
    """When the last full pass (or, before any, the import) completed for every entity."""
    if not settings.zoho_configured:
        return None
    return mirror.last_complete_full_pass(connection, settings)


def zoho_calls_today(connection: Connection, settings: Settings, now: datetime) -> tuple[int, int] | None:
    """(calls spent today by every caller, the day's limit)."""
    if not settings.zoho_configured:
        return None
    usage = zoho_budget.usage(connection, settings, now)
    return usage.today, usage.limit
