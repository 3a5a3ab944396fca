"""The import of an existing organisation and the full pass: list every record Zoho holds, queue
through the webhooks' intake those that differ from the stored ones, and (full pass) take back
what Zoho no longer lists.

Both are one mechanism, a *pass*: per reconciled entity, Zoho's list read page by page (200
records, oldest created first, so that records created meanwhile land on later pages). The
import brings every item, customer and price book, and the invoices, bills and credit notes
dated within ZOHO_IMPORT_DAYS; when it is done, each entity's incremental cursor starts at the
time the import began, so nothing changed meanwhile is missed. The full pass lists the same
records and, once an entity's pages are all read, deactivates the stored records it did not list.

Where a pass stands is a row of `zoho_sync_progress` per (organisation, entity, mode): the next
page and the counts, committed in the same transaction as the page's queue items. A step does
what fits its time budget; a crash, a 429 or a spent budget stops it between pages, and the next
step reads the next page, never one already committed. Two steps at once cannot both commit a
page: the commit is fenced on the page number it read.

A record is queued only when it differs from the stored one: no row, another active state,
another stock, or a field of Zoho's list entry that the stored copy of Zoho's record
(`zoho_data`) does not have with that value. An unchanged record writes nothing. A differing
record whose webhook body is already queued (same content) has its completed queue item run
again: the stored row drifted from what that event wrote, and applying it again repairs it. A
webhook for the same record arriving meanwhile goes through the same dedupe and the drain's
stale-update fence.

The deletion sweep: each listed id is recorded for the pass (`zoho_pass_seen`). When every page
is read, the active rows that the pass did not list, and that were neither created nor changed
since the pass began, are candidates. When they are more than RAIL_SHARE of the entity's active
rows, Zoho's answer is not trusted (a truncated list, a wrong organisation): nothing is
deactivated, the progress says so and the sync is degraded. Otherwise each candidate is asked
for by id (a record shifted onto an already-read page by a deletion during the pass is found
there), and the ones Zoho no longer holds are queued as deletions, versioned at the pass's start
so that a later change of the record wins.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Connection, Engine, Row, Table, and_, func, not_, or_, select, update

from common.clock import utcnow
from common.config import Settings
from common.db.statements import insert, insert_rows
from common.db.transactions import read, write
from common.errors import ValidationFailed
from common.logs import get_logger
from common.models import (
    bills,
    credit_notes,
    customers,
    invoices,
    pricelists,
    products,
    tds_sync_cursors,
    tds_sync_queue,
    zoho_pass_seen,
    zoho_sync_progress,
)
from common.sync import queue, queue_reads, zoho_budget
from common.sync.entities import ENTITIES, Entity
from common.sync.intake import checked_event, enqueue_event, queue_row
from common.sync.payloads.bodies import ZohoEvent
from common.sync.schemas import EntityProgress, MirrorStatus, PassProgress, ZohoCallsUsed

if TYPE_CHECKING:  # the dashboard reads the progress without importing the HTTP client (cold start)
    from common.sync.zoho_client import ZohoClient

log = get_logger("sync.mirror")

IMPORT, FULL = "import", "full"
PER_PAGE = 200
# A full pass that would deactivate more than this share of an entity's active rows deactivates nothing.
RAIL_SHARE = 0.10
# The pass waits for the drain while the queue holds more than this many open items, so that
# listing never runs more than about two pages ahead of applying.
BACKLOG_LIMIT = PER_PAGE
_BACKLOG_WAIT_SECONDS = 0.05
BACKLOG_MAX_WAIT_SECONDS = 60.0
ZOHO_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_INACTIVE_STATUSES = {"inactive", "void", "deleted"}

RECONCILED: tuple[Entity, ...] = tuple(entity for entity in ENTITIES if entity.list_path)


@dataclass(frozen=True)
class Held:
    """Where an entity's records are stored: the table, its Zoho id column, and its date (documents listed by date)."""

    table: Table
    key: Column
    dated: bool = False


HELD: dict[str, Held] = {
    "products": Held(products, products.c.zoho_item_id),
    "customers": Held(customers, customers.c.zoho_contact_id),
    "invoices": Held(invoices, invoices.c.zoho_invoice_id, dated=True),
    "bills": Held(bills, bills.c.zoho_bill_id, dated=True),
    "credit_notes": Held(credit_notes, credit_notes.c.zoho_creditnote_id, dated=True),
    "prices": Held(pricelists, pricelists.c.zoho_pricelist_id),
}


@dataclass
class StepCounts:
    """What one step did, for the reconcile's answer."""

    enqueued: int = 0
    duplicates: int = 0
    deactivated: int = 0
    pages: int = 0


