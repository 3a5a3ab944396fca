"""AWS Lambda host: the same functions behind API Gateway (HTTP API, via apig-wsgi) and EventBridge schedules.

serverless.yml names each function's handler `aws_lambda.<module>` (`aws_lambda.health`,
`aws_lambda.drain_queue`, ...). A handler is built on first use from the route table and
imports only its own module from functions/, so a cold start pays for nothing else.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from common import metrics
from common.http import as_wsgi
from common.routes import ROUTES, SCHEDULES

LambdaHandler = Callable[[dict[str, Any], Any], Any]
# API Gateway's catch-all route ("*") goes to functions/fallback.py, which answers 404 / 405.
FALLBACK = "fallback"


def _is_schedule(event: dict[str, Any]) -> bool:
    return event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event"


def handler_for(module_name: str) -> LambdaHandler:
    """The Lambda handler of functions/<module_name>.py: HTTP events to its HTTP entry, schedules to its job."""
    http_targets = {route.target for route in ROUTES if route.module == module_name}
    if module_name == FALLBACK:
        http_targets = {FALLBACK}
    jobs = [schedule.target for schedule in SCHEDULES if schedule.module == module_name]
    if not http_targets and not jobs:
        raise AttributeError(f"no function module {module_name!r} in the route table")
    if len(http_targets) > 1:
        raise AttributeError(f"{module_name}: one HTTP entry per deployed function, found {sorted(http_targets)}")
    module = importlib.import_module(f"functions.{module_name}")
    http_handler = None
    if http_targets:
        from apig_wsgi import make_lambda_handler

        http_handler = make_lambda_handler(as_wsgi(getattr(module, http_targets.pop())), binary_support=True)
    job = getattr(module, jobs[0]) if jobs else None

    def handler(event: dict[str, Any], context: Any) -> Any:
        if job is not None and (_is_schedule(event) or http_handler is None):
            return job(event, context)
        if http_handler is None:
            raise ValueError(f"{module_name} only runs on its schedule")
        try:
            return http_handler(event, context)
        finally:
            # A frozen Lambda runs no background thread: its metrics go out between invocations.
            metrics.RECORDER.flush_if_due()

    handler.__name__ = module_name
    return handler


def __getattr__(name: str) -> LambdaHandler:
    if name.startswith("__"):
        raise AttributeError(name)
    handler = handler_for(name)
    globals()[name] = handler  # built once per warm Lambda
    return handler
