"""The incremental reconcile against a fake Zoho on loopback, on both databases: pages and cursors, the
webhooks' dedupe, token reuse and refresh, Zoho's limits that pause it and failures that keep the
cursor, the endpoint and the schedule, and the drain applying what was reconciled. The import
and the full pass: tests/integration/test_mirror.py."""

import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from common.clock import utcnow
from common.config import get_settings
from common.models import customers, products, tds_sync_cursors, tds_sync_queue
from common.sync.reconcile import reconcile
from functions.reconcile_zoho import reconcile_zoho
from service import ROUTES, SCHEDULES
from tests import zoho_payloads as zoho
from tests.fake_zoho import FakeZoho, zoho_time
from tests.helpers import ADMIN_KEY, PROJECT_ROOT, drain_now, free_port, next_budget_minute

ITEMS, CONTACTS, INVOICES = "/inventory/v1/items", "/books/v3/contacts", "/books/v3/invoices"
BILLS, CREDIT_NOTES, PRICEBOOKS = "/books/v3/bills", "/books/v3/creditnotes", "/inventory/v1/pricebooks"
RATE_LIMITED = {"code": 44, "message": "API call limit exceeded"}


def _ago(minutes: int) -> str:
    return zoho_time(utcnow() - timedelta(minutes=minutes))


def _item(item_id: str, minutes_ago: int, **fields) -> dict:
    return {**zoho.product(item_id)["item"], "last_modified_time": _ago(minutes_ago), **fields}


def _contact(contact_id: str, minutes_ago: int) -> dict:
    return {**zoho.customer(contact_id)["data"], "contact_type": "customer", "last_modified_time": _ago(minutes_ago)}


def _stock_zoho(fake: FakeZoho) -> dict[str, list[dict]]:
    """Five products (three pages of two when the fake pages by two) and one or two of each other entity."""
    records = {
        ITEMS: [_item(f"46000000000000{n}", minutes_ago=60 - 10 * n) for n in range(1, 6)],
        CONTACTS: [_contact("880000000000001", 40), _contact("880000000000002", 30)],
        INVOICES: [{**zoho.invoice()["invoice"], "last_modified_time": _ago(20)}],
        BILLS: [{**zoho.bill()["data"], "last_modified_time": _ago(20)}],
        CREDIT_NOTES: [{**zoho.credit_note()["data"], "last_modified_time": _ago(15)}],
        PRICEBOOKS: [
            {
                "pricebook_id": "110000000000001",
                "name": "Wholesale",
                "currency_code": "IQD",
                "pricebook_type": "fixed_percentage",
                "status": "active",
                "last_modified_time": _ago(25),
            }
        ],
    }
    for path, listed in records.items():
        fake.add(path, *listed)
    return records


@pytest.fixture
def imported(db):
    """An organisation imported a day ago: the incremental runs start from there."""
    since = zoho_time(utcnow() - timedelta(hours=24))
    with db.engine.begin() as connection:
        connection.execute(
            tds_sync_cursors.insert(),
            [
                {"entity_type": name, "cursor": since, "updated_at": utcnow()}
                for name in ("products", "customers", "invoices", "bills", "credit_notes", "prices")
            ],
        )
    return since


def _queued(db) -> list:
    with db.engine.connect() as connection:
        return connection.execute(select(tds_sync_queue).order_by(tds_sync_queue.c.id)).all()


def _cursors(db) -> dict[str, str]:
    with db.engine.connect() as connection:
        return dict(connection.execute(select(tds_sync_cursors.c.entity_type, tds_sync_cursors.c.cursor)).all())


def _newest(records: list[dict]) -> str:
    return max(records, key=lambda record: datetime.fromisoformat(record["last_modified_time"]))["last_modified_time"]


