"""How far ahead of the service's clock a Zoho timestamp may be: the versions that order updates are
trusted only up to a day ahead.

A `last_modified_time` (or an envelope's `event_time`) from the future would outrank every
later version of its record, freezing it: later updates and its deletion would be skipped as
stale. So intake refuses such an event (422), and the drain's stale check ignores a stored
version past the bound, which repairs rows pinned before intake refused them: the next event
for the record (a webhook, or the full reconcile's) applies.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from common.errors import ValidationFailed
from common.sync.payloads.bodies import ZohoEvent

FUTURE_TOLERANCE = timedelta(hours=24)


def trusted_until(now: datetime) -> datetime:
    """The latest stored version that may still fence out an older event."""
    return now + FUTURE_TOLERANCE


def refuse_future_versions(event: ZohoEvent, document: str, now: datetime) -> None:
    """422 naming each ordering timestamp more than FUTURE_TOLERANCE ahead of `now`."""
    limit = trusted_until(now)
    stamps = {f"{document}.last_modified_time": event.record.last_modified_time, "event_time": event.event_time}
    errors = [
        {"field": field, "message": "is more than 24 hours ahead of the server's clock"}
        for field, stamp in stamps.items()
        if stamp is not None and stamp > limit
    ]
    if errors:
        raise ValidationFailed(errors=errors)
