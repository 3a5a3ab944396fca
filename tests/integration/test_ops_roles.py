"""The read-only viewer (OPS_VIEWER_KEY) and the page's operator forms, on both databases: the viewer
reads every admin GET and the page, is refused every change (403) and sees no form that changes
anything; the admin's page pauses, counts and confirms bulk actions; sign-in and sign-out are audited."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.test import Client

from common.clock import utcnow
from common.config import ConfigError, get_settings, load_settings, local_admin_key
from common.keys import admin_key
from common.models import ops_audit_log, ops_sessions, tds_dead_letter_queue
from common.ops import alerts
from common.ops.pages import operator
from service import ROUTES
from tests.helpers import ADMIN_KEY, csrf_token, dead_letter_one, drain_now, log_in, queue_webhook

VIEWER_KEY = "viewer-key-0123456789abcdef"
ADMIN = {"X-Admin-Key": ADMIN_KEY}
VIEWER = {"X-Admin-Key": VIEWER_KEY}


@pytest.fixture
def keys(configure, db):
    configure(DATABASE_URL=db.url, ADMIN_API_KEY=ADMIN_KEY, OPS_VIEWER_KEY=VIEWER_KEY)


def _log_in(client, key: str):
    """Sign in; the operations page's HTML."""
    answer = log_in(client, key)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client.get("/dashboard").get_data(as_text=True)


def _path(route) -> str:
    return re.sub(r"\{\w+\}", "1", route.path)


def test_the_viewer_key_reads_every_admin_get_and_is_refused_every_change(client, db, keys):
    dead_letter_one(client, "role-broken")
    for route in ROUTES:
        if route.auth is not admin_key:
            continue
        query = {"q": "role-broken"} if route.operation == "dashboard_event_search" else None
        body = {} if route.method == "POST" else None
        answer = client.open(_path(route), method=route.method, headers=VIEWER, json=body, query_string=query)
        if route.method == "GET":
            assert answer.status_code == 200, (route.path, answer.get_json())
        else:
            assert answer.status_code == 403, route.path
            assert answer.get_json()["code"] == "forbidden"
    with db.engine.connect() as connection:
        assert connection.execute(select(tds_dead_letter_queue.c.resolved)).scalars().all() == [False]
        assert connection.execute(select(ops_audit_log)).all() == []
    assert client.get("/api/zoho/dashboard/stats", headers={"X-Admin-Key": "wrong-key-0123456789"}).status_code == 401


def test_the_viewer_page_shows_everything_but_no_form_that_changes_anything(client, db, keys):
    dead_letter_one(client, "role-broken")
    html = _log_in(client, VIEWER_KEY)
    assert 'id="dead-letter-list"' in html and 'id="incidents"' in html and 'id="audit"' in html
    actions = re.findall(r'<form method="post" action="([^"]+)"', html)
    assert actions == ["/dashboard/logout"], "a viewer may only sign out"
    panels = client.get("/dashboard/panels").get_data(as_text=True)
    assert 'method="post"' not in panels
    csrf = csrf_token(html)
    [letter] = re.findall(r'data-id="(\d+)"', html)[:1]
    for route in ROUTES:
        if route.auth is operator and route.method == "POST" and route.operation != "ops_logout":
            answer = client.post(
                _path(route).replace("/1/", f"/{letter}/"),
                data={"csrf": csrf, "entity_type": "products", "action": "replay", "confirmed": "1"},
            )
            assert answer.status_code == 403, route.path
    with db.engine.connect() as connection:
        assert connection.execute(select(tds_dead_letter_queue.c.resolved)).scalars().all() == [False]
    assert client.post("/dashboard/logout", data={"csrf": csrf}).status_code == 303
    with db.engine.connect() as connection:
        trail = connection.execute(select(ops_audit_log.c.role, ops_audit_log.c.action).order_by(ops_audit_log.c.id))
        assert [tuple(row) for row in trail] == [("viewer", "login"), ("viewer", "logout")]


def test_a_viewer_session_ends_when_the_viewer_key_goes(client, db, keys, configure):
    _log_in(client, VIEWER_KEY)
    configure(OPS_VIEWER_KEY=None)
    assert client.get("/dashboard").status_code == 303


def test_each_session_records_its_role_and_a_viewer_key_rotation_ends_only_viewer_sessions(client, db, keys, configure):
    admin = Client(client.application)
    _log_in(admin, ADMIN_KEY)
    _log_in(client, VIEWER_KEY)
    with db.engine.connect() as connection:
        roles = connection.execute(select(ops_sessions.c.role).order_by(ops_sessions.c.id)).scalars().all()
    assert roles == ["admin", "viewer"]
    new_key = "viewer-key-new-0123456789abcdef"
    configure(OPS_VIEWER_KEY=f"{VIEWER_KEY},{new_key}")  # during the rotation both keys hold
    assert client.get("/dashboard").status_code == 200
    configure(OPS_VIEWER_KEY=new_key)
    assert client.get("/dashboard").status_code == 303, "the old viewer key's session ended"
    assert admin.get("/dashboard").status_code == 200, "an admin session does not hang on the viewer key"
    with db.engine.connect() as connection:
        assert connection.execute(select(ops_sessions.c.role)).scalars().all() == ["admin"]
    html = _log_in(client, new_key)
    assert re.findall(r'<form method="post" action="([^"]+)"', html) == ["/dashboard/logout"]


