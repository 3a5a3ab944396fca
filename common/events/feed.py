"""GET /api/events: the outbox as a feed, oldest first, paged by id."""

from __future__ import annotations

from sqlalchemy import Engine

from common.db.transactions import read
from common.events import outbox
from common.events.schemas import EventDelivery, EventPage, EventQuery, OutboxEvent


def event_page(query: EventQuery, engine: Engine | None = None) -> EventPage:
    with read(engine) as connection:
        rows, deliveries = outbox.events_after(connection, query.after, query.limit + 1)
    page = rows[: query.limit]
    return EventPage(
        items=[
            OutboxEvent(
                **{name: getattr(row, name) for name in OutboxEvent.model_fields if name != "deliveries"},
                deliveries=[EventDelivery.model_validate(d, from_attributes=True) for d in deliveries[row.id]],
            )
            for row in page
        ],
        next_after=page[-1].id if page else query.after,
        has_more=len(rows) > query.limit,
    )
