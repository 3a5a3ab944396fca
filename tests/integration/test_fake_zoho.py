"""The fake Zoho behaves as Zoho's API documents where the sync depends on it, checked through
the service's own client: pages of at most 200 with `has_more_page`, the `last_modified_time`
filter and sort, one item with its current stock, 429 without Retry-After past the minute limit,
and stock adjustments that leave the item's `last_modified_time` alone."""

import pytest
import requests

from common.config import get_settings
from common.sync.zoho_client import ZohoApiError, ZohoClient, ZohoRateLimited
from tests.fake_zoho import ADJUSTMENTS, CONTACTS, ITEMS, FakeZoho
from tests.helpers import next_budget_minute


def _client() -> ZohoClient:
    return ZohoClient(get_settings())


def test_lists_are_paged_by_at_most_200_and_say_whether_more_follow(db, fake_zoho):
    for number in range(450):
        fake_zoho.put(ITEMS, {"name": f"Item {number}", "rate": 1000, "stock_on_hand": 5, "status": "active"})
    with _client() as client:
        pages = [client.list_page(ITEMS, "items", {"page": page, "per_page": 500}) for page in (1, 2, 3)]
    assert [(len(records), more) for records, more in pages] == [(200, True), (200, True), (50, False)]
    assert len({record["item_id"] for records, _ in pages for record in records}) == 450
    assert fake_zoho.page_requests == {("items", 1): 1, ("items", 2): 1, ("items", 3): 1}
    assert fake_zoho.repeated_pages() == {}


def test_the_modified_since_filter_and_sort_follow_the_changes(db, fake_zoho):
    first = fake_zoho.put(CONTACTS, {"contact_name": "Ali", "contact_type": "customer"})
    second = fake_zoho.put(CONTACTS, {"contact_name": "Supplier", "contact_type": "vendor"})
    fake_zoho.change(CONTACTS, first["contact_id"], phone="+964 770 000 0001")
    query = {
        "last_modified_time": second["last_modified_time"],
        "sort_column": "last_modified_time",
        "sort_order": "A",
        "page": 1,
    }
    with _client() as client:
        records, more = client.list_page(CONTACTS, "contacts", query)
    assert [record["contact_id"] for record in records] == [second["contact_id"], first["contact_id"]]
    assert records[1]["phone"] == "+964 770 000 0001" and not more


def test_an_adjustment_moves_stock_without_touching_the_items_modified_time(db, fake_zoho):
    item = fake_zoho.put(ITEMS, {"name": "Cable", "rate": 5000, "stock_on_hand": 10, "available_stock": 10})
    adjustment = fake_zoho.adjust_stock((item["item_id"], -3))
    with _client() as client:
        now = client.get(f"{ITEMS}/{item['item_id']}")["item"]
        [listed], _ = client.list_page(ADJUSTMENTS, "inventory_adjustments", {"page": 1})
    assert (now["stock_on_hand"], now["available_stock"]) == (7, 7)
    assert now["last_modified_time"] == item["last_modified_time"]
    assert listed["inventory_adjustment_id"] == adjustment["inventory_adjustment_id"]
    assert listed["line_items"][0]["quantity_adjusted"] == -3
    assert fake_zoho.reads == {("item", item["item_id"]): 1}


def test_a_deleted_record_is_neither_listed_nor_found(db, fake_zoho):
    item = fake_zoho.put(ITEMS, {"name": "Gone"})
    fake_zoho.delete(ITEMS, item["item_id"])
    with _client() as client:
        assert client.list_page(ITEMS, "items", {"page": 1}) == ([], False)
        with pytest.raises(ZohoApiError) as missing:
            client.get(f"{ITEMS}/{item['item_id']}")
    assert missing.value.status == 404


def test_past_the_minute_limit_zoho_answers_429_without_retry_after_until_the_next_minute(db, fake_zoho):
    fake_zoho.calls_per_minute = 3
    with _client() as client:
        for _ in range(3):
            client.list_page(ITEMS, "items", {"page": 1})
        with pytest.raises(ZohoRateLimited) as limited:
            client.list_page(ITEMS, "items", {"page": 1})
        # Zoho sent no Retry-After: the client pauses every caller until the next minute.
        assert limited.value.resume_at.second == 0 and 0 < limited.value.retry_after <= 60
        fake_zoho.next_minute()
        next_budget_minute(db.engine)
        assert client.list_page(ITEMS, "items", {"page": 1}) == ([], False)
    assert fake_zoho.rate_limited == 1


def test_the_token_answer_names_the_api_domain():
    with FakeZoho() as fake:
        answer = requests.post(
            f"{fake.url}/oauth/v2/token",
            timeout=5,
            data={
                "grant_type": "refresh_token",
                "client_id": fake.CLIENT_ID,
                "client_secret": fake.CLIENT_SECRET,
                "refresh_token": fake.REFRESH_TOKEN,
            },
        ).json()
    assert answer["api_domain"] == fake.url and answer["access_token"]
