"""Every protected route of the service refuses a caller with no credentials or wrong ones, in
the contract's shape, and lets the right ones through. The routes come from service.py, so a
new protected route is covered as soon as it is declared; a new kind of auth fails until it is
given its refusals here."""

import re
import time

import jwt
import pytest

from common.db.transactions import write
from common.keys import admin_key, webhook_key
from common.ops import session
from common.ops.pages import operator
from common.routes import Route
from common.shop.auth import customer, optional_customer
from service import ROUTES
from tests import shop_fixtures as shop
from tests.helpers import ADMIN_KEY as ADMIN_SECRET

WEBHOOK_SECRET = "webhook-key-0123456789abcdef"
TOKEN_SECRET = "route-auth-token-secret-" + "0123456789abcdef" * 2
PROTECTED = [route for route in ROUTES if route.auth is not None]
LOGIN = "/dashboard/login"


@pytest.fixture
def callers(db, configure) -> dict:
    """The configured keys and secret, and the credentials of a signed-in customer and operator."""
    configure(WEBHOOK_API_KEY=WEBHOOK_SECRET, ADMIN_API_KEY=ADMIN_SECRET, MOBILE_TOKEN_SECRET=TOKEN_SECRET)
    with write(db.engine) as c:
        signed_in, other = shop.customer(c, "Signed in"), shop.customer(c, "Other")
        inactive = shop.customer(c, "Gone", is_active=False)
    signed_in_operator, cookie = session.start(ADMIN_SECRET)
    return {
        "token": shop.bearer(signed_in),
        "inactive": shop.bearer(inactive),
        "other": other,
        "cookie": cookie,
        "csrf": signed_in_operator.csrf,
    }


def _foreign_token(customer_id: int) -> dict[str, str]:
    """A well-formed token of an existing customer, signed with a key that is not the service's."""
    claims = {"sub": str(customer_id), "iat": int(time.time()), "exp": int(time.time()) + 600}
    return {"Authorization": "Bearer " + jwt.encode(claims, "foreign-secret-" + "0123456789abcdef" * 2, "HS256")}


def _json_refusal(status: int, code: str, message: str):
    def check(response) -> None:
        body = response.get_json()
        assert response.status_code == status, body
        assert set(body) == {"success", "message", "code", "errors"} and body["success"] is False
        assert body["code"] == code and message in body["message"], body

    return check


def _to_login(response) -> None:
    assert response.status_code == 303 and response.headers["Location"] == LOGIN
    assert "Set-Cookie" not in response.headers


def _forbidden_page(response) -> None:
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert "security token" in response.get_data(as_text=True)


_NO_WEBHOOK_KEY = _json_refusal(401, "unauthorized", "Invalid or missing webhook API key")
_NO_ADMIN_KEY = _json_refusal(401, "unauthorized", "Invalid or missing admin API key")
_NOT_SIGNED_IN = _json_refusal(401, "unauthorized", "Authentication required: send the header Authorization: Bearer")
_BAD_TOKEN = _json_refusal(401, "unauthorized", "Invalid token")
_NOT_BEARER = _json_refusal(401, "unauthorized", "Authorization must be a Bearer token")
_UNKNOWN_CUSTOMER = _json_refusal(401, "unauthorized", "Unknown customer")
_SOMEONE_ELSE = _json_refusal(403, "forbidden", "customer_id must be the signed-in customer")


def _token_refusals(callers: dict) -> list:
    return [
        ("a token signed with another key", {"headers": _foreign_token(callers["other"])}, _BAD_TOKEN),
        ("not a bearer token", {"headers": {"Authorization": "Token abc"}}, _NOT_BEARER),
        ("a token of an inactive customer", {"headers": callers["inactive"]}, _UNKNOWN_CUSTOMER),
    ]


def _ops_refusals(route: Route, callers: dict) -> list:
    forged = session.start("another-admin-key-0123456789")[1]
    refusals = [("no session", {}, _to_login), ("a session signed with another key", {"cookie": forged}, _to_login)]
    if route.method == "POST":
        signed_in = {"cookie": callers["cookie"]}
        refusals += [
            ("a session but no CSRF token", {**signed_in, "data": {"entity_type": "products"}}, _forbidden_page),
            ("a session but a wrong CSRF token", {**signed_in, "data": {"csrf": "guess"}}, _forbidden_page),
        ]
    return refusals


