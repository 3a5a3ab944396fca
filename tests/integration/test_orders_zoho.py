"""Orders and Zoho, on both databases: exactly one sales order per order against a fake Zoho that
fails, rate-limits and times out after creating; cancelled orders voided; sales-order webhooks
moving the order (a stale one not); reservations ending once, when Zoho's stock counts the order."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from common.clock import utcnow
from common.config import get_settings
from common.db.transactions import write
from common.events.relay import relay
from common.models import customers, orders
from common.sync import handlers
from common.sync.order_push import push_due
from tests import shop_fixtures as shop
from tests import zoho_payloads as zoho
from tests.fake_zoho import SALES_ORDERS, zoho_time
from tests.helpers import ADMIN_KEY, csrf_token, drain_now, log_in, next_budget_minute, queue_webhook
from tests.order_fixtures import ORDERS, events_of, open_reserved, order_body, place, sellable, setup_shop


def _push_rounds(engine, rounds: int = 4) -> None:
    """Run the relay (and with it the push) `rounds` times, each time with every pending push due
    now instead of after its backoff: a retry storm, as an impatient operator's replays would be."""
    for _ in range(rounds):
        with write(engine) as c:
            c.execute(
                update(orders)
                .where(orders.c.zoho_push_due_at.is_not(None))
                .values(zoho_push_due_at=utcnow() - timedelta(seconds=1), zoho_push_lease_until=None)
            )
        next_budget_minute(engine)  # a 429 fills the shared minute; the next round is a minute later
        relay(get_settings(), budget_seconds=30)
        push_due(get_settings(), budget_seconds=30)


def _order_row(engine, order_id: int):
    with engine.connect() as connection:
        return connection.execute(select(orders).where(orders.c.id == order_id)).one()


def _three_orders(client, engine) -> list[dict]:
    """Two customers; the first orders twice."""
    ids = setup_shop(engine, customers=2)
    (first, first_address), (second, second_address) = ids["customers"]
    placed = [place(client, first, order_body(first_address)).get_json()]
    with write(engine) as c:
        shop.cart(c, first, {ids["cable"]: 3})
    placed.append(place(client, first, order_body(first_address)).get_json())
    placed.append(place(client, second, order_body(second_address)).get_json())
    return placed


def _arrange(fake, failure: str) -> None:
    if failure == "500 on create":
        fake.fail(SALES_ORDERS, 500, {"code": 500, "message": "Internal error"}, times=2)
    elif failure == "429 on create":
        fake.fail(SALES_ORDERS, 429, {"code": 44, "message": "Too many requests"}, times=2)
    elif failure == "timeout after creating":
        fake.stall_after_create_seconds = 1.0  # the client gives up after 0.3 s; the record is stored
    elif failure == "5xx after creating":
        fake.status_after_create = 502


@pytest.mark.parametrize(
    "failure", ["none", "500 on create", "429 on create", "timeout after creating", "5xx after creating"]
)
def test_every_order_becomes_exactly_one_sales_order(client, db, fake_zoho, configure, failure):
    configure(ZOHO_TIMEOUT_SECONDS="0.3")
    placed = _three_orders(client, db.engine)
    _arrange(fake_zoho, failure)

    _push_rounds(db.engine)

    for order in placed:
        [salesorder] = fake_zoho.sales_orders(order["number"])
        row = _order_row(db.engine, order["id"])
        assert row.zoho_salesorder_id == salesorder["salesorder_id"], failure
        assert row.zoho_push_due_at is None and row.zoho_push_error is None
    assert len(fake_zoho.sales_orders()) == 3
    # Each customer's contact was created once, and the sales orders name it.
    contacts = {contact["contact_id"]: contact for contact in fake_zoho.contacts()}
    assert len(contacts) == 2
    with db.engine.connect() as connection:
        stored = set(connection.scalars(select(customers.c.zoho_contact_id)))
    assert stored == set(contacts)
    first = fake_zoho.sales_orders(placed[0]["number"])[0]
    assert first["customer_id"] in contacts
    assert [(line["item_id"], line["quantity"], line["rate"]) for line in first["line_items"]] == [
        ("9001", 1, 250_000),
        ("9002", 2, 7_000),
    ]
    assert "Home street 1" in first["notes"] and first["shipping_charge"] == 5_000
    answer = client.get(
        f"{ORDERS}/{placed[0]['id']}", headers=shop.bearer(_order_row(db.engine, placed[0]["id"]).customer_id)
    )
    assert answer.get_json()["zoho"]["salesorder_id"] == first["salesorder_id"]


