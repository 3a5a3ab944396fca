"""Who may call the customer screens: a valid token of an existing, active customer (401 otherwise)."""

import time

import jwt
import pytest

from common.db import write
from tests import shop_fixtures as shop

SECRET = "mobile-test-secret-" + "0123456789abcdef" * 2
CUSTOMER_SCREENS = [
    ("GET", "/api/mobile/checkout", None),
    ("POST", "/api/mobile/cart/items", {"product_id": 1, "quantity": 1}),
    ("PATCH", "/api/mobile/cart/items/1", {"quantity": 1}),
    ("DELETE", "/api/mobile/cart/items/1", None),
    ("GET", "/api/mobile/home", None),
]


def _token(sub: str, *, key: str = SECRET, expires_in: int = 600) -> dict[str, str]:
    token = jwt.encode({"sub": sub, "exp": int(time.time()) + expires_in}, key, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def customers(db, configure):
    configure(MOBILE_TOKEN_SECRET=SECRET)
    with write(db.engine) as c:
        return {"active": shop.customer(c, "Active"), "inactive": shop.customer(c, "Gone", is_active=False)}


@pytest.mark.parametrize(("method", "path", "body"), CUSTOMER_SCREENS)
def test_tokens_that_do_not_name_an_active_customer_are_401(client, customers, method, path, body):
    refused = [
        _token(str(customers["active"]), key="another-secret-" + "0123456789abcdef" * 2),
        _token(str(customers["active"]), expires_in=-60),
        _token(str(customers["inactive"])),
        _token("987654321"),
        {"Authorization": "Token abc"},
        {"Authorization": ""},
    ]
    for headers in refused:
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code == 401, (headers, response.get_json())
        assert response.get_json()["code"] == "unauthorized"


@pytest.mark.parametrize(("method", "path", "body"), CUSTOMER_SCREENS)
def test_a_token_signed_with_the_configured_secret_is_accepted(client, customers, method, path, body):
    response = client.open(path, method=method, json=body, headers=_token(str(customers["active"])))
    assert response.status_code not in (401, 403)


def test_the_bearer_scheme_is_case_insensitive(client, customers):
    token = _token(str(customers["active"]))["Authorization"].split()[1]
    assert client.get("/api/mobile/checkout", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_an_anonymous_home_needs_no_token(client, customers):
    body = client.get("/api/mobile/home").get_json()
    assert body["customer"] is None and body["cart"] is None
