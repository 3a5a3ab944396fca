"""Zoho's own documented objects and webhook bodies, through the real webhook routes and the drain,
on both databases: the rows they leave behind, field by field.

The samples are read in place from ../shared/realworld/zoho (written by Zoho and others, never by
this team, and not part of the repository); without that folder these tests skip.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from common.models import (
    bills,
    credit_notes,
    customers,
    invoice_lines,
    invoices,
    pricelists,
    product_prices,
    products,
    stock_adjustments,
    tds_dead_letter_queue,
    tds_sync_queue,
)
from tests import zoho_payloads as zoho
from tests.fake_zoho import ITEMS
from tests.helpers import drain_now, queue_webhook

REALWORLD = Path(__file__).resolve().parents[3] / "shared" / "realworld" / "zoho"
pytestmark = pytest.mark.skipif(
    not REALWORLD.is_dir(), reason=f"Zoho's sample bodies ({REALWORLD}) are not on this machine"
)


def sample(name: str) -> dict:
    return json.loads((REALWORLD / name).read_text(encoding="utf-8"))


def _rows(db, table, *where) -> list:
    with db.engine.connect() as connection:
        return connection.execute(select(table).where(*where).order_by(table.c.id)).all()


def _one(db, table, *where):
    [row] = _rows(db, table, *where)
    return row


def _post_raw(client, route: str, raw: bytes, content_type: str = "application/json", query: str = ""):
    return client.post(f"/api/zoho/webhooks/{route}{query}", data=raw, content_type=content_type)


def _applied(summary) -> None:
    assert (summary.dead_lettered, summary.retried) == (0, 0), summary


# ---- every route takes Zoho's default payload ---------------------------------------------


@pytest.mark.parametrize("name", ["zoho_webhook_item_constructed.json", "zoho_item.json", "zoho_item_docs_legacy.json"])
def test_a_zoho_item_becomes_a_product(client, db, name):
    queue_webhook(client, "products", sample(name))
    _applied(drain_now())
    product = _one(db, products)
    assert product.zoho_item_id == "4815000000044208"
    assert (product.name, product.sku, product.description) == ("Bags-small", "SK123", "description")
    assert (product.price, product.cost, product.is_active) == (6, 6, True)
    assert product.zoho_data["image_id"] == 2077500000000002000  # fields we do not use are kept, exactly
    # The legacy example has top-level stock (available 2 of 50 on hand); the current one only
    # per-location stock, all blank: no stock figure at all.
    assert product.stock_quantity == (2 if name == "zoho_item_docs_legacy.json" else 0)


def test_stock_is_the_sum_of_the_locations_when_there_is_no_top_level_figure(client, db):
    body = sample("zoho_webhook_item_constructed.json")
    first = body["item"]["locations"][0]
    body["item"]["locations"] = [
        {**first, "location_stock_on_hand": "12", "location_available_stock": ""},
        {**first, "location_id": "460000000038081", "location_stock_on_hand": 9, "location_available_stock": 8},
    ]
    queue_webhook(client, "products", body)
    _applied(drain_now())
    assert _one(db, products).stock_quantity == 12 + 8  # available where known, else on hand


def test_older_accounts_warehouse_stock_is_summed_too(client, db):
    body = sample("zoho_webhook_item_constructed.json")
    del body["item"]["locations"]
    body["item"]["warehouses"] = [
        {"warehouse_id": "1", "warehouse_stock_on_hand": 4, "warehouse_available_stock": "3"},
        {"warehouse_id": "2", "warehouse_stock_on_hand": "5", "warehouse_available_stock": ""},
    ]
    queue_webhook(client, "products", body)
    _applied(drain_now())
    assert _one(db, products).stock_quantity == 3 + 5


@pytest.mark.parametrize("name", ["zoho_webhook_contact_constructed.json", "zoho_webhook_contact_books_pipedream.json",
                                  "zoho_contact.json"])  # fmt: skip
def test_a_zoho_contact_becomes_a_customer(client, db, name):
    queue_webhook(client, "customers", sample(name))
    _applied(drain_now())
    customer = _one(db, customers)
    assert customer.zoho_contact_id == "460000000026049"
    assert (customer.name, customer.company_name) == ("Bowman and Co", "Bowman and Co")
    # Zoho keeps them on the primary contact person, not on the contact.
    assert (customer.phone, customer.email) == ("+1-925-921-9201", "willsmith@bowmanfurniture.com")
    assert customer.is_active is True


def test_a_vendor_is_not_a_customer(client, db):
    body = sample("zoho_webhook_contact_constructed.json")
    body["contact"]["contact_type"] = "vendor"
    queue_webhook(client, "customers", body)
    summary = drain_now()
    assert summary.completed == 1
    assert _rows(db, customers) == []


def test_a_zoho_invoice_is_recorded_with_its_lines(client, db):
    queue_webhook(client, "invoices", sample("zoho_webhook_invoice_constructed.json"))
    _applied(drain_now())
    invoice = _one(db, invoices)
    assert (invoice.zoho_invoice_id, invoice.invoice_number) == ("982000000567114", "INV-00003")
    assert (invoice.zoho_customer_id, invoice.status, invoice.currency_code) == ("982000000567001", "draft", "USD")
    assert (invoice.total, invoice.balance) == (41, 41)  # 40.6 in whole units, half up
    assert (str(invoice.date), str(invoice.due_date)) == ("2013-11-17", "2013-12-03")
    line = _one(db, invoice_lines)
    assert (line.invoice_id, line.zoho_item_id, line.name) == (invoice.id, "982000000030049", "Hard Drive")
    assert (line.quantity, line.rate, line.total) == (1, 120, 120)


def test_a_zoho_bill_is_recorded(client, db):
    queue_webhook(client, "bills", sample("zoho_webhook_bill_constructed.json"))
    _applied(drain_now())
    bill = _one(db, bills)
    assert (bill.zoho_bill_id, bill.bill_number, bill.zoho_vendor_id) == (
        "4815000000045067",
        "BL-00002",
        "4815000000044080",
    )
    assert (bill.vendor_name, bill.status, str(bill.date), bill.balance) == ("Molly", "paid", "2015-05-29", 0)
    assert bill.zoho_last_modified == datetime(2015, 5, 29, tzinfo=timezone.utc)


def test_a_zoho_credit_note_is_recorded(client, db):
    queue_webhook(client, "credit-notes", sample("zoho_webhook_creditnote_constructed.json"))
    _applied(drain_now())
    note = _one(db, credit_notes)
    assert (note.zoho_creditnote_id, note.creditnote_number) == ("90300000072369", "CN-29")
    assert (note.zoho_customer_id, note.total, note.balance, note.status) == ("903000000000099", 450, 10, "draft")
    # Credit notes carry updated_time, with an offset written without a colon.
    assert note.zoho_last_modified == datetime(2016, 6, 5, 9, 30, 8, tzinfo=timezone.utc)


ADJUSTED_ITEM = "4815000000044100"  # the item of Zoho's documented adjustment


def _product_for_adjustment(client) -> None:
    item = sample("zoho_webhook_item_constructed.json")
    item["item"].update(item_id=int(ADJUSTED_ITEM), stock_on_hand=40, available_stock=40)
    queue_webhook(client, "products", item)


def _zoho_stock(fake_zoho, quantity: int) -> None:
    """Zoho's stock of the adjusted item is now `quantity` (the fake answers the stock check with it)."""
    if fake_zoho.all(ITEMS):
        fake_zoho.delete(ITEMS, ADJUSTED_ITEM)
    fake_zoho.add(ITEMS, {"item_id": ADJUSTED_ITEM, "stock_on_hand": quantity, "available_stock": quantity})


