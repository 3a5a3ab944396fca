"""The drain on both databases: every entity applied, stale and deleted records, retries, dead
letters, the lease fence, crash recovery, batching and the time budget (retention: test_retention.py)."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from common.clock import utcnow
from common.db.transactions import write
from common.models import (
    bills,
    categories,
    credit_notes,
    customers,
    invoice_lines,
    invoices,
    pricelists,
    product_prices,
    products,
    stock_adjustments,
    tds_dead_letter_queue,
    tds_drain_runs,
    tds_sync_queue,
)
from common.sync import handlers, queue
from common.sync.errors import TransientSyncError
from functions.drain_queue import drain_queue
from tests import zoho_payloads as zoho
from tests.fake_zoho import ITEMS
from tests.helpers import ADMIN_KEY, count, drain_now, queue_webhook


def _one(db, table, *where):
    with db.engine.connect() as connection:
        return connection.execute(select(table).where(*where)).one()


def _item(db, queue_id):
    return _one(db, tds_sync_queue, tds_sync_queue.c.id == queue_id)


def test_a_product_event_becomes_a_product(client, db):
    queue_id = queue_webhook(client, "products", zoho.product(name_ar="هاتف سامسونج جالكسي"))
    before, started = utcnow(), time.perf_counter()
    summary = drain_now()
    elapsed_ms, after = (time.perf_counter() - started) * 1000, utcnow()
    assert (summary.claimed, summary.completed, summary.remaining) == (1, 1, 0)
    row = _one(db, products, products.c.zoho_item_id == "460000000012345")
    assert row.name == "Samsung Galaxy A54 128GB v1"
    assert row.name_ar == "هاتف سامسونج جالكسي"
    assert (row.price, row.cost, row.stock_quantity, row.is_active) == (450001, 390000, 38, True)
    assert isinstance(row.price, int)
    assert row.zoho_last_modified == zoho.BASE_TIME + timedelta(minutes=1)
    assert row.zoho_data["cf_warranty"] == "12 months"
    assert row.search_text.isascii() and "samsung" in row.search_text
    assert _one(db, categories, categories.c.id == row.category_id).name == "Phones"
    item = _item(db, queue_id)
    assert (item.status, item.result, item.locked_by) == ("completed", "applied", None)
    assert before <= item.completed_at <= after and 0 <= item.processing_ms <= elapsed_ms


def test_every_entity_has_a_real_handler(client, db, fake_zoho):
    fake_zoho.add(ITEMS, {"item_id": "460000000012345", "stock_on_hand": 35, "available_stock": 35})  # after the -3
    queue_webhook(client, "customers", zoho.customer())
    queue_webhook(client, "products", zoho.product())
    drain_now()
    for route in ("invoices", "bills", "credit-notes", "stock", "prices"):
        builder, _, _ = zoho.ENTITY_CASES[route]
        queue_webhook(client, route, builder())
    summary = drain_now()
    assert (summary.completed, summary.dead_lettered, summary.retried) == (5, 0, 0)

    customer = _one(db, customers, customers.c.zoho_contact_id == "880000000000001")
    invoice = _one(db, invoices, invoices.c.zoho_invoice_id == "770000000000101")
    assert (invoice.total, invoice.customer_id, invoice.status) == (900001, customer.id, "sent")
    assert count(db.engine, invoice_lines, invoice_lines.c.invoice_id == invoice.id) == 1
    assert _one(db, bills, bills.c.zoho_bill_id == "990000000000001").total == 1500001
    assert _one(db, credit_notes).customer_id == customer.id
    product = _one(db, products, products.c.zoho_item_id == "460000000012345")
    assert product.stock_quantity == 35  # Zoho's, read after the adjustment
    assert product.sales_count == 2
    assert _one(db, stock_adjustments).quantity_adjusted == -3
    pricelist = _one(db, pricelists)
    assert pricelist.name == "Wholesale v1"
    assert _one(db, product_prices, product_prices.c.pricelist_id == pricelist.id).price == 430001


def test_sales_counted_before_their_product_arrived_are_its_own_once_it_does(client, db):
    """An invoice may arrive before the item it sells; the product, created later, counts its units."""
    queue_webhook(client, "customers", zoho.customer())
    queue_webhook(client, "invoices", zoho.invoice(lines=[{"item_id": "460000000012345", "quantity": 3, "rate": 1}]))
    queue_webhook(
        client,
        "invoices",
        zoho.invoice("770000000000102", lines=[{"item_id": "460000000099999", "quantity": 5, "rate": 1}]),
    )
    drain_now()
    queue_webhook(client, "products", zoho.product())
    queue_webhook(client, "products", zoho.product("460000000077777"))
    drain_now()

    with db.engine.connect() as connection:
        counts = dict(connection.execute(select(products.c.zoho_item_id, products.c.sales_count)).all())
    assert counts == {"460000000012345": 3, "460000000077777": 0}


def test_an_older_update_is_skipped_as_stale(client, db):
    queue_webhook(client, "products", zoho.product(version=3))
    drain_now()
    older = queue_webhook(client, "products", zoho.product(version=2))
    summary = drain_now()
    assert (summary.completed, summary.stale) == (1, 1)
    assert _item(db, older).result == "stale"
    assert _one(db, products).name == "Samsung Galaxy A54 128GB v3"


def test_delete_deactivates_and_keeps_the_row(client, db):
    queue_webhook(client, "customers", zoho.customer(version=1))
    drain_now()
    deletion = zoho.customer(version=2)
    deletion["event_type"] = "delete"
    queue_webhook(client, "customers", deletion)
    drain_now()
    row = _one(db, customers)
    assert row.is_active is False and row.name == "Ali Hassan v1"


def test_vendor_contacts_are_not_customers(client, db):
    queue_id = queue_webhook(client, "customers", zoho.customer(contact_type="vendor"))
    assert drain_now().completed == 1
    assert _item(db, queue_id).result == "noop"
    assert count(db.engine, customers) == 0


def test_inactive_status_deactivates_a_product(client, db):
    queue_webhook(client, "products", zoho.product(version=1))
    queue_webhook(client, "products", zoho.product(version=2, status="inactive"))
    drain_now()
    assert _one(db, products).is_active is False


def test_a_stock_adjustment_queued_twice_reads_zohos_stock_once(client, db, fake_zoho):
    fake_zoho.add(ITEMS, {"item_id": "460000000012345", "stock_on_hand": 35, "available_stock": 35})
    queue_webhook(client, "products", zoho.product())
    drain_now()
    adjustment = zoho.stock()
    queue_webhook(client, "stock", adjustment)
    queue_webhook(client, "stock", {**adjustment, "data": {**adjustment["data"], "reason": "Damaged in transit"}})
    summary = drain_now()
    assert (summary.completed, summary.stale) == (2, 1)
    assert _one(db, products).stock_quantity == 35
    assert fake_zoho.reads == {("item", "460000000012345"): 1}


def _unavailable(connection, event, now):
    raise TransientSyncError("the bill's dependency is unavailable")


def test_a_transient_failure_retries_with_backoff_then_dead_letters(client, db, configure, monkeypatch):
    configure(TDS_MAX_RETRY_ATTEMPTS=2)
    monkeypatch.setitem(handlers.HANDLERS, "bills", _unavailable)
    queue_id = queue_webhook(client, "bills", zoho.bill())
    before = utcnow()
    first = drain_now()
    assert (first.retried, first.dead_lettered) == (1, 0)
    item = _item(db, queue_id)
    assert (item.status, item.attempt_count) == ("retry", 1)
    assert item.next_retry_at > before + timedelta(seconds=4)
    assert "dependency is unavailable" in item.error_message

    assert drain_now().claimed == 0  # not due before its backoff ends
    with write(db.engine) as connection:
        connection.execute(update(tds_sync_queue).values(next_retry_at=utcnow() - timedelta(seconds=1)))
    second = drain_now()
    assert second.dead_lettered == 1
    assert _item(db, queue_id).status == "dead_letter"
    letter = _one(db, tds_dead_letter_queue)
    assert (letter.sync_queue_id, letter.failure_reason, letter.total_attempts) == (
        queue_id,
        "max_attempts_exceeded",
        2,
    )
    assert letter.resolved is False
    assert letter.last_payload["bill"]["bill_id"] == zoho.bill()["data"]["bill_id"]
    assert "dependency is unavailable" in letter.last_error_message


def test_an_adjustment_for_an_item_not_synced_yet_completes_at_once(client, db):
    queue_id = queue_webhook(client, "stock", zoho.stock(item_id="not-synced-yet"))
    summary = drain_now()
    assert (summary.completed, summary.retried, summary.dead_lettered) == (1, 0, 0)
    assert _item(db, queue_id).result == "applied"
    assert _one(db, stock_adjustments).zoho_item_id == "not-synced-yet"


def test_a_permanent_failure_dead_letters_at_once(client, db):
    queue_id = queue_webhook(
        client, "products", {"item": {"item_id": "123", "rate": 1000}}
    )  # no name: cannot be created
    summary = drain_now()
    assert summary.dead_lettered == 1
    letter = _one(db, tds_dead_letter_queue)
    assert (letter.sync_queue_id, letter.failure_reason, letter.total_attempts) == (queue_id, "permanent_error", 1)
    assert count(db.engine, products) == 0


def _claim(db, worker, lock_seconds=300, now=None):
    with write(db.engine) as connection:
        return queue.claim(connection, worker, 10, lock_seconds, now or utcnow())


def test_the_lease_is_a_fence_against_a_drain_whose_lock_expired(client, db):
    queue_webhook(client, "customers", zoho.customer())
    [item_a] = _claim(db, "drain-a", lock_seconds=1)
    assert _claim(db, "drain-b") == []  # held by drain-a
    [item_b] = _claim(db, "drain-b", now=utcnow() + timedelta(seconds=2))  # drain-a's lock expired
    assert item_b.attempt_count == item_a.attempt_count + 1
    late = queue.Lease("drain-a", item_a)
    with write(db.engine) as connection:
        assert queue.complete(connection, late, "applied", 1, utcnow()) is False
        assert queue.retry_later(connection, late, "boom", utcnow()) is False
        assert queue.dead_letter(connection, late, "permanent_error", "boom", utcnow()) is False
    assert count(db.engine, tds_dead_letter_queue) == 0
    with write(db.engine) as connection:
        assert queue.complete(connection, queue.Lease("drain-b", item_b), "applied", 1, utcnow()) is True
    assert _one(db, tds_sync_queue).status == "completed"


def test_the_fence_tells_a_drains_earlier_attempt_from_its_later_one(client, db):
    """The same worker id taking back its own expired item: only the attempt term tells the
    two leases apart, and the earlier attempt's acknowledgement must be refused."""
    queue_webhook(client, "customers", zoho.customer())
    [first] = _claim(db, "drain-a", lock_seconds=1)
    [again] = _claim(db, "drain-a", now=utcnow() + timedelta(seconds=2))
    assert again.attempt_count == first.attempt_count + 1
    with write(db.engine) as connection:
        assert queue.complete(connection, queue.Lease("drain-a", first), "applied", 1, utcnow()) is False
        assert (
            queue.dead_letter(connection, queue.Lease("drain-a", first), "permanent_error", "boom", utcnow()) is False
        )
    assert _one(db, tds_sync_queue).status == "processing"
    with write(db.engine) as connection:
        assert queue.complete(connection, queue.Lease("drain-a", again), "applied", 1, utcnow()) is True
    assert _one(db, tds_sync_queue).status == "completed"