def test_a_failed_push_is_recorded_and_retried_later(client, db, fake_zoho):
    [order, *_] = _three_orders(client, db.engine)
    fake_zoho.fail(SALES_ORDERS, 500, {"code": 500, "message": "Internal error"}, times=10)
    relay(get_settings(), budget_seconds=30)
    push_due(get_settings(), budget_seconds=30)
    row = _order_row(db.engine, order["id"])
    assert row.zoho_salesorder_id is None and "HTTP 500" in row.zoho_push_error
    assert row.zoho_push_due_at > utcnow()  # backed off, not hammering Zoho
    assert fake_zoho.sales_orders() == []


def test_a_cancelled_order_is_voided_in_zoho(client, db, fake_zoho):
    placed = _three_orders(client, db.engine)
    _push_rounds(db.engine, rounds=1)
    auth = shop.bearer(_order_row(db.engine, placed[0]["id"]).customer_id)
    assert client.post(f"{ORDERS}/{placed[0]['id']}/cancel", headers=auth).status_code == 200
    _push_rounds(db.engine, rounds=2)
    [salesorder] = fake_zoho.sales_orders(placed[0]["number"])
    assert salesorder["status"] == "void"
    assert _order_row(db.engine, placed[0]["id"]).zoho_voided_at is not None
    assert [so["status"] for so in fake_zoho.sales_orders(placed[1]["number"])] == ["draft"]


def test_a_void_made_in_zoho_cancels_the_order_and_is_not_sent_back(client, db, fake_zoho):
    [order, *_] = _three_orders(client, db.engine)
    _push_rounds(db.engine, rounds=1)
    [salesorder] = fake_zoho.sales_orders(order["number"])
    voided = fake_zoho.change(SALES_ORDERS, salesorder["salesorder_id"], status="void")
    queue_webhook(client, "sales-orders", {"salesorder": voided})
    drain_now()
    fake_zoho.reset_counters()

    _push_rounds(db.engine, rounds=2)

    assert _order_row(db.engine, order["id"]).status == "cancelled"
    assert [call.path for call in fake_zoho.api_calls() if call.method == "POST"] == []


def test_an_order_cancelled_before_its_push_never_reaches_zoho(client, db, fake_zoho):
    placed = _three_orders(client, db.engine)
    auth = shop.bearer(_order_row(db.engine, placed[0]["id"]).customer_id)
    client.post(f"{ORDERS}/{placed[0]['id']}/cancel", headers=auth)
    _push_rounds(db.engine, rounds=2)
    assert fake_zoho.sales_orders(placed[0]["number"]) == []
    assert len(fake_zoho.sales_orders()) == 2


def _salesorder(order: dict, at: datetime, status: str = "confirmed", shipped: str = "pending") -> dict:
    """Zoho's sales order for `order`, as last changed at `at`."""
    return zoho.sales_order(
        "4000001",
        reference_number=order["number"],
        status=status,
        shipped_status=shipped,
        last_modified_time=zoho_time(at),
    )