def test_an_admin_key_rotation_ends_admin_sessions_and_no_viewer_session(client, db, keys, configure):
    admin = Client(client.application)
    _log_in(admin, ADMIN_KEY)
    _log_in(client, VIEWER_KEY)
    configure(ADMIN_API_KEY="admin-key-new-0123456789abcdef")
    assert admin.get("/dashboard").status_code == 303
    assert client.get("/dashboard").status_code == 200


def test_the_admin_page_pauses_resumes_and_shows_the_banner(client, db, keys):
    html = _log_in(client, ADMIN_KEY)
    csrf = csrf_token(html)
    assert client.post("/dashboard/queue/pause", data={"csrf": csrf, "entity_type": ""}).status_code == 303
    page = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r"Paused: drain of every entity type paused since \d{4}-\d\d-\d\d \d\d:\d\d UTC by admin", page)
    assert client.post("/dashboard/queue/resume", data={"csrf": csrf, "entity_type": ""}).status_code == 303
    assert "data-paused" not in client.get("/dashboard").get_data(as_text=True)
    assert client.post("/dashboard/queue/pause", data={"csrf": csrf, "entity_type": "planets"}).status_code == 400
    with db.engine.connect() as connection:
        trail = connection.execute(select(ops_audit_log.c.action).order_by(ops_audit_log.c.id)).scalars().all()
    assert trail == ["login", "pause", "resume"]


def test_the_admin_page_counts_a_bulk_action_and_acts_only_once_confirmed(client, db, keys):
    dead_letter_one(client, "role-broken")
    csrf = csrf_token(_log_in(client, ADMIN_KEY))
    form = {"csrf": csrf, "action": "discard", "entity_type": "products", "error_contains": "no name"}
    shown = client.post("/dashboard/dead-letters/bulk", data=form)
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert 'data-matched="1"' in text and 'name="confirmed" value="1"' in text
    with db.engine.connect() as connection:
        assert connection.execute(select(tds_dead_letter_queue.c.resolved)).scalars().all() == [False]
    queue_webhook(client, "products", {"item": {"item_id": "role-broken-2", "rate": 5}})  # arrives meanwhile
    assert drain_now().dead_lettered == 1
    changed = client.post("/dashboard/dead-letters/bulk", data={**form, "confirmed": "1"})
    assert changed.status_code == 409 and 'data-matched="2"' in changed.get_data(as_text=True)
    done = client.post("/dashboard/dead-letters/bulk", data={**form, "confirmed": "2"})
    assert done.status_code == 303 and "notice=discarded" in done.headers["Location"]
    with db.engine.connect() as connection:
        assert connection.execute(select(tds_dead_letter_queue.c.resolved)).scalars().all() == [True, True]
        [entry] = connection.execute(select(ops_audit_log).where(ops_audit_log.c.action == "discard")).all()
    assert entry.detail == {"entity_type": "products", "error_contains": "no name"} and entry.affected == 2


def test_the_page_finds_an_event_by_a_payload_value(client, db, keys):
    queue_webhook(
        client,
        "customers",
        {"contact": {"contact_id": "880000000000077", "contact_name": "Ali", "phone": "+9647701234567"}},
    )
    _log_in(client, ADMIN_KEY)
    page = client.get("/dashboard", query_string={"q": "+9647701234567"}).get_data(as_text=True)
    assert page.count('class="found-event"') == 1 and "880000000000077" in page


def test_the_viewer_key_must_differ_from_the_admin_key():
    with pytest.raises(ConfigError, match="OPS_VIEWER_KEY must differ"):
        load_settings(_env_file=None, admin_api_key=ADMIN_KEY, ops_viewer_key=ADMIN_KEY)


def test_the_local_admin_key_is_made_once_private_and_kept(tmp_path):
    path = tmp_path / "var" / "admin_api_key"
    key, created = local_admin_key(path)
    assert created and len(key) >= 32 and (path.stat().st_mode & 0o777) == 0o600
    assert local_admin_key(path) == (key, False), "a restart keeps the key (and does not print it again)"


def test_the_runner_generates_the_key_locally_only(tmp_path, monkeypatch, configure):
    import common.config
    import local_runner

    monkeypatch.setattr(common.config, "LOCAL_ADMIN_KEY_PATH", tmp_path / "admin_api_key")
    settings, printed = local_runner._local_admin_key(configure())
    assert printed and settings.admin_api_key.get_secret_value() == printed
    assert local_runner._local_admin_key(configure(ADMIN_API_KEY=None))[1] is None, "made once"
    given = configure(ADMIN_API_KEY=ADMIN_KEY)
    assert local_runner._local_admin_key(given) == (given, None), "a configured key is left alone"


def test_production_still_refuses_to_start_without_an_admin_key():
    with pytest.raises(ConfigError, match="ADMIN_API_KEY"):
        load_settings(
            _env_file=None,
            app_env="production",
            database_url="postgresql://u@db/x",
            webhook_api_key="w" * 16,
            mobile_token_secret="m" * 32,
            zoho_client_id="i",
            zoho_client_secret="s",
            zoho_refresh_token="r",
            zoho_organization_id="o",
        )


def test_the_incident_list_shows_open_incidents_to_the_viewer(client, db, keys):
    dead_letter_one(client, "role-broken")
    alerts.evaluate(get_settings(), now=utcnow() - timedelta(minutes=3))
    page = client.get("/dashboard/panels")
    assert page.status_code == 303  # no session yet
    _log_in(client, VIEWER_KEY)
    panels = client.get("/dashboard/panels").get_data(as_text=True)
    assert 'data-rule="dead_letters" data-state="open"' in panels and "none (no ALERT_WEBHOOK_URL)" in panels
