"""POST /api/zoho/webhooks/<entity>: authenticate, validate, and durably queue a Zoho event (202)."""

from common.http import ApiRequest, Handler, http_function, json_response
from common.keys import require_admin_key, require_webhook_key
from common.routes import ROUTE_TABLE
from common.sync.entities import BY_ROUTE, Entity
from common.sync.intake import ZOHO_FORM_FIELD, accept_webhook, dry_run
from common.sync.schemas import WebhookQuery


def _is_dry_run(request: ApiRequest) -> bool:
    """Post-deployment checks validate without queueing (docs/OPERATIONS.md); the route's 200 answer."""
    return request.headers.get("X-Dry-Run", "").lower() == "true" or request.args.get("dry_run") == "1"


def _receiver(entity: Entity) -> Handler:
    def receive(request: ApiRequest):
        require_webhook_key(request)
        query = request.query_model(WebhookQuery)
        payload = request.json(form_field=ZOHO_FORM_FIELD)
        if _is_dry_run(request):
            require_admin_key(request)
            return json_response(dry_run(entity, payload, query.event_type))
        return json_response(accept_webhook(entity, payload, query.event_type), 202)

    return receive


# One route per entity, bound once here.
zoho_webhook = http_function(
    "zoho_webhook",
    **{
        route.operation: _receiver(BY_ROUTE[route.entity])
        for route in ROUTE_TABLE.for_target("zoho_webhook").routes
    },
)
