"""Stock is Zoho's number, on both databases: an inventory adjustment and a snapshot of its
item, arriving in every order and each twice, leave the stored stock equal to Zoho's, without a
retry or a dead letter, whether the snapshot was taken before the adjustment or after it (then
it already includes it), and whether the item was stored before or not. Concurrent drains read a
due item's stock once."""

import threading
from datetime import timedelta
from itertools import permutations

import pytest
from sqlalchemy import func, select

from common.clock import utcnow
from common.config import get_settings
from common.db.transactions import write
from common.models import products, tds_dead_letter_queue, tds_sync_queue
from common.sync import stock, stock_checks
from tests.fake_zoho import ADJUSTMENTS, ITEMS
from tests.helpers import drain_now, queue_webhook

ORDERS = sorted(set(permutations("SSAA")))  # S: the item's snapshot, A: the adjustment; each twice


def _stock(db, item_id: str) -> int | None:
    with db.engine.connect() as connection:
        return connection.execute(select(products.c.stock_quantity).where(products.c.zoho_item_id == item_id)).scalar()


@pytest.mark.parametrize("held", [False, True], ids=["item-new", "item-held"])
@pytest.mark.parametrize("taken", ["before", "after"], ids=["snapshot-before-adjustment", "snapshot-after"])
@pytest.mark.parametrize("order", ["".join(order) for order in ORDERS])
def test_an_adjustment_and_a_snapshot_in_any_order_give_zohos_stock(client, db, fake_zoho, order, taken, held):
    fake_zoho.clock = utcnow() - timedelta(minutes=1)  # Zoho's changes are happening now
    item = fake_zoho.put(
        ITEMS, {"name": "Cable", "rate": 5000, "stock_on_hand": 10, "available_stock": 10, "status": "active"}
    )
    item_id = item["item_id"]
    if held:  # an older snapshot of the item, synced long ago
        queue_webhook(
            client,
            "products",
            {
                "item": {
                    **item,
                    "stock_on_hand": 12,
                    "available_stock": 12,
                    "last_modified_time": "2026-11-01T08:00:00+0300",
                }
            },
        )
        drain_now()
    before = fake_zoho.get(ITEMS, item_id)
    adjustment = fake_zoho.webhook(ADJUSTMENTS, fake_zoho.adjust_stock((item_id, -3)))
    after = fake_zoho.get(ITEMS, item_id)
    assert (after["available_stock"], after["last_modified_time"]) == (7, before["last_modified_time"])
    snapshot = {"item": before if taken == "before" else after}

    for arrival in order:
        if arrival == "S":
            queue_webhook(client, "products", snapshot)
        else:
            queue_webhook(client, "stock", adjustment)
        summary = drain_now()
        assert (summary.retried, summary.dead_lettered) == (0, 0)
        assert _stock(db, item_id) in (None, 12, 10, 7), "a stock Zoho's item never had"

    assert _stock(db, item_id) == 7
    with db.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(tds_dead_letter_queue)).scalar_one() == 0
        statuses = set(connection.execute(select(tds_sync_queue.c.status)).scalars())
        due = connection.execute(select(products.c.stock_check_due_at).where(products.c.zoho_item_id == item_id))
        assert due.scalar() is None
    assert statuses == {"completed"}


@pytest.mark.parametrize("first", ["before", "after"])
def test_two_snapshots_of_one_version_with_different_stock_give_zohos_stock_in_either_order(
    client, db, fake_zoho, first
):
    """The adjustment between them was lost: only Zoho can say which snapshot is the newer."""
    item = fake_zoho.put(ITEMS, {"name": "Cable", "rate": 5000, "stock_on_hand": 10, "available_stock": 10})
    fake_zoho.adjust_stock((item["item_id"], -3))  # its webhook never arrives
    snapshots = {"before": item, "after": fake_zoho.get(ITEMS, item["item_id"])}
    for taken in (first, "after" if first == "before" else "before"):
        queue_webhook(client, "products", {"item": snapshots[taken]})
        drain_now()
    assert _stock(db, item["item_id"]) == 7


def test_concurrent_drains_read_each_due_items_stock_once(client, db, fake_zoho):
    """Each due check is leased to one drain: the call budget is not spent twice on one item."""
    items = [fake_zoho.put(ITEMS, {"name": f"Cable {n}", "stock_on_hand": 5, "available_stock": 5}) for n in range(6)]
    for item in items:
        queue_webhook(client, "products", {"item": item})
    drain_now()
    fake_zoho.adjust_stock(*((item["item_id"], 2) for item in items))
    with write(db.engine) as connection:  # as the adjustment's webhook does
        stock.mark_due(connection, [item["item_id"] for item in items], utcnow())
    fake_zoho.delay_seconds = 0.1  # the drains' checks overlap
    settings = get_settings()
    threads = [threading.Thread(target=stock_checks.check_due, args=(settings,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert fake_zoho.reads == {("item", item["item_id"]): 1 for item in items}
    assert {item["item_id"]: _stock(db, item["item_id"]) for item in items} == {item["item_id"]: 7 for item in items}
