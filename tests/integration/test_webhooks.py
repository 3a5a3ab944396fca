"""Webhook intake on both databases: every entity, authentication, dedupe, and bad input that changes nothing."""

import io
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.test import Client

from common.models import tds_sync_queue
from common.sync.entities import BY_NAME, BY_ROUTE
from common.sync.handlers import HANDLERS
from functions.zoho_webhook import receive_webhook
from local_runner import create_app
from service import ROUTES
from tests import zoho_payloads as zoho

KEY = "webhook-key-0123456789abcdef"


def _post(client, entity, body, key=None, **kwargs):
    headers = {"X-Webhook-Key": key} if key else {}
    if "data" not in kwargs:
        kwargs["json"] = body
    return client.post(f"/api/zoho/webhooks/{entity}", headers=headers, **kwargs)


def _queued(db) -> list:
    with db.engine.connect() as connection:
        return connection.execute(select(tds_sync_queue).order_by(tds_sync_queue.c.id)).all()


@pytest.mark.parametrize("route", sorted(zoho.ENTITY_CASES))
def test_every_entity_is_queued_with_its_priority(client, db, route):
    builder, entity_type, priority = zoho.ENTITY_CASES[route]
    response = _post(client, route, builder())
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["success"] is True and body["queued"] is True and body["duplicate"] is False
    [row] = _queued(db)
    assert body["event_id"] == str(row.id)
    assert body["idempotency_key"] == row.idempotency_key
    assert (row.entity_type, row.priority, row.status, row.attempt_count) == (entity_type, priority, "pending", 0)
    sent = builder()
    document = BY_ROUTE[route].document
    if document in sent:  # Zoho's default payload: stored as it came, with the default event type
        assert row.payload == {"event_type": "upsert", document: sent[document]}
    else:  # an envelope: its record under Zoho's name, with the delivery fields
        assert row.payload == {"event_type": sent["event_type"], document: sent["data"],
                               **{key: sent[key] for key in ("event_id", "event_time", "organization_id")}}  # fmt: skip
    assert row.source_modified_at == zoho.BASE_TIME + timedelta(minutes=1)  # the record's last_modified_time


def test_a_redelivery_is_a_duplicate_but_a_changed_record_is_a_new_event(client, db):
    first = zoho.customer(version=1)
    redelivery = {**first, "event_id": "another-delivery-id", "event_time": zoho.stamp(99)}
    changed = zoho.customer(version=2)

    queued = _post(client, "customers", first).get_json()
    again = _post(client, "customers", redelivery).get_json()
    assert again["queued"] is False and again["duplicate"] is True
    assert again["event_id"] == queued["event_id"]
    assert _post(client, "customers", changed).get_json()["queued"] is True
    assert len(_queued(db)) == 2


def test_same_record_on_another_route_is_not_a_duplicate(client, db):
    body = zoho.customer()
    _post(client, "customers", body)
    assert _post(client, "bills", zoho.bill()).get_json()["queued"] is True
    assert len(_queued(db)) == 2


def test_webhook_key_is_required_when_configured(client, db, configure):
    configure(WEBHOOK_API_KEY=KEY)
    for key in (None, "wrong-key", KEY[:-1]):
        response = _post(client, "products", zoho.product(), key=key)
        assert response.status_code == 401
        assert response.get_json()["message"] == "Invalid or missing webhook API key"
        assert response.get_json()["code"] == "unauthorized"
    assert _post(client, "products", zoho.product(), key=KEY).status_code == 202
    assert len(_queued(db)) == 1


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": b"{not json", "content_type": "application/json"}, 400, "invalid_json"),
        ({"data": b"", "content_type": "application/json"}, 400, "invalid_json"),
        ({"data": b'{"item": {"item_id": NaN}}', "content_type": "application/json"}, 400, "invalid_json"),
        ({"data": b'{"item": {"item_id": "1"}}', "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ({"data": b"x" * (1024 * 1024 + 1), "content_type": "application/json"}, 413, "payload_too_large"),
        ({"data": b'["a list"]', "content_type": "application/json"}, 422, "validation_error"),
    ],
)
def test_bad_bodies_are_refused_and_change_nothing(client, db, kwargs, status, code):
    response = _post(client, "products", None, **kwargs)
    assert response.status_code == status
    body = response.get_json()
    assert body["success"] is False and body["code"] == code
    assert _queued(db) == []


def test_an_oversized_body_is_refused_before_it_is_read(client, db):
    """A declared Content-Length over 1 MiB is enough: the body is never read."""
    response = client.post(
        "/api/zoho/webhooks/products",
        input_stream=io.BytesIO(b"{}"),
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": str(5 * 1024 * 1024)},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("products", {"item": {"name": "No id"}}, "item.item_id"),
        ("products", {"item": {"item_id": "1", "rate": -5}}, "item.rate"),
        ("products", {"item": {"item_id": "1", "status": "sold"}}, "item.status"),
        ("invoices", {"invoice": {"invoice_number": "INV-1"}}, "invoice.invoice_id"),
        ("customers", zoho.envelope("customer", "1", {"contact_id": "1"}), "data.contact_name"),
        ("bills", zoho.envelope("bill", "1", {"bill_id": "1", "bill_number": "B-1"}), "data.vendor_id"),
        ("credit-notes", zoho.envelope("credit_note", "1", {"creditnote_id": "1"}), "data.creditnote_number"),
        ("stock", zoho.envelope("stock_adjustment", "1", {"adjustment_id": "1"}), "data.line_items"),
        ("prices", zoho.envelope("price_list", "1", {"pricelist_id": "1"}), "data.name"),
        ("customers", {**zoho.customer(), "event_type": "explode"}, "event_type"),
    ],
)
def test_schema_failures_are_422_naming_the_field(client, db, route, body, field):
    response = _post(client, route, body)
    assert response.status_code == 422
    payload = response.get_json()
    assert payload["code"] == "validation_error"
    assert field in [error["field"] for error in payload["errors"]]
    assert _queued(db) == []


