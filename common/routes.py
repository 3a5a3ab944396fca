"""The one route table: every HTTP route, schedule and invoked job, naming its function by module and target.

The local runner mounts from it, each function matches its own requests with it, the HTTP
edge enforces each route's auth from it, serverless.yml is checked against it and the OpenAPI
document is built from it.
Functions are named as strings so that common/ never imports functions/.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import Any

from common.docs import ASSETS as DOCS_ASSETS
from common.errors import MethodNotAllowed, NotFound

# POST /api/zoho/webhooks/<entity> and the name of its body model in common.sync.entities.
WEBHOOK_ENTITIES = {
    "products": "ProductWebhook",
    "customers": "CustomerWebhook",
    "invoices": "InvoiceWebhook",
    "bills": "BillWebhook",
    "credit-notes": "CreditNoteWebhook",
    "stock": "StockWebhook",
    "prices": "PriceListWebhook",
}

# Who may call a route. The HTTP edge (common.http.handle) runs the route's guard, named here
# as "module:function" (imported with the function that serves the route), before its handler.
PUBLIC, WEBHOOK_KEY, ADMIN_KEY, CUSTOMER, OPTIONAL_CUSTOMER, OPS_SESSION = (
    "public",
    "webhook_key",
    "admin_key",
    "customer",
    "optional_customer",
    "ops_session",
)
GUARDS = {
    WEBHOOK_KEY: "common.keys:webhook_key",  # Zoho's key; a dry run needs the admin key too
    ADMIN_KEY: "common.keys:admin_key",
    CUSTOMER: "common.shop.auth:customer",  # a signed-in customer's own screen: another customer_id is 403
    OPTIONAL_CUSTOMER: "common.shop.auth:optional_customer",  # anonymous without a token, 401 for a bad one
    OPS_SESSION: "common.ops.pages:operator",  # the operations page's session cookie (and CSRF on a POST)
}


def resolve(reference: str) -> Any:
    """What a "module:name" reference of this table names (a guard, a model), imported on first use."""
    module, name = reference.split(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    module: str  # functions/<module>.py
    target: str  # the function's name in that module
    operation: str  # unique operation id, also the handler's key
    summary: str
    tag: str
    auth: str = PUBLIC
    # "module:Class" names of pydantic models, resolved only where they are used (the OpenAPI
    # document, and the operations page's gate, which checks a query before the session).
    query: str | None = None
    body: str | None = None
    responses: dict[int, str] = field(default_factory=dict)
    # JSON schemas of the {path} parameters (default: a string), and the statuses this route
    # answers beyond those its auth, body and query imply (see common.openapi).
    path_params: dict[str, dict] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    media_type: str = "application/json"  # of the success answer
    entity: str | None = None  # the Zoho entity of a webhook route (a route of common.sync.entities)
    pattern: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.auth != PUBLIC and self.auth not in GUARDS:
            raise ValueError(f"{self.operation}: unknown auth {self.auth!r}")
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.match(path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class Schedule:
    module: str
    target: str
    rate: str  # serverless.yml's schedule expression
    summary: str


@dataclass(frozen=True)
class Invocation:
    """A function with no trigger, run by hand: `npx serverless invoke -f <target>`."""

    module: str
    target: str
    summary: str


_SERVICE_ROUTES = (
    Route(
        "GET",
        "/health",
        "health",
        "health",
        "health",
        "Service and database health",
        "health",
        responses={200: "common.health:HealthReport", 503: "common.health:HealthReport"},
    ),
    Route(
        "GET",
        "/openapi.json",
        "api_docs",
        "api_docs",
        "openapi",
        "This OpenAPI document",
        "docs",
        responses={200: "common.openapi:OpenApiDocument"},
    ),
    Route(
        "GET",
        "/docs",
        "api_docs",
        "api_docs",
        "docs_ui",
        "Swagger UI (served offline)",
        "docs",
        responses={200: "html"},
        media_type="text/html",
    ),
    Route(
        "GET",
        "/docs/{asset}",
        "api_docs",
        "api_docs",
        "docs_asset",
        "Swagger UI assets",
        "docs",
        responses={200: "asset"},
        media_type="*/*",
        errors=(404,),
        path_params={"asset": {"type": "string", "enum": sorted(DOCS_ASSETS)}},
    ),
)

_ZOHO_ROUTES = (
    # One route per entity, so that the document gives each its exact body; any other
    # /api/zoho/webhooks/... is an unknown route (404).
    *(
        Route(
            "POST",
            f"/api/zoho/webhooks/{entity}",
            "zoho_webhook",
            "zoho_webhook",
            f"zoho_webhook_{entity.replace('-', '_')}",
            f"Receive a Zoho webhook for {entity} (with `X-Dry-Run: true` and the admin key: validate only, 200)",
            "zoho",
            auth=WEBHOOK_KEY,
            body=f"common.sync.entities:{body}",
            query="common.sync.schemas:WebhookQuery",
            entity=entity,
            responses={202: "common.sync.schemas:WebhookAccepted", 200: "common.sync.schemas:WebhookDryRun"},
        )
        for entity, body in WEBHOOK_ENTITIES.items()
    ),
    Route(
        "POST",
        "/api/zoho/queue/drain",
        "drain_queue",
        "drain_queue_http",
        "queue_drain",
        "Drain the sync queue now (until nothing is due or the time budget is spent)",
        "zoho",
        auth=ADMIN_KEY,
        responses={200: "common.sync.schemas:DrainSummary"},
    ),
    Route(
        "GET",
        "/api/zoho/dashboard/health",
        "zoho_dashboard",
        "zoho_dashboard",
        "dashboard_health",
        "Health of the Zoho sync: queue depth, oldest pending item, last drain, issues",
        "zoho dashboard",
        responses={200: "common.sync.schemas:SyncHealth", 503: "common.sync.schemas:SyncHealth"},
    ),
    Route(
        "GET",
        "/api/zoho/dashboard/stats",
        "zoho_dashboard",
        "zoho_dashboard",
        "dashboard_stats",
        "Sync statistics over the last `hours` hours",
        "zoho dashboard",
        auth=ADMIN_KEY,
        query="common.sync.schemas:StatsQuery",
        responses={200: "common.sync.schemas:SyncStats"},
    ),
    Route(
        "GET",
        "/api/zoho/dashboard/dead-letter",
        "zoho_dashboard",
        "zoho_dashboard",
        "dead_letter_list",
        "Dead letters, newest first, paginated",
        "zoho dashboard",
        auth=ADMIN_KEY,
        query="common.sync.schemas:DeadLetterQuery",
        responses={200: "common.sync.schemas:DeadLetterPage"},
    ),
    Route(
        "POST",
        "/api/zoho/dashboard/dead-letter/{dead_letter_id}/retry",
        "zoho_dashboard",
        "zoho_dashboard",
        "dead_letter_retry",
        "Re-queue one dead letter and mark it resolved",
        "zoho dashboard",
        auth=ADMIN_KEY,
        path_params={"dead_letter_id": {"type": "integer", "minimum": 1}},
        errors=(404, 409),
        responses={200: "common.sync.schemas:Replayed"},
    ),
    Route(
        "POST",
        "/api/zoho/dashboard/dead-letter/retry",
        "zoho_dashboard",
        "zoho_dashboard",
        "dead_letter_retry_all",
        "Re-queue every unresolved dead letter (optionally of one entity type) and mark them resolved",
        "zoho dashboard",
        auth=ADMIN_KEY,
        query="common.sync.schemas:RetryAllQuery",
        responses={200: "common.sync.schemas:Replayed"},
    ),
    *(
        Route("POST", f"/api/zoho/queue/{verb}", "zoho_dashboard", "zoho_dashboard", f"queue_{verb}",
              f"{verb.capitalize()} the drain for one entity type (`{{\"entity_type\": ...}}`) or all (`{{}}`)",
              "zoho dashboard", auth=ADMIN_KEY, body="common.ops.schemas:PauseBody", errors=(403,),
              responses={200: "common.ops.schemas:Paused"})
        for verb in ("pause", "resume")
    ),
    Route("POST", "/api/zoho/dashboard/dead-letter/replay", "zoho_dashboard", "zoho_dashboard",
          "dead_letter_replay_matching", "Re-queue the unresolved dead letters a filter matches (dry_run: count only)",
          "zoho dashboard", auth=ADMIN_KEY, body="common.ops.schemas:DeadLetterFilter", errors=(403,),
          responses={200: "common.ops.schemas:BulkReplayed"}),
    Route("POST", "/api/zoho/dashboard/dead-letter/discard", "zoho_dashboard", "zoho_dashboard",
          "dead_letter_discard_matching",
          "Resolve, without re-queueing, the unresolved dead letters a filter matches (dry_run: count only)",
          "zoho dashboard", auth=ADMIN_KEY, body="common.ops.schemas:DeadLetterFilter", errors=(403,),
          responses={200: "common.ops.schemas:BulkDiscarded"}),
    Route("GET", "/api/zoho/dashboard/incidents", "zoho_dashboard", "zoho_dashboard", "dashboard_incidents",
          "Alert incidents, newest first, with their notifications", "zoho dashboard", auth=ADMIN_KEY,
          responses={200: "common.ops.schemas:IncidentList"}),
    Route("GET", "/api/zoho/dashboard/events", "zoho_dashboard", "zoho_dashboard", "dashboard_event_search",
          "Queue items (dead letters included) whose payload holds a value anywhere, newest first",
          "zoho dashboard", auth=ADMIN_KEY, query="common.ops.schemas:EventSearchQuery",
          responses={200: "common.ops.schemas:EventSearchPage"}),
    Route("GET", "/api/zoho/dashboard/audit", "zoho_dashboard", "zoho_dashboard", "dashboard_audit",
          "The operators' audit trail, newest first", "zoho dashboard", auth=ADMIN_KEY,
          query="common.ops.schemas:AuditQuery", responses={200: "common.ops.schemas:AuditPage"}),
    Route(
        "POST",
        "/api/zoho/reconcile",
        "reconcile_zoho",
        "reconcile_zoho_http",
        "zoho_reconcile",
        "Queue what changed in Zoho since the stored cursors (through the webhooks' dedupe)",
        "zoho",
        auth=ADMIN_KEY,
        responses={200: "common.sync.schemas:ReconcileSummary"},
    ),
)

_MOBILE_ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "/api/mobile/home",
        "mobile_home",
        "mobile_home",
        "mobile_home",
        "Home screen: featured, best sellers, new arrivals, promotions, categories (and the cart when signed in)",
        "mobile",
        auth=OPTIONAL_CUSTOMER,
        responses={200: "common.shop.schemas:HomeScreen"},
    ),
    Route(
        "GET",
        "/api/mobile/products/{product_id}",
        "mobile_product",
        "mobile_product",
        "mobile_product",
        "Product detail with rating histogram, latest reviews and related products",
        "mobile",
        path_params={"product_id": {"type": "integer", "minimum": 1}},
        responses={200: "common.shop.schemas:ProductDetail"},
    ),
    Route(
        "GET",
        "/api/mobile/search",
        "mobile_search",
        "mobile_search",
        "mobile_search",
        "Search products (Arabic and English, typo-tolerant) with filters, sorts and pages",
        "mobile",
        query="common.shop.schemas:SearchQuery",
        responses={200: "common.shop.schemas:SearchPage"},
        errors=(400,),
    ),
    Route(
        "GET",
        "/api/mobile/checkout",
        "mobile_checkout",
        "mobile_checkout",
        "mobile_checkout",
        "Checkout: the priced cart, addresses, payment and delivery options, promotions, issues",
        "mobile",
        auth=CUSTOMER,
        query="common.shop.schemas:CheckoutQuery",
        responses={200: "common.shop.schemas:Checkout"},
    ),
    Route(
        "POST",
        "/api/mobile/cart/items",
        "mobile_cart",
        "mobile_cart",
        "cart_add_item",
        "Add a quantity of a product to the cart",
        "mobile",
        auth=CUSTOMER,
        query="common.shop.schemas:CustomerScope",
        body="common.shop.schemas:CartItemAdd",
        responses={200: "common.shop.schemas:Cart"},
        errors=(404, 409),
    ),
    Route(
        "PATCH",
        "/api/mobile/cart/items/{product_id}",
        "mobile_cart",
        "mobile_cart",
        "cart_update_item",
        "Set the quantity of a product in the cart",
        "mobile",
        auth=CUSTOMER,
        query="common.shop.schemas:CustomerScope",
        path_params={"product_id": {"type": "integer", "minimum": 1}},
        body="common.shop.schemas:CartItemQuantity",
        responses={200: "common.shop.schemas:Cart"},
        errors=(409,),
    ),
    Route(
        "DELETE",
        "/api/mobile/cart/items/{product_id}",
        "mobile_cart",
        "mobile_cart",
        "cart_remove_item",
        "Remove a product from the cart",
        "mobile",
        auth=CUSTOMER,
        query="common.shop.schemas:CustomerScope",
        path_params={"product_id": {"type": "integer", "minimum": 1}},
        responses={200: "common.shop.schemas:Cart"},
    ),
)

# The operations page: HTML for people, behind its own session cookie (common.ops.session);
# without one every OPS_SESSION route answers 303 to /dashboard/login.
_PAGE = {200: "html", 303: "html", 403: "html"}
_FORM_POST = {303: "html", 403: "html"}
_OPS_ROUTES: tuple[Route, ...] = (
    Route("GET", "/dashboard", "ops_dashboard", "ops_dashboard", "ops_page",
          "Operations page: sync status, queue, 24-hour chart, functions, dead letters, record history",
          "operations", auth=OPS_SESSION, query="common.ops.pages:PageQuery", responses=_PAGE,
          media_type="text/html"),
    Route("GET", "/dashboard/panels", "ops_dashboard", "ops_dashboard", "ops_panels",
          "The operations page's live panels (its own refresh fetches them)",
          "operations", auth=OPS_SESSION, query="common.ops.pages:PageQuery", responses=_PAGE,
          media_type="text/html"),
    Route("GET", "/dashboard/login", "ops_dashboard", "ops_dashboard", "ops_login_form",
          "Sign-in form of the operations page", "operations", responses={200: "html", 403: "html"},
          media_type="text/html"),
    Route("POST", "/dashboard/login", "ops_dashboard", "ops_dashboard", "ops_login",
          "Sign in with the admin key (form: admin_key, csrf); sets the session cookie", "operations",
          responses={303: "html", 401: "html", 403: "html", 429: "html"}, errors=(400, 413, 415),
          media_type="text/html"),
    Route("POST", "/dashboard/logout", "ops_dashboard", "ops_dashboard", "ops_logout",
          "Sign out (form: csrf)", "operations", auth=OPS_SESSION, responses=_FORM_POST, errors=(400, 413, 415),
          media_type="text/html"),
    Route("POST", "/dashboard/dead-letters/{dead_letter_id}/replay", "ops_dashboard", "ops_dashboard",
          "ops_replay_one", "Replay one dead letter from the page (form: csrf)", "operations", auth=OPS_SESSION,
          path_params={"dead_letter_id": {"type": "integer", "minimum": 1}},
          responses=_FORM_POST, errors=(400, 413, 415), media_type="text/html"),
    Route("POST", "/dashboard/dead-letters/replay", "ops_dashboard", "ops_dashboard", "ops_replay_entity",
          "Replay every unresolved dead letter of one entity type from the page (form: csrf, entity_type)",
          "operations", auth=OPS_SESSION, responses={**_FORM_POST, 400: "html"}, errors=(413, 415),
          media_type="text/html"),
    *(
        Route("POST", f"/dashboard/queue/{verb}", "ops_dashboard", "ops_dashboard", f"ops_queue_{verb}",
              f"{verb.capitalize()} the drain from the page (form: csrf, entity_type blank for all)", "operations",
              auth=OPS_SESSION, responses=_FORM_POST, errors=(400, 413, 415), media_type="text/html")
        for verb in ("pause", "resume")
    ),
    Route("POST", "/dashboard/dead-letters/bulk", "ops_dashboard", "ops_dashboard", "ops_bulk_dead_letters",
          "Replay or discard the dead letters a filter matches: first the count, then (with confirmed) the action "
          "(form: csrf, action, entity_type, error_contains, since, until, confirmed)", "operations",
          auth=OPS_SESSION, responses={200: "html", **_FORM_POST, 400: "html", 409: "html"}, errors=(413, 415),
          media_type="text/html"),
    Route("GET", "/dashboard/static/{asset}", "ops_dashboard", "ops_dashboard", "ops_asset",
          "The operations page's stylesheet and script", "operations", responses={200: "asset"},
          media_type="*/*", errors=(404,), path_params={"asset": {"type": "string", "enum": ["ops.css", "ops.js"]}}),
)  # fmt: skip

_EVENT_ROUTES = (
    Route(
        "GET",
        "/api/events",
        "events_feed",
        "events_feed",
        "events_feed",
        "Domain events from the outbox, oldest first, after the given id",
        "events",
        auth=ADMIN_KEY,
        query="common.events.schemas:EventQuery",
        responses={200: "common.events.schemas:EventPage"},
    ),
)

ROUTES: tuple[Route, ...] = (*_SERVICE_ROUTES, *_ZOHO_ROUTES, *_MOBILE_ROUTES, *_OPS_ROUTES, *_EVENT_ROUTES)

SCHEDULES: tuple[Schedule, ...] = (
    Schedule("drain_queue", "drain_queue", "rate(1 minute)", "Drain the Zoho sync queue"),
    Schedule("reconcile_zoho", "reconcile_zoho", "rate(15 minutes)", "Queue what changed in Zoho since the last run"),
    Schedule("publish_events", "publish_events", "rate(1 minute)", "Publish domain events and run their subscribers"),
    Schedule("purge_history", "purge_history", "rate(1 hour)", "Delete the history older than TDS_RETENTION_HOURS"),
)

INVOCATIONS: tuple[Invocation, ...] = (
    Invocation("migrate", "migrate", "Apply the database migrations (once per deploy)"),
)


class RouteTable:
    """Matches a request to one of a set of routes: 404 for an unknown path, 405 for a wrong method."""

    def __init__(self, routes: tuple[Route, ...] | list[Route]) -> None:
        self.routes = tuple(routes)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        if len(path) > 1:
            path = path.rstrip("/")
        method = "GET" if method == "HEAD" else method
        allowed: list[str] = []
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method == method:
                return route, params
            allowed.append(route.method)
        if allowed:
            raise MethodNotAllowed(headers={"Allow": ", ".join(sorted(set(allowed)))})
        raise NotFound("Route not found")

    def for_target(self, target: str) -> RouteTable:
        return RouteTable([route for route in self.routes if route.target == target])


ROUTE_TABLE = RouteTable(ROUTES)
