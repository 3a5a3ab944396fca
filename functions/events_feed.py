"""GET /api/events?after=<id>&limit=: the outbox as a feed, for operators and for catching up (admin)."""

from common.events.feed import event_page
from common.events.schemas import EventQuery
from common.http import NO_STORE, ApiRequest, http_function, json_response


def _events(request: ApiRequest):
    return json_response(event_page(request.query_model(EventQuery)), 200, {"Cache-Control": NO_STORE})


events_feed = http_function("events_feed", events_feed=_events)