def test_every_entity_has_its_webhook_route_its_handler_and_its_test_bodies():
    webhook_paths = {route.path for route in ROUTES if route.handler is receive_webhook}
    assert webhook_paths == {f"/api/zoho/webhooks/{name}" for name in BY_ROUTE}
    assert set(HANDLERS) == set(BY_NAME)
    assert set(BY_ROUTE) == set(zoho.ENTITY_CASES)


def test_unknown_entity_is_404(client, db):
    response = _post(client, "orders", zoho.product())
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_arabic_and_extra_fields_are_kept(client, db):
    body = zoho.product(name_ar="هاتف سامسونج", cf_color="أسود")
    assert _post(client, "products", body).status_code == 202
    [row] = _queued(db)
    assert row.payload["item"]["name_ar"] == "هاتف سامسونج"
    assert row.payload["item"]["cf_color"] == "أسود"


def test_database_down_is_503_so_zoho_retries(configure, refused_database_url):
    configure(DATABASE_URL=refused_database_url)
    response = _post(Client(create_app()), "products", zoho.product())
    assert response.status_code == 503
    assert response.get_json()["code"] == "service_unavailable"


def test_concurrent_deliveries_of_one_event_queue_it_once(db):
    body = json.dumps(zoho.invoice()).encode()
    app = create_app()
    answers: list[dict] = []
    barrier = threading.Barrier(8)

    def deliver():
        barrier.wait()
        response = Client(app).post("/api/zoho/webhooks/invoices", data=body, content_type="application/json")
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [202] * 8
    assert sum(answer["queued"] for _, answer in answers) == 1
    assert len({answer["event_id"] for _, answer in answers}) == 1
    with db.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(tds_sync_queue)).scalar_one() == 1


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud83d"])
def test_text_no_database_can_store_is_refused_cleanly(client, db, escape):
    """A NUL character, or half a surrogate pair, sent as a JSON escape: 400, and nothing stored."""
    body = '{"item": {"item_id": "1", "name": "bad ' + escape + ' name"}}'
    response = client.post("/api/zoho/webhooks/products", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_json"
    assert _queued(db) == []


def test_nul_in_a_query_parameter_is_a_clean_422(client, db):
    response = client.get("/api/zoho/dashboard/dead-letter?entity_type=%00")
    assert response.status_code == 422


def test_many_deliveries_at_once_are_each_stored_once_with_their_own_answer(db):
    """Webhooks arriving together share commits: each must still get its own queue id, and a
    redelivery inside the same burst must be the duplicate of its first copy."""
    bodies = [zoho.customer(contact_id=str(number)) for number in range(24)] + [zoho.customer(contact_id="3")]
    app = create_app()
    answers: dict[int, dict] = {}
    barrier = threading.Barrier(len(bodies))

    def deliver(index: int) -> None:
        barrier.wait()
        response = Client(app).post("/api/zoho/webhooks/customers", json=bodies[index])
        assert response.status_code == 202
        answers[index] = response.get_json()

    threads = [threading.Thread(target=deliver, args=(index,)) for index in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = {row.source_entity_id: row.id for row in _queued(db)}
    assert len(rows) == 24
    for index, body in enumerate(bodies):
        assert answers[index]["event_id"] == str(rows[body["entity_id"]])
    copies = [answers[index] for index, body in enumerate(bodies) if body["entity_id"] == "3"]
    assert sorted(answer["queued"] for answer in copies) == [False, True]