def _refusals(route: Route, callers: dict) -> list:
    """(what is wrong, how the request is sent, what the answer must be) for each way of calling wrongly."""
    if route.auth is webhook_key:
        dry_run = {"X-Webhook-Key": WEBHOOK_SECRET, "X-Dry-Run": "true"}
        wrong_admin = {**dry_run, "X-Admin-Key": "wrong-key-0123456789abcdef"}
        return [
            ("no key", {}, _NO_WEBHOOK_KEY),
            ("a wrong key", {"headers": {"X-Webhook-Key": "wrong-key-0123456789abcdef"}}, _NO_WEBHOOK_KEY),
            ("the admin key", {"headers": {"X-Webhook-Key": ADMIN_SECRET}}, _NO_WEBHOOK_KEY),
            ("a dry run without the admin key", {"headers": dry_run}, _NO_ADMIN_KEY),
            ("a dry run with a wrong admin key", {"headers": wrong_admin}, _NO_ADMIN_KEY),
        ]
    if route.auth is admin_key:
        return [
            ("no key", {}, _NO_ADMIN_KEY),
            ("a wrong key", {"headers": {"X-Admin-Key": "wrong-key-0123456789abcdef"}}, _NO_ADMIN_KEY),
            ("the webhook key", {"headers": {"X-Admin-Key": WEBHOOK_SECRET}}, _NO_ADMIN_KEY),
        ]
    if route.auth is customer:
        foreign_scope = {"headers": callers["token"], "query_string": {"customer_id": callers["other"]}}
        return [
            ("no token", {}, _NOT_SIGNED_IN),
            *_token_refusals(callers),
            ("another customer's customer_id", foreign_scope, _SOMEONE_ELSE),
        ]
    if route.auth is optional_customer:
        return _token_refusals(callers)  # no token at all is an anonymous caller
    if route.auth is operator:
        return _ops_refusals(route, callers)
    raise AssertionError(f"{route.operation}: no refusals known for auth {route.auth!r}; add them here")


def _call(client, route: Route, cookie: str | None = None, **request):
    if cookie:
        client.set_cookie(session.SESSION_COOKIE, cookie, path=session.COOKIE_PATH)
    try:
        return client.open(re.sub(r"\{\w+\}", "1", route.path), method=route.method, **request)
    finally:
        client.delete_cookie(session.SESSION_COOKIE, path=session.COOKIE_PATH)


@pytest.mark.parametrize("route", PROTECTED, ids=lambda route: route.operation)
def test_a_protected_route_refuses_missing_and_wrong_credentials(client, callers, route):
    for wrong, request, check in _refusals(route, callers):
        response = _call(client, route, **request)
        try:
            check(response)
        except AssertionError as failure:
            raise AssertionError(f"{route.method} {route.path} with {wrong}: {failure}") from None


@pytest.mark.parametrize("route", PROTECTED, ids=lambda route: route.operation)
def test_the_right_credentials_pass_the_same_routes(client, callers, route):
    """So that the refusals above are the credentials' doing, not a route that refuses everyone."""
    form = {"data": {"csrf": callers["csrf"]}} if route.method == "POST" else {}
    credentials = {
        webhook_key: {"headers": {"X-Webhook-Key": WEBHOOK_SECRET}},
        admin_key: {"headers": {"X-Admin-Key": ADMIN_SECRET}},
        customer: {"headers": callers["token"]},
        optional_customer: {"headers": callers["token"]},
        operator: {"cookie": callers["cookie"], **form},
    }[route.auth]
    response = _call(client, route, **credentials)
    assert response.status_code not in (401, 403), response.get_data(as_text=True)[:300]
    sent_to_login = response.headers.get("Location") == LOGIN and "Set-Cookie" not in response.headers
    assert not sent_to_login, "a valid session was sent to login"  # logout goes there too, ending the session


def test_a_route_cannot_declare_an_auth_that_no_guard_enforces():
    with pytest.raises(TypeError, match="auth must be a guard function or None, not 'admin'"):
        Route(method="GET", path="/api/x", operation="x", summary="X", tag="x", handler=print, auth="admin")
