"""The import of an existing organisation, and a full pass over it, against the fake Zoho.

    PYTHONPATH=$PWD .venv/bin/python bench/mirror_bench.py [--items 100000] [--contacts 20000] [--limit 1000]

A scratch PostgreSQL database; the fake Zoho (tests/fake_zoho.py) holding the items and the
customers, answering 429 past `--limit` calls a minute, and the service's call budget raised to the same
limit; two drain threads applying the queue while the reconcile steps list Zoho. Reported:
- Zoho calls per 1,000 records (target <= 6);
- the import's time against the floor Zoho's limit sets, calls / limit (target <= 1.2x);
- the most open queue items seen (sampled every 20 ms) against two pages' worth, 400;
- a full pass over the unchanged organisation: what it queued and wrote (target: nothing).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ScratchDatabases, Verdict, code_state, db_url, log, publish
from tests.fake_zoho import CONTACTS, ITEMS, FakeZoho, zoho_time

PAGES_WORTH = 2 * 200


def _organisation(fake: FakeZoho, items: int, contacts: int) -> None:
    """Records last changed weeks ago, added in bulk (the fake's put() is for a few records)."""
    start = datetime.now(UTC) - timedelta(days=30)
    fake.add(
        ITEMS,
        *(
            {
                "item_id": str(460000000000000 + n),
                "name": f"Item {n}",
                "sku": f"SKU-{n}",
                "rate": 1000 + n % 5000,
                "stock_on_hand": n % 40,
                "available_stock": n % 40,
                "status": "active",
                "unit": "pcs",
                "created_time": zoho_time(start + timedelta(seconds=n)),
                "last_modified_time": zoho_time(start + timedelta(seconds=n)),
            }
            for n in range(items)
        ),
    )
    fake.add(
        CONTACTS,
        *(
            {
                "contact_id": str(880000000000000 + n),
                "contact_name": f"Customer {n}",
                "contact_type": "customer",
                "phone": f"+9647{n:09d}",
                "status": "active",
                "created_time": zoho_time(start + timedelta(seconds=n)),
                "last_modified_time": zoho_time(start + timedelta(seconds=n)),
            }
            for n in range(contacts)
        ),
    )


class Drainers:
    """Drain threads as the local runner's workers would run, and a sampler of the open queue."""

    def __init__(self, settings, workers: int = 2) -> None:
        from common.db.transactions import read
        from common.sync import queue_reads
        from common.sync.drain import drain

        self.stop = threading.Event()
        self.most_open = 0
        self._count = lambda: _open(read, queue_reads)
        self._threads = [threading.Thread(target=self._drain, args=(drain, settings)) for _ in range(workers)]
        self._threads.append(threading.Thread(target=self._sample))

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join()

    def _drain(self, drain, settings) -> None:
        while not self.stop.is_set():
            try:
                claimed = drain(settings, trigger="bench", budget_seconds=5).claimed
            except Exception as exc:  # noqa: BLE001 - a worker outlives a database hiccup, as the runner's do
                log(f"drain failed ({type(exc).__name__}); going on")
                claimed = 0
            if claimed == 0:
                time.sleep(0.02)

    def _sample(self) -> None:
        while not self.stop.is_set():
            self.most_open = max(self.most_open, self._count())
            time.sleep(0.02)

    def wait_empty(self) -> None:
        while self._count():
            time.sleep(0.05)


def _open(read, queue_reads) -> int:
    with read() as connection:
        return queue_reads.count_open(connection)


def _steps(reconcile, settings, mode: str | None) -> int:
    """Reconcile steps until one is complete; a paused one is repeated when the minute turns."""
    steps = 0
    while True:
        steps += 1
        answer = reconcile(settings, mode=mode)
        log(
            f"step {steps}: {answer.mode}, complete {answer.complete}, pages {answer.pages}, "
            f"queued {answer.enqueued}, calls today {answer.zoho_calls.today}"
        )
        if answer.complete:
            return steps
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument(
        "--limit", type=int, default=1000, help="Zoho's calls a minute (the fake's and the service's budget)"
    )
    args = parser.parse_args()

    databases = ScratchDatabases("mirror_bench_")
    database = databases.create("import")
    with FakeZoho(calls_per_minute=args.limit) as fake:
        _organisation(fake, args.items, args.contacts)
        os.environ.update(fake.environment())
        os.environ.update(
            DATABASE_URL=db_url(database),
            ZOHO_MINUTE_CALL_LIMIT=str(args.limit),
            ZOHO_DAILY_CALL_LIMIT="10000000",
            TDS_BATCH_SIZE="100",
            REQUEST_METRICS="false",
        )
        from sqlalchemy import func, select

        from common import migrate
        from common.config import get_settings
        from common.db.engine import get_engine
        from common.db.transactions import read
        from common.models import customers, products, tds_sync_queue
        from common.sync.reconcile import reconcile

        settings = get_settings()
        migrate.upgrade(get_engine())
        records = args.items + args.contacts
        log(f"import of {args.items} items and {args.contacts} contacts, Zoho's limit {args.limit} calls/min")

        with Drainers(settings) as drainers:
            started, cpu = time.monotonic(), time.process_time()
            import_steps = _steps(reconcile, settings, None)
            listed_seconds = time.monotonic() - started
            drainers.wait_empty()
            import_seconds = time.monotonic() - started
            import_cpu = time.process_time() - cpu
            most_open = drainers.most_open
        calls = len(fake.api_calls())
        with read() as connection:
            held = (
                connection.execute(select(func.count()).select_from(products)).scalar_one(),
                connection.execute(select(func.count()).select_from(customers)).scalar_one(),
            )
            queued_before = connection.execute(select(func.count()).select_from(tds_sync_queue)).scalar_one()
            products_before = connection.execute(select(func.max(products.c.updated_at))).scalar()
        floor = calls / args.limit * 60

        log("full pass over the unchanged organisation")
        fake.reset_counters()
        started, cpu = time.monotonic(), time.process_time()
        full_steps = _steps(reconcile, settings, "full")
        full_seconds, full_cpu = time.monotonic() - started, time.process_time() - cpu
        full_calls = len(fake.api_calls())
        with read() as connection:
            queued_after = connection.execute(select(func.count()).select_from(tds_sync_queue)).scalar_one()
            products_after = connection.execute(select(func.max(products.c.updated_at))).scalar()
    databases.drop(database)

    per_thousand = calls / records * 1000
    verdicts = [
        Verdict("Zoho calls per 1,000 records <= 6", f"{per_thousand:.2f}", per_thousand <= 6),
        Verdict(
            "import time <= 1.2x the floor calls / limit",
            f"{import_seconds:.1f} s against {floor:.1f} s ({import_seconds / floor:.2f}x)",
            import_seconds <= 1.2 * floor,
        ),
        Verdict(
            "the queue never holds more than two pages' worth",
            f"most open {most_open} (limit {PAGES_WORTH})",
            most_open <= PAGES_WORTH,
        ),
        Verdict(
            "a full pass over unchanged records queues and writes nothing",
            f"queued {queued_after - queued_before}, products changed: {products_after != products_before}",
            queued_after == queued_before and products_after == products_before,
        ),
    ]
    text = "\n".join(
        [
            f"# Mirror import benchmark ({code_state()})",
            "",
            (
                f"{args.items} items and {args.contacts} contacts from the fake Zoho at {args.limit} calls/min, "
                "PostgreSQL, two drain threads."
            ),
            "",
            f"- imported: {held[0]} products, {held[1]} customers in {import_steps} steps",
            f"- Zoho calls: {calls} ({per_thousand:.2f} per 1,000 records)",
            (
                f"- listing done at {listed_seconds:.1f} s, queue drained at {import_seconds:.1f} s; "
                f"floor {floor:.1f} s ({import_seconds / floor:.2f}x); bench process CPU {import_cpu:.1f} s "
                f"({import_cpu / records * 1000:.2f} ms per record, listing and applying)"
            ),
            f"- most open queue items: {most_open} (two pages: {PAGES_WORTH})",
            (
                f"- full pass: {full_calls} calls in {full_steps} steps, {full_seconds:.1f} s, CPU {full_cpu:.1f} s; "
                f"queued {queued_after - queued_before}; products' latest update unchanged: "
                f"{products_after == products_before}"
            ),
            "",
            *(
                f"- {'PASS' if verdict.passed else 'FAIL'}: {verdict.target}: {verdict.measured}"
                for verdict in verdicts
            ),
        ]
    )
    payload = {
        "args": vars(args),
        "machine": {"nproc": os.cpu_count(), "loadavg_at_end": os.getloadavg()},
        "calls": calls,
        "import_seconds": import_seconds,
        "listed_seconds": listed_seconds,
        "floor_seconds": floor,
        "most_open": most_open,
        "full_pass": {"calls": full_calls, "seconds": full_seconds, "queued": queued_after - queued_before},
    }
    publish("mirror", text, payload, verdicts, [])


if __name__ == "__main__":
    main()
