"""A mixed Zoho workload with several versions per record, and the tables it must leave behind.

Versions of a record are delivered in a shuffled order, so drains meet older versions after
newer ones; the expected state is always "each record at its newest version". Stock
adjustments never add to the stored stock (common.sync.stock): they leave each adjusted item's stock
check due, and Zoho's stock is STOCK_START plus the item's adjustments.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from common.clock import utcnow
from common.models import bills, customers, invoices, products
from common.products.search_index import search_columns
from common.sync.entities import BY_ROUTE
from common.sync.intake import enqueue_event
from tests import zoho_payloads as zoho

STOCK_START = 1000


@dataclass
class Workload:
    events: list[tuple[str, dict]] = field(default_factory=list)
    product_versions: dict[str, int] = field(default_factory=dict)
    customer_versions: dict[str, int] = field(default_factory=dict)
    bill_versions: dict[str, int] = field(default_factory=dict)
    invoice_lines: dict[str, list[dict]] = field(default_factory=dict)
    stock_deltas: dict[str, int] = field(default_factory=dict)
    adjusted: set[str] = field(default_factory=set)

    def zoho_stock(self) -> dict[str, int]:
        """Each stock item's stock in Zoho once every adjustment is made."""
        return {item: STOCK_START + delta for item, delta in self.stock_deltas.items()}

    def expected_sales(self) -> dict[str, int]:
        sold = dict.fromkeys(self.stock_deltas, 0)
        for lines in self.invoice_lines.values():
            for line in lines:
                sold[line["item_id"]] += line["quantity"]
        return sold


def _versions(count: int) -> list[int]:
    return list(range(1, count + 1))


def build(size: int = 5000, seed: int = 11) -> Workload:
    """About `size` events: products, customers, bills, invoices and stock adjustments."""
    rng = random.Random(seed)
    work = Workload()
    stock_items = [f"46{n:013d}" for n in range(60)]
    work.stock_deltas = dict.fromkeys(stock_items, 0)
    share = size // 10
    for n in range(share):  # products: 4 versions each (40%), without stock fields
        item_id = f"47{n:013d}"
        work.product_versions[item_id] = 4
        for version in _versions(4):
            body = zoho.product(item_id, version)
            del body["item"]["stock_on_hand"], body["item"]["available_stock"]
            work.events.append(("products", body))
    for n in range(share):  # customers: 3 versions (30%)
        contact_id = f"88{n:013d}"
        work.customer_versions[contact_id] = 3
        work.events.extend(("customers", zoho.customer(contact_id, version)) for version in _versions(3))
    for n in range(share // 2):  # bills: 2 versions (10%)
        bill_id = f"99{n:013d}"
        work.bill_versions[bill_id] = 2
        work.events.extend(("bills", zoho.bill(bill_id, version)) for version in _versions(2))
    for n in range(share // 2):  # invoices: 2 versions (10%), lines move between versions
        invoice_id = f"77{n:013d}"
        for version in _versions(2):
            lines = [{"item_id": rng.choice(stock_items), "quantity": rng.randint(1, 4), "rate": 1000}]
            work.invoice_lines[invoice_id] = lines  # the last version wins
            work.events.append(("invoices", zoho.invoice(invoice_id, version, lines=lines)))
    for n in range(size - len(work.events)):  # stock adjustments fill the rest (about 10%)
        item_id = rng.choice(stock_items)
        delta = rng.randint(-5, 5) or 1
        work.stock_deltas[item_id] += delta
        work.adjusted.add(item_id)
        work.events.append(("stock", zoho.stock(f"22{n:013d}", item_id, quantity_adjusted=delta)))
    rng.shuffle(work.events)
    # Half the events arrive as Zoho's default payload, the rest as envelopes.
    work.events = [
        (route, zoho.default_payload(route, body) if rng.random() < 0.5 else body) for route, body in work.events
    ]
    return work


def seed_stock_products(connection: Connection, work: Workload) -> None:
    """Products that stock adjustments and invoice lines refer to, already synced."""
    now = utcnow()
    connection.execute(
        products.insert(),
        [
            {
                "zoho_item_id": item_id,
                "name": f"Cable {item_id}",
                "price": 1000,
                "stock_quantity": STOCK_START,
                "created_at": now,
                "updated_at": now,
                **search_columns(name=f"Cable {item_id}"),
            }
            for item_id in work.stock_deltas
        ],
    )


def enqueue_all(connection: Connection, events: list[tuple[str, dict]]) -> int:
    return sum(enqueue_event(connection, BY_ROUTE[route], body)[2] for route, body in events)


def assert_final_state(connection: Connection, work: Workload, *, stock_checked: bool = False) -> None:
    """Every record at its newest version; sales counted exactly once; stock Zoho's once
    checked, and otherwise untouched by the adjustments."""
    names = dict(connection.execute(select(products.c.zoho_item_id, products.c.name)).all())
    prices = dict(connection.execute(select(products.c.zoho_item_id, products.c.price)).all())
    for item_id, version in work.product_versions.items():
        assert names[item_id] == f"Samsung Galaxy A54 128GB v{version}", item_id
        assert prices[item_id] == 450000 + version, item_id
    customer_names = dict(connection.execute(select(customers.c.zoho_contact_id, customers.c.name)).all())
    assert customer_names == {cid: f"Ali Hassan v{v}" for cid, v in work.customer_versions.items()}
    bill_totals = dict(connection.execute(select(bills.c.zoho_bill_id, bills.c.total)).all())
    assert bill_totals == {bid: 1500000 + v for bid, v in work.bill_versions.items()}
    assert connection.execute(select(invoices.c.zoho_invoice_id)).scalars().all().__len__() == len(work.invoice_lines)
    stock = dict(
        connection.execute(
            select(products.c.zoho_item_id, products.c.stock_quantity).where(
                products.c.zoho_item_id.in_(list(work.stock_deltas))
            )
        ).all()
    )
    if stock_checked:
        assert stock == work.zoho_stock()
    else:  # no adjustment was added to the stored stock; each left its item's check due
        assert stock == dict.fromkeys(work.stock_deltas, STOCK_START)
        due = connection.execute(select(products.c.zoho_item_id).where(products.c.stock_check_due_at.is_not(None)))
        assert set(due.scalars()) == work.adjusted
    sales = dict(
        connection.execute(
            select(products.c.zoho_item_id, products.c.sales_count).where(
                products.c.zoho_item_id.in_(list(work.stock_deltas))
            )
        ).all()
    )
    assert sales == work.expected_sales()
