"""POST /api/zoho/webhooks/<entity>: validate and durably queue a Zoho event (202); the edge has
checked the webhook key (and, for a dry run, the admin key)."""

from common.http import ApiRequest, Handler, http_function, json_response
from common.keys import is_dry_run
from common.routes import ROUTE_TABLE
from common.sync.entities import BY_ROUTE, Entity
from common.sync.intake import ZOHO_FORM_FIELD, accept_webhook, dry_run
from common.sync.schemas import WebhookQuery


def _receiver(entity: Entity) -> Handler:
    def receive(request: ApiRequest):
        query = request.query_model(WebhookQuery)
        payload = request.json(form_field=ZOHO_FORM_FIELD)
        if is_dry_run(request):
            return json_response(dry_run(entity, payload, query.event_type))
        return json_response(accept_webhook(entity, payload, query.event_type), 202)

    return receive


# One route per entity, bound once here.
zoho_webhook = http_function(
    "zoho_webhook",
    **{route.operation: _receiver(BY_ROUTE[route.entity]) for route in ROUTE_TABLE.for_target("zoho_webhook").routes},
)
