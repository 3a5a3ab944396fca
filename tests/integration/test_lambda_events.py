"""Every Lambda entry point (aws_lambda.py) driven by real AWS events: API Gateway HTTP API
(payload 2.0) and REST API (v1) requests, adapted to our paths, methods, headers, query
strings and bodies and EventBridge's scheduled event for the drain and the reconcile.

The events are the real samples in ../shared/realworld/aws/, read in place."""

from __future__ import annotations

import base64
import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

import aws_lambda
from common.keys import ADMIN_KEY_HEADER, WEBHOOK_KEY_HEADER
from common.models import tds_sync_queue
from tests import zoho_payloads as zoho
from tests.fake_zoho import zoho_time
from tests.helpers import ADMIN_KEY, PROJECT_ROOT

AWS_EVENTS = PROJECT_ROOT.parent / "shared" / "realworld" / "aws"
pytestmark = pytest.mark.skipif(
    not AWS_EVENTS.is_dir(), reason=f"the real AWS event samples are absent ({AWS_EVENTS} not found)"
)
WEBHOOK_KEY = "webhook-key-0123456789abcdef"
ZOHO_ITEMS = "/inventory/v1/items"


def _sample(name: str) -> dict:
    return json.loads(Path(AWS_EVENTS, name).read_text())


def _encode(body: dict | None, base64_body: bool) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    raw = json.dumps(body, ensure_ascii=False)
    return (base64.b64encode(raw.encode()).decode(), True) if base64_body else (raw, False)


def http_api_event(
    method: str,
    path: str,
    *,
    route: str | None = None,
    query: str = "",
    headers: dict | None = None,
    body: dict | None = None,
    base64_body: bool = False,
    sample: str = "apigw_http_v2_event.json",
) -> dict:
    """A real HTTP API (payload 2.0) event, carrying our route, path, query, headers and body."""
    event = copy.deepcopy(_sample(sample))
    event["routeKey"] = f"{method} {route or path}"
    event["rawPath"] = path
    event["rawQueryString"] = query
    event["queryStringParameters"] = {name: ",".join(values) for name, values in parse_qs(query).items()}
    if not query:
        event.pop("queryStringParameters")
    event["pathParameters"] = {}
    event["headers"] = {
        **{name.lower(): value for name, value in event["headers"].items()},
        "content-type": "application/json",
        **{name.lower(): value for name, value in (headers or {}).items()},
    }
    event["requestContext"]["http"].update(method=method, path=path)
    event["requestContext"]["routeKey"] = event["routeKey"]
    event["body"], event["isBase64Encoded"] = _encode(body, base64_body)
    if event["body"] is None:
        event.pop("body")
    return event


def rest_api_event(
    method: str,
    path: str,
    *,
    query: str = "",
    headers: dict | None = None,
    body: dict | None = None,
    base64_body: bool = False,
) -> dict:
    """A real REST API (v1 proxy) event, carrying our path, query, headers and body."""
    event = copy.deepcopy(_sample("apigw_rest_v1_proxy_event_awslambdago.json"))
    event.update(resource=path, path=path, httpMethod=method, pathParameters=None)
    parsed = parse_qs(query)
    event["queryStringParameters"] = {name: values[-1] for name, values in parsed.items()} or None
    event["multiValueQueryStringParameters"] = parsed or None
    extra = {"Content-Type": "application/json", **(headers or {})}
    event["headers"] = {**event["headers"], **extra}
    event["multiValueHeaders"] = {**event["multiValueHeaders"], **{name: [value] for name, value in extra.items()}}
    event["requestContext"].update(httpMethod=method, path=path, resourcePath=path)
    event["body"], event["isBase64Encoded"] = _encode(body, base64_body)
    return event


def scheduled_event() -> dict:
    return _sample("eventbridge_scheduled_event.json")


def _json(answer: dict) -> dict:
    body = base64.b64decode(answer["body"]) if answer.get("isBase64Encoded") else answer["body"].encode()
    return json.loads(body)


def _header(answer: dict, name: str) -> str | None:
    headers = {key.lower(): value for key, value in answer.get("headers", {}).items()}
    multi = {key.lower(): values for key, values in answer.get("multiValueHeaders", {}).items()}
    return headers.get(name.lower()) or ",".join(multi.get(name.lower(), [])) or None


