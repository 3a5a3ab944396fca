"""POST /api/zoho/webhooks/<entity>: validate and durably queue a Zoho event (202); the edge has
checked the webhook key (and, for a dry run, the admin key)."""

from common.http import ApiRequest, http_function, json_response
from common.keys import is_dry_run, webhook_key
from common.routes import Route
from common.sync.entities import BY_ROUTE, ENTITIES, Entity
from common.sync.intake import ZOHO_FORM_FIELD, accept_webhook, dry_run
from common.sync.schemas import WebhookAccepted, WebhookDryRun, WebhookQuery


def receive_webhook(request: ApiRequest):
    """Every webhook route's handler: the route names its entity."""
    entity = BY_ROUTE[request.route.entity]
    query = request.query_model(WebhookQuery)
    payload = request.json(form_field=ZOHO_FORM_FIELD)
    if is_dry_run(request):
        return json_response(dry_run(entity, payload, query.event_type))
    return json_response(accept_webhook(entity, payload, query.event_type), 202)


def webhook_route(entity: Entity) -> Route:
    """One route per entity, so that the API document gives each its exact body; any other
    /api/zoho/webhooks/... is an unknown route (404)."""
    return Route(
        method="POST",
        path=f"/api/zoho/webhooks/{entity.route}",
        operation=f"zoho_webhook_{entity.name}",
        summary=f"Receive a Zoho webhook for {entity.route} "
        "(with `X-Dry-Run: true` and the admin key: validate only, 200)",
        tag="zoho",
        handler=receive_webhook,
        auth=webhook_key,
        body=entity.body_schema,
        query=WebhookQuery,
        entity=entity.route,
        responses={202: WebhookAccepted, 200: WebhookDryRun},
    )


zoho_webhook = http_function("zoho_webhook", *map(webhook_route, ENTITIES))
