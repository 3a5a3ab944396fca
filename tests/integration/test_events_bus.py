"""The relay and Amazon EventBridge (moto): a rule on the bus targets an SQS queue, and what a
consumer reads there equals the outbox; whole and partial PutEvents failures lose nothing and
mark nothing published before the bus accepted it; two relays at once on PostgreSQL publish
each event once, in order per aggregate."""

import json
import threading
import time
from collections import Counter

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import select, update

from common.clock import utcnow
from common.config import get_settings
from common.db.transactions import write
from common.events import outbox
from common.events import relay as event_relay
from common.events.outbox import Event
from common.events.publisher import EventBridgePublisher
from common.events.relay import relay
from common.models import event_outbox
from functions.publish_events import publish_events
from tests import zoho_payloads as zoho
from tests.helpers import drain_now, queue_webhook

REGION = "me-south-1"
BUS = "tsh-erp-events"


@pytest.fixture
def aws(monkeypatch):
    """A moto account with the bus, a rule matching every tsh.erp event and an SQS queue as its target."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        events = boto3.client("events", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        events.create_event_bus(Name=BUS)
        queue_url = sqs.create_queue(QueueName="consumer")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="all-erp-events", EventBusName=BUS, EventPattern=json.dumps({"source": ["tsh.erp"]}))
        events.put_targets(Rule="all-erp-events", EventBusName=BUS, Targets=[{"Id": "consumer", "Arn": queue_arn}])
        yield events, sqs, queue_url
        event_relay.PUBLISHERS.clear()  # its client talks to this moto account only


def _consumed(sqs, queue_url) -> list[dict]:
    """Every message on the consumer's queue, as EventBridge delivered it."""
    messages = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            messages.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def _outbox(db) -> list:
    with db.engine.connect() as connection:
        return connection.execute(select(event_outbox).order_by(event_outbox.c.id)).all()


def _make_due(db) -> None:
    with write(db.engine) as connection:
        connection.execute(update(event_outbox).values(next_attempt_at=None))


def _sync_some_records(client) -> None:
    """Thirteen products, two versions each (created, then updated and price_changed), and a customer."""
    for version in (1, 2):
        for n in range(13):
            queue_webhook(client, "products", zoho.product(f"4600000000{n:05d}", version=version))
        drain_now()
    queue_webhook(client, "customers", zoho.customer())
    drain_now()