def test_sales_order_webhooks_move_the_order_and_a_stale_one_does_not(client, db):
    ids = setup_shop(db.engine)
    order = place(client, ids["customer"], order_body(ids["address"])).get_json()
    start = datetime.now(UTC).replace(microsecond=0)
    auth = shop.bearer(ids["customer"])

    queue_webhook(client, "sales-orders", _salesorder(order, start, "confirmed"))
    drain_now()
    body = client.get(f"{ORDERS}/{order['id']}", headers=auth).get_json()
    assert body["status"] == "confirmed"
    assert body["zoho"]["salesorder_id"] == "4000001"  # known by reference before the push recorded it

    # A void older than the confirmation arrives late: stale, it cancels nothing.
    queue_webhook(client, "sales-orders", _salesorder(order, start - timedelta(minutes=2), "void"))
    drain_now()
    assert client.get(f"{ORDERS}/{order['id']}", headers=auth).get_json()["status"] == "confirmed"

    queue_webhook(client, "sales-orders", _salesorder(order, start + timedelta(minutes=5), "confirmed", "shipped"))
    drain_now()
    body = client.get(f"{ORDERS}/{order['id']}", headers=auth).get_json()
    assert body["status"] == "shipped"
    assert [step["status"] for step in body["timeline"]] == ["placed", "confirmed", "shipped"]
    changes = [(e["data"]["old_status"], e["data"]["new_status"]) for e in events_of(db.engine, "order.status_changed")]
    assert changes == [("placed", "confirmed"), ("confirmed", "shipped")]
    cancel = client.post(f"{ORDERS}/{order['id']}/cancel", headers=auth)
    assert cancel.status_code == 409 and cancel.get_json()["code"] == "not_cancellable"

    queue_webhook(client, "sales-orders", _salesorder(order, start + timedelta(minutes=9), "closed", "fulfilled"))
    drain_now()
    assert client.get(f"{ORDERS}/{order['id']}", headers=auth).get_json()["status"] == "delivered"


def test_a_void_in_zoho_cancels_the_order_and_releases_its_stock(client, db):
    ids = setup_shop(db.engine, stock=3)
    order = place(client, ids["customer"], order_body(ids["address"])).get_json()
    assert sellable(db.engine, ids["phone"]) == 2
    queue_webhook(client, "sales-orders", _salesorder(order, datetime.now(UTC), "void"))
    drain_now()
    assert _order_row(db.engine, order["id"]).status == "cancelled"
    assert sellable(db.engine, ids["phone"]) == 3
    assert len(events_of(db.engine, "order.cancelled")) == 1


def test_a_sales_order_entered_in_zoho_by_hand_changes_no_order(client, db):
    ids = setup_shop(db.engine)
    order = place(client, ids["customer"], order_body(ids["address"])).get_json()
    foreign = {"salesorder": {"salesorder_id": "777", "reference_number": "PO-55", "status": "void"}}
    queue_webhook(client, "sales-orders", foreign)
    drain_now()
    assert _order_row(db.engine, order["id"]).status == "placed"


def _item(available: int, at: datetime) -> dict:
    return {
        "item": {
            "item_id": "9001",
            "name": "Galaxy A55",
            "available_stock": available,
            "last_modified_time": zoho_time(at),
        }
    }


@pytest.mark.parametrize("snapshot_first", [False, True], ids=["confirmation first", "snapshot first"])
def test_a_reservation_ends_once_when_zohos_stock_counts_the_order(client, db, snapshot_first):
    """Zoho has 5; an order takes 1. What may be sold must be Zoho's own available figure once
    Zoho counts the order (4), never 3 (the unit taken twice) after both facts arrived."""
    ids = setup_shop(db.engine, stock=5)
    order = place(client, ids["customer"], order_body(ids["address"])).get_json()
    assert sellable(db.engine, ids["phone"]) == 4
    confirmed_at = datetime.now(UTC).replace(microsecond=0)

    # A snapshot from before Zoho committed the order does not count it: the reservation stays.
    queue_webhook(client, "products", _item(5, confirmed_at - timedelta(minutes=10)))
    drain_now()
    assert (open_reserved(db.engine, ids["phone"]), sellable(db.engine, ids["phone"])) == (1, 4)

    confirmation = _salesorder(order, confirmed_at, "confirmed")
    counted = _item(4, confirmed_at + timedelta(minutes=1))  # Zoho's figure with the order committed
    for body in [counted, confirmation] if snapshot_first else [confirmation, counted]:
        queue_webhook(client, "products" if "item" in body else "sales-orders", body)
        drain_now()
    assert (open_reserved(db.engine, ids["phone"]), sellable(db.engine, ids["phone"])) == (0, 4)

    # Cancelling later releases nothing more: the reservation ended once.
    auth = shop.bearer(ids["customer"])
    assert client.post(f"{ORDERS}/{order['id']}/cancel", headers=auth).status_code == 200
    assert sellable(db.engine, ids["phone"]) == 4