def test_zohos_documented_adjustment_makes_the_stock_zohos_reading_it_once_however_often_it_arrives(
    client, db, fake_zoho
):  # fmt: skip
    _product_for_adjustment(client)
    _applied(drain_now())
    _zoho_stock(fake_zoho, 40 + 10)
    adjustment = sample("zoho_webhook_inventory_adjustment_constructed.json")
    queue_webhook(client, "stock", adjustment)
    _applied(drain_now())
    assert _one(db, products).stock_quantity == 50
    line = _one(db, stock_adjustments)
    assert (line.zoho_adjustment_id, line.zoho_item_id, line.quantity_adjusted) == (
        "4815000000044100",
        ADJUSTED_ITEM,
        10,
    )

    # The same adjustment again: from the API's answer, and in the older warehouse form.
    again = {"code": 0, **adjustment}
    legacy = {"inventory_adjustment": sample("zoho_inventory_adjustment_docs_legacy.json")}
    for body in (again, legacy, sample("zoho_inventory_adjustment.json")):
        response = client.post("/api/zoho/webhooks/stock", json=body)
        assert response.status_code == 202
    _applied(drain_now())
    assert _one(db, products).stock_quantity == 50
    assert len(_rows(db, stock_adjustments)) == 1
    assert fake_zoho.reads == {("item", ADJUSTED_ITEM): 1}