class _Overtaken(Exception):
    """Another step committed this page first; this one's work is rolled back."""


def _progress_key(settings: Settings, entity: Entity, mode: str):
    return and_(
        zoho_sync_progress.c.organization_id == settings.zoho_organization_id,
        zoho_sync_progress.c.entity_type == entity.name,
        zoho_sync_progress.c.mode == mode,
    )


def progress_rows(connection: Connection, settings: Settings, mode: str) -> dict[str, Row]:
    rows = connection.execute(
        select(zoho_sync_progress).where(
            zoho_sync_progress.c.organization_id == settings.zoho_organization_id, zoho_sync_progress.c.mode == mode
        )
    ).all()
    return {row.entity_type: row for row in rows}


def import_needed(settings: Settings, engine: Engine | None = None) -> bool:
    """The organisation's import is unfinished, or has not begun and no incremental run ever stored a cursor."""
    with read(engine) as connection:
        rows = progress_rows(connection, settings, IMPORT)
        if rows:
            return not all(row.done for row in rows.values())
        return connection.execute(select(func.count()).select_from(tds_sync_cursors)).scalar_one() == 0


def full_pass_running(settings: Settings, engine: Engine | None = None) -> bool:
    with read(engine) as connection:
        rows = progress_rows(connection, settings, FULL)
    return bool(rows) and not all(row.done for row in rows.values())


def step(
    settings: Settings,
    engine: Engine | None,
    client: ZohoClient,
    mode: str,
    deadline: float | None,
    counts: StepCounts,
) -> bool:
    """Advance the import or the full pass (starting it when none is under way) until it is complete
    or `deadline` passes; True when complete. Zoho's errors (ZohoPaused among them) propagate,
    with everything committed before them kept."""
    _start_unless_running(settings, engine, mode)
    return all(_advance(settings, engine, client, mode, entity, deadline, counts) for entity in RECONCILED)


def entity_progress(settings: Settings, mode: str, engine: Engine | None = None) -> dict[str, EntityProgress]:
    with read(engine) as connection:
        rows = progress_rows(connection, settings, mode)
    return {
        name: EntityProgress(listed=row.listed, queued=row.queued, deactivated=row.deactivated, done=row.done)
        for name, row in rows.items()
    }


def _start_unless_running(settings: Settings, engine: Engine | None, mode: str) -> None:
    """Begin a new pass when there is none, or the last one is done (an import is begun only once)."""
    with write(engine) as connection:
        rows = progress_rows(connection, settings, mode)
        if rows and (mode == IMPORT or not all(row.done for row in rows.values())):
            return
        now = utcnow()
        since = (now - timedelta(days=settings.zoho_import_days)).date()
        for entity in RECONCILED:
            fresh = {
                "pass_started_at": now,
                "since_date": since if HELD[entity.name].dated else None,
                "next_page": 1,
                "listed": 0,
                "queued": 0,
                "duplicates": 0,
                "deactivated": 0,
                "listed_all": False,
                "done": False,
                "rail_tripped": False,
                "finished_at": None,
                "updated_at": now,
            }
            statement = insert(connection, zoho_sync_progress).values(
                organization_id=settings.zoho_organization_id, entity_type=entity.name, mode=mode, **fresh
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[
                        zoho_sync_progress.c.organization_id,
                        zoho_sync_progress.c.entity_type,
                        zoho_sync_progress.c.mode,
                    ],
                    set_=fresh,
                )
            )
            if mode == FULL:
                connection.execute(zoho_pass_seen.delete().where(zoho_pass_seen.c.entity_type == entity.name))
    log.info("Zoho pass started", extra={"mode": mode})


def _current(settings: Settings, engine: Engine | None, mode: str, entity: Entity) -> Row:
    with read(engine) as connection:
        return connection.execute(select(zoho_sync_progress).where(_progress_key(settings, entity, mode))).one()


def _advance(
    settings: Settings,
    engine: Engine | None,
    client: ZohoClient,
    mode: str,
    entity: Entity,
    deadline: float | None,
    counts: StepCounts,
) -> bool:
    while True:
        progress = _current(settings, engine, mode, entity)
        if progress.done:
            return True
        if not _wait_for_drain(engine, deadline):
            return False
        try:
            if progress.listed_all:
                _sweep_one(settings, engine, client, entity, progress, counts)
            else:
                _read_page(settings, engine, client, mode, entity, progress, counts)
        except _Overtaken:
            continue


