"""Alerts on both databases: each rule opens an incident once, which a local receiver hears about
exactly once when it opens and once when it clears, again at most hourly while it stays open, and
again after the receiver failed (the failure shown until then). Rules run at most once a minute."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from common.clock import utcnow
from common.config import get_settings
from common.db.transactions import write
from common.metrics import recording as metrics
from common.models import ops_alert_notifications, ops_incidents, tds_sync_queue, zoho_call_budget, zoho_sync_progress
from common.ops import alerts, jobs, notify
from common.ops.alerts import AlertClock
from common.sync.mirror import FULL
from common.sync.reconcile import reconcile
from tests import zoho_payloads as zoho
from tests.alert_receiver import AlertReceiver
from tests.fake_zoho import ITEMS
from tests.helpers import ADMIN_KEY, dead_letter_one, drain_now, queue_webhook, run_until_complete

ADMIN = {"X-Admin-Key": ADMIN_KEY}


@pytest.fixture
def receiver(configure, db):
    with AlertReceiver() as running:
        configure(DATABASE_URL=db.url, ADMIN_API_KEY=ADMIN_KEY, ALERT_WEBHOOK_URL=running.url)
        yield running


def _cycle(now=None) -> dict[str, str]:
    """One watcher run at `now`: the rules, then the due messages."""
    now = now or utcnow()
    found = alerts.evaluate(get_settings(), now=now)
    notify.deliver_due(get_settings(), now=now)
    return found


def _messages(receiver, rule: str) -> list[tuple[str, str]]:
    return [
        (body["alert"]["state"], body["text"].split("]")[0] + "]")
        for body in receiver.accepted()
        if body["alert"]["rule"] == rule
    ]


def _incidents(db, rule: str):
    with db.engine.connect() as connection:
        return connection.execute(select(ops_incidents).where(ops_incidents.c.rule == rule)).all()


def test_dead_letters_open_repeat_hourly_and_resolve_with_one_message_each(client, db, receiver):
    start = utcnow()
    assert _cycle(start) == {}
    dead_letter_one(client, "alert-broken")
    assert alerts.DEAD_LETTERS in _cycle(start + timedelta(minutes=1))
    for minutes in (2, 30, 59):  # still open, within the hour: nothing new
        _cycle(start + timedelta(minutes=minutes))
    assert _messages(receiver, alerts.DEAD_LETTERS) == [("open", "[OPEN]")]
    [incident] = _incidents(db, alerts.DEAD_LETTERS)
    assert incident.state == "open"
    _cycle(start + timedelta(minutes=62))  # an hour since the last notice: one reminder
    _cycle(start + timedelta(minutes=63))
    assert _messages(receiver, alerts.DEAD_LETTERS) == [("open", "[OPEN]"), ("open", "[STILL OPEN]")]
    assert client.post("/api/zoho/dashboard/dead-letter/retry", headers=ADMIN).status_code == 200
    assert drain_now().completed == 0  # the replayed item fails again into a new dead letter...
    # ...so an operator discards every one
    assert client.post("/api/zoho/dashboard/dead-letter/discard", json={}, headers=ADMIN).get_json()["discarded"] == 1
    assert _cycle(start + timedelta(minutes=64)) == {}
    _cycle(start + timedelta(minutes=65))
    assert _messages(receiver, alerts.DEAD_LETTERS) == [
        ("open", "[OPEN]"),
        ("open", "[STILL OPEN]"),
        ("resolved", "[RESOLVED]"),
    ]
    [incident] = _incidents(db, alerts.DEAD_LETTERS)
    assert incident.state == "resolved" and incident.resolved_at == start + timedelta(minutes=64)
    resolved = receiver.accepted()[-1]
    assert resolved["_type"].startswith("application/json")
    assert set(resolved) >= {"text", "alert"} and set(resolved["alert"]) == {
        "id",
        "rule",
        "state",
        "summary",
        "opened_at",
        "resolved_at",
    }
    assert resolved["alert"]["resolved_at"] and resolved["alert"]["id"] == incident.id
    listed = client.get("/api/zoho/dashboard/incidents", headers=ADMIN).get_json()["incidents"]
    assert [(entry["rule"], entry["state"], len(entry["notifications"])) for entry in listed] == [
        (alerts.DEAD_LETTERS, "resolved", 3)
    ]


def test_a_stalled_drain_opens_and_its_recovery_resolves(client, db, receiver):
    queue_webhook(client, "products", zoho.product("stall-1"))
    now = utcnow()
    assert alerts.DRAIN_STALLED not in _cycle(now + timedelta(minutes=4))
    assert alerts.DRAIN_STALLED in _cycle(now + timedelta(minutes=6))
    assert drain_now().completed == 1
    assert alerts.DRAIN_STALLED not in _cycle(now + timedelta(minutes=7))
    assert _messages(receiver, alerts.DRAIN_STALLED) == [("open", "[OPEN]"), ("resolved", "[RESOLVED]")]


def test_a_paused_entity_waiting_is_not_a_stalled_drain(client, db, receiver):
    queue_webhook(client, "products", zoho.product("stall-paused"))
    assert client.post("/api/zoho/queue/pause", json={"entity_type": "products"}, headers=ADMIN).status_code == 200
    assert alerts.DRAIN_STALLED not in _cycle(utcnow() + timedelta(minutes=30))


def test_a_job_failing_twice_in_a_row_opens_and_one_success_resolves(db, receiver, fake_zoho, configure):
    from functions.reconcile_zoho import reconcile_zoho

    configure(DATABASE_URL=db.url, ADMIN_API_KEY=ADMIN_KEY, ALERT_WEBHOOK_URL=receiver.url)
    path = "/inventory/v1/items"
    fake_zoho.fail(path, 500, times=2)
    reconcile_zoho()
    assert alerts.JOB_FAILING not in _cycle(), "one failure is not yet an incident"
    reconcile_zoho()
    found = _cycle()
    assert "scheduled reconcile failed twice in a row" in found[alerts.JOB_FAILING]
    reconcile_zoho()
    assert alerts.JOB_FAILING not in _cycle()
    jobs.record(jobs.DRAIN, RuntimeError("database unavailable"))
    jobs.record(jobs.DRAIN, RuntimeError("database unavailable"))
    assert "scheduled drain failed twice in a row: database unavailable" in _cycle()[alerts.JOB_FAILING]
    jobs.record(jobs.DRAIN)
    _cycle()
    assert _messages(receiver, alerts.JOB_FAILING) == [("open", "[OPEN]"), ("resolved", "[RESOLVED]")] * 2


def test_error_rate_over_one_percent_of_twenty_requests_opens_and_resolves(
    client, db, receiver, monkeypatch, configure, refused_database_url
):
    recorder = metrics.Recorder()
    monkeypatch.setattr(metrics, "RECORDER", recorder)
    for _ in range(19):
        assert client.get("/health").status_code == 200
    configure(DATABASE_URL=refused_database_url, DB_CONNECT_TIMEOUT_SECONDS="0.5")
    assert client.get("/health").status_code == 503  # the database "down": health's own 5xx
    configure(DATABASE_URL=db.url, ADMIN_API_KEY=ADMIN_KEY, ALERT_WEBHOOK_URL=receiver.url)
    recorder.flush()
    now = utcnow()
    found = _cycle(now)
    assert "health 5.0% 5xx of 20 requests" in found[alerts.ERROR_RATE]
    assert alerts.ERROR_RATE not in _cycle(now + timedelta(minutes=6)), "the 5-minute window has passed"
    assert _messages(receiver, alerts.ERROR_RATE) == [("open", "[OPEN]"), ("resolved", "[RESOLVED]")]


def test_a_few_errors_among_few_requests_are_no_incident(
    client, db, receiver, monkeypatch, configure, refused_database_url
):
    recorder = metrics.Recorder()
    monkeypatch.setattr(metrics, "RECORDER", recorder)
    configure(DATABASE_URL=refused_database_url, DB_CONNECT_TIMEOUT_SECONDS="0.5")
    for _ in range(3):
        assert client.get("/health").status_code == 503
    configure(DATABASE_URL=db.url, ADMIN_API_KEY=ADMIN_KEY, ALERT_WEBHOOK_URL=receiver.url)
    recorder.flush()
    assert alerts.ERROR_RATE not in _cycle(), "3 requests are under the 20 a rate needs"


def test_without_zoho_the_mirror_rules_have_nothing_to_judge(db, receiver):
    with write() as connection:
        facts = alerts.gather(connection, utcnow(), get_settings())
    assert facts.last_full_pass_at is None and facts.zoho_calls is None


def test_a_stale_full_pass_opens_an_incident_that_the_next_full_pass_resolves(db, receiver, fake_zoho):
    fake_zoho.put(ITEMS, {"name": "Mirrored", "sku": "SKU-M", "rate": 1000, "status": "active"})
    run_until_complete(steps=20)  # the import: the first complete pass
    start = utcnow()
    assert alerts.FULL_PASS_STALE not in _cycle(start)
    with write() as connection:  # as if the nightly full passes had failed for a day and a half
        connection.execute(update(zoho_sync_progress).values(last_complete_at=start - timedelta(hours=37)))
    found = _cycle(start + timedelta(minutes=1))
    assert found[alerts.FULL_PASS_STALE] == "the last complete full reconcile finished 37 h ago (limit 36 h)"

    run_until_complete(FULL, steps=20)

    assert alerts.FULL_PASS_STALE not in _cycle(start + timedelta(minutes=2))
    assert _messages(receiver, alerts.FULL_PASS_STALE) == [("open", "[OPEN]"), ("resolved", "[RESOLVED]")]


def test_a_spent_zoho_budget_opens_an_incident_that_the_next_day_resolves(db, receiver, fake_zoho, configure):
    configure(ZOHO_DAILY_CALL_LIMIT=2)
    stopped = reconcile(get_settings())  # the import's first two lists spend the day
    assert (stopped.complete, stopped.zoho_calls.today) == (False, 2)
    start = utcnow()
    found = _cycle(start)
    assert found[alerts.ZOHO_BUDGET] == "today's Zoho calls are spent (2 of 2)"

    with write() as connection:  # a new day: the count restarts
        yesterday = start.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
        connection.execute(update(zoho_call_budget).values(period_start=yesterday))

    assert alerts.ZOHO_BUDGET not in _cycle(start + timedelta(minutes=1))
    assert _messages(receiver, alerts.ZOHO_BUDGET) == [("open", "[OPEN]"), ("resolved", "[RESOLVED]")]


def test_a_failing_receiver_is_retried_with_backoff_and_shown_until_it_answers(client, db, receiver):
    receiver.status = 500
    dead_letter_one(client, "alert-broken")
    now = utcnow()
    _cycle(now)
    assert [body["_status"] for body in receiver.bodies] == [500]
    listed = client.get("/api/zoho/dashboard/incidents", headers=ADMIN).get_json()["incidents"]
    [message] = listed[0]["notifications"]
    assert message["sent_at"] is None and message["attempts"] == 1 and message["last_error"] == "HTTP 500"
    assert message["next_attempt_at"] > (now + timedelta(seconds=10)).isoformat().replace("+00:00", "Z")[:19]
    notify.deliver_due(get_settings(), now=now + timedelta(seconds=5))
    assert len(receiver.bodies) == 1, "not before its backoff"
    receiver.status = 200
    notify.deliver_due(get_settings(), now=now + timedelta(hours=2))
    notify.deliver_due(get_settings(), now=now + timedelta(hours=3))
    assert [body["_status"] for body in receiver.bodies] == [500, 200]
    with db.engine.connect() as connection:
        [row] = connection.execute(select(ops_alert_notifications)).all()
    assert row.sent_at is not None and row.attempts == 2 and row.last_error is None
    page_incident = client.get("/api/zoho/dashboard/incidents", headers=ADMIN).get_json()["incidents"][0]
    assert page_incident["notifications"][0]["sent_at"]


def test_an_unreachable_receiver_times_out_and_is_retried(client, db, configure):
    configure(DATABASE_URL=db.url, ADMIN_API_KEY=ADMIN_KEY, ALERT_WEBHOOK_URL="http://127.0.0.1:9/nothing")
    dead_letter_one(client, "alert-broken")
    _cycle()
    with db.engine.connect() as connection:
        [row] = connection.execute(select(ops_alert_notifications)).all()
    assert row.sent_at is None and row.attempts == 1 and row.last_error.startswith("unreachable")


def test_a_resolved_message_waits_for_its_open_message(client, db, receiver):
    receiver.status = 500
    dead_letter_one(client, "alert-broken")
    now = utcnow()
    _cycle(now)
    assert client.post("/api/zoho/dashboard/dead-letter/discard", json={}, headers=ADMIN).status_code == 200
    receiver.status = 200
    _cycle(now + timedelta(seconds=10))  # the open message's backoff (15 s at least) has not passed: nothing leaves
    assert receiver.accepted() == []
    notify.deliver_due(get_settings(), now=now + timedelta(hours=2))
    notify.deliver_due(get_settings(), now=now + timedelta(hours=2))
    assert _messages(receiver, alerts.DEAD_LETTERS) == [("open", "[OPEN]"), ("resolved", "[RESOLVED]")]


def test_without_an_alert_url_incidents_are_still_listed(client, db, configure):
    configure(DATABASE_URL=db.url, ADMIN_API_KEY=ADMIN_KEY)
    dead_letter_one(client, "alert-broken")
    _cycle()
    [listed] = client.get("/api/zoho/dashboard/incidents", headers=ADMIN).get_json()["incidents"]
    assert listed["rule"] == alerts.DEAD_LETTERS and listed["state"] == "open" and listed["notifications"] == []


def test_rules_run_at_most_once_a_minute_per_database(client, db, receiver):
    first, second = AlertClock(check_seconds=0), AlertClock(check_seconds=0)  # two processes
    assert first.evaluate_if_due(get_settings()) is True
    dead_letter_one(client, "alert-broken")
    assert second.evaluate_if_due(get_settings()) is False
    assert first.evaluate_if_due(get_settings()) is False
    assert _incidents(db, alerts.DEAD_LETTERS) == []
    with write() as connection:
        connection.execute(update(alerts.ops_alert_clock).values(evaluated_at=utcnow() - timedelta(seconds=61)))
    assert second.evaluate_if_due(get_settings()) is True
    assert [row.state for row in _incidents(db, alerts.DEAD_LETTERS)] == ["open"]


def test_one_open_incident_per_rule_whatever_evaluates(client, db, receiver):
    dead_letter_one(client, "alert-broken")
    now = utcnow()
    for seconds in range(3):
        _cycle(now + timedelta(seconds=seconds))
    with db.engine.connect() as connection:
        queued = connection.execute(select(tds_sync_queue.c.id)).all()
    assert len(queued) == 1 and len(_incidents(db, alerts.DEAD_LETTERS)) == 1
    assert _messages(receiver, alerts.DEAD_LETTERS) == [("open", "[OPEN]")]
