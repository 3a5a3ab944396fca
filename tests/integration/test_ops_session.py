"""The operations page's gate on both databases: login, cookie flags, tampering, expiry, CSRF, the
per-client throttle, and the page of its own when no admin key is configured."""

import re
import secrets
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import select

from common.clock import utcnow
from common.config import load_settings
from common.models import tds_dead_letter_queue
from common.ops import session
from tests import zoho_payloads as zoho
from tests.helpers import ADMIN_KEY, BIN, PROJECT_ROOT, csrf_token, drain_now, log_in, queue_webhook


@pytest.fixture
def admin(configure, db):
    configure(DATABASE_URL=db.url, ADMIN_API_KEY=ADMIN_KEY)


def test_login_sets_a_strict_http_only_cookie_with_an_expiry(client, admin):
    page = client.get("/dashboard")
    assert page.status_code == 303 and page.headers["Location"] == "/dashboard/login"
    form = client.get("/dashboard/login")
    assert 'method="post"' in form.get_data(as_text=True)
    response = log_in(client)
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
    issued, cookie = session.start(ADMIN_KEY)
    token, signature = cookie.split(".")
    assert session.find(cookie, key) == issued
    assert session.find(token + "." + signature[::-1], key) is None
    assert session.find(session.start("another-admin-key-0123")[1], key) is None, "signed in with another key"
    assert session.find(secrets_token() + "." + signature, key) is None, "an id the server never issued"
    client.set_cookie(session.SESSION_COOKIE, token + ".x", path="/dashboard")
    assert client.get("/dashboard").status_code == 303
    assert session.find(cookie, key) == issued, "a forged signature does not end the real session"


def _session_cookie(response) -> str:
    [cookie] = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("tsh_ops_session=")]
    return cookie.split(";", 1)[0].split("=", 1)[1]


def test_a_logged_out_cookie_is_refused(client, admin):
    cookie = _session_cookie(log_in(client))
    page = client.get("/dashboard")
    assert page.status_code == 200
    logout = client.post("/dashboard/logout", data={"csrf": csrf_token(page.get_data(as_text=True))})
    assert logout.status_code == 303 and logout.headers["Location"] == "/dashboard/login"
    client.set_cookie(session.SESSION_COOKIE, cookie, path="/dashboard")  # the cookie, kept by an attacker
    for response in (
        client.get("/dashboard"),
        client.get("/dashboard/panels"),
        client.post(
            "/dashboard/dead-letters/replay",
            data={"csrf": csrf_token(page.get_data(as_text=True)), "entity_type": "products"},
        ),
    ):
        assert response.status_code == 303 and response.headers["Location"] == "/dashboard/login"


def test_a_rotated_admin_key_ends_the_sessions_of_the_old_key_only(client, admin, configure):
    old_cookie = _session_cookie(log_in(client))
    next_key = "admin-key-next-0123456789ab"
    configure(ADMIN_API_KEY=f"{ADMIN_KEY},{next_key}")  # the rotation starts: both keys sign in
    assert client.get("/dashboard").status_code == 200
    new_cookie = _session_cookie(log_in(client, next_key))
    configure(ADMIN_API_KEY=next_key)  # the old key is withdrawn
    client.set_cookie(session.SESSION_COOKIE, old_cookie, path="/dashboard")
    assert client.get("/dashboard").status_code == 303
    configure(ADMIN_API_KEY=f"{ADMIN_KEY},{next_key}")  # putting the old key back revives nothing
    assert client.get("/dashboard").status_code == 303
    client.set_cookie(session.SESSION_COOKIE, new_cookie, path="/dashboard")
    assert client.get("/dashboard").status_code == 200
    configure(ADMIN_API_KEY="admin-key-third-0123456789")
    assert client.get("/dashboard").status_code == 303


