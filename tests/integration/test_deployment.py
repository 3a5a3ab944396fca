"""The cloud deployment: serverless.yml matches the route table, and the Lambda host runs the same handlers."""

import base64
import json

import boto3
import pytest
import yaml
from moto import mock_aws

import aws_lambda
from common.routes import ROUTES, SCHEDULES
from tests import zoho_payloads as zoho
from tests.helpers import PROJECT_ROOT

SERVERLESS = yaml.safe_load((PROJECT_ROOT / "serverless.yml").read_text())
FUNCTIONS = SERVERLESS["functions"]


def _http_events(function: dict) -> set:
    events = [event["httpApi"] for event in function.get("events", []) if "httpApi" in event]
    return {event if isinstance(event, str) else (event["method"], event["path"]) for event in events}


def _schedules(function: dict) -> set:
    return {event["schedule"] for event in function.get("events", []) if "schedule" in event}


def test_every_function_module_is_deployed_and_nothing_else():
    modules = {route.module for route in ROUTES} | {schedule.module for schedule in SCHEDULES} | {aws_lambda.FALLBACK}
    assert set(FUNCTIONS) == modules


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_function_has_exactly_its_routes_and_schedules(name):
    function = FUNCTIONS[name]
    assert function["handler"] == f"aws_lambda.{name}"
    expected_routes = {(route.method, route.path) for route in ROUTES if route.module == name}
    if name == aws_lambda.FALLBACK:
        expected_routes = {"*"}
    assert _http_events(function) == expected_routes
    assert _schedules(function) == {schedule.rate for schedule in SCHEDULES if schedule.module == name}
    assert callable(aws_lambda.handler_for(name))


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
            for number, rate in enumerate(_schedules(function)):
                amount, unit = rate.removeprefix("rate(").removesuffix(")").split()
                assert unit == ("minute" if amount == "1" else "minutes"), rate  # AWS rejects "1 minutes"
                events.put_rule(Name=f"{name}-{number}", ScheduleExpression=rate)
        keys = {route["RouteKey"] for route in gateway.get_routes(ApiId=api["ApiId"])["Items"]}
    assert keys == {f"{route.method} {route.path}" for route in ROUTES} | {"$default"}


def _http_event(method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
    """An API Gateway HTTP API (payload 2.0) event, as Lambda receives it."""
    raw = json.dumps(body).encode() if body is not None else b""
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "api.tsh.example", "content-type": "application/json", **(headers or {})},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7"},
            "domainName": "api.tsh.example",
            "stage": "$default",
        },
        "body": base64.b64encode(raw).decode(),
        "isBase64Encoded": True,
    }


def test_lambda_serves_http_events_with_the_same_handlers(db):
    answer = aws_lambda.handler_for("health")(_http_event("GET", "/health"), None)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["message"] == "النظام يعمل بشكل طبيعي"
    queued = aws_lambda.handler_for("zoho_webhook")(_http_event("POST", "/api/zoho/webhooks/products", zoho.product()), None)
    assert queued["statusCode"] == 202
    assert json.loads(queued["body"])["queued"] is True


def test_lambda_runs_the_scheduled_drain(db):
    aws_lambda.handler_for("zoho_webhook")(_http_event("POST", "/api/zoho/webhooks/customers", zoho.customer()), None)
    summary = aws_lambda.handler_for("drain_queue")({"source": "aws.events", "detail-type": "Scheduled Event"}, None)
    assert summary["completed"] == 1


def test_the_catch_all_answers_404_and_405_in_the_contract_shape(db):
    fallback = aws_lambda.handler_for("fallback")
    missing = fallback(_http_event("GET", "/nowhere"), None)
    assert missing["statusCode"] == 404
    assert json.loads(missing["body"])["code"] == "not_found"
    wrong_method = fallback(_http_event("DELETE", "/health"), None)
    assert wrong_method["statusCode"] == 405
    assert json.loads(wrong_method["body"])["code"] == "method_not_allowed"
