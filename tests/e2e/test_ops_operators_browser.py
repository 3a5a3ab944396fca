"""The operators' controls in real headless Chromium against a local runner subprocess, on each
database: the admin pauses from the page and sees the banner and the incident list (screenshots
for docs/), counts then confirms a bulk discard; the viewer's page has no form that changes
anything, and a change posted from its page anyway is refused."""

from __future__ import annotations

import time

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as until
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from common.config import load_settings
from common.models import ops_audit_log, ops_queue_pauses, tds_dead_letter_queue
from common.ops import alerts, notify
from tests import zoho_payloads as zoho
from tests.alert_receiver import AlertReceiver
from tests.e2e.browser import chromium
from tests.e2e.test_ops_dashboard_browser import _drain, _log_in, _queue, _submit, _text
from tests.helpers import ADMIN_KEY, BIN, PROJECT_ROOT, free_port, running

pytestmark = pytest.mark.slow

VIEWER_KEY = "viewer-key-0123456789abcdef"
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


@pytest.fixture
def receiver():
    with AlertReceiver() as running_receiver:
        yield running_receiver


@pytest.fixture
def server(db, receiver):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "DATABASE_URL": db.url,
        "ADMIN_API_KEY": ADMIN_KEY,
        "OPS_VIEWER_KEY": VIEWER_KEY,
        "TDS_WORKERS": "0",
        "ALERT_WEBHOOK_URL": receiver.url,
    }
    with running([str(BIN / "python"), "local_runner.py", "--port", str(port)], env, f"{base}/health"):
        yield base


def _broken(server: str, item_id: str) -> None:
    _queue(server, "products", {"item": {"item_id": item_id, "rate": 5}})  # no name: a permanent failure


def _incidents_now(db, receiver) -> list[dict]:
    """One run of the rules and of the alert messages, as the runner's watcher does every minute
    (it may run too: an incident opens once either way); what the receiver heard."""
    settings = load_settings(_env_file=None, database_url=db.url, alert_webhook_url=receiver.url)
    alerts.evaluate(settings, db.engine)
    deadline = time.monotonic() + 30
    while not receiver.accepted() and time.monotonic() < deadline:  # the runner's watcher may hold it
        notify.deliver_due(settings, db.engine)
        time.sleep(0.2)
    return receiver.accepted()


def test_the_admin_pauses_from_the_page_and_sees_the_banner_and_the_incidents(browser, server, db, receiver):
    browser.delete_all_cookies()
    browser.set_window_size(1200, 900)
    _queue(server, "customers", zoho.customer("880000000000021", contact_name="شركة النور للإلكترونيات"))
    _broken(server, "460000000000021")
    _broken(server, "460000000000022")
    assert _drain(server)["dead_lettered"] == 2
    [heard] = _incidents_now(db, receiver)
    assert heard["alert"]["rule"] == "dead_letters" and heard["text"].startswith("[OPEN]")
    _log_in(browser, server)
    WebDriverWait(browser, 30).until(until.presence_of_element_located((By.ID, "pause-form")))
    Select(browser.find_element(By.ID, "pause-entity")).select_by_value("products")
    _submit(browser, browser.find_element(By.ID, "pause"))
    assert "Drain paused" in _text(browser, "notice")
    banner = _text(browser, "pause-banner-1")
    assert "drain of products paused since" in banner and "by admin" in banner
    with db.engine.connect() as connection:
        assert connection.execute(select(ops_queue_pauses.c.entity_type)).scalars().all() == ["products"]
    health = requests.get(f"{server}/api/zoho/dashboard/health", timeout=10).json()
    assert [pause["entity_type"] for pause in health["paused"]] == ["products"]
    [row] = browser.find_elements(By.CSS_SELECTOR, "tr.incident")
    assert row.get_attribute("data-rule") == "dead_letters" and row.get_attribute("data-state") == "open"
    assert "2 unresolved dead letters" in row.text and "open: sent" in row.text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"ops-paused-incidents-{db.backend}.png"
    assert browser.save_screenshot(str(path)) and path.stat().st_size > 10_000

    browser.find_element(By.NAME, "error_contains").send_keys("no name")
    _submit(browser, browser.find_element(By.ID, "bulk-discard"))
    assert browser.find_element(By.ID, "matched").get_attribute("data-matched") == "2"
    confirm = SCREENSHOTS / f"ops-bulk-confirm-{db.backend}.png"
    assert browser.save_screenshot(str(confirm))
    with db.engine.connect() as connection:
        assert connection.execute(select(tds_dead_letter_queue.c.resolved)).scalars().all() == [False, False]
    _submit(browser, browser.find_element(By.ID, "confirm-button"))
    assert "2 dead letter(s) discarded" in _text(browser, "notice")
    with db.engine.connect() as connection:
        assert connection.execute(select(tds_dead_letter_queue.c.resolved)).scalars().all() == [True, True]
        actions = connection.execute(select(ops_audit_log.c.action).order_by(ops_audit_log.c.id)).scalars().all()
    assert actions == ["login", "pause", "discard"]
    trail = browser.find_elements(By.CSS_SELECTOR, "tr.audit-entry")
    assert [row.get_attribute("data-action") for row in trail] == ["discard", "pause", "login"]


def test_the_viewer_sees_the_page_without_any_form_that_changes_anything(browser, server, db, receiver):
    browser.delete_all_cookies()
    browser.set_window_size(1200, 900)
    _broken(server, "460000000000031")
    _drain(server)
    _incidents_now(db, receiver)
    _log_in(browser, server, key=VIEWER_KEY)
    WebDriverWait(browser, 30).until(until.presence_of_element_located((By.ID, "dead-letter-list")))
    assert _text(browser, "role") == "viewer"
    assert browser.find_elements(By.CSS_SELECTOR, "tr.incident"), "the viewer sees the incidents"
    posting = [
        form.get_attribute("action")
        for form in browser.find_elements(By.CSS_SELECTOR, "form")
        if form.get_attribute("method").lower() == "post"
    ]
    assert [action.removeprefix(server) for action in posting] == ["/dashboard/logout"]
    assert not browser.find_elements(By.CSS_SELECTOR, "button.replay, button.replay-entity, #pause, #bulk-replay")
    # A change posted from the viewer's page anyway, with its own valid token: refused.
    browser.execute_script(
        "var form = document.createElement('form'); form.method = 'post'; form.action = '/dashboard/queue/pause';"
        "var token = document.querySelector('input[name=csrf]').cloneNode(); form.appendChild(token);"
        "document.body.appendChild(form); form.submit();"
    )
    WebDriverWait(browser, 30).until(until.presence_of_element_located((By.ID, "message")))
    assert "may look but not change" in _text(browser, "message")
    with db.engine.connect() as connection:
        assert connection.execute(select(ops_queue_pauses)).all() == []
    answer = requests.post(f"{server}/api/zoho/queue/pause", json={}, headers={"X-Admin-Key": VIEWER_KEY}, timeout=10)
    assert answer.status_code == 403