def test_sessions_end_after_8_hours_idle_and_24_hours_in_all(client, admin):
    key = load_settings(_env_file=None, admin_api_key=ADMIN_KEY).admin_api_key
    start = utcnow()
    idle, idle_cookie = session.start(ADMIN_KEY, now=start)
    assert session.find(idle_cookie, key, now=start + timedelta(hours=7, minutes=59)) == idle
    assert session.find(idle_cookie, key, now=start + timedelta(hours=15, minutes=58)) == idle, "used at 7:59"
    last_use = start + timedelta(hours=15, minutes=58)
    assert session.find(idle_cookie, key, now=last_use + timedelta(hours=8)) is None, "8 hours after its last use"
    assert session.find(idle_cookie, key, now=start + timedelta(hours=7)) is None, "ended means deleted"
    busy, busy_cookie = session.start(ADMIN_KEY, now=start)
    for hour in range(1, 24):
        assert session.find(busy_cookie, key, now=start + timedelta(hours=hour)) == busy
    assert session.find(busy_cookie, key, now=start + timedelta(hours=24)) is None, "24 hours in all"


def secrets_token() -> str:
    return secrets.token_urlsafe(32)


def test_a_post_without_its_csrf_token_changes_nothing(client, admin, db):
    queue_webhook(client, "products", {"item": {"item_id": "broken-ops-1", "rate": 5}})
    assert drain_now().dead_lettered == 1
    log_in(client)
    html = client.get("/dashboard").get_data(as_text=True)
    [letter] = re.findall(r'data-id="(\d+)"', html)[:1]
    refused = client.post(f"/dashboard/dead-letters/{letter}/replay", data={"csrf": "guess"})
    assert refused.status_code == 403 and "security token" in refused.get_data(as_text=True)
    assert client.post("/dashboard/dead-letters/replay", data={"entity_type": "products"}).status_code == 403
    with db.engine.connect() as connection:
        assert connection.execute(select(tds_dead_letter_queue.c.resolved)).scalar_one() is False
    accepted = client.post(f"/dashboard/dead-letters/{letter}/replay", data={"csrf": csrf_token(html)})
    assert accepted.status_code == 303 and accepted.headers["Location"] == "/dashboard?notice=replayed&count=1"
    again = client.post(f"/dashboard/dead-letters/{letter}/replay", data={"csrf": csrf_token(html)})
    assert again.headers["Location"].startswith("/dashboard?notice=already-resolved")
    assert client.post("/dashboard/logout", data={"csrf": "guess"}).status_code == 403


def test_without_a_session_a_post_goes_to_login_and_does_nothing(client, admin, db):
    queue_webhook(client, "customers", zoho.customer())
    response = client.post("/dashboard/dead-letters/replay", data={"entity_type": "customers"})
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard/login"


def test_wrong_keys_are_limited_per_client(client, admin):
    for _ in range(session.LOGIN_ATTEMPTS_PER_MINUTE):
        wrong = log_in(client, "not-the-key")
        assert wrong.status_code == 401 and "not the admin key" in wrong.get_data(as_text=True)
    limited = log_in(client)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert not any(value.startswith("tsh_ops_session=") for value in limited.headers.getlist("Set-Cookie"))
    other = client.post("/dashboard/login", data={"admin_key": ADMIN_KEY}, environ_base={"REMOTE_ADDR": "127.0.0.9"})
    assert other.status_code == 403, "another client is not limited; it still needs the form's token"


def test_the_login_throttle_holds_across_processes(client, admin, db):
    """Wrong keys counted by another process (another --workers process, another host) close
    the door here too."""
    script = (
        f"from common.ops import session\nfor _ in range({session.LOGIN_ATTEMPTS_PER_MINUTE}): "
        "session.failed('10.1.2.3')"
    )
    other = subprocess.run(
        [str(BIN / "python"), "-c", script],
        cwd=PROJECT_ROOT,
        env={"DATABASE_URL": db.url, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert other.returncode == 0, other.stderr
    here = {"environ_base": {"REMOTE_ADDR": "10.1.2.3"}}
    form = client.get("/dashboard/login", **here).get_data(as_text=True)
    limited = client.post("/dashboard/login", data={"csrf": csrf_token(form), "admin_key": ADMIN_KEY}, **here)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert log_in(client).status_code == 303, "another address is not limited"


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