def _wait_for_drain(engine: Engine | None, deadline: float | None) -> bool:
    """False when the deadline passes first: no page starts after it, nor while the queue is full
    (a step without a deadline waits at most BACKLOG_MAX_WAIT_SECONDS for a drain)."""
    if deadline is None:
        deadline = time.monotonic() + BACKLOG_MAX_WAIT_SECONDS
    while True:
        if time.monotonic() >= deadline:
            return False
        with read(engine) as connection:
            if queue_reads.count_open(connection) <= BACKLOG_LIMIT:
                return True
        time.sleep(_BACKLOG_WAIT_SECONDS)


def _list_query(progress: Row, page: int) -> dict[str, Any]:
    query: dict[str, Any] = {"page": page, "per_page": PER_PAGE, "sort_column": "created_time", "sort_order": "A"}
    if progress.since_date is not None:
        query["date_start"] = progress.since_date.isoformat()
    return query


def _read_page(
    settings: Settings,
    engine: Engine | None,
    client: ZohoClient,
    mode: str,
    entity: Entity,
    progress: Row,
    counts: StepCounts,
) -> None:
    page = progress.next_page
    records, more = client.list_page(entity.list_path, entity.list_key, _list_query(progress, page))
    with write(engine) as connection:
        queued, duplicates, listed_ids = _queue_differing(connection, entity, records)
        values: dict[str, Any] = {
            "next_page": page + 1,
            "listed": zoho_sync_progress.c.listed + len(records),
            "queued": zoho_sync_progress.c.queued + queued,
            "duplicates": zoho_sync_progress.c.duplicates + duplicates,
            "updated_at": utcnow(),
        }
        if mode == FULL:
            _mark_seen(connection, entity, progress.pass_started_at, listed_ids)
        if not more:
            values.update(_listing_finished(connection, mode, entity, progress, values["queued"]))
        fenced = connection.execute(
            update(zoho_sync_progress)
            .where(
                _progress_key(settings, entity, mode),
                zoho_sync_progress.c.pass_started_at == progress.pass_started_at,
                zoho_sync_progress.c.next_page == page,
            )
            .values(**values)
        )
        if fenced.rowcount != 1:
            raise _Overtaken()
    counts.enqueued += queued
    counts.duplicates += duplicates
    counts.pages += 1


def _listing_finished(
    connection: Connection, mode: str, entity: Entity, progress: Row, values_queued: Any
) -> dict[str, Any]:
    """The last page is read: the import is done (and the cursor starts where it began); a full
    pass checks its safety rail before sweeping."""
    now = utcnow()
    if mode == IMPORT:
        statement = insert(connection, tds_sync_cursors).values(
            entity_type=entity.name, cursor=progress.pass_started_at.strftime(ZOHO_TIME_FORMAT), updated_at=now
        )
        connection.execute(statement.on_conflict_do_nothing(index_elements=[tds_sync_cursors.c.entity_type]))
        return _finished(now, queued=values_queued, deactivated=0)
    unseen = connection.execute(
        select(func.count()).select_from(HELD[entity.name].table).where(_unseen(entity, progress))
    ).scalar_one()
    active = connection.execute(
        select(func.count()).select_from(HELD[entity.name].table).where(_active(entity, progress))
    ).scalar_one()
    if unseen > RAIL_SHARE * active:
        log.warning(
            "Zoho full pass deactivates nothing: too many stored records are missing from Zoho's list",
            extra={"entity": entity.name, "missing": unseen, "active": active, "rail_share": RAIL_SHARE},
        )
        _forget_seen(connection, entity, progress.pass_started_at)
        return {**_finished(now, queued=values_queued, deactivated=0), "listed_all": True, "rail_tripped": True}
    return {"listed_all": True}


def _finished(now: datetime, *, queued: Any, deactivated: int) -> dict[str, Any]:
    """The entity's pass is complete; what it repaired stays shown until the next one completes."""
    return {
        "done": True,
        "finished_at": now,
        "last_complete_at": now,
        "last_queued": queued,
        "last_deactivated": deactivated,
    }


def _active(entity: Entity, progress: Row):
    held = HELD[entity.name]
    table = held.table
    condition = table.c.is_active.is_(True)
    if held.dated:  # documents outside the listed dates are not Zoho's answer's business
        condition = and_(condition, table.c.date >= progress.since_date)
    return condition


def _unseen(entity: Entity, progress: Row):
    """The active rows this pass has not listed, which existed unchanged before it began."""
    held = HELD[entity.name]
    table = held.table
    seen = select(zoho_pass_seen.c.zoho_id).where(
        zoho_pass_seen.c.entity_type == entity.name, zoho_pass_seen.c.pass_started_at == progress.pass_started_at
    )
    started = progress.pass_started_at
    return and_(
        _active(entity, progress),
        held.key.is_not(None),
        table.c.created_at < started,
        or_(table.c.zoho_last_modified.is_(None), table.c.zoho_last_modified < started),
        not_(held.key.in_(seen)),
    )


