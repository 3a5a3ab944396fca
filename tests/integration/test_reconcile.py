"""The reconcile job against a fake Zoho on loopback, on both databases: pages and cursors, the
webhooks' dedupe, token reuse and refresh, failures that keep the cursor, the endpoint and the
schedule, and the drain applying what was reconciled."""

import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from common.config import get_settings
from common.db import utcnow
from common.models import customers, products, tds_sync_cursors, tds_sync_queue
from common.routes import ROUTES, SCHEDULES
from common.sync.reconcile import ReconcileStopped, reconcile
from functions.reconcile_zoho import reconcile_zoho
from tests import zoho_payloads as zoho
from tests.fake_zoho import FakeZoho, zoho_time
from tests.helpers import ADMIN_KEY, PROJECT_ROOT, drain_now, free_port

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
        PRICEBOOKS: [{"pricebook_id": "110000000000001", "name": "Wholesale", "currency_code": "IQD",
                      "pricebook_type": "fixed_percentage", "status": "active", "last_modified_time": _ago(25)}],
    }  # fmt: skip
    for path, listed in records.items():
        fake.add(path, *listed)
    return records


def _queued(db) -> list:
    with db.engine.connect() as connection:
        return connection.execute(select(tds_sync_queue).order_by(tds_sync_queue.c.id)).all()


def _cursors(db) -> dict[str, str]:
    with db.engine.connect() as connection:
        return dict(connection.execute(select(tds_sync_cursors.c.entity_type, tds_sync_cursors.c.cursor)).all())


def _newest(records: list[dict]) -> str:
    return max(records, key=lambda record: datetime.fromisoformat(record["last_modified_time"]))["last_modified_time"]


def test_a_first_run_follows_every_page_queues_every_record_and_stores_the_cursors(db, fake_zoho):
    fake_zoho.max_per_page = 2
    records = _stock_zoho(fake_zoho)

    summary = reconcile(get_settings())

    assert (summary.enqueued, summary.duplicates, summary.invalid) == (11, 0, 0)
    assert summary.pages == 3 + 6  # items' three pages, one page of each other entity (sales orders: empty)
    assert len(fake_zoho.token_calls()) == 1
    item_calls = fake_zoho.api_calls(ITEMS)
    assert [call.query["page"] for call in item_calls] == ["1", "2", "3"]
    query = item_calls[0].query
    assert (query["per_page"], query["sort_column"], query["sort_order"]) == ("200", "last_modified_time", "A")
    assert query["organization_id"] == FakeZoho.ORGANIZATION_ID
    since = utcnow() - datetime.fromisoformat(query["last_modified_time"])
    assert timedelta(hours=23, minutes=59) < since < timedelta(hours=24, minutes=1)  # a first run looks back a day

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
    # Zoho listed no sales orders: their cursor stays at the first run's look-back.
    assert summary.cursor.pop("sales_orders") == _cursors(db).pop("sales_orders")
    assert {name: at for name, at in _cursors(db).items() if name != "sales_orders"} == expected
    assert summary.cursor == expected


def test_a_run_with_nothing_new_reuses_the_shared_token_and_queues_nothing(db, fake_zoho):
    _stock_zoho(fake_zoho)
    first = reconcile(get_settings())

    again = reconcile(get_settings())

    assert len(fake_zoho.token_calls()) == 1
    assert again.enqueued == 0
    assert again.duplicates == 6  # each entity's newest record, at exactly its cursor, comes back
    assert again.pages == 7
    assert again.cursor == first.cursor == _cursors(db)
    assert len(_queued(db)) == 11


def test_a_changed_record_is_queued_again_and_moves_the_cursor(db, fake_zoho):
    _stock_zoho(fake_zoho)
    reconcile(get_settings())
    changed = _item("460000000000001", minutes_ago=1, rate=460000)
    fake_zoho.add(ITEMS, changed)

    summary = reconcile(get_settings())

    assert summary.enqueued == 1
    assert _cursors(db)["products"] == changed["last_modified_time"]
    assert _queued(db)[-1].payload == {"event_type": "upsert", "item": changed}


def test_a_record_a_webhook_already_delivered_is_a_duplicate(client, db, fake_zoho):
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


def test_an_expired_token_is_refreshed_and_the_call_retried(db, fake_zoho):
    _stock_zoho(fake_zoho)
    reconcile(get_settings())
    fake_zoho.expire_tokens()
    fake_zoho.add(ITEMS, _item("460000000000007", minutes_ago=1))

    summary = reconcile(get_settings())

    assert summary.enqueued == 1
    assert len(fake_zoho.token_calls()) == 2
    assert len(fake_zoho.api_calls(ITEMS)) == 1 + 2  # first run, then a 401 and its retry


def test_a_rate_limit_stops_the_run_and_keeps_the_cursor_at_the_last_committed_page(db, fake_zoho):
    fake_zoho.max_per_page = 2
    records = _stock_zoho(fake_zoho)
    fake_zoho.fail(ITEMS, 429, RATE_LIMITED, {"Retry-After": "30"}, after=1)

    with pytest.raises(ReconcileStopped) as stopped:
        reconcile(get_settings())

    assert "rate limit" in str(stopped.value) and stopped.value.retry_after == 30
    assert (stopped.value.summary.enqueued, stopped.value.summary.pages) == (2, 1)
    page_one = records[ITEMS][:2]
    assert _cursors(db) == {"products": page_one[-1]["last_modified_time"]}
    assert [row.source_entity_id for row in _queued(db)] == [item["item_id"] for item in page_one]

    resumed = reconcile(get_settings())

    assert fake_zoho.api_calls(ITEMS)[-2].query["last_modified_time"] == page_one[-1]["last_modified_time"]
    assert (resumed.enqueued, resumed.duplicates) == (3 + 6, 1)
    assert len(_queued(db)) == 11