def test_items_of_a_crashed_drain_are_taken_again_after_the_lock_timeout(client, db):
    queue_id = queue_webhook(client, "bills", zoho.bill())
    _claim(db, "crashed-drain", lock_seconds=1)  # and then the process dies
    assert drain_now().claimed == 0
    with write(db.engine) as connection:
        connection.execute(update(tds_sync_queue).values(lock_expires_at=utcnow() - timedelta(seconds=1)))
    summary = drain_now()
    assert summary.completed == 1
    item = _item(db, queue_id)
    assert (item.status, item.attempt_count) == ("completed", 2)
    assert count(db.engine, bills) == 1


def test_claims_go_by_priority_then_age(client, db):
    stock_id = queue_webhook(client, "stock", zoho.stock())
    product_id = queue_webhook(client, "products", zoho.product())
    invoice_id = queue_webhook(client, "invoices", zoho.invoice())
    older_customer = queue_webhook(client, "customers", zoho.customer(contact_id="1"))
    newer_customer = queue_webhook(client, "customers", zoho.customer(contact_id="2"))
    claimed = [item.id for item in _claim(db, "drain")]
    assert claimed == [invoice_id, product_id, older_customer, newer_customer, stock_id]


def test_a_drain_keeps_claiming_while_batches_are_full(client, db, configure):
    configure(TDS_BATCH_SIZE=4)
    for number in range(10):
        queue_webhook(client, "customers", zoho.customer(contact_id=str(number)))
    summary = drain_now()
    assert (summary.claimed, summary.completed, summary.remaining) == (10, 10, 0)
    assert count(db.engine, customers) == 10