def test_a_stock_check_after_the_confirmation_ends_the_reservation_and_a_pending_one_holds_it(client, db):
    """Zoho has 5; an order takes 1 and Zoho confirms it. A snapshot whose figure the sync does
    not take (the same version with another number: a stock check becomes due) must not end the
    hold, or the shop would sell the unit twice until the check; a check whose read began after
    the commit (beyond the clocks' allowance) ends it, once; one that may have begun before does not."""
    ids = setup_shop(db.engine, stock=5)
    order = place(client, ids["customer"], order_body(ids["address"])).get_json()
    confirmed_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    modified = confirmed_at + timedelta(minutes=5)  # the version Zoho sends, stock moved since
    queue_webhook(client, "products", _item(5, modified))
    drain_now()

    queue_webhook(client, "products", _item(4, modified))  # same version, another number: a check is due
    drain_now()
    queue_webhook(client, "sales-orders", _salesorder(order, confirmed_at, "confirmed"))
    drain_now()
    assert (open_reserved(db.engine, ids["phone"]), sellable(db.engine, ids["phone"])) == (1, 4)

    with write(db.engine) as connection:  # a read within the clocks' allowance of the commit may predate it
        handlers.apply_checked_stock(connection, "9001", Decimal(5), confirmed_at + timedelta(minutes=1), utcnow())
    assert (open_reserved(db.engine, ids["phone"]), sellable(db.engine, ids["phone"])) == (1, 4)
    with write(db.engine) as connection:  # Zoho's figure read now counts the order
        handlers.apply_checked_stock(connection, "9001", Decimal(4), utcnow(), utcnow())
    assert (open_reserved(db.engine, ids["phone"]), sellable(db.engine, ids["phone"])) == (0, 4)


def _order_issues(health: dict) -> list[str]:
    return [issue for issue in health["issues"] if "for Zoho" in issue]


def _operator(client, configure) -> str:
    """Sign in to the operations page; the page's CSRF token."""
    configure(ADMIN_API_KEY=ADMIN_KEY)
    assert log_in(client).status_code == 303
    return csrf_token(client.get("/dashboard").get_data(as_text=True))


def test_operators_see_orders_waiting_and_failed_pushes_and_push_one_now(client, db, fake_zoho, configure):
    [order, *_] = _three_orders(client, db.engine)
    fake_zoho.fail(SALES_ORDERS, 500, {"code": 500, "message": "Internal error"})
    _push_rounds(db.engine, rounds=1)  # the first order's create fails; the other two are created
    health = client.get("/api/zoho/dashboard/health").get_json()
    assert health["orders"]["today"] == 3 and health["orders"]["waiting_for_zoho"] == 1
    assert [push["number"] for push in health["orders"]["failed_pushes"]] == [order["number"]]
    assert not _order_issues(health)  # waiting, but not for 15 minutes yet

    with write(db.engine) as c:  # the order has waited 16 minutes
        c.execute(update(orders).where(orders.c.id == order["id"]).values(created_at=utcnow() - timedelta(minutes=16)))
    health = client.get("/api/zoho/dashboard/health").get_json()
    assert health["status"] == "degraded"
    assert len(_order_issues(health)) == 1

    csrf = _operator(client, configure)
    page = client.get("/dashboard").get_data(as_text=True)
    assert order["number"] in page and "HTTP 500" in page
    pushed = client.post(f"/dashboard/orders/{order['id']}/push", data={"csrf": csrf})
    assert pushed.status_code == 303
    assert _order_row(db.engine, order["id"]).zoho_push_due_at <= utcnow()
    relay(get_settings(), budget_seconds=30)
    push_due(get_settings(), budget_seconds=30)
    assert len(fake_zoho.sales_orders(order["number"])) == 1
    assert not _order_issues(client.get("/api/zoho/dashboard/health").get_json())