def _assert_contract_error(answer: dict, status: int, code: str) -> None:
    assert answer["statusCode"] == status
    assert _header(answer, "Content-Type").startswith("application/json")
    body = _json(answer)
    assert body["success"] is False and body["code"] == code and isinstance(body["errors"], list)


@pytest.fixture
def keys(configure):
    configure(WEBHOOK_API_KEY=WEBHOOK_KEY, ADMIN_API_KEY=ADMIN_KEY)


def _queued(db) -> list[tuple[str, str, str]]:
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(tds_sync_queue.c.entity_type, tds_sync_queue.c.source_entity_id, tds_sync_queue.c.status)
        )
        return sorted(tuple(row) for row in rows)


@pytest.mark.parametrize("build", [http_api_event, rest_api_event], ids=["http-api-2.0", "rest-v1"])
@pytest.mark.parametrize("base64_body", [True, False], ids=["base64", "plain"])
def test_a_webhook_through_the_lambda_lands_in_the_queue(db, keys, build, base64_body):
    event = build(
        "POST",
        "/api/zoho/webhooks/products",
        headers={WEBHOOK_KEY_HEADER: WEBHOOK_KEY},
        body=zoho.product("460000000077001"),
        base64_body=base64_body,
    )
    answer = aws_lambda.zoho_webhook(event, None)
    assert answer["statusCode"] == 202, answer
    assert _header(answer, "Content-Type") == "application/json"
    accepted = _json(answer)
    assert accepted["success"] is True and accepted["queued"] is True
    assert _queued(db) == [("products", "460000000077001", "pending")]


def test_a_webhook_without_its_key_is_refused_and_queues_nothing(db, keys):
    event = http_api_event("POST", "/api/zoho/webhooks/customers", body=zoho.customer(), base64_body=True)
    _assert_contract_error(aws_lambda.zoho_webhook(event, None), 401, "unauthorized")
    assert _queued(db) == []


def test_health_answers_an_http_api_get(db):
    event = http_api_event("GET", "/health", sample="apigw_http_v2_event_GET.json")
    answer = aws_lambda.health(event, None)
    assert answer["statusCode"] == 200
    assert _header(answer, "Cache-Control") == "private, no-store"
    assert _json(answer)["status"] == "healthy"


def test_health_answers_a_rest_api_get(db):
    answer = aws_lambda.health(rest_api_event("GET", "/health"), None)
    assert answer["statusCode"] == 200
    assert _json(answer)["status"] == "healthy"


def test_api_docs_serve_the_document_and_the_ui(db):
    docs = aws_lambda.api_docs
    document = docs(http_api_event("GET", "/openapi.json", sample="apigw_http_v2_event_GET.json"), None)
    assert document["statusCode"] == 200
    assert _json(document)["openapi"].startswith("3.")
    page = docs(http_api_event("GET", "/docs", sample="apigw_http_v2_event_GET.json"), None)
    assert page["statusCode"] == 200
    assert _header(page, "Content-Type").startswith("text/html")


def test_the_http_drain_drains_what_the_webhook_queued(db, keys):
    aws_lambda.zoho_webhook(
        http_api_event(
            "POST",
            "/api/zoho/webhooks/customers",
            headers={WEBHOOK_KEY_HEADER: WEBHOOK_KEY},
            body=zoho.customer(),
            base64_body=True,
        ),
        None,
    )
    answer = aws_lambda.drain_queue_http(
        http_api_event("POST", "/api/zoho/queue/drain", headers={ADMIN_KEY_HEADER: ADMIN_KEY}), None
    )
    assert answer["statusCode"] == 200, answer
    assert _json(answer)["completed"] == 1
    assert [status for *_, status in _queued(db)] == ["completed"]


def test_the_http_drain_wants_the_admin_key(db, keys):
    answer = aws_lambda.drain_queue_http(rest_api_event("POST", "/api/zoho/queue/drain"), None)
    _assert_contract_error(answer, 401, "unauthorized")


def test_the_scheduled_drain_runs_on_the_eventbridge_event(db, keys):
    aws_lambda.zoho_webhook(
        rest_api_event(
            "POST",
            "/api/zoho/webhooks/products",
            headers={WEBHOOK_KEY_HEADER: WEBHOOK_KEY},
            body=zoho.product("460000000077002"),
            base64_body=True,
        ),
        None,
    )
    summary = aws_lambda.drain_queue(scheduled_event(), None)
    assert summary["completed"] == 1 and summary["dead_lettered"] == 0
    assert _queued(db) == [("products", "460000000077002", "completed")]