def test_a_run_follows_every_page_queues_every_record_and_stores_the_cursors(db, imported, fake_zoho):
    fake_zoho.max_per_page = 2
    records = _stock_zoho(fake_zoho)

    summary = reconcile(get_settings())

    assert (summary.mode, summary.complete, summary.enqueued, summary.duplicates) == ("incremental", True, 11, 0)
    assert summary.pages == 3 + 5
    assert len(fake_zoho.token_calls()) == 1
    item_calls = fake_zoho.api_calls(ITEMS)
    assert [call.query["page"] for call in item_calls] == ["1", "2", "3"]
    query = item_calls[0].query
    assert (query["per_page"], query["sort_column"], query["sort_order"]) == ("200", "last_modified_time", "A")
    assert query["organization_id"] == FakeZoho.ORGANIZATION_ID
    assert query["last_modified_time"] == imported

    priorities = {zoho_entity: priority for _, zoho_entity, priority in zoho.ENTITY_CASES.values()}
    rows = _queued(db)
    assert len(rows) == 11
    for row in rows:
        assert (row.status, row.priority) == ("pending", priorities[row.entity_type])
    by_entity = {(row.entity_type, row.source_entity_id): row for row in rows}
    first_item = records[ITEMS][0]
    # Queued as Zoho's webhooks carry them, so that a webhook for the same record is a duplicate.
    assert by_entity[("products", first_item["item_id"])].payload == {"event_type": "upsert", "item": first_item}
    assert by_entity[("customers", "880000000000002")].payload == {
        "event_type": "upsert",
        "contact": records[CONTACTS][1],
    }
    assert ("prices", "110000000000001") in by_entity

    expected = {
        "products": _newest(records[ITEMS]),
        "customers": _newest(records[CONTACTS]),
        "invoices": _newest(records[INVOICES]),
        "bills": _newest(records[BILLS]),
        "credit_notes": _newest(records[CREDIT_NOTES]),
        "prices": _newest(records[PRICEBOOKS]),
    }
    assert _cursors(db) == expected
    assert summary.cursor == expected
    assert summary.entities["products"].model_dump() == {"listed": 5, "queued": 5, "deactivated": 0, "done": True}
    assert summary.zoho_calls.model_dump() == {"today": 8, "limit": 1000}


def test_a_run_with_nothing_new_reuses_the_shared_token_and_queues_nothing(db, imported, fake_zoho):
    _stock_zoho(fake_zoho)
    first = reconcile(get_settings())

    again = reconcile(get_settings())

    assert len(fake_zoho.token_calls()) == 1
    assert again.enqueued == 0
    assert again.duplicates == 6  # each entity's newest record, at exactly its cursor, comes back
    assert again.pages == 6
    assert again.cursor == first.cursor == _cursors(db)
    assert len(_queued(db)) == 11


def test_a_changed_record_is_queued_again_and_moves_the_cursor(db, imported, fake_zoho):
    _stock_zoho(fake_zoho)
    reconcile(get_settings())
    changed = _item("460000000000001", minutes_ago=1, rate=460000)
    fake_zoho.add(ITEMS, changed)

    summary = reconcile(get_settings())

    assert summary.enqueued == 1
    assert _cursors(db)["products"] == changed["last_modified_time"]
    assert _queued(db)[-1].payload == {"event_type": "upsert", "item": changed}


def test_a_record_stamped_in_the_future_does_not_carry_the_cursor_past_later_changes(db, imported, fake_zoho):
    _stock_zoho(fake_zoho)
    fake_zoho.add(ITEMS, _item("460000000000009", minutes_ago=-2 * 24 * 60))  # two days ahead
    reconcile(get_settings())
    changed = _item("460000000000001", minutes_ago=1, rate=460000)
    fake_zoho.add(ITEMS, changed)

    reconcile(get_settings())

    assert _queued(db)[-1].payload == {"event_type": "upsert", "item": changed}
    assert _cursors(db)["products"] == changed["last_modified_time"]


def test_a_record_a_webhook_already_delivered_is_a_duplicate(client, db, imported, fake_zoho):
    item = _item("460000000000009", minutes_ago=5)
    contact = _contact("880000000000009", minutes_ago=5)
    fake_zoho.add(ITEMS, item)
    fake_zoho.add(CONTACTS, contact)
    webhooks = {
        "products": {"item": item},
        "customers": {  # delivery fields differ between deliveries and are not part of the content
            "event_id": "evt-880000000000009",
            "event_type": "upsert",
            "event_time": _ago(4),
            "entity_type": "customer",
            "entity_id": "880000000000009",
            "data": contact,
            "organization_id": FakeZoho.ORGANIZATION_ID,
        },
    }
    for route, body in webhooks.items():
        assert client.post(f"/api/zoho/webhooks/{route}", json=body).status_code == 202

    summary = reconcile(get_settings())

    assert (summary.enqueued, summary.duplicates) == (0, 2)
    assert len(_queued(db)) == 2


