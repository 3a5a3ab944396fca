"""The reconcile job: keep the local tables equal to Zoho's, as the webhooks would have, within Zoho's limits.

Webhooks are the fast path; this is the safety net for those Zoho never delivered. Each
record goes through the webhooks' own intake (validation and content dedupe), so one that a
webhook already queued is a duplicate and queues nothing.

A step is one of three modes:
- the import, first, while an organisation has not been imported (common.sync.mirror);
- `full`, a pass over every record that repairs what differs and sweeps what Zoho deleted
  (common.sync.mirror), asked for or scheduled nightly, and carried on by the scheduled runs
  until it is complete;
- `incremental` otherwise: what changed in Zoho since each entity's cursor.
A step stops at its time budget, or when Zoho's limits pause it (ZohoPaused: a spent budget or
a 429); it answers where it stands and the next step goes on from there.

Incremental: each record is queued as Zoho's webhook default payload carries it, `{"item": {...}}`,
so it hashes the same as the webhook for the same record (the event type of both is the
default, upsert). A record whose list entry lacks fields the webhook carries (invoices' line
items) is queued once more, which is harmless: applying it again changes nothing, and an
older one is stale.

Stock adjustments are not reconciled (common.sync.entities says which entities are).

Zoho lists records modified since `last_modified_time`, oldest first; those stamped exactly
at the cursor may come back on the next run, and are then counted as duplicates. A record without
a `last_modified_time` (some price books) does not move its cursor, nor does one stamped after the
service's clock (a bad stamp, or Zoho's clock ahead): it is listed again next time instead of
carrying the cursor past changes still to come. Pages are numbered from
the run's starting cursor, so a record Zoho modifies while a run reads the pages after it
moves to the end and shifts one later record onto a page already read; that record waits
for its next change, its webhook, or the nightly full pass.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from common.clock import utcnow
from common.config import Settings
from common.db.statements import insert
from common.db.transactions import read, write
from common.errors import ValidationFailed
from common.logs import get_logger
from common.models import tds_sync_cursors as cursors
from common.sync import mirror, zoho_budget
from common.sync.entities import Entity
from common.sync.intake import enqueue_event
from common.sync.mirror import FULL, IMPORT, PER_PAGE, RECONCILED, ZOHO_TIME_FORMAT
from common.sync.schemas import EntityProgress, ReconcileSummary, ZohoCallsUsed
from common.sync.zoho_client import ZohoClient, ZohoError, ZohoPaused

log = get_logger("sync.reconcile")

INCREMENTAL = "incremental"
# Bounds one incremental run: at most this many pages per entity (Zoho's maximum page size each); the rest next run.
MAX_PAGES_PER_ENTITY = 20
# An entity without a cursor after the import (one added later) looks back this far.
FIRST_RUN_LOOKBACK = timedelta(hours=24)


class ReconcileStopped(ZohoError):
    """Zoho failed mid-run. The pages committed before stay committed; `summary` counts them."""

    def __init__(self, cause: ZohoError, summary: ReconcileSummary) -> None:
        super().__init__(f"Zoho reconcile stopped: {cause}", retry_after=cause.retry_after)
        self.summary = summary


def reconcile(
    settings: Settings,
    engine: Engine | None = None,
    client: ZohoClient | None = None,
    *,
    mode: str | None = None,
    budget_seconds: float | None = None,
    max_pages: int = MAX_PAGES_PER_ENTITY,
) -> ReconcileSummary:
    """One step of the reconcile. `mode`: "incremental", "full", or None for the schedule's choice
    (an unfinished full pass goes on, else incremental); an unfinished import comes first in any mode.

    Raises ZohoNotConfigured before doing anything, and ReconcileStopped when Zoho fails midway
    (other than by its limits, which pause the step: `complete` is then false). No page is
    started once `budget_seconds` have passed.
    """
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    owned = client is None
    client = client or ZohoClient(settings, engine)
    try:
        if mirror.import_needed(settings, engine):
            chosen = IMPORT
        elif mode == FULL or (mode is None and mirror.full_pass_running(settings, engine)):
            chosen = FULL
        else:
            chosen = INCREMENTAL
        summary = ReconcileSummary(mode=chosen, complete=False)
        try:
            summary.complete = _step(settings, engine, client, chosen, summary, deadline, max_pages)
        except ZohoPaused as paused:
            log.info(
                "Zoho reconcile paused by Zoho's limits",
                extra={"mode": chosen, "reason": str(paused), "resume_at": paused.resume_at.isoformat()},
            )
        except ZohoError as exc:
            log.warning("Zoho reconcile stopped", extra={"mode": chosen, "reason": str(exc)})
            raise ReconcileStopped(exc, _described(settings, engine, summary)) from exc
    finally:
        if owned:
            client.close()
    _described(settings, engine, summary)
    log.info("Zoho reconcile step finished", extra=summary.model_dump(exclude={"entities", "cursor"}))
    return summary


def _step(
    settings: Settings,
    engine: Engine | None,
    client: ZohoClient,
    mode: str,
    summary: ReconcileSummary,
    deadline: float | None,
    max_pages: int,
) -> bool:
    if mode == INCREMENTAL:
        done = [_reconcile_entity(client, engine, entity, summary, deadline, max_pages) for entity in RECONCILED]
        return all(done)
    counts = mirror.StepCounts()
    try:
        return mirror.step(settings, engine, client, mode, deadline, counts)
    finally:
        summary.enqueued, summary.duplicates = counts.enqueued, counts.duplicates
        summary.deactivated, summary.pages = counts.deactivated, counts.pages


def _described(settings: Settings, engine: Engine | None, summary: ReconcileSummary) -> ReconcileSummary:
    """Fill in what the answer reports beside the step's own counts: the pass's progress, the cursors, the calls."""
    if summary.mode != INCREMENTAL:
        summary.entities = mirror.entity_progress(settings, summary.mode, engine)
    with read(engine) as connection:
        summary.cursor = dict(connection.execute(select(cursors.c.entity_type, cursors.c.cursor)).all())
        calls = zoho_budget.usage(connection, settings, utcnow())
    summary.zoho_calls = ZohoCallsUsed(today=calls.today, limit=calls.limit)
    return summary


def _reconcile_entity(
    client: ZohoClient,
    engine: Engine | None,
    entity: Entity,
    summary: ReconcileSummary,
    deadline: float | None,
    max_pages: int,
) -> bool:
    """Queue what changed since the entity's cursor, page by page; True once its last page is read."""
    progress = summary.entities.setdefault(entity.name, EntityProgress())
    with read(engine) as connection:
        cursor = connection.execute(select(cursors.c.cursor).where(cursors.c.entity_type == entity.name)).scalar() or (
            utcnow() - FIRST_RUN_LOOKBACK
        ).strftime(ZOHO_TIME_FORMAT)
    query = {
        "last_modified_time": cursor,
        "per_page": PER_PAGE,
        "sort_column": "last_modified_time",
        "sort_order": "A",
    }
    for page in range(1, max_pages + 1):
        if deadline is not None and time.monotonic() >= deadline:
            return False
        records, more = client.list_page(entity.list_path, entity.list_key, {**query, "page": page})
        cursor = _newest(cursor, records, utcnow())
        counts = {"enqueued": 0, "duplicates": 0, "invalid": 0}
        with write(engine) as connection:
            for record in records:
                counts[_enqueue(connection, entity, record)] += 1
            _store_cursor(connection, entity.name, cursor)
        # Counted only once the page and its cursor are committed together.
        summary.enqueued += counts["enqueued"]
        summary.duplicates += counts["duplicates"]
        summary.pages += 1
        progress.listed += len(records)
        progress.queued += counts["enqueued"]
        if not more:
            progress.done = True
            return True
    return False


