"""POST /api/zoho/webhooks/<entity>: authenticate, validate, and durably queue a Zoho event (202)."""

from common.http import ApiRequest, Handler, http_function, json_response
from common.keys import require_webhook_key
from common.routes import ROUTE_TABLE
from common.sync.entities import BY_ROUTE, Entity
from common.sync.intake import ZOHO_FORM_FIELD, accept_webhook
from common.sync.schemas import WebhookQuery


def _receiver(entity: Entity) -> Handler:
    def receive(request: ApiRequest):
        require_webhook_key(request)
        query = request.query_model(WebhookQuery)
        return json_response(accept_webhook(entity, request.json(form_field=ZOHO_FORM_FIELD), query.event_type), 202)

    return receive


# One route per entity, bound once here.
zoho_webhook = http_function(
    "zoho_webhook",
    **{
        route.operation: _receiver(BY_ROUTE[route.entity])
        for route in ROUTE_TABLE.for_target("zoho_webhook").routes
    },
)