class FlakyBus:
    """A thin fake transport around the moto client: fails whole calls, or chosen entries, then delegates."""

    def __init__(self, client, *, fail_calls: int = 0, refuse=lambda entry: False) -> None:
        self.client = client
        self.fail_calls = fail_calls
        self.refuse = refuse
        self.calls: list[list[str]] = []

    def put_events(self, Entries):  # noqa: N803 - boto3's parameter name
        self.calls.append([json.loads(entry["Detail"])["event_id"] for entry in Entries])
        if self.fail_calls:
            self.fail_calls -= 1
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url="https://events.me-south-1.amazonaws.com")
        refused = [self.refuse(entry) for entry in Entries]
        sent = [entry for entry, no in zip(Entries, refused, strict=True) if not no]
        accepted = iter(self.client.put_events(Entries=sent)["Entries"] if sent else [])
        answers = [
            {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"} if no else next(accepted)
            for no in refused
        ]
        return {"FailedEntryCount": sum(refused), "Entries": answers}


def test_a_consumer_reads_from_sqs_exactly_what_the_outbox_holds(client, db, aws, configure):
    events, sqs, queue_url = aws
    settings = configure(EVENT_BUS_NAME=BUS)
    _sync_some_records(client)
    rows = _outbox(db)
    assert len(rows) == 13 * 3 + 1
    summary = relay(settings, budget_seconds=30, publisher=EventBridgePublisher(BUS, events))
    assert (summary.published, summary.publish_failures) == (len(rows), 0)
    messages = _consumed(sqs, queue_url)
    assert sorted((m["detail"]["event_id"], m["detail-type"], m["source"]) for m in messages) == sorted(
        (row.event_id, row.event_type, "tsh.erp") for row in rows
    )
    by_id = {m["detail"]["event_id"]: m["detail"] for m in messages}
    assert all(by_id[row.event_id] == row.payload for row in rows)
    assert all(row.published_at is not None and row.attempts == 0 for row in _outbox(db))


def test_the_scheduled_function_publishes_to_the_configured_bus(client, db, aws, configure):
    _, sqs, queue_url = aws
    configure(EVENT_BUS_NAME=BUS, AWS_DEFAULT_REGION=REGION)
    queue_webhook(client, "customers", zoho.customer())
    drain_now()
    assert publish_events({"source": "aws.events"}, None)["published"] == 1
    [message] = _consumed(sqs, queue_url)
    assert message["detail"] == _outbox(db)[0].payload


def test_a_failed_putevents_call_loses_nothing_and_publishes_nothing(client, db, aws):
    events, sqs, queue_url = aws
    settings = get_settings()
    _sync_some_records(client)
    bus = FlakyBus(events, fail_calls=1)
    summary = relay(settings, budget_seconds=30, publisher=EventBridgePublisher(BUS, bus))
    assert summary.published == 0 and len(bus.calls) == 1  # a bus that does not answer is not hammered
    assert _consumed(sqs, queue_url) == []
    rows = _outbox(db)
    attempted = set(bus.calls[0])
    assert all(row.published_at is None for row in rows)
    for row in rows:
        if row.event_id in attempted:
            assert row.attempts == 1 and row.last_error.startswith("EndpointConnectionError")
            assert row.next_attempt_at > utcnow()
    # The next run publishes the aggregates not tried yet; the others back off, later events included.
    blocked = {(row.aggregate_type, row.aggregate_id) for row in rows if row.event_id in attempted}
    free = [row.event_id for row in rows if (row.aggregate_type, row.aggregate_id) not in blocked]
    assert relay(settings, budget_seconds=30, publisher=EventBridgePublisher(BUS, bus)).published == len(free) == 10
    first = Counter(m["detail"]["event_id"] for m in _consumed(sqs, queue_url))
    assert first == Counter(free)

    _make_due(db)
    relay(settings, budget_seconds=30, publisher=EventBridgePublisher(BUS, bus))
    second = Counter(m["detail"]["event_id"] for m in _consumed(sqs, queue_url))
    assert first + second == Counter(row.event_id for row in rows)  # every event, once
    assert all(row.published_at is not None for row in _outbox(db))


def test_entries_the_bus_refuses_are_retried_in_order_and_nothing_is_lost(client, db, aws):
    events, sqs, queue_url = aws
    settings = get_settings()
    _sync_some_records(client)
    refusing = [True]
    bus = FlakyBus(events, refuse=lambda entry: refusing[0] and entry["DetailType"] == "product.updated")
    summary = relay(settings, budget_seconds=30, publisher=EventBridgePublisher(BUS, bus))
    rows = _outbox(db)
    refused = {row.event_id for row in rows if row.event_type == "product.updated"}
    assert summary.publish_failures == len(refused) == 13
    first = Counter(m["detail"]["event_id"] for m in _consumed(sqs, queue_url))
    published = {row.event_id for row in rows if row.published_at is not None}
    assert set(first) == published  # marked published exactly when the bus accepted it
    # product.price_changed follows product.updated on its product: it waits for it
    assert not any(row.event_type == "product.price_changed" for row in rows if row.event_id in published)
    for row in rows:
        if row.event_id in refused:
            assert (row.published_at, row.attempts) == (None, 1)
            assert row.last_error == "ThrottlingException: Rate exceeded"

    refusing[0] = False
    _make_due(db)
    relay(settings, budget_seconds=30, publisher=EventBridgePublisher(BUS, bus))
    second = Counter(m["detail"]["event_id"] for m in _consumed(sqs, queue_url))
    assert first + second == Counter(row.event_id for row in rows)  # every event exactly once in all
    assert all(row.published_at is not None for row in _outbox(db))
    assert all(len(call) <= 10 for call in bus.calls)
    assert all(len({_aggregate(rows, event_id) for event_id in call}) == len(call) for call in bus.calls)


def _aggregate(rows, event_id: str) -> tuple[str, str]:
    row = next(row for row in rows if row.event_id == event_id)
    return row.aggregate_type, row.aggregate_id


class RecordingBus:
    """A bus that accepts everything, slowly, and remembers the order it was given events in."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[str] = []
        self.calls_by_thread: Counter[str] = Counter()

    def publish(self, rows):
        time.sleep(0.005)  # long enough for the other relay to run its claim meanwhile
        with self.lock:
            self.received += [row.event_id for row in rows]
            self.calls_by_thread[threading.current_thread().name] += 1
        return [None] * len(rows)


def test_two_relays_at_once_publish_each_event_once_in_order_per_aggregate(pg, monkeypatch):
    monkeypatch.setattr(event_relay, "CLAIM_LIMIT", 10)  # each claim takes some of the 25 carts, not all
    now = utcnow()
    for round_no in range(12):
        with write(pg.engine) as connection:
            outbox.write(
                connection,
                [Event("cart.changed", "cart", cart, {"round": round_no}) for cart in range(25)],
                now,
            )
    bus = RecordingBus()
    settings = get_settings()
    barrier = threading.Barrier(2)
    errors = []

    def run() -> None:
        try:
            barrier.wait()
            for _ in range(40):
                relay(settings, budget_seconds=30, engine=pg.engine, publisher=bus)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, name=f"relay-{n}") for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    rows = _outbox(pg)
    assert len(rows) == 300 and all(row.published_at is not None for row in rows)
    assert Counter(bus.received) == Counter(row.event_id for row in rows)  # each once
    position = {event_id: n for n, event_id in enumerate(bus.received)}
    for cart in range(25):
        ids = [row.event_id for row in rows if row.aggregate_id == str(cart)]
        assert sorted(ids, key=position.get) == ids  # the bus got each cart's events in the order written
    assert len(bus.calls_by_thread) == 2  # both relays did publish
