"""AWS Lambda host: the same functions behind API Gateway (HTTP API, via apig-wsgi), EventBridge
schedules and direct invocation.

serverless.yml deploys one Lambda per function of service.py and names its handler
`aws_lambda.<name>`, defined below: each module's HTTP entry (`aws_lambda.health`,
`aws_lambda.drain_queue_http`), each schedule (`aws_lambda.drain_queue`) and each invoked job
(`aws_lambda.migrate`). A module with both an HTTP route and a schedule so gets two Lambdas,
each with a timeout that fits its trigger. Each handler imports only its own module from
functions/, on its first call, so a cold start pays for nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from werkzeug.wrappers import Request, Response

from common.http import as_wsgi
from common.metrics import recording as metrics

LambdaHandler = Callable[[dict[str, Any], Any], Any]
# API Gateway's catch-all route ("*") goes to functions/fallback.py, which answers 404 / 405.
FALLBACK = "fallback"


@cache
def _gateway_handler(entry: Callable[[Request], Response]) -> LambdaHandler:
    from apig_wsgi import make_lambda_handler

    return make_lambda_handler(as_wsgi(entry), binary_support=True)


def _serve(entry: Callable[[Request], Response], event: dict[str, Any], context: Any) -> Any:
    """An API Gateway request to an HTTP function; any other event is refused."""
    if "requestContext" not in event:
        raise ValueError(
            f"{entry.__name__} answers API Gateway requests only, not {event.get('detail-type', 'this event')}"
        )
    try:
        return _gateway_handler(entry)(event, context)
    finally:
        # A frozen Lambda runs no background thread: its metrics go out between invocations.
        metrics.RECORDER.flush_if_due()


# ---- HTTP functions ----------------------------------------------------------------------------


def health(event: dict[str, Any], context: Any) -> Any:
    from functions.health import health as entry

    return _serve(entry, event, context)


def api_docs(event: dict[str, Any], context: Any) -> Any:
    from functions.api_docs import api_docs as entry

    return _serve(entry, event, context)


def zoho_webhook(event: dict[str, Any], context: Any) -> Any:
    from functions.zoho_webhook import zoho_webhook as entry

    return _serve(entry, event, context)


def drain_queue_http(event: dict[str, Any], context: Any) -> Any:
    from functions.drain_queue import drain_queue_http as entry

    return _serve(entry, event, context)


def zoho_dashboard(event: dict[str, Any], context: Any) -> Any:
    from functions.zoho_dashboard import zoho_dashboard as entry

    return _serve(entry, event, context)


def reconcile_zoho_http(event: dict[str, Any], context: Any) -> Any:
    from functions.reconcile_zoho import reconcile_zoho_http as entry

    return _serve(entry, event, context)


def mobile_home(event: dict[str, Any], context: Any) -> Any:
    from functions.mobile_home import mobile_home as entry

    return _serve(entry, event, context)


def mobile_product(event: dict[str, Any], context: Any) -> Any:
    from functions.mobile_product import mobile_product as entry

    return _serve(entry, event, context)


def mobile_search(event: dict[str, Any], context: Any) -> Any:
    from functions.mobile_search import mobile_search as entry

    return _serve(entry, event, context)


def mobile_checkout(event: dict[str, Any], context: Any) -> Any:
    from functions.mobile_checkout import mobile_checkout as entry

    return _serve(entry, event, context)


def mobile_cart(event: dict[str, Any], context: Any) -> Any:
    from functions.mobile_cart import mobile_cart as entry

    return _serve(entry, event, context)


def mobile_orders(event: dict[str, Any], context: Any) -> Any:
    from functions.mobile_orders import mobile_orders as entry

    return _serve(entry, event, context)


def mobile_addresses(event: dict[str, Any], context: Any) -> Any:
    from functions.mobile_addresses import mobile_addresses as entry

    return _serve(entry, event, context)


def ops_dashboard(event: dict[str, Any], context: Any) -> Any:
    from functions.ops_dashboard import ops_dashboard as entry

    return _serve(entry, event, context)


def events_feed(event: dict[str, Any], context: Any) -> Any:
    from functions.events_feed import events_feed as entry

    return _serve(entry, event, context)


def fallback(event: dict[str, Any], context: Any) -> Any:
    from functions.fallback import fallback as entry

    return _serve(entry, event, context)


# ---- schedules and invoked jobs: Lambda's (event, context) is theirs -------------------------


def drain_queue(event: dict[str, Any], context: Any) -> Any:
    from functions.drain_queue import drain_queue as job

    return job(event, context)


def reconcile_zoho(event: dict[str, Any], context: Any) -> Any:
    from functions.reconcile_zoho import reconcile_zoho as job

    return job(event, context)


def publish_events(event: dict[str, Any], context: Any) -> Any:
    from functions.publish_events import publish_events as job

    return job(event, context)


def purge_history(event: dict[str, Any], context: Any) -> Any:
    from functions.purge_history import purge_history as job

    return job(event, context)


def migrate(event: dict[str, Any], context: Any) -> Any:
    from functions.migrate import migrate as job

    return job(event, context)
