"""POST /api/zoho/webhooks/<entity>: authenticate, validate, and durably queue a Zoho event (202)."""

from common.http import ApiRequest, http_function, json_response
from common.keys import require_webhook_key
from common.routes import ROUTE_TABLE
from common.sync.entities import by_route
from common.sync.intake import accept_webhook


def _receive(request: ApiRequest):
    require_webhook_key(request)
    entity = by_route(request.route.path.rsplit("/", 1)[-1])
    return json_response(accept_webhook(entity, request.json()), 202)


zoho_webhook = http_function(
    "zoho_webhook", **{route.operation: _receive for route in ROUTE_TABLE.for_target("zoho_webhook").routes}
)