def test_an_expired_token_is_refreshed_and_the_call_retried(db, imported, fake_zoho):
    _stock_zoho(fake_zoho)
    reconcile(get_settings())
    fake_zoho.expire_tokens()
    fake_zoho.add(ITEMS, _item("460000000000007", minutes_ago=1))

    summary = reconcile(get_settings())

    assert summary.enqueued == 1
    assert len(fake_zoho.token_calls()) == 2
    assert len(fake_zoho.api_calls(ITEMS)) == 1 + 2  # first run, then a 401 and its retry


def test_a_429_pauses_the_run_at_the_last_committed_page_and_the_next_minute_resumes_it(
    db, imported, fake_zoho, captured_logs
):
    fake_zoho.max_per_page = 2
    records = _stock_zoho(fake_zoho)
    fake_zoho.fail(ITEMS, 429, RATE_LIMITED, after=1)  # Zoho's 429 carries no Retry-After

    paused = reconcile(get_settings())

    assert (paused.complete, paused.enqueued, paused.pages) == (False, 2, 1)
    page_one = records[ITEMS][:2]
    assert _cursors(db)["products"] == page_one[-1]["last_modified_time"]
    assert [row.source_entity_id for row in _queued(db)] == [item["item_id"] for item in page_one]
    calls = len(fake_zoho.api_calls())
    assert reconcile(get_settings()).complete is False  # the minute is spent for every caller
    assert len(fake_zoho.api_calls()) == calls
    logs = captured_logs()
    assert "Zoho reconcile paused by Zoho's limits" in logs and '"levelname": "ERROR"' not in logs

    next_budget_minute(db.engine)
    resumed = reconcile(get_settings())

    assert resumed.complete is True
    assert fake_zoho.api_calls(ITEMS)[-2].query["last_modified_time"] == page_one[-1]["last_modified_time"]
    assert (resumed.enqueued, resumed.duplicates) == (3 + 6, 1)
    assert len(_queued(db)) == 11


def test_an_invalid_record_is_counted_and_logged_and_the_rest_still_queued(db, imported, fake_zoho, captured_logs):
    good = _item("460000000000001", minutes_ago=10)
    bad = _item("460000000000002", minutes_ago=5, rate=-1)  # a negative price cannot be applied
    fake_zoho.add(ITEMS, good, bad)

    summary = reconcile(get_settings())

    assert summary.enqueued == 1
    assert [row.source_entity_id for row in _queued(db)] == ["460000000000001"]
    assert _cursors(db)["products"] == bad["last_modified_time"]  # not fetched again and again
    logs = captured_logs()
    assert "Zoho record failed validation" in logs and "460000000000002" in logs and "item.rate" in logs


def test_a_run_reads_at_most_its_page_cap_and_the_next_run_resumes(db, imported, fake_zoho):
    fake_zoho.max_per_page = 1
    records = _stock_zoho(fake_zoho)

    capped = reconcile(get_settings(), max_pages=2)

    assert len(fake_zoho.api_calls(ITEMS)) == 2
    assert capped.cursor["products"] == records[ITEMS][1]["last_modified_time"]
    rest = reconcile(get_settings(), max_pages=10)
    assert rest.enqueued + capped.enqueued == 11


def test_no_page_is_started_once_the_time_budget_is_spent(db, imported, fake_zoho):
    _stock_zoho(fake_zoho)
    summary = reconcile(get_settings(), budget_seconds=0)
    assert (summary.complete, summary.pages, summary.enqueued) == (False, 0, 0)
    assert fake_zoho.api_calls() == [] and set(_cursors(db).values()) == {imported}


def test_the_endpoint_is_for_operators_and_answers_the_summary(client, db, imported, fake_zoho, configure):
    configure(ADMIN_API_KEY=ADMIN_KEY)
    _stock_zoho(fake_zoho)
    for headers in ({}, {"X-Admin-Key": "wrong"}):
        refused = client.post("/api/zoho/reconcile", headers=headers)
        assert refused.status_code == 401
        assert refused.get_json()["code"] == "unauthorized"
    assert fake_zoho.calls == []

    answer = client.post("/api/zoho/reconcile", headers={"X-Admin-Key": ADMIN_KEY})

    assert answer.status_code == 200
    body = answer.get_json()
    assert set(body) == {
        "mode",
        "complete",
        "enqueued",
        "duplicates",
        "deactivated",
        "pages",
        "cursor",
        "entities",
        "zoho_calls",
    }
    assert (body["mode"], body["complete"], body["enqueued"], body["pages"]) == ("incremental", True, 11, 6)
    assert body["cursor"] == _cursors(db)
    assert body["zoho_calls"] == {"today": 6, "limit": 1000}
    assert client.post("/api/zoho/reconcile?mode=sometimes", headers={"X-Admin-Key": ADMIN_KEY}).status_code == 422