def _sweep_one(
    settings: Settings,
    engine: Engine | None,
    client: ZohoClient,
    entity: Entity,
    progress: Row,
    counts: StepCounts,
) -> None:
    """Ask Zoho for one stored record the pass did not list: queue its deletion when Zoho no
    longer holds it, or bring it in line when it does. The entity is done when none is left."""
    held = HELD[entity.name]
    with read(engine) as connection:
        zoho_id = connection.execute(
            select(held.key).where(_unseen(entity, progress)).order_by(held.key).limit(1)
        ).scalar()
    record = None if zoho_id is None else client.get_record(entity.list_path, entity.document, zoho_id)
    with write(engine) as connection:
        values: dict[str, Any] = {"updated_at": utcnow()}
        if zoho_id is None:
            values.update(_finished(utcnow(), queued=progress.queued, deactivated=progress.deactivated))
            _forget_seen(connection, entity, progress.pass_started_at)
            log.info(
                "Zoho full pass finished an entity", extra={"entity": entity.name, "deactivated": progress.deactivated}
            )
        elif record is None:
            deletion = {
                "event_type": "delete",
                entity.document: {
                    entity.record.id_field: zoho_id,
                    "last_modified_time": progress.pass_started_at.isoformat(),
                },
            }
            enqueue_event(connection, entity, deletion)
            values["deactivated"] = zoho_sync_progress.c.deactivated + 1
        else:
            queued, _, _ = _queue_differing(connection, entity, [record])
            values["queued"] = zoho_sync_progress.c.queued + queued
        if zoho_id is not None:
            _mark_seen(connection, entity, progress.pass_started_at, [zoho_id])
        fenced = connection.execute(
            update(zoho_sync_progress)
            .where(
                _progress_key(settings, entity, FULL),
                zoho_sync_progress.c.pass_started_at == progress.pass_started_at,
                zoho_sync_progress.c.done.is_(False),
                zoho_sync_progress.c.deactivated == progress.deactivated,
                zoho_sync_progress.c.queued == progress.queued,
            )
            .values(**values)
        )
        if fenced.rowcount != 1:
            raise _Overtaken()
    if zoho_id is not None and record is None:
        counts.deactivated += 1


def _forget_seen(connection: Connection, entity: Entity, started: datetime) -> None:
    """The pass is over for this entity: what it listed is no longer needed."""
    connection.execute(
        zoho_pass_seen.delete().where(
            zoho_pass_seen.c.entity_type == entity.name, zoho_pass_seen.c.pass_started_at == started
        )
    )


def _mark_seen(connection: Connection, entity: Entity, started: datetime, zoho_ids: list[str]) -> None:
    rows = [{"entity_type": entity.name, "pass_started_at": started, "zoho_id": zoho_id} for zoho_id in set(zoho_ids)]
    insert_rows(connection, zoho_pass_seen, rows, skip_duplicates=True)


def _queue_differing(connection: Connection, entity: Entity, records: list[Any]) -> tuple[int, int, list[str]]:
    """Queue, through the intake, the listed records that differ from the stored ones: (queued,
    duplicates, listed ids)."""
    now = utcnow()
    parsed: dict[str, ZohoEvent] = {}
    for record in records:
        try:
            event = checked_event(entity, {entity.document: record}, now)
        except ValidationFailed as failed:  # a record Zoho lists may not fit, or be stamped far ahead
            log_invalid(entity, record, failed)
            continue
        parsed[event.source_id] = event
    held = HELD[entity.name]
    columns = [held.key, held.table.c.is_active, held.table.c.zoho_data]
    if entity.name == "products":
        columns.append(products.c.stock_quantity)
    stored = (
        {row[0]: row for row in connection.execute(select(*columns).where(held.key.in_(sorted(parsed))))}
        if parsed
        else {}
    )
    differing = [
        queue_row(entity, event, now)
        for source_id, event in parsed.items()
        if _differs(entity, event.record, stored.get(source_id))
    ]
    results = queue.enqueue(connection, differing) if differing else []
    queued = sum(1 for queue_id, new in results if new or _run_again(connection, queue_id))
    return queued, len(results) - queued, list(parsed)


def log_invalid(entity: Entity, record: Any, failed: ValidationFailed) -> None:
    """A listed record that fails the webhooks' validation is logged and not queued (the rest are)."""
    record_id = record.get(entity.record.id_field) if isinstance(record, dict) else None
    log.warning(
        "Zoho record failed validation, not queued",
        extra={"entity": entity.name, "errors": failed.errors, "record_id": record_id},
    )


