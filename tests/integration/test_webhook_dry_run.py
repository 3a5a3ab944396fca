"""Webhook dry runs (`X-Dry-Run: true` or `?dry_run=1`): validated, answered 200, nothing queued;
admin key required on top of the webhook key."""

from common.models import tds_sync_queue
from tests import zoho_payloads as zoho
from tests.helpers import ADMIN_KEY, count, queue_webhook

WEBHOOK_KEY = "webhook-key-0123456789abcdef"
KEYS = {"X-Webhook-Key": WEBHOOK_KEY, "X-Admin-Key": ADMIN_KEY}


def test_a_dry_run_validates_and_queues_nothing(client, db, configure):
    configure(DATABASE_URL=db.url, WEBHOOK_API_KEY=WEBHOOK_KEY, ADMIN_API_KEY=ADMIN_KEY)
    for extra in ({"headers": {**KEYS, "X-Dry-Run": "true"}}, {"headers": KEYS, "query_string": {"dry_run": "1"}}):
        response = client.post("/api/zoho/webhooks/products", json=zoho.product("460000000000077"), **extra)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["dry_run"] is True and body["queued"] is False and body["duplicate"] is False
        assert (body["entity_type"], body["source_entity_id"], body["priority"]) == ("products", "460000000000077", 5)
    assert count(db.engine, tds_sync_queue) == 0


def test_a_dry_run_of_an_already_queued_event_says_it_would_be_a_duplicate(client, db):
    queue_webhook(client, "customers", zoho.customer("880000000000077"))
    response = client.post(
        "/api/zoho/webhooks/customers", json=zoho.customer("880000000000077"), headers={"X-Dry-Run": "true"}
    )
    assert response.status_code == 200 and response.get_json()["duplicate"] is True
    assert count(db.engine, tds_sync_queue) == 1


def test_a_dry_run_needs_the_admin_key_and_still_validates(client, db, configure):
    configure(DATABASE_URL=db.url, WEBHOOK_API_KEY=WEBHOOK_KEY, ADMIN_API_KEY=ADMIN_KEY)
    dry = {"X-Webhook-Key": WEBHOOK_KEY, "X-Dry-Run": "true"}
    refused = client.post("/api/zoho/webhooks/products", json=zoho.product(), headers=dry)
    assert refused.status_code == 401 and refused.get_json()["message"] == "Invalid or missing admin API key"
    invalid = client.post(
        "/api/zoho/webhooks/products", json={"item": {"name": "no id"}}, headers={**dry, "X-Admin-Key": ADMIN_KEY}
    )
    assert invalid.status_code == 422 and invalid.get_json()["code"] == "validation_error"
    assert count(db.engine, tds_sync_queue) == 0
