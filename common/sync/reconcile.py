"""The reconcile job: queue what changed in Zoho since each entity's cursor, as the webhooks would have.

Webhooks are the fast path; this is the safety net for those Zoho never delivered. Each
record goes through the webhooks' own intake (validation and content dedupe), so one that a
webhook already queued is a duplicate and queues nothing.

Each record is queued as Zoho's webhook default payload carries it, `{"item": {...}}`,
so it hashes the same as the webhook for the same record (the event type of both is the
default, upsert). A record whose list entry lacks fields the webhook carries (invoices' line
items, price books' items) is queued once more, which is harmless: applying it again
changes nothing, and an older one is stale.

Stock adjustments are not reconciled (common.sync.entities says which entities are).

Zoho lists records modified since `last_modified_time`, oldest first; those stamped exactly
at the cursor may come back on the next run, and are then counted as duplicates. A record without
a `last_modified_time` (some price books) does not move its cursor. Pages are numbered from
the run's starting cursor, so a record Zoho modifies while a run reads the pages after it
moves to the end and shifts one later record onto a page already read; that record waits
for its next change or its webhook (the same holds for any offset-paged list).
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
from common.sync.entities import ENTITIES, Entity
from common.sync.intake import enqueue_event
from common.sync.schemas import ReconcileSummary
from common.sync.zoho_client import ZohoClient, ZohoError

log = get_logger("sync.reconcile")

# Bounds one run: at most this many pages per entity (Zoho's maximum page size each); the rest next run.
MAX_PAGES_PER_ENTITY = 20
PER_PAGE = 200
FIRST_RUN_LOOKBACK = timedelta(hours=24)
ZOHO_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


RECONCILED: tuple[Entity, ...] = tuple(entity for entity in ENTITIES if entity.list_path)


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
    budget_seconds: float | None = None,
    max_pages: int = MAX_PAGES_PER_ENTITY,
) -> ReconcileSummary:
    """Queue every record modified in Zoho since the stored cursors; commit and advance page by page.

    Raises ZohoNotConfigured before doing anything, and ReconcileStopped when Zoho fails
    midway. No page is started once `budget_seconds` have passed.
    """
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    summary = ReconcileSummary()
    owned = client is None
    client = client or ZohoClient(settings, engine)
    try:
        for entity in RECONCILED:
            try:
                _reconcile_entity(client, engine, entity, summary, deadline, max_pages)
            except ZohoError as exc:
                log.warning(
                    "Zoho reconcile stopped",
                    extra={"entity": entity.name, "reason": str(exc), **summary.model_dump()},
                )
                raise ReconcileStopped(exc, summary) from exc
    finally:
        if owned:
            client.close()
    log.info("Zoho reconcile finished", extra=summary.model_dump())
    return summary


def _reconcile_entity(
    client: ZohoClient,
    engine: Engine | None,
    entity: Entity,
    summary: ReconcileSummary,
    deadline: float | None,
    max_pages: int,
) -> None:
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
            return
        records, more = client.list_page(entity.list_path, entity.list_key, {**query, "page": page})
        cursor = _newest(cursor, records)
        counts = {"enqueued": 0, "duplicates": 0, "invalid": 0}
        with write(engine) as connection:
            for record in records:
                counts[_enqueue(connection, entity, record)] += 1
            _store_cursor(connection, entity.name, cursor)
        # Counted only once the page and its cursor are committed together.
        summary.enqueued += counts["enqueued"]
        summary.duplicates += counts["duplicates"]
        summary.invalid += counts["invalid"]
        summary.pages += 1
        summary.cursor[entity.name] = cursor
        if not more:
            return


def _enqueue(connection: Connection, entity: Entity, record: Any) -> str:
    """Queue one record through the webhooks' intake: 'enqueued', 'duplicates' or 'invalid'."""
    try:
        # Zoho's webhook default payload, so that it hashes the same as the webhook for this record.
        _, _, queued = enqueue_event(connection, entity, {entity.document: record})
    except ValidationFailed as failed:
        log.warning(
            "Zoho record failed validation, not queued",
            extra={
                "entity": entity.name,
                "errors": failed.errors,
                "record_id": record.get(entity.record.id_field) if isinstance(record, dict) else None,
            },
        )
        return "invalid"
    return "enqueued" if queued else "duplicates"


def _newest(cursor: str, records: list[Any]) -> str:
    """The latest of the cursor and the records' last_modified_time, kept in Zoho's own text."""
    newest, newest_at = cursor, _parse(cursor)
    for record in records:
        stamp = record.get("last_modified_time") if isinstance(record, dict) else None
        at = _parse(stamp)
        if at is not None and (newest_at is None or at > newest_at):
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