def test_the_scheduled_reconcile_runs_on_the_eventbridge_event(db, fake_zoho):
    changed = datetime.now(timezone.utc) - timedelta(minutes=5)
    fake_zoho.add(ZOHO_ITEMS, {**zoho.product("460000000077003")["item"], "last_modified_time": zoho_time(changed)})
    summary = aws_lambda.reconcile_zoho(scheduled_event(), None)
    assert summary["enqueued"] == 1
    assert _queued(db) == [("products", "460000000077003", "pending")]


def test_the_http_reconcile_without_zoho_is_503(db, keys):
    answer = aws_lambda.reconcile_zoho_http(
        http_api_event("POST", "/api/zoho/reconcile", headers={ADMIN_KEY_HEADER: ADMIN_KEY}), None
    )
    _assert_contract_error(answer, 503, "service_unavailable")


def test_the_dashboard_answers_health_and_stats_with_a_query_string(db, keys):
    dashboard = aws_lambda.zoho_dashboard
    health = dashboard(http_api_event("GET", "/api/zoho/dashboard/health", sample="apigw_http_v2_event_GET.json"), None)
    assert health["statusCode"] == 200
    assert _json(health)["queue"]["pending"] == 0
    stats = dashboard(
        rest_api_event("GET", "/api/zoho/dashboard/stats", query="hours=6", headers={ADMIN_KEY_HEADER: ADMIN_KEY}), None
    )
    assert stats["statusCode"] == 200
    assert _json(stats)["window_hours"] == 6
    bad = dashboard(
        http_api_event(
            "GET",
            "/api/zoho/dashboard/stats",
            query="hours=-1",
            headers={ADMIN_KEY_HEADER: ADMIN_KEY},
            sample="apigw_http_v2_event_GET.json",
        ),
        None,
    )
    _assert_contract_error(bad, 422, "validation_error")


def test_the_mobile_functions_answer_their_routes(db, configure):
    configure(MOBILE_TOKEN_SECRET="mobile-token-secret-0123456789abcdef")
    get = "apigw_http_v2_event_GET.json"
    home = aws_lambda.mobile_home(http_api_event("GET", "/api/mobile/home", sample=get), None)
    assert home["statusCode"] == 200 and _json(home)["featured_products"] == []
    search = aws_lambda.mobile_search(
        http_api_event(
            "GET", "/api/mobile/search", query="q=%D8%B3%D8%A7%D9%85%D8%B3%D9%88%D9%86%D8%BA&page=1", sample=get
        ),
        None,
    )
    assert search["statusCode"] == 200
    assert _json(search)["query"] == "سامسونغ" and _json(search)["results"] == []
    product = aws_lambda.mobile_product(rest_api_event("GET", "/api/mobile/products/987654"), None)
    _assert_contract_error(product, 404, "not_found")
    checkout = aws_lambda.mobile_checkout(http_api_event("GET", "/api/mobile/checkout", sample=get), None)
    _assert_contract_error(checkout, 401, "unauthorized")
    cart = aws_lambda.mobile_cart(
        http_api_event(
            "PATCH",
            "/api/mobile/cart/items/5",
            route="/api/mobile/cart/items/{product_id}",
            body={"quantity": 2},
            base64_body=True,
        ),
        None,
    )
    _assert_contract_error(cart, 401, "unauthorized")


def test_the_catch_all_answers_the_real_default_route_event(db):
    fallback = aws_lambda.fallback
    _assert_contract_error(fallback(_sample("apigw_http_v2_event_noauth_awslambdago.json"), None), 404, "not_found")
    wrong_method = fallback(rest_api_event("DELETE", "/health"), None)
    _assert_contract_error(wrong_method, 405, "method_not_allowed")
    assert _header(wrong_method, "Allow") == "GET"


def test_an_http_lambda_refuses_a_scheduled_event():
    with pytest.raises(ValueError, match="health answers API Gateway requests only, not Scheduled Event"):
        aws_lambda.health(scheduled_event(), None)
