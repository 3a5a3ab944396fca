"""The operations page in real headless Chromium, against a local runner subprocess on each database:
login, the figures against the database, replay from the button, the session gate, a forged
POST, and the layout at a phone's width (with a screenshot for docs/)."""

from __future__ import annotations

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as until
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import func, insert, select, update

from common.clock import utcnow
from common.models import tds_dead_letter_queue, tds_sync_queue
from tests import zoho_payloads as zoho
from tests.e2e.browser import chromium
from tests.helpers import ADMIN_KEY, BIN, PROJECT_ROOT, free_port, running

pytestmark = pytest.mark.slow  # real servers and tools as subprocesses

SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
ADMIN = {"X-Admin-Key": ADMIN_KEY}


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


@pytest.fixture
def server(db):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"DATABASE_URL": db.url, "ADMIN_API_KEY": ADMIN_KEY, "TDS_WORKERS": "0", "METRICS_FLUSH_SECONDS": "1"}
    with running([str(BIN / "python"), "local_runner.py", "--port", str(port)], env, f"{base}/health"):
        yield base


def _queue(base: str, route: str, body: dict) -> int:
    response = requests.post(f"{base}/api/zoho/webhooks/{route}", json=body, timeout=10)
    assert response.status_code == 202, response.text
    return int(response.json()["event_id"])


