"""The mirror against the fake Zoho, on both databases (the crash and the shared budget on
PostgreSQL): an existing organisation is imported completely in bounded steps that resume
after a crash, a 429 or a spent budget without reading a committed page again; a full pass
repairs what differs and deactivates what Zoho no longer lists, unless its safety rail trips;
every caller spends from one budget; the token's api_domain is the API host; the health says
when the mirror is degraded."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from common.clock import utcnow
from common.config import get_settings
from common.models import (
    customers,
    invoices,
    pricelists,
    products,
    tds_dead_letter_queue,
    tds_sync_cursors,
    tds_sync_queue,
    zoho_call_budget,
    zoho_oauth_tokens,
    zoho_pass_seen,
    zoho_sync_progress,
)
from common.sync.dashboard import sync_health
from common.sync.mirror import FULL, IMPORT
from common.sync.reconcile import ReconcileStopped, reconcile
from common.sync.zoho_client import ZohoBudgetSpent, ZohoClient, ZohoPaused
from tests.fake_zoho import BILLS, CONTACTS, CREDIT_NOTES, INVOICES, ITEMS, PRICEBOOKS, FakeZoho, zoho_time
from tests.helpers import (
    ADMIN_KEY,
    PROJECT_ROOT,
    count,
    drain_now,
    early_in_a_minute,
    free_port,
    log_in,
    next_budget_minute,
    queue_webhook,
    run_until_complete,
)


def _organisation(fake: FakeZoho, items: int = 12, customers_: int = 6, vendors: int = 2) -> None:
    """An organisation whose records were last changed a week ago (the fake's clock)."""
    for number in range(items):
        fake.put(
            ITEMS,
            {
                "name": f"Item {number}",
                "sku": f"SKU-{number}",
                "rate": 1000 + number,
                "stock_on_hand": 5 + number,
                "available_stock": 5 + number,
                "status": "active",
            },
        )
    for number in range(customers_):
        fake.put(
            CONTACTS,
            {
                "contact_name": f"Customer {number}",
                "contact_type": "customer",
                "phone": f"+96477000000{number:02d}",
                "status": "active",
            },
        )
    for number in range(vendors):
        fake.put(CONTACTS, {"contact_name": f"Supplier {number}", "contact_type": "vendor", "status": "active"})
    fake.put(
        PRICEBOOKS,
        {
            "name": "Wholesale",
            "currency_code": "IQD",
            "status": "active",
            "pricebook_items": [{"item_id": fake.all(ITEMS)[0]["item_id"], "pricebook_rate": 900}],
        },
    )
    today = date.today()
    for days in (10, 300, 400):  # the last one is older than ZOHO_IMPORT_DAYS
        fake.put(
            INVOICES,
            {
                "invoice_number": f"INV-{days}",
                "date": (today - timedelta(days=days)).isoformat(),
                "total": 5000,
                "status": "sent",
            },
        )
    fake.put(
        BILLS,
        {
            "bill_number": "BILL-1",
            "vendor_id": "550000000000001",
            "date": today.isoformat(),
            "total": 7000,
            "status": "open",
        },
    )
    fake.put(CREDIT_NOTES, {"creditnote_number": "CN-1", "date": today.isoformat(), "total": 100, "status": "open"})


def _products(db) -> dict[str, tuple]:
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(
                products.c.zoho_item_id,
                products.c.name,
                products.c.price,
                products.c.stock_quantity,
                products.c.is_active,
            )
        ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def _zoho_products(fake: FakeZoho) -> dict[str, tuple]:
    return {
        item["item_id"]: (item["name"], item["rate"], item["available_stock"], item["status"] == "active")
        for item in fake.all(ITEMS)
    }


def _progress(db, mode: str) -> dict:
    with db.engine.connect() as connection:
        rows = connection.execute(select(zoho_sync_progress).where(zoho_sync_progress.c.mode == mode)).all()
    return {row.entity_type: row for row in rows}


def test_an_existing_organisation_is_imported_completely_in_bounded_steps(db, fake_zoho, configure):
    configure(ZOHO_MINUTE_CALL_LIMIT=2)  # each step reads two pages, then waits for the next minute
    fake_zoho.max_per_page = 5
    _organisation(fake_zoho)
    started = utcnow().replace(microsecond=0)

    answers = run_until_complete()

    assert len(answers) > 3 and [answer.complete for answer in answers[:-1]] == [False] * (len(answers) - 1)
    assert {answer.mode for answer in answers} == {"import"}
    last = answers[-1]
    assert last.entities["products"].model_dump() == {"listed": 12, "queued": 12, "deactivated": 0, "done": True}
    assert last.entities["customers"].listed == 8 and last.entities["customers"].queued == 6  # vendors stay out
    assert last.entities["invoices"].listed == 2  # dated within ZOHO_IMPORT_DAYS
    assert fake_zoho.repeated_pages() == {}
    assert _products(db) == _zoho_products(fake_zoho)
    assert count(db.engine, customers) == 6 and count(db.engine, pricelists) == 1
    with db.engine.connect() as connection:
        assert sorted(connection.scalars(select(invoices.c.invoice_number))) == ["INV-10", "INV-300"]
        cursors = connection.execute(select(tds_sync_cursors.c.cursor)).scalars().all()
    assert len(cursors) == 6 and all(cursor >= started.strftime("%Y-%m-%dT%H:%M:%S") for cursor in cursors)
    assert count(db.engine, tds_dead_letter_queue) == 0
    assert reconcile(get_settings()).mode == "incremental"  # imported once


def test_an_error_between_pages_resumes_at_the_next_page(db, fake_zoho):
    fake_zoho.max_per_page = 3
    _organisation(fake_zoho)
    fake_zoho.fail(ITEMS, 500, after=2)

    with pytest.raises(ReconcileStopped) as stopped:
        reconcile(get_settings())
    assert stopped.value.summary.pages == 2 and stopped.value.summary.complete is False

    resumed = reconcile(get_settings())

    assert resumed.complete and resumed.entities["products"].listed == 12
    assert fake_zoho.repeated_pages() == {}
    assert count(db.engine, tds_sync_queue, tds_sync_queue.c.entity_type == "products") == 12


_IMPORT_IN_A_PROCESS = (
    "from common.config import get_settings; from common.sync.reconcile import reconcile; reconcile(get_settings())"
)


@pytest.mark.postgres_only
def test_a_killed_import_reads_no_committed_page_again(pg, fake_zoho):
    fake_zoho.max_per_page = 2
    _organisation(fake_zoho, items=20)
    fake_zoho.delay_seconds = 0.15
    environment = {**os.environ, **fake_zoho.environment(), "DATABASE_URL": pg.url, "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen([sys.executable, "-c", _IMPORT_IN_A_PROCESS], cwd=PROJECT_ROOT, env=environment)
    deadline = time.monotonic() + 30
    while fake_zoho.page_requests[("items", 5)] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    committed = _progress(pg, IMPORT)["products"].next_page - 1
    assert 3 <= committed < 10
    fake_zoho.delay_seconds = 0

    resumed = reconcile(get_settings())

    assert resumed.complete
    for page in range(1, committed + 1):
        assert fake_zoho.page_requests[("items", page)] == 1
    assert set(fake_zoho.repeated_pages()) <= {("items", committed + 1)}  # at most the page in flight
    assert count(pg.engine, tds_sync_queue, tds_sync_queue.c.entity_type == "products") == 20
    drain_now()
    assert _products(pg) == _zoho_products(fake_zoho)


def test_a_429_mid_import_pauses_it_and_nothing_is_lost_or_dead_lettered(db, fake_zoho, captured_logs):
    fake_zoho.max_per_page = 4
    fake_zoho.calls_per_minute = 3  # Zoho's own limit, below the service's
    _organisation(fake_zoho)

    paused = reconcile(get_settings())

    assert (paused.complete, paused.pages) == (False, 3)
    assert fake_zoho.rate_limited == 1
    again = reconcile(get_settings())  # the same minute: nobody calls Zoho
    assert (again.complete, again.pages, fake_zoho.rate_limited) == (False, 0, 1)
    fake_zoho.next_minute()
    next_budget_minute(db.engine)
    fake_zoho.calls_per_minute = 100

    answers = run_until_complete()

    assert answers[-1].mode == "import"
    assert fake_zoho.repeated_pages() == {}
    assert _products(db) == _zoho_products(fake_zoho)
    assert count(db.engine, tds_dead_letter_queue) == 0
    logs = captured_logs()
    assert "Zoho reconcile paused by Zoho's limits" in logs
    assert '"levelname": "ERROR"' not in logs and "Zoho reconcile stopped" not in logs


@pytest.mark.postgres_only
def test_two_callers_together_never_exceed_the_minute_budget(pg, fake_zoho, configure):
    configure(ZOHO_MINUTE_CALL_LIMIT=10)
    early_in_a_minute()
    refused = []

    def caller() -> None:
        with ZohoClient(get_settings()) as client:
            for _ in range(10):
                try:
                    client.list_page(ITEMS, "items", {"page": 1})
                except ZohoBudgetSpent:
                    refused.append(1)

    threads = [threading.Thread(target=caller) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(fake_zoho.api_calls()) == 10 and len(refused) == 10
    assert fake_zoho.rate_limited == 0


def test_the_day_limit_stops_the_work_until_the_next_day(db, fake_zoho, configure):
    configure(ZOHO_DAILY_CALL_LIMIT=4)
    fake_zoho.max_per_page = 5
    _organisation(fake_zoho)

    stopped = reconcile(get_settings())

    assert (stopped.complete, stopped.pages, stopped.zoho_calls.model_dump()) == (False, 4, {"today": 4, "limit": 4})
    health = sync_health(db.engine)
    assert health.status == "degraded"
    assert "Zoho call budget for today is spent (4 of 4)" in health.issues
    with pytest.raises(ZohoPaused):
        ZohoClient(get_settings()).get_item("1")  # every caller, stock reads included
    assert len(fake_zoho.api_calls()) == 4

    with db.engine.begin() as connection:  # a new day
        yesterday = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
        connection.execute(update(zoho_call_budget).values(period_start=yesterday))
    configure(ZOHO_DAILY_CALL_LIMIT=1000)
    assert run_until_complete()[-1].mode == "import"
    assert fake_zoho.repeated_pages() == {}
    assert _products(db) == _zoho_products(fake_zoho)


def _imported(db, fake: FakeZoho, items: int = 12) -> None:
    _organisation(fake, items=items)
    run_until_complete()
    assert _products(db) == _zoho_products(fake)


def test_a_full_pass_repairs_what_differs_and_deactivates_what_zoho_deleted(client, db, fake_zoho, configure):
    _imported(db, fake_zoho, items=12)
    [changed, drifted, deleted] = [item["item_id"] for item in fake_zoho.all(ITEMS)[:3]]
    fake_zoho.change(ITEMS, changed, rate=99000)  # its webhook was lost
    fake_zoho.adjust_stock((changed, -2))  # stock moves without a new last_modified_time
    fake_zoho.delete(ITEMS, deleted)  # so was this one's
    with db.engine.begin() as connection:  # the stored row drifted from what its event wrote
        connection.execute(update(products).where(products.c.zoho_item_id == drifted).values(stock_quantity=0))
    configure(ADMIN_API_KEY="a" * 40)

    answer = client.post("/api/zoho/reconcile?mode=full", headers={"X-Admin-Key": "a" * 40})

    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["mode"], body["complete"], body["deactivated"]) == ("full", True, 1)
    assert body["entities"]["products"] == {"listed": 11, "queued": 2, "deactivated": 1, "done": True}
    assert body["entities"]["customers"]["queued"] == 0
    drain_now()
    zoho = _zoho_products(fake_zoho)
    stored = _products(db)
    assert stored[deleted][3] is False
    del stored[deleted]
    assert stored == zoho
    assert count(db.engine, tds_dead_letter_queue) == 0
    full = sync_health(db.engine).mirror.full_pass["products"]
    assert (full.last_queued, full.last_deactivated, full.rail_tripped) == (2, 1, False)


def test_a_full_pass_over_unchanged_records_queues_nothing_and_writes_nothing(db, fake_zoho):
    _imported(db, fake_zoho, items=30)
    with db.engine.connect() as connection:
        before = connection.execute(select(products.c.id, products.c.updated_at).order_by(products.c.id)).all()
    queued = count(db.engine, tds_sync_queue)

    answers = run_until_complete(FULL)

    assert (answers[-1].mode, answers[-1].enqueued, answers[-1].deactivated) == ("full", 0, 0)
    assert count(db.engine, tds_sync_queue) == queued
    assert count(db.engine, zoho_pass_seen) == 0  # the pass's bookkeeping goes with it
    with db.engine.connect() as connection:
        assert connection.execute(select(products.c.id, products.c.updated_at).order_by(products.c.id)).all() == before


def test_the_safety_rail_deactivates_nothing_says_so_and_degrades_the_sync(db, fake_zoho):
    _imported(db, fake_zoho, items=20)
    for item in fake_zoho.all(ITEMS)[:3]:  # 15% of the active items missing from Zoho's answer
        fake_zoho.delete(ITEMS, item["item_id"])

    answer = run_until_complete(FULL)[-1]

    assert answer.deactivated == 0 and answer.entities["products"].deactivated == 0
    assert count(db.engine, products, products.c.is_active.is_(True)) == 20
    health = sync_health(db.engine)
    assert health.status == "degraded"
    assert health.mirror.full_pass["products"].rail_tripped is True
    assert any("full pass deactivated nothing for products" in issue for issue in health.issues)


def test_a_webhook_newer_than_what_the_full_pass_queued_wins(client, db, fake_zoho, configure):
    _imported(db, fake_zoho, items=4)
    item_id = fake_zoho.all(ITEMS)[0]["item_id"]
    fake_zoho.change(ITEMS, item_id, rate=2000)  # a lost webhook: the full pass queues this version
    configure(ZOHO_MINUTE_CALL_LIMIT=1)
    next_budget_minute(db.engine)

    paused = reconcile(get_settings(), mode=FULL)  # reads the items' page, then waits for the next minute

    assert paused.complete is False and paused.entities["products"].queued == 1
    newer = fake_zoho.change(ITEMS, item_id, rate=3000)
    queue_webhook(client, "products", fake_zoho.webhook(ITEMS, newer))
    drain_now()
    assert _products(db)[item_id][1] == 3000
    configure(ZOHO_MINUTE_CALL_LIMIT=100)
    next_budget_minute(db.engine)
    run_until_complete(FULL)
    assert _products(db) == _zoho_products(fake_zoho)


def test_calls_go_to_the_api_domain_zoho_names_with_the_token(db, fake_zoho, configure):
    configure(ZOHO_API_URL=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    fake_zoho.put(ITEMS, {"name": "Cable", "rate": 5000, "stock_on_hand": 3, "status": "active"})

    answer = reconcile(get_settings())

    assert answer.complete and answer.entities["products"].queued == 1
    with db.engine.connect() as connection:
        assert connection.execute(select(zoho_oauth_tokens.c.api_domain)).scalar_one() == fake_zoho.url


def test_the_health_is_degraded_while_no_full_pass_completed_in_36_hours(db, fake_zoho):
    assert "no complete import or full pass of Zoho yet" in sync_health(db.engine).issues
    _imported(db, fake_zoho, items=3)
    assert sync_health(db.engine).status == "healthy"

    with db.engine.begin() as connection:
        connection.execute(update(zoho_sync_progress).values(last_complete_at=utcnow() - timedelta(hours=37)))
    health = sync_health(db.engine)
    assert health.status == "degraded"
    assert "last complete full pass of Zoho ended 37 h ago (limit 36 h)" in health.issues

    run_until_complete(FULL)
    health = sync_health(db.engine)
    assert health.status == "healthy" and health.mirror.last_complete_full_pass_at > utcnow() - timedelta(minutes=1)


def test_without_zoho_the_health_says_nothing_of_the_mirror(db):
    health = sync_health(db.engine)
    assert health.status == "healthy" and health.mirror is None


def test_a_record_shifted_onto_a_read_page_by_a_deletion_during_the_pass_stays_active(db, fake_zoho, configure):
    fake_zoho.max_per_page = 5
    _imported(db, fake_zoho, items=30)
    items = [item["item_id"] for item in fake_zoho.all(ITEMS)]
    configure(ZOHO_MINUTE_CALL_LIMIT=1)
    next_budget_minute(db.engine)
    assert reconcile(get_settings(), mode=FULL).complete is False  # page 1 read: items 0-4
    fake_zoho.delete(ITEMS, items[0])  # item 5 moves onto page 1, which this pass has read

    configure(ZOHO_MINUTE_CALL_LIMIT=100)
    next_budget_minute(db.engine)
    run_until_complete(FULL)

    assert all(active for _, _, _, active in _products(db).values())  # item 0 was listed before it went
    assert fake_zoho.reads[("item", items[5])] == 1  # asked for by id, found, kept
    run_until_complete(FULL)  # the next pass no longer lists item 0
    stored = _products(db)
    assert stored[items[0]][3] is False
    assert all(stored[item_id][3] for item_id in items[1:])


def test_a_record_created_after_the_pass_began_is_not_swept(client, db, fake_zoho, configure):
    _imported(db, fake_zoho, items=12)
    gone = fake_zoho.all(ITEMS)[0]["item_id"]
    fake_zoho.delete(ITEMS, gone)
    configure(ZOHO_MINUTE_CALL_LIMIT=1)
    next_budget_minute(db.engine)
    assert reconcile(get_settings(), mode=FULL).complete is False  # the list read; the sweep waits
    created = fake_zoho.put(ITEMS, {"name": "New", "rate": 10, "stock_on_hand": 1, "status": "active"})
    queue_webhook(client, "products", fake_zoho.webhook(ITEMS, created))
    drain_now()

    configure(ZOHO_MINUTE_CALL_LIMIT=100)
    next_budget_minute(db.engine)
    run_until_complete(FULL)

    stored = _products(db)
    assert stored[gone][3] is False and stored[created["item_id"]][3] is True
    assert fake_zoho.reads[("item", created["item_id"])] == 0  # not a candidate: no call spent on it


def test_the_stats_and_the_operations_page_show_the_passes_and_the_calls(client, db, fake_zoho, configure):
    configure(ADMIN_API_KEY=ADMIN_KEY)
    _imported(db, fake_zoho, items=3)
    run_until_complete(FULL)

    stats = client.get("/api/zoho/dashboard/stats", headers={"X-Admin-Key": ADMIN_KEY}).get_json()
    assert stats["mirror"]["import_progress"]["products"]["listed"] == 3
    assert stats["mirror"]["full_pass"]["products"]["last_queued"] == 0
    assert stats["mirror"]["zoho_calls"]["today"] == len(fake_zoho.api_calls())
    log_in(client)
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'id="zoho-mirror"' in page
    assert f'<b id="zoho-calls">{len(fake_zoho.api_calls())}</b> of 1000' in page
    assert '<tr data-entity="products">' in page and "0 queued, 0 deactivated" in page


@pytest.mark.postgres_only
def test_two_steps_at_once_count_each_page_and_each_deletion_once(pg, fake_zoho):
    fake_zoho.max_per_page = 5
    _imported(pg, fake_zoho, items=40)
    for item in fake_zoho.all(ITEMS)[:3]:
        fake_zoho.delete(ITEMS, item["item_id"])
    settings = get_settings()
    failures = []

    def step() -> None:
        try:
            while not reconcile(settings, mode=FULL).complete:
                pass
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=step) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    products_pass = _progress(pg, FULL)["products"]
    assert (products_pass.listed, products_pass.deactivated, products_pass.done) == (37, 3, True)
    drain_now()
    assert count(pg.engine, products, products.c.is_active.is_(True)) == 37


def test_the_nightly_schedule_begins_a_full_pass_and_the_15_minute_runs_carry_it_on(db, fake_zoho, configure):
    from functions.reconcile_zoho import reconcile_zoho

    fake_zoho.max_per_page = 5
    _imported(db, fake_zoho, items=12)
    configure(ZOHO_MINUTE_CALL_LIMIT=1)
    next_budget_minute(db.engine)

    nightly = reconcile_zoho({"mode": "full"})  # the 00:00 UTC schedule's input

    assert (nightly["mode"], nightly["complete"], nightly["pages"]) == ("full", False, 1)
    next_budget_minute(db.engine)
    assert reconcile_zoho({})["mode"] == "full"  # a 15-minute run goes on with the pass
    configure(ZOHO_MINUTE_CALL_LIMIT=100)
    next_budget_minute(db.engine)
    assert reconcile_zoho({})["complete"] is True
    assert reconcile_zoho({})["mode"] == "incremental"  # the pass is done


def test_a_list_entry_without_the_webhooks_invoice_lines_is_not_a_difference(client, db, fake_zoho):
    _imported(db, fake_zoho, items=2)
    invoice = fake_zoho.all(INVOICES)[0]
    lines = [{"item_id": fake_zoho.all(ITEMS)[0]["item_id"], "name": "Item 0", "quantity": 2, "rate": 1000}]
    queue_webhook(client, "invoices", {"invoice": {**invoice, "line_items": lines}})  # Zoho's list has no lines
    drain_now()
    queued = count(db.engine, tds_sync_queue)

    answer = run_until_complete(FULL)[-1]

    assert answer.entities["invoices"].queued == 0 and count(db.engine, tds_sync_queue) == queued


def test_a_record_stamped_a_day_ahead_is_left_out_and_the_import_still_completes(db, fake_zoho, captured_logs):
    _organisation(fake_zoho)
    ahead = fake_zoho.records[ITEMS][0]
    ahead["last_modified_time"] = zoho_time(utcnow() + timedelta(days=2))

    run_until_complete()

    zoho = _zoho_products(fake_zoho)
    del zoho[ahead["item_id"]]
    assert _products(db) == zoho
    assert "Zoho record failed validation, not queued" in captured_logs()
    assert ahead["item_id"] in captured_logs()
