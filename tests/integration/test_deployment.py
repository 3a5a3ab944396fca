"""The cloud deployment: serverless.yml matches service.py, and the Lambda host runs the same handlers."""

import boto3
import pytest
import yaml
from alembic.script import ScriptDirectory
from moto import mock_aws
from sqlalchemy import inspect

import aws_lambda
from common import migrate
from common.ssm_secrets import SECRET_PARAMETERS
from functions import drain_queue, reconcile_zoho
from service import HTTP_FUNCTIONS, INVOCATIONS, ROUTES, SCHEDULES
from tests.helpers import PROJECT_ROOT

SERVERLESS = yaml.safe_load((PROJECT_ROOT / "serverless.yml").read_text())
FUNCTIONS = SERVERLESS["functions"]


def _http_events(function: dict) -> set:
    events = [event["httpApi"] for event in function.get("events", []) if "httpApi" in event]
    return {event if isinstance(event, str) else (event["method"], event["path"]) for event in events}


def _schedules(function: dict) -> set:
    """(expression, input) of each schedule: `schedule: rate(...)`, or a mapping with its rate and input."""
    found = set()
    for event in function.get("events", []):
        schedule = event.get("schedule")
        if isinstance(schedule, str):
            found.add((schedule, None))
        elif schedule is not None:
            found.add((schedule["rate"], tuple(sorted(schedule.get("input", {}).items())) or None))
    return found


def test_every_function_is_deployed_and_nothing_else():
    functions = {entry.__name__ for entry in HTTP_FUNCTIONS} | {job.name for job in (*SCHEDULES, *INVOCATIONS)}
    assert set(FUNCTIONS) == functions | {aws_lambda.FALLBACK}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_function_has_exactly_its_routes_and_schedules(name):
    function = FUNCTIONS[name]
    assert function["handler"] == f"aws_lambda.{name}"
    assert callable(getattr(aws_lambda, name))
    expected_routes = {(route.method, route.path) for route in ROUTES if route.function == name}
    if name == aws_lambda.FALLBACK:
        expected_routes = {"*"}
    assert _http_events(function) == expected_routes
    assert _schedules(function) == {
        (schedule.rate, tuple(sorted(schedule.input.items())) if schedule.input else None)
        for schedule in SCHEDULES
        if schedule.name == name
    }
    if expected_routes:  # an HTTP function: its Lambda handler serves the function of the same name
        with pytest.raises(ValueError, match=f"^{name} answers API Gateway requests only"):
            getattr(aws_lambda, name)({"detail-type": "Scheduled Event"}, None)


def _timeout(function: dict) -> int:
    return function.get("timeout", SERVERLESS["provider"]["timeout"])


@pytest.mark.parametrize("name", sorted(name for name, function in FUNCTIONS.items() if _http_events(function)))
def test_http_functions_end_before_api_gateway_cuts_them(name):
    assert _timeout(FUNCTIONS[name]) <= 29  # API Gateway answers 503 at 30 s, whatever the function does after


def test_http_budgets_fit_inside_their_function_timeouts():
    assert drain_queue.HTTP_BUDGET_SECONDS + 5 <= _timeout(FUNCTIONS["drain_queue_http"])
    assert reconcile_zoho.HTTP_BUDGET_SECONDS + 5 <= _timeout(FUNCTIONS["reconcile_zoho_http"])


def test_scheduled_budgets_fit_inside_their_function_timeouts():
    drain_budget = float(FUNCTIONS["drain_queue"]["environment"]["TDS_DRAIN_BUDGET_SECONDS"])
    assert drain_budget + 5 <= _timeout(FUNCTIONS["drain_queue"])
    assert drain_budget < 60  # a run ends before the next one-minute tick
    assert reconcile_zoho.SCHEDULE_BUDGET_SECONDS + 30 <= _timeout(FUNCTIONS["reconcile_zoho"]) <= 900


def test_no_secret_is_resolved_at_package_time():
    text = (PROJECT_ROOT / "serverless.yml").read_text()
    assert "${ssm:" not in text
    assert SERVERLESS["frameworkVersion"] == "3"
    environment = SERVERLESS["provider"]["environment"]
    assert environment["SECRETS_SSM_PREFIX"] == "/tsh-erp/${sls:stage}/"
    assert not set(environment) & {field.upper() for field in SECRET_PARAMETERS.values()}


def test_the_wiring_is_accepted_by_aws_apis():
    """Every HTTP route key and schedule expression, as API Gateway and EventBridge would take them."""
    with mock_aws():
        gateway = boto3.client("apigatewayv2", region_name="me-south-1")
        api = gateway.create_api(Name="tsh-erp", ProtocolType="HTTP")
        events = boto3.client("events", region_name="me-south-1")
        for name, function in FUNCTIONS.items():
            for event in _http_events(function):
                key = "$default" if event == "*" else f"{event[0]} {event[1]}"
                gateway.create_route(ApiId=api["ApiId"], RouteKey=key)
            for number, (rate, _) in enumerate(_schedules(function)):
                if rate.startswith("cron("):  # AWS's six fields, one of day-of-month and day-of-week a "?"
                    fields = rate.removeprefix("cron(").removesuffix(")").split()
                    assert len(fields) == 6 and "?" in (fields[2], fields[4]), rate
                else:
                    amount, unit = rate.removeprefix("rate(").removesuffix(")").split()
                    assert unit.removesuffix("s") in ("minute", "hour", "day"), rate
                    assert unit.endswith("s") == (amount != "1"), rate  # AWS rejects "1 minutes" and "5 minute"
                events.put_rule(Name=f"{name}-{number}", ScheduleExpression=rate)
        keys = {route["RouteKey"] for route in gateway.get_routes(ApiId=api["ApiId"])["Items"]}
    assert keys == {f"{route.method} {route.path}" for route in ROUTES} | {"$default"}


def test_the_migrate_function_upgrades_postgresql_once_per_deploy(pg):
    """`serverless invoke -f migrate` sends `{}`: the first run creates the schema, the next changes nothing."""
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    migrate.downgrade(pg.engine, "base")
    assert "tds_sync_queue" not in inspect(pg.engine).get_table_names()
    handler = aws_lambda.migrate
    assert handler({}, None) == {"from_revision": None, "to_revision": head}
    assert "tds_sync_queue" in inspect(pg.engine).get_table_names()
    assert handler({}, None) == {"from_revision": head, "to_revision": head}