def test_zohos_documented_adjustment_for_an_item_not_synced_yet_completes_without_retry_or_dead_letter(
    client, db, fake_zoho
):  # fmt: skip
    _zoho_stock(fake_zoho, 40 + 10)
    queue_id = queue_webhook(client, "stock", sample("zoho_webhook_inventory_adjustment_constructed.json"))
    _applied(drain_now())
    with db.engine.connect() as connection:
        item = connection.execute(select(tds_sync_queue).where(tds_sync_queue.c.id == queue_id)).one()
    assert (item.status, item.attempt_count, item.result) == ("completed", 1, "applied")
    assert _rows(db, tds_dead_letter_queue) == []
    # The item arrives later with a snapshot taken before the adjustment: its stock is read from Zoho.
    _product_for_adjustment(client)
    _applied(drain_now())
    assert _one(db, products).stock_quantity == 50


def test_an_edited_or_deleted_adjustment_makes_the_stock_zohos_again(client, db, fake_zoho):
    _product_for_adjustment(client)
    adjustment = sample("zoho_webhook_inventory_adjustment_constructed.json")
    _zoho_stock(fake_zoho, 50)
    queue_webhook(client, "stock", adjustment)
    _applied(drain_now())
    edited = copy.deepcopy(adjustment)
    edited["inventory_adjustment"]["line_items"][0]["quantity_adjusted"] = 4
    _zoho_stock(fake_zoho, 44)
    queue_webhook(client, "stock", edited)
    _applied(drain_now())
    assert _one(db, products).stock_quantity == 44
    _zoho_stock(fake_zoho, 40)
    response = _post_raw(client, "stock", b'{"inventory_adjustment_id": 4815000000044100}', query="?event_type=delete")
    assert response.status_code == 202
    _applied(drain_now())
    assert _one(db, products).stock_quantity == 40
    # A late copy of the adjustment, after Zoho deleted it, changes nothing and reads nothing.
    reads = fake_zoho.reads[("item", ADJUSTED_ITEM)]
    queue_webhook(client, "stock", {**adjustment, "event_type": "create"})
    assert drain_now().stale == 1
    assert _one(db, products).stock_quantity == 40
    assert fake_zoho.reads[("item", ADJUSTED_ITEM)] == reads


def test_a_zoho_price_book_sets_the_prices_of_its_list_even_for_items_not_synced_yet(client, db):
    queue_webhook(client, "prices", sample("zoho_webhook_pricebook_constructed.json"))
    _applied(drain_now())
    pricelist = _one(db, pricelists)
    assert (pricelist.zoho_pricelist_id, pricelist.name, pricelist.pricing_scheme) == (
        "130426000002924000",
        "Price List 1",
        "unit",
    )
    assert pricelist.percentage == 4
    price = _one(db, product_prices)
    assert (price.pricelist_id, price.zoho_item_id, price.price) == (pricelist.id, "17775000000227648", 22)
    assert _rows(db, products) == []  # the item arrives later and finds its price by its Zoho id


def test_the_documented_price_list_and_the_api_answer_are_accepted(client, db):
    for body in ({"pricebook": sample("zoho_pricebook_docs.json")}, sample("zoho_pricebook.json")):
        assert client.post("/api/zoho/webhooks/prices", json=body).status_code == 202
    _applied(drain_now())
    assert [row.price for row in _rows(db, product_prices)] == [22]


# ---- how Zoho sends them ------------------------------------------------------------------


def test_form_jsonstring_and_json_of_the_same_content_are_one_event(client, db):
    body = sample("zoho_webhook_contact_constructed.json")
    text = json.dumps(body)
    as_form = _post_raw(client, "customers", urlencode({"JSONString": text}).encode(),
                        "application/x-www-form-urlencoded;charset=UTF-8")  # fmt: skip
    assert as_form.status_code == 202 and as_form.get_json()["queued"] is True
    as_json = _post_raw(client, "customers", text.encode())
    assert as_json.get_json()["duplicate"] is True
    assert as_json.get_json()["idempotency_key"] == as_form.get_json()["idempotency_key"]
    assert len(_rows(db, tds_sync_queue)) == 1


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b"JSONString=%7Bnot+json", "application/x-www-form-urlencoded", 400),
        (b"payload=%7B%7D", "application/x-www-form-urlencoded", 400),
        (b"JSONString=%7B%7D&JSONString=%7B%7D", "application/x-www-form-urlencoded", 400),
        (b"JSONString=%FF", "application/x-www-form-urlencoded", 400),
        (b'JSONString={"contact": {}}', "multipart/form-data; boundary=x", 415),
        (b'{"contact": {"contact_id": 1, "contact_name": "A"}}', "text/plain", 415),
    ],
)
def test_a_form_without_a_valid_jsonstring_and_other_media_types_are_refused(client, db, raw, content_type, status):
    response = _post_raw(client, "customers", raw, content_type)
    assert response.status_code == status
    assert response.get_json()["success"] is False
    assert _rows(db, tds_sync_queue) == []


