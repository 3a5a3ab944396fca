"""A version stamp from the future never freezes a record: intake refuses it (422, nothing
queued), and a row pinned by one before that (an older version's intake, a hand edit) takes
the next current update and its deletion."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from common.clock import utcnow
from common.models import customers, products, tds_sync_queue
from tests import zoho_payloads as zoho
from tests.helpers import count, drain_now, queue_webhook

FUTURE = "2999-01-01T00:00:00+0000"


def _now_stamp(offset: timedelta = timedelta()) -> str:
    return (utcnow() + offset).strftime("%Y-%m-%dT%H:%M:%S%z")


def _product(db, item_id: str = "460000000012345"):
    with db.engine.connect() as connection:
        return connection.execute(select(products).where(products.c.zoho_item_id == item_id)).one()


def _customer_stamped(**stamps: str) -> dict:
    body = zoho.customer()
    body.update({key: value for key, value in stamps.items() if key == "event_time"})
    body["data"].update({key: value for key, value in stamps.items() if key != "event_time"})
    return body


@pytest.mark.parametrize(
    "route, body, field",
    [
        ("products", zoho.product(last_modified_time=FUTURE), "item.last_modified_time"),
        ("products", zoho.product(last_modified_time=_now_stamp(timedelta(hours=25))), "item.last_modified_time"),
        ("customers", _customer_stamped(last_modified_time=FUTURE), "contact.last_modified_time"),
        ("customers", _customer_stamped(event_time=FUTURE), "event_time"),
    ],
)
def test_a_version_over_a_day_ahead_is_422_and_queues_nothing(client, db, route, body, field):
    response = client.post(f"/api/zoho/webhooks/{route}", json=body)
    assert response.status_code == 422, response.get_json()
    assert [error["field"] for error in response.get_json()["errors"]] == [field]
    assert count(db.engine, tds_sync_queue) == 0


def test_a_version_within_the_day_ahead_is_accepted(client, db):
    queue_webhook(client, "products", zoho.product(last_modified_time=_now_stamp(timedelta(hours=23))))
    assert count(db.engine, tds_sync_queue) == 1


def test_the_future_timestamp_then_a_current_update_applies_the_current_update(client, db):
    refused = client.post(
        "/api/zoho/webhooks/products", json=zoho.product(version=1, rate=1, last_modified_time=FUTURE)
    )
    assert refused.status_code == 422
    queue_webhook(client, "products", zoho.product(version=2, rate=2000, last_modified_time=_now_stamp()))
    drain_now()
    assert _product(db).price == 2000


def test_a_row_pinned_in_the_future_takes_the_next_update_and_the_deletion(client, db):
    """A product and a customer that an older intake let a 2999 version through to."""
    queue_webhook(client, "products", zoho.product(version=1, rate=1))
    queue_webhook(client, "customers", zoho.customer(version=1))
    drain_now()
    pinned = utcnow().replace(year=2999)
    with db.engine.begin() as connection:
        connection.execute(update(products).values(zoho_last_modified=pinned))
        connection.execute(update(customers).values(zoho_last_modified=pinned))
    queue_webhook(client, "products", zoho.product(version=2, rate=2000, last_modified_time=_now_stamp()))
    queue_webhook(client, "customers", zoho.customer(version=2, contact_name="Ali Hassan Kadhim"))
    summary = drain_now()
    assert summary.stale == 0, summary
    assert _product(db).price == 2000
    with db.engine.connect() as connection:
        assert connection.execute(select(customers.c.name)).scalar_one() == "Ali Hassan Kadhim"
    deletion = client.post(
        "/api/zoho/webhooks/products?event_type=delete",
        json=zoho.product(version=3, last_modified_time=_now_stamp(timedelta(seconds=1))),
    )
    assert deletion.status_code == 202
    drain_now()
    assert _product(db).is_active is False


def test_an_older_update_is_still_stale_against_a_current_version(client, db):
    queue_webhook(client, "products", zoho.product(version=5, rate=5000))
    queue_webhook(client, "products", zoho.product(version=4, rate=4000))
    assert drain_now().stale == 1
    assert _product(db).price == 5000
