"""The service: every deployable function, listed here and nowhere else.

The local runner serves ROUTES, serverless.yml deploys one Lambda per HTTP function, schedule
and invocation (aws_lambda.py names each), the OpenAPI document and docs/API.md describe ROUTES,
and the tests check all of them against this module. Each route is declared beside its handler
(common.routes.route); a new route is that declaration plus, for a new module, its function here.

Importing this module imports every function's module. A deployed function imports only its
own (aws_lambda.py); the two that need every route, the OpenAPI document and the cloud's
catch-all, read them from here (functions/ never import each other, and common/ never imports
functions/: the assembly is at the top).
"""

from common.routes import Invocation, Route, RouteTable, Schedule
from functions import (
    api_docs,
    drain_queue,
    events_feed,
    health,
    migrate,
    mobile_cart,
    mobile_checkout,
    mobile_home,
    mobile_product,
    mobile_search,
    ops_dashboard,
    publish_events,
    purge_history,
    reconcile_zoho,
    zoho_dashboard,
    zoho_webhook,
)

HTTP_FUNCTIONS = (
    health.health,
    api_docs.api_docs,
    zoho_webhook.zoho_webhook,
    drain_queue.drain_queue_http,
    zoho_dashboard.zoho_dashboard,
    reconcile_zoho.reconcile_zoho_http,
    mobile_home.mobile_home,
    mobile_product.mobile_product,
    mobile_search.mobile_search,
    mobile_checkout.mobile_checkout,
    mobile_cart.mobile_cart,
    ops_dashboard.ops_dashboard,
    events_feed.events_feed,
)

ROUTES: tuple[Route, ...] = tuple(declared for function in HTTP_FUNCTIONS for declared in function.routes)
ROUTE_TABLE = RouteTable(ROUTES)

SCHEDULES: tuple[Schedule, ...] = (
    Schedule(job=drain_queue.drain_queue, rate="rate(1 minute)", summary="Drain the Zoho sync queue"),
    Schedule(
        job=reconcile_zoho.reconcile_zoho,
        rate="rate(15 minutes)",
        summary="Queue what changed in Zoho since the last run",
    ),
    Schedule(
        job=reconcile_zoho.reconcile_zoho,
        rate="cron(0 0 * * ? *)",
        summary="Begin the nightly full pass (03:00 in Baghdad)",
        input={"mode": "full"},
    ),
    Schedule(
        job=publish_events.publish_events,
        rate="rate(1 minute)",
        summary="Publish domain events and run their subscribers",
    ),
    Schedule(
        job=purge_history.purge_history,
        rate="rate(1 hour)",
        summary="Delete the history older than TDS_RETENTION_HOURS",
    ),
)

INVOCATIONS: tuple[Invocation, ...] = (
    Invocation(job=migrate.migrate, summary="Apply the database migrations (once per deploy)"),
)
