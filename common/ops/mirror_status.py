"""What the alert rules need from the Zoho mirror's import and full pass: when the last complete
full pass finished, and the day's Zoho calls against the daily limit.

Neither is recorded yet: the full pass and the shared Zoho call budget keep their progress in
tables of their own once they exist. Until then both answer None, and the rules that read them
(full_pass_stale, zoho_budget) stay quiet rather than guess.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection


def last_complete_full_pass(connection: Connection) -> datetime | None:
    """When the last full reconcile pass completed; None while no full pass has been recorded."""
    return None


def zoho_calls_today(connection: Connection) -> tuple[int, int] | None:
    """(calls spent today, the day's limit); None while no budget is recorded."""
    return None
