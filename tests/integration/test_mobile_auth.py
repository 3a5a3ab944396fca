"""Who may call the customer screens: a valid token of an existing, active customer (401 otherwise)."""

import os
import subprocess
import time

import jwt
import pytest

from common.db import write
from tests import shop_fixtures as shop
from tests.helpers import BIN, PROJECT_ROOT

SECRET = "mobile-test-secret-" + "0123456789abcdef" * 2
CUSTOMER_SCREENS = [
    ("GET", "/api/mobile/checkout", None),
    ("POST", "/api/mobile/cart/items", {"product_id": 1, "quantity": 1}),
    ("PATCH", "/api/mobile/cart/items/1", {"quantity": 1}),
    ("DELETE", "/api/mobile/cart/items/1", None),
    ("GET", "/api/mobile/home", None),
]


def _token(sub: str, *, key: str = SECRET, expires_in: int = 600) -> dict[str, str]:
    token = jwt.encode(
        {"sub": sub, "iat": int(time.time()), "exp": int(time.time()) + expires_in}, key, algorithm="HS256"
    )
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


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Token abc"}], ids=["no-header", "not-bearer"])
def test_the_401_says_how_to_authenticate(client, db, headers):
    response = client.get("/api/mobile/checkout", headers=headers)
    assert response.status_code == 401
    message = response.get_json()["message"]
    assert "Authorization: Bearer <token>" in message
    assert "python -m common.shop.auth token <customer id>" in message  # locally, where to get one


def test_the_token_command_prints_a_token_the_screens_accept(client, db):
    """Locally without MOBILE_TOKEN_SECRET: the command and the server share the secret kept in var/."""
    with write(db.engine) as c:
        customer_id = shop.customer(c, "Command line")
    env = {**os.environ, "DATABASE_URL": db.url}
    env.pop("MOBILE_TOKEN_SECRET", None)
    command = [str(BIN / "python"), "-m", "common.shop.auth", "token", str(customer_id)]
    printed = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    token = printed.stdout.strip()
    response = client.get("/api/mobile/checkout", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    unknown = subprocess.run([*command[:-1], "987654321"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                             timeout=60)  # fmt: skip
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "no active customer with id 987654321 in the configured database"
