"""The mirror converges on Zoho: the stored items and contacts end equal to Zoho's, whatever the network did.

A model-based test against the fake Zoho over HTTP. An organisation already holds items and
contacts when it connects; it is imported (Zoho failing once mid-import) while its records
change. Then its records change at random: names, prices, active flags, phones, new records,
deletions, and stock moved by inventory adjustments that leave the item's last_modified_time
alone. Every change's webhook goes through the real webhook route the way networks deliver
them: 15% lost, 15% repeated, 30% late and out of order. The drain runs in between, and Zoho
answers 429 past its minute limit. Then the incremental reconcile and a full pass, each
repeated while its answer says it is not complete, draining in between.

Deletions stay a few percent of each entity's rows, as in a shop: a full pass that would deactivate
more than 10% of an entity's active rows deactivates nothing (its safety rail, tested on its own).

Afterwards every item's name, price, stock and active flag and every contact's name and phone
equal the fake Zoho's, records Zoho no longer holds are inactive, the import read no page
twice, and no dead letter was written. Throughout, after every drain, each stored stock is one
that Zoho's item has had: an adjustment is never counted on top of a snapshot that includes it.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from common.models import (
    customers,
    products,
    tds_dead_letter_queue,
    tds_sync_queue,
    zoho_sync_progress,
)
from common.money import to_iqd
from tests.conftest import _empty_tables
from tests.fake_zoho import ADJUSTMENTS, CONTACTS, ITEMS, FakeZoho
from tests.helpers import ADMIN_KEY, drain_now, next_budget_minute

# Zoho's minute limit in the fake: low, so that the import, the stock checks and the passes meet 429s.
ZOHO_CALLS_PER_MINUTE = 12
PAGE_SIZE = 7  # the fake's pages, so that a few dozen records span several
LOST, REPEATED, LATE = 0.15, 0.15, 0.30
_ROUTES = {ITEMS: "products", CONTACTS: "customers", ADJUSTMENTS: "stock"}
_MAX_STEPS = 200  # a reconcile that never completes fails the test instead of hanging it
# Deletions per run: a few percent of each entity's active rows, below the full pass's 10% rail.
MAX_DELETIONS = 3


class Network:
    """Delivers webhooks as networks do: some lost, some twice, some late and out of order."""

    def __init__(self, client, rng: random.Random) -> None:
        self.client = client
        self.rng = rng
        self.late: list[tuple[str, dict]] = []
        self.deletions = {ITEMS: 0, CONTACTS: 0}

    def send(self, path: str, body: dict, *, deleting: bool = False) -> None:
        route = _ROUTES[path] + ("?event_type=delete" if deleting else "")
        roll = self.rng.random()
        if roll < LOST:
            return
        if roll < LOST + REPEATED:
            self._deliver(route, body)
            self.late.append((route, body))  # the copy comes again, later
        elif roll < LOST + REPEATED + LATE:
            self.late.append((route, body))
        else:
            self._deliver(route, body)

    def deliver_some_late(self) -> None:
        self.rng.shuffle(self.late)
        keep = self.rng.randrange(len(self.late) + 1)
        due, self.late = self.late[keep:], self.late[:keep]
        for route, body in due:
            self._deliver(route, body)

    def deliver_all_late(self) -> None:
        self.rng.shuffle(self.late)
        for route, body in self.late:
            self._deliver(route, body)
        self.late = []

    def _deliver(self, route: str, body: dict) -> None:
        response = self.client.post(f"/api/zoho/webhooks/{route}", json=body)
        assert response.status_code == 202, response.get_json()


def _a_minute_passes(db, fake: FakeZoho) -> None:
    """Zoho's minute and the call budget's minute are both over."""
    fake.next_minute()
    next_budget_minute(db.engine)


def _item(rng: random.Random, number: int) -> dict:
    stock = rng.randint(0, 30)
    return {
        "name": f"Item {number}",
        "rate": rng.randint(1, 90) * 250,
        "stock_on_hand": stock,
        "available_stock": stock,
        "status": "active",
        "item_type": "inventory",
        "unit": "pcs",
    }


def _contact(rng: random.Random, number: int, contact_type: str = "customer") -> dict:
    return {
        "contact_name": f"Contact {number}",
        "contact_type": contact_type,
        "status": "active",
        "phone": f"+964 770 {rng.randint(0, 9_999_999):07d}",
    }


def _organisation(fake: FakeZoho, rng: random.Random) -> None:
    """What the organisation holds before it connects."""
    for number in range(60):
        fake.put(ITEMS, _item(rng, number))
    for number in range(50):
        fake.put(CONTACTS, _contact(rng, number, "vendor" if number % 4 == 0 else "customer"))


def _reconcile(client, db, fake: FakeZoho, mode: str) -> None:
    """POST the reconcile until its answer says complete, draining between steps; a 5xx (Zoho
    failing) or a pause (its limits) is followed by the next step, as an operator or the schedule would."""
    for _ in range(_MAX_STEPS):
        answer = client.post(f"/api/zoho/reconcile?mode={mode}", headers={"X-Admin-Key": ADMIN_KEY})
        assert answer.status_code in (200, 503), answer.get_json()
        complete = answer.status_code == 200 and answer.get_json()["complete"]
        _drain(db, fake)
        if complete:
            return
        _a_minute_passes(db, fake)
    pytest.fail(f"the {mode} reconcile did not complete in {_MAX_STEPS} steps")


def _drain_once(db, fake: FakeZoho) -> None:
    """One drain; then every stored stock is one that Zoho's item has had: an adjustment counted
    on top of a snapshot that already included it gives a number Zoho never had."""
    drain_now()
    with db.engine.connect() as connection:
        stored = connection.execute(select(products.c.zoho_item_id, products.c.stock_quantity)).all()
    never_zohos = {item_id: stock for item_id, stock in stored if stock not in fake.stock_history[item_id]}
    assert never_zohos == {}, "stock Zoho never had for these items"


def _drain(db, fake: FakeZoho) -> None:
    """Drain until nothing is due and no stock check waits, a minute passing whenever Zoho paused the checks."""
    for _ in range(_MAX_STEPS):
        _drain_once(db, fake)
        with db.engine.connect() as connection:
            open_items = connection.execute(
                select(func.count()).where(tds_sync_queue.c.status.in_(("pending", "processing", "retry")))
            ).scalar_one()
            checks = connection.execute(
                select(func.count()).where(products.c.stock_check_due_at.is_not(None))
            ).scalar_one()
        if not open_items and not checks:
            return
        _a_minute_passes(db, fake)
    pytest.fail("the queue or the stock checks never emptied")


def _change(fake: FakeZoho, network: Network, rng: random.Random, serial: int) -> None:
    """One random change in Zoho, and its webhook on its way."""
    items, contacts = fake.all(ITEMS), fake.all(CONTACTS)
    roll = rng.random()
    if roll < 0.25 and items:
        item = rng.choice(items)
        fields = rng.choice([{"name": f"Item {item['item_id']} r{serial}"}, {"rate": rng.randint(1, 90) * 250}])
        network.send(ITEMS, fake.webhook(ITEMS, fake.change(ITEMS, item["item_id"], **fields)))
    elif roll < 0.50 and items:
        lines = [(item["item_id"], rng.randint(-item["stock_on_hand"], 12)) for item in rng.sample(items, 2)]
        lines = [(item_id, quantity) for item_id, quantity in lines if quantity] or [(items[0]["item_id"], 5)]
        network.send(ADJUSTMENTS, fake.webhook(ADJUSTMENTS, fake.adjust_stock(*lines)))
    elif roll < 0.55 and items:
        item = rng.choice(items)
        status = "inactive" if item["status"] == "active" else "active"
        network.send(ITEMS, fake.webhook(ITEMS, fake.change(ITEMS, item["item_id"], status=status)))
    elif roll < 0.61:
        network.send(ITEMS, fake.webhook(ITEMS, fake.put(ITEMS, _item(rng, 1000 + serial))))
    elif roll < 0.64 and items and network.deletions[ITEMS] < MAX_DELETIONS:
        network.deletions[ITEMS] += 1
        gone = fake.delete(ITEMS, rng.choice(items)["item_id"])
        network.send(ITEMS, {"item": {"item_id": gone["item_id"]}}, deleting=True)
    elif roll < 0.85 and contacts:
        contact = rng.choice(contacts)
        fields = rng.choice(
            [
                {"contact_name": f"Contact {contact['contact_id']} r{serial}"},
                {"phone": f"+964 750 {rng.randint(0, 9_999_999):07d}"},
            ]
        )
        network.send(CONTACTS, fake.webhook(CONTACTS, fake.change(CONTACTS, contact["contact_id"], **fields)))
    elif roll < 0.95:
        network.send(CONTACTS, fake.webhook(CONTACTS, fake.put(CONTACTS, _contact(rng, 1000 + serial))))
    elif contacts and network.deletions[CONTACTS] < MAX_DELETIONS:
        network.deletions[CONTACTS] += 1
        gone = fake.delete(CONTACTS, rng.choice(contacts)["contact_id"])
        network.send(
            CONTACTS,
            {"contact": {"contact_id": gone["contact_id"], "contact_name": gone["contact_name"]}},
            deleting=True,
        )


def _assert_equal_to_zoho(db, fake: FakeZoho) -> None:
    zoho_items = {item["item_id"]: item for item in fake.all(ITEMS)}
    zoho_customers = {c["contact_id"]: c for c in fake.all(CONTACTS) if c["contact_type"] == "customer"}
    with db.engine.connect() as connection:
        stored = {row.zoho_item_id: row for row in connection.execute(select(products))}
        stored_customers = {row.zoho_contact_id: row for row in connection.execute(select(customers))}
        dead_letters = connection.execute(select(func.count()).select_from(tds_dead_letter_queue)).scalar_one()
    assert dead_letters == 0
    wrong_items = {
        item_id: (
            (row.name, row.price, row.stock_quantity, row.is_active) if (row := stored.get(item_id)) else None,
            (item["name"], to_iqd(item["rate"]), item["available_stock"], item["status"] == "active"),
        )
        for item_id, item in zoho_items.items()
        if stored.get(item_id) is None
        or (stored[item_id].name, stored[item_id].price, stored[item_id].stock_quantity, stored[item_id].is_active)
        != (item["name"], to_iqd(item["rate"]), item["available_stock"], item["status"] == "active")
    }
    assert wrong_items == {}, "items that differ from Zoho's: (stored, Zoho's)"
    assert sorted(item_id for item_id, row in stored.items() if row.is_active and item_id not in zoho_items) == [], (
        f"items Zoho no longer holds still on sale; the passes: {_passes(db)}"
    )
    wrong_contacts = {
        contact_id: (
            (row.name, row.phone, row.is_active) if (row := stored_customers.get(contact_id)) else None,
            (contact["contact_name"], contact["phone"], True),
        )
        for contact_id, contact in zoho_customers.items()
        if stored_customers.get(contact_id) is None
        or (
            stored_customers[contact_id].name,
            stored_customers[contact_id].phone,
            stored_customers[contact_id].is_active,
        )
        != (contact["contact_name"], contact["phone"], True)
    }
    assert wrong_contacts == {}, "customers that differ from Zoho's: (stored, Zoho's)"
    assert sorted(cid for cid, row in stored_customers.items() if row.is_active and cid not in zoho_customers) == [], (
        f"customers Zoho no longer holds still active; the passes: {_passes(db)}"
    )


def _passes(db) -> list[dict]:
    with db.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(select(zoho_sync_progress))]


def _converge(client, db, configure, rng: random.Random, changes: int = 120) -> None:
    with FakeZoho(calls_per_minute=ZOHO_CALLS_PER_MINUTE) as fake:
        configure(**fake.environment(), ADMIN_API_KEY=ADMIN_KEY)
        _run(client, db, fake, rng, changes)


def _run(client, db, fake: FakeZoho, rng: random.Random, changes: int) -> None:
    fake.max_per_page = PAGE_SIZE
    network = Network(client, rng)
    _organisation(fake, rng)

    # Connecting: the first reconcile imports; Zoho fails once between two of its pages.
    fake.fail(ITEMS, 500, {"code": 1, "message": "Internal error"}, after=2)
    _reconcile(client, db, fake, "incremental")
    assert fake.repeated_pages() == {}, "the import read a page twice"

    for serial in range(changes):
        _change(fake, network, rng, serial)
        if serial % 10 == 9:
            network.deliver_some_late()
            _drain_once(db, fake)
        if serial % 25 == 24:
            _a_minute_passes(db, fake)
    network.deliver_all_late()
    _drain(db, fake)

    _reconcile(client, db, fake, "incremental")
    _reconcile(client, db, fake, "full")
    assert fake.rate_limited > 0, "Zoho never answered 429: the run did not meet its limits"
    _assert_equal_to_zoho(db, fake)


def test_the_mirror_converges_on_zoho(client, db, configure):
    _converge(client, db, configure, random.Random(20261206))


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rng=st.randoms(use_true_random=False), changes=st.integers(min_value=20, max_value=200))
def test_the_mirror_converges_on_zoho_whatever_the_changes_and_the_network(client, db, configure, rng, changes):
    _empty_tables(db.engine)  # each example starts from an empty mirror
    _converge(client, db, configure, rng, changes)