def _differs(entity: Entity, record: Any, stored: Row | None) -> bool:
    if entity.name == "customers" and record.is_vendor:
        return False  # vendors stay out of the shop's customers
    if stored is None:
        return True
    status = getattr(record, "status", None)
    if entity.name == "products":
        active = stored.is_active if status is None else status == "active"
        stock = record.stock
        if stock is not None and stored.stock_quantity != max(0, int(stock.to_integral_value(ROUND_HALF_UP))):
            return True
    else:
        active = (status or "").lower() not in _INACTIVE_STATUSES
    if stored.is_active != active:
        return True
    # Only the fields the list carries: a list entry lacks some the webhook has (invoices' lines).
    stored_data = stored.zoho_data or {}
    listed = record.model_dump(mode="json", exclude_none=True, include=record.model_fields_set)
    return any(stored_data.get(field) != value for field, value in listed.items())


def _run_again(connection: Connection, queue_id: int) -> bool:
    """Put a completed queue item back to pending: its event is what Zoho holds, and the stored row drifted from it."""
    return (
        connection.execute(
            update(tds_sync_queue)
            .where(tds_sync_queue.c.id == queue_id, tds_sync_queue.c.status == queue.COMPLETED)
            .values(status=queue.PENDING, attempt_count=0, next_retry_at=None, result=None, completed_at=None)
        ).rowcount
        == 1
    )


# Degraded when the last complete full pass (or, before any, the import) ended longer ago than this.
FULL_PASS_MAX_AGE = timedelta(hours=36)


def mirror_status(connection: Connection, settings: Settings, now: datetime) -> MirrorStatus:
    """The import's and the latest full pass's progress per entity, and Zoho calls used today."""
    passes = {mode: progress_rows(connection, settings, mode) for mode in (IMPORT, FULL)}
    calls = zoho_budget.usage(connection, settings, now)
    return MirrorStatus(
        import_progress={name: _pass_progress(row) for name, row in passes[IMPORT].items()},
        full_pass={name: _pass_progress(row) for name, row in passes[FULL].items()},
        last_complete_full_pass_at=_last_complete_of(passes),
        zoho_calls=ZohoCallsUsed(today=calls.today, limit=calls.limit),
    )


def mirror_issues(status: MirrorStatus, now: datetime) -> list[str]:
    """The contract's reasons for a degraded sync that the mirror gives."""
    issues = []
    last = status.last_complete_full_pass_at
    if last is None:
        issues.append("no complete import or full pass of Zoho yet")
    elif now - last > FULL_PASS_MAX_AGE:
        hours = round((now - last).total_seconds() / 3600)
        limit = round(FULL_PASS_MAX_AGE.total_seconds() / 3600)
        issues.append(f"last complete full pass of Zoho ended {hours} h ago (limit {limit} h)")
    railed = sorted(name for name, progress in status.full_pass.items() if progress.rail_tripped)
    if railed:
        issues.append(
            f"full pass deactivated nothing for {', '.join(railed)}: over {RAIL_SHARE:.0%} of the stored active rows "
            "are missing from Zoho's list"
        )
    if status.zoho_calls.today >= status.zoho_calls.limit:
        issues.append(f"Zoho call budget for today is spent ({status.zoho_calls.today} of {status.zoho_calls.limit})")
    return issues


def last_complete_full_pass(connection: Connection, settings: Settings) -> datetime | None:
    """When the last full pass (or, before any, the import) completed for every entity."""
    return _last_complete_of({mode: progress_rows(connection, settings, mode) for mode in (IMPORT, FULL)})


def _last_complete_of(passes: dict[str, dict[str, Row]]) -> datetime | None:
    return _last_complete(passes[FULL]) or _last_complete(passes[IMPORT])


def _last_complete(rows: dict[str, Row]) -> datetime | None:
    """When every entity had completed a pass: the oldest of their last completions."""
    if not rows or any(row.last_complete_at is None for row in rows.values()):
        return None
    return min(row.last_complete_at for row in rows.values())


def _pass_progress(row: Row) -> PassProgress:
    return PassProgress(
        listed=row.listed,
        queued=row.queued,
        deactivated=row.deactivated,
        done=row.done,
        started_at=row.pass_started_at,
        finished_at=row.finished_at,
        rail_tripped=row.rail_tripped,
        last_complete_at=row.last_complete_at,
        last_queued=row.last_queued,
        last_deactivated=row.last_deactivated,
    )