def test_big_numeric_ids_are_kept_exactly_as_text(client, db):
    big = "18446744073709551629"  # above 2^64, let alone 2^53
    raw = ('{"item": {"item_id": %s, "name": "Anker 737", "rate": 1, "category_id": 2077500000000002001, '
           '"category_name": "Chargers"}}' % big).encode()  # fmt: skip
    assert _post_raw(client, "products", raw).status_code == 202
    assert _one(db, tds_sync_queue).source_entity_id == big
    _applied(drain_now())
    product = _one(db, products)
    assert product.zoho_item_id == big and product.zoho_data["category_id"] == "2077500000000002001"


def test_numeric_strings_blanks_and_zoho_offsets_are_read_as_zoho_means_them(client, db):
    body = zoho.product(rate="45000.50", purchase_rate="", stock_on_hand=" ", available_stock="7", sku="",
                        brand="", category_id="", last_modified_time="2026-11-04T10:15:00+0300")  # fmt: skip
    queue_webhook(client, "products", body)
    _applied(drain_now())
    product = _one(db, products)
    assert (product.price, product.cost, product.stock_quantity) == (45001, None, 7)
    assert (product.sku, product.brand, product.category_id) == (None, None, None)
    assert product.zoho_last_modified == datetime(2026, 11, 4, 7, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"item": {"item_id": "1", "rate": "12,5"}}, "item.rate"),
        ({"item": {"item_id": "1", "rate": "-3"}}, "item.rate"),
        ({"item": {"item_id": -1}}, "item.item_id"),
        ({"item": {"item_id": "1", "last_modified_time": "yesterday"}}, "item.last_modified_time"),
        ({"name": "a bare record without its id"}, "item"),
    ],
)
def test_values_zoho_would_never_send_are_422_naming_the_field(client, db, body, field):
    response = client.post("/api/zoho/webhooks/products", json=body)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.get_json()["errors"]]
    assert _rows(db, tds_sync_queue) == []


# ---- deletions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "created", "deletion", "table"),
    [
        ("products", "zoho_webhook_item_constructed.json", {"item_id": 4815000000044208}, products),
        (
            "customers",
            "zoho_webhook_contact_constructed.json",
            {"contact": {"contact_id": "460000000026049"}},
            customers,
        ),
        ("invoices", "zoho_webhook_invoice_constructed.json", {"invoice_id": "982000000567114"}, invoices),
        ("bills", "zoho_webhook_bill_constructed.json", {"bill": {"bill_id": 4815000000045067}}, bills),
        ("credit-notes", "zoho_webhook_creditnote_constructed.json", {"creditnote_id": "90300000072369"}, credit_notes),
        ("prices", "zoho_webhook_pricebook_constructed.json", {"pricebook_id": 130426000002924000}, pricelists),
    ],
)
def test_a_deletion_call_deactivates_the_record_and_keeps_it(client, db, route, created, deletion, table):
    queue_webhook(client, route, sample(created))
    _applied(drain_now())
    response = _post_raw(client, route, json.dumps(deletion).encode(), query="?event_type=delete")
    assert response.status_code == 202, response.get_json()
    _applied(drain_now())
    row = _one(db, table)
    assert row.is_active is False
    assert row.zoho_data  # its history stays


def test_the_query_parameter_overrides_the_bodys_event_type_and_the_full_record_may_come_along(client, db):
    body = sample("zoho_webhook_item_constructed.json")
    queue_webhook(client, "products", body)
    _applied(drain_now())
    response = _post_raw(client, "products", json.dumps({**body, "event_type": "update"}).encode(),
                         query="?event_type=delete")  # fmt: skip
    assert response.status_code == 202
    [_, deletion] = _rows(db, tds_sync_queue)
    assert deletion.operation_type == "delete"
    _applied(drain_now())
    assert _one(db, products).is_active is False


def test_an_unknown_event_type_in_the_query_is_422(client, db):
    response = _post_raw(client, "products", b'{"item_id": "1"}', query="?event_type=purge")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "event_type"
    assert _rows(db, tds_sync_queue) == []
