"""POST /api/zoho/webhooks/{entity}: authenticate, validate, and durably queue a Zoho event (202)."""

from common.http import ApiRequest, http_function, json_response
from common.keys import require_webhook_key
from common.sync.entities import by_route
from common.sync.intake import accept_webhook


def _receive(request: ApiRequest):
    entity = by_route(request.params["entity"])
    require_webhook_key(request)
    return json_response(accept_webhook(entity, request.json()), 202)


zoho_webhook = http_function("zoho_webhook", zoho_webhook=_receive)