def test_an_invalid_record_is_counted_and_logged_and_the_rest_still_queued(db, fake_zoho, captured_logs):
    good = _item("460000000000001", minutes_ago=10)
    bad = _item("460000000000002", minutes_ago=5, rate=-1)  # a negative price cannot be applied
    fake_zoho.add(ITEMS, good, bad)

    summary = reconcile(get_settings())

    assert (summary.enqueued, summary.invalid) == (1, 1)
    assert [row.source_entity_id for row in _queued(db)] == ["460000000000001"]
    assert _cursors(db)["products"] == bad["last_modified_time"]  # not fetched again and again
    logs = captured_logs()
    assert "Zoho record failed validation" in logs and "460000000000002" in logs and "item.rate" in logs


def test_a_run_reads_at_most_its_page_cap_and_the_next_run_resumes(db, fake_zoho):
    fake_zoho.max_per_page = 1
    records = _stock_zoho(fake_zoho)

    capped = reconcile(get_settings(), max_pages=2)

    assert len(fake_zoho.api_calls(ITEMS)) == 2
    assert capped.cursor["products"] == records[ITEMS][1]["last_modified_time"]
    rest = reconcile(get_settings(), max_pages=10)
    assert rest.enqueued + capped.enqueued == 11


def test_no_page_is_started_once_the_time_budget_is_spent(db, fake_zoho):
    _stock_zoho(fake_zoho)
    summary = reconcile(get_settings(), budget_seconds=0)
    assert (summary.pages, summary.cursor) == (0, {})
    assert fake_zoho.api_calls() == [] and _cursors(db) == {}


def test_the_endpoint_is_for_operators_and_answers_the_summary(client, db, fake_zoho, configure):
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
    assert set(body) == {"enqueued", "duplicates", "invalid", "pages", "cursor"}
    assert (body["enqueued"], body["pages"]) == (11, 7)
    assert body["cursor"] == _cursors(db)


def test_without_zoho_settings_the_endpoint_is_503_and_the_schedule_skips(client, db, captured_logs):
    answer = client.post("/api/zoho/reconcile")
    assert answer.status_code == 503
    assert answer.get_json() == {
        "success": False,
        "message": "Zoho API is not configured",
        "code": "service_unavailable",
        "errors": [],
    }
    assert reconcile_zoho() == {"enqueued": 0, "duplicates": 0, "invalid": 0, "pages": 0, "cursor": {}}
    assert "Zoho reconcile skipped: Zoho API is not configured" in captured_logs()


def test_a_rate_limited_zoho_is_503_over_http_and_a_partial_run_on_schedule(client, db, fake_zoho, captured_logs):
    fake_zoho.max_per_page = 2
    _stock_zoho(fake_zoho)
    fake_zoho.fail(ITEMS, 429, RATE_LIMITED, {"Retry-After": "30"})

    answer = client.post("/api/zoho/reconcile")

    assert answer.status_code == 503
    assert answer.get_json()["code"] == "service_unavailable"
    assert answer.get_json()["message"] == "Zoho reconcile stopped: Zoho API rate limit reached; retry after 30 s"
    assert answer.headers["Retry-After"] == "30"

    fake_zoho.fail(ITEMS, 429, RATE_LIMITED, after=1)
    partial = reconcile_zoho()
    assert (partial["enqueued"], partial["pages"]) == (2, 1)
    assert "Zoho reconcile stopped" in captured_logs()


def test_an_unreachable_zoho_is_503_over_http(client, db, fake_zoho, configure):
    configure(ZOHO_API_URL=f"http://127.0.0.1:{free_port()}")
    answer = client.post("/api/zoho/reconcile")
    assert answer.status_code == 503
    assert answer.get_json()["message"] == "Zoho reconcile stopped: Zoho API unreachable (ConnectionError)"


def test_a_refused_refresh_token_is_503_without_any_secret(client, db, fake_zoho, captured_logs):
    fake_zoho.accepted_refresh_token = "1000.a-token-zoho-revoked"
    answer = client.post("/api/zoho/reconcile")
    assert answer.status_code == 503
    assert "invalid_code" in answer.get_json()["message"]
    for text in (answer.get_data(as_text=True), captured_logs()):
        assert FakeZoho.REFRESH_TOKEN not in text and FakeZoho.CLIENT_SECRET not in text


def test_the_drain_applies_what_was_reconciled(db, fake_zoho):
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
    probe = "import importlib, sys; [importlib.import_module(f'functions.{m}') for m in sys.argv[1:]]; " \
            "print('requests' in sys.modules)"  # fmt: skip
    others = sorted({route.module for route in ROUTES} | {schedule.module for schedule in SCHEDULES})
    others.remove("reconcile_zoho")

    def imports_requests(*modules: str) -> str:
        run = subprocess.run([sys.executable, "-c", probe, *modules], cwd=PROJECT_ROOT, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    assert imports_requests(*others) == "False"
    assert imports_requests("reconcile_zoho") == "True"
