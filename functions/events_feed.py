"""GET /api/events?after=<id>&limit=: the outbox as a feed, for operators and for catching up (admin)."""

from common.events.feed import event_page
from common.events.schemas import EventPage, EventQuery
from common.http import NO_STORE, ApiRequest, http_function, json_response
from common.keys import admin_key
from common.routes import route


@route(
    method="GET",
    path="/api/events",
    operation="events_feed",
    summary="Domain events from the outbox, oldest first, after the given id",
    tag="events",
    auth=admin_key,
    query=EventQuery,
    responses={200: EventPage},
)
def list_events(request: ApiRequest):
    return json_response(event_page(request.query_model(EventQuery)), 200, {"Cache-Control": NO_STORE})


events_feed = http_function("events_feed", list_events)