def test_without_zoho_settings_the_endpoint_is_503_and_the_schedule_skips(client, db, captured_logs):
    answer = client.post("/api/zoho/reconcile")
    assert answer.status_code == 503
    assert answer.get_json() == {
        "success": False,
        "message": "Zoho API is not configured",
        "code": "service_unavailable",
        "errors": [],
    }
    assert reconcile_zoho() == {
        "mode": "incremental",
        "complete": True,
        "enqueued": 0,
        "duplicates": 0,
        "deactivated": 0,
        "pages": 0,
        "cursor": {},
        "entities": {},
        "zoho_calls": {"today": 0, "limit": 0},
    }
    assert "Zoho reconcile skipped: Zoho API is not configured" in captured_logs()


def test_a_rate_limited_zoho_is_a_paused_step_over_http_and_on_schedule(client, db, imported, fake_zoho):
    fake_zoho.max_per_page = 2
    _stock_zoho(fake_zoho)
    fake_zoho.fail(ITEMS, 429, RATE_LIMITED)

    answer = client.post("/api/zoho/reconcile")

    assert answer.status_code == 200
    assert (answer.get_json()["complete"], answer.get_json()["pages"]) == (False, 0)

    next_budget_minute(db.engine)
    fake_zoho.fail(ITEMS, 429, RATE_LIMITED, after=1)
    partial = reconcile_zoho()
    assert (partial["complete"], partial["enqueued"], partial["pages"]) == (False, 2, 1)


def test_an_unreachable_zoho_is_503_over_http(client, db, imported, fake_zoho, configure):
    configure(ZOHO_ACCOUNTS_URL=f"http://127.0.0.1:{free_port()}")
    answer = client.post("/api/zoho/reconcile")
    assert answer.status_code == 503
    assert answer.get_json()["message"] == "Zoho reconcile stopped: Zoho token endpoint unreachable (ConnectionError)"


def test_a_refused_refresh_token_is_503_without_any_secret(client, db, imported, fake_zoho, captured_logs):
    fake_zoho.accepted_refresh_token = "1000.a-token-zoho-revoked"
    answer = client.post("/api/zoho/reconcile")
    assert answer.status_code == 503
    assert "invalid_code" in answer.get_json()["message"]
    for text in (answer.get_data(as_text=True), captured_logs()):
        assert FakeZoho.REFRESH_TOKEN not in text and FakeZoho.CLIENT_SECRET not in text


def test_the_drain_applies_what_was_reconciled(db, imported, fake_zoho):
    records = _stock_zoho(fake_zoho)
    reconcile(get_settings())

    summary = drain_now()

    assert summary.dead_lettered == 0
    item = records[ITEMS][-1]
    with db.engine.connect() as connection:
        product = connection.execute(select(products).where(products.c.zoho_item_id == item["item_id"])).one()
        assert connection.execute(select(func.count()).select_from(customers)).scalar_one() == 2
    assert (product.name, product.price, product.is_active) == (item["name"], item["rate"], True)


def test_only_the_reconcile_function_pays_for_requests_at_import():
    """Cold start: importing any other function must not import the HTTP client library."""
    probe = (
        "import importlib, sys; [importlib.import_module(m) for m in sys.argv[1:]]; print('requests' in sys.modules)"
    )
    others = sorted({route.handler.__module__ for route in ROUTES} | {job.job.__module__ for job in SCHEDULES})
    others.remove("functions.reconcile_zoho")

    def imports_requests(*modules: str) -> str:
        run = subprocess.run([sys.executable, "-c", probe, *modules], cwd=PROJECT_ROOT, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    assert imports_requests(*others) == "False"
    assert imports_requests("functions.reconcile_zoho") == "True"