def test_a_drain_stops_when_its_budget_is_spent(client, db, configure):
    configure(TDS_BATCH_SIZE=3)
    for number in range(7):
        queue_webhook(client, "customers", zoho.customer(contact_id=str(number)))
    summary = drain_now(budget=0)
    assert (summary.claimed, summary.remaining) == (3, 4)


def test_scheduled_function_drains_and_records_its_run(client, db):
    queue_webhook(client, "customers", zoho.customer())
    summary = drain_queue({"source": "aws.events"}, None)
    assert summary["completed"] == 1 and summary["remaining"] == 0
    run = _one(db, tds_drain_runs)
    assert (run.trigger, run.completed) == ("schedule", 1)


def test_http_drain_needs_the_admin_key(client, db, configure):
    configure(ADMIN_API_KEY=ADMIN_KEY)
    queue_webhook(client, "customers", zoho.customer())
    refused = client.post("/api/zoho/queue/drain")
    assert refused.status_code == 401
    assert refused.get_json()["message"] == "Invalid or missing admin API key"
    answer = client.post("/api/zoho/queue/drain", headers={"X-Admin-Key": ADMIN_KEY})
    assert answer.status_code == 200
    body = answer.get_json()
    assert set(body) == {"claimed", "completed", "retried", "dead_lettered", "stale", "remaining", "duration_ms"}
    assert (body["claimed"], body["completed"], body["remaining"]) == (1, 1, 0)


@pytest.mark.parametrize("route", ["customers", "bills", "credit-notes", "prices", "invoices", "products"])
def test_reapplying_the_same_version_changes_nothing(client, db, route):
    """At-least-once delivery is safe: a second copy of a version is applied idempotently."""
    builder, _, _ = zoho.ENTITY_CASES[route]
    body = builder()
    queue_webhook(client, route, body)
    drain_now()
    # The same record under another event type is a new event: queued and applied again.
    copy = {**body, "event_type": "create" if body.get("event_type") != "create" else "update"}
    queue_webhook(client, route, copy)
    summary = drain_now()
    assert (summary.completed, summary.dead_lettered) == (1, 0)
