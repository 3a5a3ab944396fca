"""Alert rules and their incidents: each rule that finds trouble opens one incident, which is
notified when it opens, again at most hourly while it stays open, and once when it clears.

Rules run at most once a minute per database, whoever asks (the scheduled drain function, the
local runner's coordinator): `evaluate_if_due` wins the one row of ops_alert_clock with a
conditional UPDATE first, and each process asks the database at most every few seconds. An
incident's messages go to the notification queue in the transaction that opens, repeats or
resolves it (common.ops.notify sends them), never from a request or the drain.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, func, select, update

from common.clock import utcnow
from common.config import Settings
from common.db.statements import insert
from common.db.transactions import write
from common.logs import get_logger
from common.models import ops_alert_clock, ops_incidents, tds_request_metrics, tds_sync_queue
from common.ops import jobs, mirror_status, notify
from common.sync import queue_reads
from common.sync.dashboard import PENDING_AGE_LIMIT_SECONDS
from common.sync.mirror import FULL_PASS_MAX_AGE
from common.sync.queue import NOT_PAUSED, PENDING

log = get_logger("ops.alerts")

DEAD_LETTERS, DRAIN_STALLED, JOB_FAILING = "dead_letters", "drain_stalled", "job_failing"
FULL_PASS_STALE, ZOHO_BUDGET, ERROR_RATE = "full_pass_stale", "zoho_budget", "error_rate"
OPEN, RESOLVED = "open", "resolved"

EVALUATE_EVERY = timedelta(minutes=1)
REPEAT_EVERY = timedelta(hours=1)
ERROR_WINDOW = timedelta(minutes=5)
ERROR_RATE_LIMIT_PERCENT = 1.0
ERROR_RATE_MIN_REQUESTS = 20
# How often one process asks the database whether the rules are due.
_LOCAL_CHECK_SECONDS = 10.0
_CLOCK = "rules"


@dataclass(frozen=True)
class Facts:
    """What the rules look at, read in one transaction."""

    unresolved_dead_letters: int
    oldest_pending_at: datetime | None  # of entity types not paused: a paused queue waits on purpose
    failing_jobs: dict[str, str]  # job -> its last error, for jobs whose last two runs failed
    last_full_pass_at: datetime | None
    zoho_calls: tuple[int, int] | None  # (spent today, daily limit)
    server_errors: dict[str, tuple[int, int]] = field(default_factory=dict)  # function -> (5xx, requests)


def gather(connection: Connection, now: datetime, settings: Settings) -> Facts:
    metrics = tds_request_metrics.c
    per_function = connection.execute(
        select(metrics.function, func.sum(metrics.server_errors), func.sum(metrics.requests))
        .where(metrics.minute >= now - ERROR_WINDOW)
        .group_by(metrics.function)
    ).all()
    items = tds_sync_queue.c
    oldest = connection.execute(select(func.min(items.created_at)).where(items.status == PENDING, NOT_PAUSED)).scalar()
    failing = {job: error for job in jobs.JOBS if (error := jobs.failing_twice(connection, job))}
    return Facts(
        unresolved_dead_letters=queue_reads.unresolved_dead_letter_count(connection),
        oldest_pending_at=oldest,
        failing_jobs=failing,
        last_full_pass_at=mirror_status.last_complete_full_pass(connection, settings),
        zoho_calls=mirror_status.zoho_calls_today(connection, settings, now),
        server_errors={name: (int(errors), int(requests)) for name, errors, requests in per_function},
    )


def findings(facts: Facts, now: datetime) -> dict[str, str]:
    """rule -> one line saying what is wrong, for each rule that finds trouble now."""
    found = {}
    if facts.unresolved_dead_letters:
        found[DEAD_LETTERS] = f"{facts.unresolved_dead_letters} unresolved dead letters"
    if facts.oldest_pending_at and now - facts.oldest_pending_at > timedelta(seconds=PENDING_AGE_LIMIT_SECONDS):
        waited = round((now - facts.oldest_pending_at).total_seconds() / 60)
        limit = round(PENDING_AGE_LIMIT_SECONDS / 60)
        found[DRAIN_STALLED] = f"the oldest pending item has waited {waited} min (limit {limit} min)"
    if facts.failing_jobs:
        found[JOB_FAILING] = "; ".join(
            f"the scheduled {job} failed twice in a row: {error}" for job, error in sorted(facts.failing_jobs.items())
        )
    if facts.last_full_pass_at and now - facts.last_full_pass_at > FULL_PASS_MAX_AGE:
        hours = round((now - facts.last_full_pass_at).total_seconds() / 3600)
        limit = round(FULL_PASS_MAX_AGE.total_seconds() / 3600)
        found[FULL_PASS_STALE] = f"the last complete full reconcile finished {hours} h ago (limit {limit} h)"
    if facts.zoho_calls and facts.zoho_calls[0] >= facts.zoho_calls[1]:
        found[ZOHO_BUDGET] = f"today's Zoho calls are spent ({facts.zoho_calls[0]} of {facts.zoho_calls[1]})"
    failing_functions = [
        f"{name} {round(100 * errors / requests, 1)}% 5xx of {requests} requests"
        for name, (errors, requests) in sorted(facts.server_errors.items())
        if requests >= ERROR_RATE_MIN_REQUESTS and 100 * errors / requests > ERROR_RATE_LIMIT_PERCENT
    ]
    if failing_functions:
        found[ERROR_RATE] = "over the last 5 min: " + ", ".join(failing_functions)
    return found


def apply(connection: Connection, found: dict[str, str], now: datetime, settings: Settings) -> None:
    """Open an incident for each new finding, resolve those whose rule no longer finds trouble, and
    repeat the notice of those open for an hour since the last; queue each message."""
    incidents = ops_incidents.c
    open_now = {
        row.rule: dict(row._mapping) for row in connection.execute(select(ops_incidents).where(incidents.state == OPEN))
    }
    for rule, summary in found.items():
        incident = open_now.get(rule)
        if incident is None:
            opened = connection.execute(
                ops_incidents.insert()
                .values(rule=rule, state=OPEN, summary=summary, opened_at=now, notified_at=now)
                .returning(*ops_incidents.c)
            ).one()
            notify.queue_message(connection, dict(opened._mapping), now, settings)
            log.warning("incident opened", extra={"rule": rule, "summary": summary})
            continue
        repeat = incident["notified_at"] is None or now - incident["notified_at"] >= REPEAT_EVERY
        changes = {"summary": summary, **({"notified_at": now} if repeat else {})}
        connection.execute(update(ops_incidents).where(incidents.id == incident["id"]).values(**changes))
        if repeat:
            notify.queue_message(connection, {**incident, "summary": summary}, now, settings, repeat=True)
    for rule, incident in open_now.items():
        if rule not in found:
            connection.execute(
                update(ops_incidents).where(incidents.id == incident["id"]).values(state=RESOLVED, resolved_at=now)
            )
            notify.queue_message(connection, {**incident, "state": RESOLVED, "resolved_at": now}, now, settings)
            log.info("incident resolved", extra={"rule": rule})


def _run_rules(connection: Connection, now: datetime, settings: Settings) -> dict[str, str]:
    found = findings(gather(connection, now, settings), now)
    apply(connection, found, now, settings)
    return found


def evaluate(settings: Settings, engine: Engine | None = None, now: datetime | None = None) -> dict[str, str]:
    """Run every rule now and update the incidents; returns the findings."""
    now = now or utcnow()
    with write(engine) as connection:
        return _run_rules(connection, now, settings)


def _claim_clock(connection: Connection, now: datetime) -> bool:
    """True for exactly one caller a minute: the clock's row moves to `now` only if it was due."""
    clock = ops_alert_clock.c
    moved = connection.execute(
        update(ops_alert_clock)
        .where(clock.name == _CLOCK, clock.evaluated_at <= now - EVALUATE_EVERY)
        .values(evaluated_at=now)
    ).rowcount
    if moved:
        return True
    first = insert(connection, ops_alert_clock).values(name=_CLOCK, evaluated_at=now)
    return connection.execute(first.on_conflict_do_nothing(index_elements=[clock.name])).rowcount == 1


class AlertClock:
    """Runs the rules when a minute has passed since anyone last ran them on this database; asks
    the database at most every `check_seconds` from this process, so calling it often is cheap."""

    def __init__(self, check_seconds: float = _LOCAL_CHECK_SECONDS) -> None:
        self.check_seconds = check_seconds
        self._next_check = 0.0

    def evaluate_if_due(self, settings: Settings, engine: Engine | None = None) -> bool:
        if time.monotonic() < self._next_check:
            return False
        self._next_check = time.monotonic() + self.check_seconds
        now = utcnow()
        with write(engine) as connection:
            if not _claim_clock(connection, now):
                return False
            _run_rules(connection, now, settings)
        return True


def purge_resolved(connection: Connection, before: datetime, limit: int) -> int:
    """Forget up to `limit` incidents resolved before `before` (their messages go with them)."""
    incidents = ops_incidents.c
    chunk = (
        select(incidents.id).where(incidents.state == RESOLVED, incidents.resolved_at < before).limit(limit)
    ).scalar_subquery()
    return connection.execute(ops_incidents.delete().where(incidents.id.in_(chunk))).rowcount