def _enqueue(connection: Connection, entity: Entity, record: Any) -> str:
    """Queue one record through the webhooks' intake: 'enqueued', 'duplicates' or 'invalid'."""
    try:
        # Zoho's webhook default payload, so that it hashes the same as the webhook for this record.
        _, _, queued = enqueue_event(connection, entity, {entity.document: record})
    except ValidationFailed as failed:
        mirror.log_invalid(entity, record, failed)
        return "invalid"
    return "enqueued" if queued else "duplicates"


def _newest(cursor: str, records: list[Any], now: datetime) -> str:
    """The latest of the cursor and the records' last_modified_time up to `now`, kept in Zoho's own text."""
    newest, newest_at = cursor, _parse(cursor)
    for record in records:
        stamp = record.get("last_modified_time") if isinstance(record, dict) else None
        at = _parse(stamp)
        if at is not None and at <= now and (newest_at is None or at > newest_at):
            newest, newest_at = stamp, at
    return newest


def _parse(stamp: Any) -> datetime | None:
    if not isinstance(stamp, str) or len(stamp) > 64:
        return None
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _store_cursor(connection: Connection, entity_type: str, cursor: str) -> None:
    statement = insert(connection, cursors).values(entity_type=entity_type, cursor=cursor, updated_at=utcnow())
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[cursors.c.entity_type],
            set_={"cursor": statement.excluded.cursor, "updated_at": statement.excluded.updated_at},
        )
    )