def _drain(base: str) -> dict:
    response = requests.post(f"{base}/api/zoho/queue/drain", headers=ADMIN, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def _dead_letter(db, queue_id: int, error: str) -> int:
    """Mark a queued item dead-lettered, as a since-fixed failure would have left it."""
    with db.engine.begin() as connection:
        row = connection.execute(select(tds_sync_queue).where(tds_sync_queue.c.id == queue_id)).one()
        connection.execute(
            update(tds_sync_queue)
            .where(tds_sync_queue.c.id == queue_id)
            .values(status="dead_letter", attempt_count=5, error_message=error, completed_at=utcnow())
        )
        return connection.execute(
            insert(tds_dead_letter_queue)
            .values(
                sync_queue_id=queue_id,
                entity_type=row.entity_type,
                source_entity_id=row.source_entity_id,
                failure_reason="max_retries",
                total_attempts=5,
                last_error_message=error,
                last_payload=row.payload,
                resolved=False,
                created_at=utcnow(),
            )
            .returning(tds_dead_letter_queue.c.id)
        ).scalar_one()


def _depth(db) -> dict[str, int]:
    with db.engine.connect() as connection:
        return dict(
            connection.execute(select(tds_sync_queue.c.status, func.count()).group_by(tds_sync_queue.c.status)).all()
        )


def _log_in(browser, base: str, key: str = ADMIN_KEY) -> None:
    browser.get(f"{base}/dashboard/login")
    browser.find_element(By.ID, "admin_key").send_keys(key)
    _submit(browser, browser.find_element(By.ID, "login-submit"))


def _submit(browser, button) -> None:
    """Click a button that loads a page, and wait for the answer: a click does not. Once the
    button's page is gone, the answer (and any cookie it sets) has arrived."""
    button.click()
    WebDriverWait(browser, 30).until(_gone(button))


def _gone(element):
    """Like `staleness_of`, also when Chromium, caught between two pages, says so with an
    inspector error instead of a stale element."""

    def check(_driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return True
            raise
        return False

    return check


def _text(browser, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def test_the_page_shows_the_database_and_replays_a_dead_letter(browser, server, db):
    browser.delete_all_cookies()
    browser.set_window_size(1280, 1000)
    _queue(server, "customers", zoho.customer("880000000000001", contact_name="شركة النور للإلكترونيات"))
    _queue(server, "products", zoho.product("460000000000001"))
    stuck = _queue(server, "customers", zoho.customer("880000000000002", contact_name="Basra Trading"))
    _queue(server, "customers", zoho.customer("880000000000003"))
    assert _drain(server)["completed"] == 4
    letter = _dead_letter(db, stuck, "ConnectionError: Zoho did not answer (خطأ في الاتصال)")
    _queue(server, "customers", zoho.customer("880000000000004"))  # left pending

    browser.get(f"{server}/dashboard")
    assert browser.current_url.endswith("/dashboard/login"), "no session: redirected to the login page"
    _log_in(browser, server)
    WebDriverWait(browser, 30).until(until.presence_of_element_located((By.ID, "depth-pending")))
    database = _depth(db)
    for status in ("pending", "processing", "retry", "completed", "dead_letter"):
        assert _text(browser, f"depth-{status}") == str(database.get(status, 0)), status
    assert database == {"completed": 3, "dead_letter": 1, "pending": 1}
    assert _text(browser, "total-received") == "5"
    assert _text(browser, "status") == "degraded" and "1 unresolved dead letters" in _text(browser, "issues")
    listed = browser.find_element(By.CSS_SELECTOR, f'li.letter[data-id="{letter}"]')
    assert "خطأ في الاتصال" in listed.text

    _submit(browser, listed.find_element(By.CSS_SELECTOR, "button.replay"))
    WebDriverWait(browser, 30).until(until.presence_of_element_located((By.ID, "notice")))
    assert "1 dead letter(s) re-queued" in _text(browser, "notice")
    assert not browser.find_elements(By.CSS_SELECTOR, f'li.letter[data-id="{letter}"]'), "it left the list"
    assert _drain(server)["completed"] == 2
    with db.engine.connect() as connection:
        assert (
            connection.execute(select(tds_sync_queue.c.status).where(tds_sync_queue.c.id == stuck)).scalar_one()
            == "completed"
        )

    # The page refreshes itself: the drained queue shows without a reload.
    WebDriverWait(browser, 30).until(lambda driver: _text(driver, "depth-pending") == "0")
    assert _text(browser, "depth-completed") == "5" == str(_depth(db)["completed"])
    WebDriverWait(browser, 30).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, 'tr[data-function="zoho_webhook"]')
    )

    browser.find_element(By.ID, "record").send_keys("880000000000002")
    _submit(browser, browser.find_element(By.ID, "record-search"))
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.history-row")
    assert [row.get_attribute("data-status") for row in rows] == ["completed"]
    assert "Basra Trading" in browser.find_element(By.ID, "history-table").get_attribute("textContent")

    _submit(browser, browser.find_element(By.ID, "logout"))
    assert browser.current_url.endswith("/dashboard/login")
    browser.get(f"{server}/dashboard")
    assert browser.current_url.endswith("/dashboard/login"), "signed out: the old page needs a new login"


def test_a_forged_post_without_the_csrf_token_is_refused(browser, server, db):
    browser.delete_all_cookies()
    queue_id = _queue(server, "customers", zoho.customer("880000000000009"))
    letter = _dead_letter(db, queue_id, "boom")
    _log_in(browser, server)
    WebDriverWait(browser, 30).until(until.presence_of_element_located((By.ID, "dead-letter-list")))
    # A form built by a script, posting with the session cookie but without the page's token.
    browser.execute_script(
        "var form = document.createElement('form'); form.method = 'post';"
        "form.action = '/dashboard/dead-letters/replay';"
        "var field = document.createElement('input'); field.name = 'entity_type'; field.value = 'customers';"
        "form.appendChild(field); document.body.appendChild(form); form.submit();"
    )
    WebDriverWait(browser, 30).until(until.presence_of_element_located((By.ID, "message")))
    assert "security token" in _text(browser, "message")
    with db.engine.connect() as connection:
        assert (
            connection.execute(
                select(tds_dead_letter_queue.c.resolved).where(tds_dead_letter_queue.c.id == letter)
            ).scalar_one()
            is False
        )


def test_a_wrong_key_is_refused_and_the_page_fits_a_phone(browser, server, db):
    browser.delete_all_cookies()
    _log_in(browser, server, key="not-the-admin-key")
    WebDriverWait(browser, 30).until(until.presence_of_element_located((By.ID, "login-error")))
    assert "not the admin key" in _text(browser, "login-error")
    _queue(server, "customers", zoho.customer("880000000000011", contact_name="مكتب الرافدين"))
    _queue(server, "products", zoho.product("460000000000011"))
    _drain(server)
    _dead_letter(
        db,
        _queue(server, "customers", zoho.customer("880000000000012")),
        "ValidationError: contact_name is required / اسم العميل مطلوب",
    )
    _queue(server, "invoices", zoho.invoice("770000000000011"))
    browser.set_window_size(390, 844)
    _log_in(browser, server)
    browser.get(f"{server}/dashboard?record=880000000000011")
    WebDriverWait(browser, 30).until(until.presence_of_element_located((By.ID, "history-table")))
    overflow = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], f"horizontal scroll at 390 px: {overflow}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(390, 1800)
    path = SCREENSHOTS / f"ops-dashboard-phone-{db.backend}.png"
    assert browser.save_screenshot(str(path)) and path.stat().st_size > 10_000
    browser.set_window_size(1280, 1400)
    wide = SCREENSHOTS / f"ops-dashboard-{db.backend}.png"
    assert browser.save_screenshot(str(wide))
