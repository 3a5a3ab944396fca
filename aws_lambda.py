"""AWS Lambda host: the same functions behind API Gateway (HTTP API, via apig-wsgi), EventBridge
schedules and direct invocation.

serverless.yml deploys one Lambda per entry point of the route table and names its handler
`aws_lambda.<target>`: each module's HTTP entry (`aws_lambda.health`, `aws_lambda.drain_queue_http`),
each schedule (`aws_lambda.drain_queue`) and each invoked job (`aws_lambda.migrate`). A module with
both an HTTP route and a schedule so gets two Lambdas, each with a timeout that fits its trigger.
A handler is built on first use and imports only its own module from functions/, so a cold start
pays for nothing else.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from common import metrics
from common.http import as_wsgi
from common.routes import INVOCATIONS, ROUTES, SCHEDULES

LambdaHandler = Callable[[dict[str, Any], Any], Any]
# API Gateway's catch-all route ("*") goes to functions/fallback.py, which answers 404 / 405.
FALLBACK = "fallback"


def entry_points() -> dict[str, str]:
    """Every deployed Lambda: its name (the target in its module) and its module in functions/."""
    found = {route.target: route.module for route in ROUTES}
    found.update({job.target: job.module for job in (*SCHEDULES, *INVOCATIONS)})
    found[FALLBACK] = FALLBACK
    return found


def handler_for(name: str) -> LambdaHandler:
    """The Lambda handler of entry point `name`: an HTTP entry through apig-wsgi, or a job called as is."""
    module_name = entry_points().get(name)
    if module_name is None:
        raise AttributeError(f"no entry point {name!r} in the route table")
    target = getattr(importlib.import_module(f"functions.{module_name}"), name)
    if name not in {route.target for route in ROUTES} | {FALLBACK}:
        return target  # a schedule or an invoked job takes (event, context) itself
    from apig_wsgi import make_lambda_handler

    http_handler = make_lambda_handler(as_wsgi(target), binary_support=True)

    def handler(event: dict[str, Any], context: Any) -> Any:
        if "requestContext" not in event:
            raise ValueError(f"{name} answers API Gateway requests only, not {event.get('detail-type', 'this event')}")
        try:
            return http_handler(event, context)
        finally:
            # A frozen Lambda runs no background thread: its metrics go out between invocations.
            metrics.RECORDER.flush_if_due()

    handler.__name__ = name
    return handler


def __getattr__(name: str) -> LambdaHandler:
    if name.startswith("__"):
        raise AttributeError(name)
    handler = handler_for(name)
    globals()[name] = handler  # built once per warm Lambda
    return handler
