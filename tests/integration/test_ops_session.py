"""The operations page's gate on both databases: login, cookie flags, tampering, expiry, CSRF, the
per-client throttle, and the page of its own when no admin key is configured."""

import re

import pytest
from sqlalchemy import select

from common.config import load_settings
from common.models import tds_dead_letter_queue
from common.ops import session
from tests import zoho_payloads as zoho
from tests.helpers import ADMIN_KEY, drain_now, queue_webhook


@pytest.fixture(autouse=True)
def fresh_throttle(monkeypatch):
    monkeypatch.setattr(session, "THROTTLE", session.LoginThrottle())


@pytest.fixture
def admin(configure, db):
    configure(DATABASE_URL=db.url, ADMIN_API_KEY=ADMIN_KEY)


def _token(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _log_in(client, key: str = ADMIN_KEY):
    form = client.get("/dashboard/login")
    return client.post("/dashboard/login", data={"csrf": _token(form.get_data(as_text=True)), "admin_key": key})


def test_login_sets_a_strict_http_only_cookie_with_an_expiry(client, admin):
    page = client.get("/dashboard")
    assert page.status_code == 303 and page.headers["Location"] == "/dashboard/login"
    form = client.get("/dashboard/login")
    assert 'method="post"' in form.get_data(as_text=True)
    response = _log_in(client)
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
    [cookie] = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("tsh_ops_session=")]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and f"Max-Age={session.SESSION_SECONDS}" in cookie
    assert "Secure" not in cookie, "APP_ENV=local serves plain http"
    assert ADMIN_KEY not in cookie and ADMIN_KEY not in response.headers["Location"]
    page = client.get("/dashboard")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert ADMIN_KEY not in page.get_data(as_text=True)
    assert client.get("/dashboard/panels").status_code == 200


def test_the_cookie_is_secure_outside_local():
    production = load_settings(
        _env_file=None,
        app_env="production",
        database_url="postgresql://u@db/x",
        webhook_api_key="w" * 16,
        admin_api_key="a" * 16,
        mobile_token_secret="m" * 32,
        zoho_client_id="i",
        zoho_client_secret="s",
        zoho_refresh_token="r",
        zoho_organization_id="o",
    )
    assert session.cookie_header("name", "value", 60, production).endswith("; Secure")


def test_a_tampered_forged_or_expired_cookie_is_no_session(client, admin):
    key = load_settings(_env_file=None, admin_api_key=ADMIN_KEY).admin_api_key
    issued, cookie = session.new_session(key)
    payload, signature = cookie.split(".")
    assert session.read_session(cookie, key) == issued
    assert session.read_session(payload + "." + signature[::-1], key) is None
    other = load_settings(_env_file=None, admin_api_key="another-admin-key-0123").admin_api_key
    assert session.read_session(session.new_session(other)[1], key) is None, "signed under another key"
    assert session.read_session(cookie, key, now=10**11) is None, "expired"
    client.set_cookie(session.SESSION_COOKIE, payload + ".x", path="/dashboard")
    assert client.get("/dashboard").status_code == 303


def test_a_post_without_its_csrf_token_changes_nothing(client, admin, db):
    queue_webhook(client, "products", {"item": {"item_id": "broken-ops-1", "rate": 5}})
    assert drain_now().dead_lettered == 1
    _log_in(client)
    html = client.get("/dashboard").get_data(as_text=True)
    [letter] = re.findall(r'data-id="(\d+)"', html)[:1]
    refused = client.post(f"/dashboard/dead-letters/{letter}/replay", data={"csrf": "guess"})
    assert refused.status_code == 403 and "security token" in refused.get_data(as_text=True)
    assert client.post("/dashboard/dead-letters/replay", data={"entity_type": "products"}).status_code == 403
    with db.engine.connect() as connection:
        assert connection.execute(select(tds_dead_letter_queue.c.resolved)).scalar_one() is False
    accepted = client.post(f"/dashboard/dead-letters/{letter}/replay", data={"csrf": _token(html)})
    assert accepted.status_code == 303 and accepted.headers["Location"] == "/dashboard?notice=replayed&count=1"
    again = client.post(f"/dashboard/dead-letters/{letter}/replay", data={"csrf": _token(html)})
    assert again.headers["Location"].startswith("/dashboard?notice=already-resolved")
    assert client.post("/dashboard/logout", data={"csrf": "guess"}).status_code == 403


def test_without_a_session_a_post_goes_to_login_and_does_nothing(client, admin, db):
    queue_webhook(client, "customers", zoho.customer())
    response = client.post("/dashboard/dead-letters/replay", data={"entity_type": "customers"})
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard/login"


def test_wrong_keys_are_limited_per_client(client, admin):
    for _ in range(session.LOGIN_ATTEMPTS_PER_MINUTE):
        wrong = _log_in(client, "not-the-key")
        assert wrong.status_code == 401 and "not the admin key" in wrong.get_data(as_text=True)
    limited = _log_in(client)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert not any(value.startswith("tsh_ops_session=") for value in limited.headers.getlist("Set-Cookie"))
    other = client.post("/dashboard/login", data={"admin_key": ADMIN_KEY}, environ_base={"REMOTE_ADDR": "127.0.0.9"})
    assert other.status_code == 403, "another client is not limited; it still needs the form's token"


def test_a_login_post_needs_the_forms_token(client, admin):
    client.get("/dashboard/login")
    assert client.post("/dashboard/login", data={"admin_key": ADMIN_KEY}).status_code == 403
    assert client.post("/dashboard/login").status_code == 403


def test_no_admin_key_configured_is_a_page_of_its_own_not_an_open_door(client, db):
    for response in (
        client.get("/dashboard"),
        client.get("/dashboard/login"),
        client.post("/dashboard/login", data={"admin_key": ""}),
    ):
        assert response.status_code == 403
        assert "No admin key is configured" in response.get_data(as_text=True)
    assert client.get("/dashboard/static/ops.css").status_code == 200
    assert client.get("/dashboard/static/../pages.py").status_code == 404
