"""One drain contender in a process of its own, started and timed by bench/sync_bench.py.

    python -m bench.drain_worker --database NAME \
        --mode service|service-no-outbox|service-relay|plain-pg8000|plain-psycopg|procrastinate[-upsert]

It connects and warms up first, prints READY, waits for GO on stdin, drains until the
queue is empty, then prints `RESULT {"started", "finished", "cpu"}` (wall-clock seconds and
its own CPU seconds), so that imports and connection set-up stay out of the measured time,
and keeps its connections open until the parent sends one more line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time


def _ready_then_wait() -> None:
    print("READY", flush=True)
    if sys.stdin.readline().strip() != "GO":
        raise SystemExit("no GO from the parent")


def _report(started: float, finished: float, cpu: float, **extra) -> None:
    """Report, then stay connected until the parent has read the database backends' CPU."""
    print("RESULT " + json.dumps({"started": started, "finished": finished, "cpu": cpu, **extra}), flush=True)
    sys.stdin.readline()


def run_service(url: str, outbox_writes: bool = True, then_relay: bool = False) -> None:
    """The drain as the scheduled function runs it; for the outbox's cost, the same drain with
    its event writes switched off (reachable only from here), or followed by the relay."""
    from common.config import Settings
    from common.db.engine import check_database, create_engine_for
    from common.events import outbox
    from common.events.relay import relay
    from common.sync.drain import drain

    if not outbox_writes:
        outbox.write = lambda connection, events, occurred_at: None
    settings = Settings(database_url=url, tds_workers=0)
    engine = create_engine_for(settings)
    check_database(engine)
    _ready_then_wait()
    started, cpu = time.time(), time.process_time()
    summary = drain(settings, trigger="bench", budget_seconds=600, engine=engine)
    relayed = relay(settings, budget_seconds=600, engine=engine).model_dump() if then_relay else {}
    _report(
        started, time.time(), time.process_time() - cpu, completed=summary.completed, claimed=summary.claimed, **relayed
    )


def run_plain(driver: str, host: str, port: int, user: str, database: str) -> None:
    from bench import plain_sql

    connection = plain_sql.connect(driver, database, host, port, user)
    cursor = connection.cursor()
    cursor.execute("SELECT 1")
    cursor.fetchall()
    connection.commit()
    _ready_then_wait()
    started, cpu = time.time(), time.process_time()
    done = plain_sql.drain(connection, f"bench-plain:{os.getpid()}")
    _report(started, time.time(), time.process_time() - cpu, completed=done)


def run_procrastinate(url: str, conninfo: str, concurrency: int, plain_upsert: bool = False) -> None:
    from bench import procrastinate_app

    app = procrastinate_app.make_app(conninfo, pool_size=concurrency + 2)
    if plain_upsert:
        procrastinate_app.bind_plain_upsert(app, conninfo)
    else:
        procrastinate_app.bind(app, url)
        procrastinate_app.warm(url)

    async def main() -> None:
        async with app.open_async():
            await app.check_connection_async()
            await asyncio.get_running_loop().run_in_executor(None, _ready_then_wait)
            started, cpu = time.time(), time.process_time()
            await app.run_worker_async(
                queues=["zoho"], concurrency=concurrency, wait=False, install_signal_handlers=False
            )
            _report(started, time.time(), time.process_time() - cpu)

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--mode",
        required=True,
        choices=[
            "service",
            "service-no-outbox",
            "service-relay",
            "plain-pg8000",
            "plain-psycopg",
            "procrastinate",
            "procrastinate-upsert",
        ],
    )
    parser.add_argument("--database", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    url = f"postgresql://{args.user}@{args.host}:{args.port}/{args.database}"
    if args.mode == "service":
        run_service(url)
    elif args.mode == "service-no-outbox":
        run_service(url, outbox_writes=False)
    elif args.mode == "service-relay":
        run_service(url, then_relay=True)
    elif args.mode.startswith("plain-"):
        run_plain(args.mode.removeprefix("plain-"), args.host, args.port, args.user, args.database)
    else:
        run_procrastinate(
            url,
            f"host={args.host} port={args.port} user={args.user} dbname={args.database}",
            args.concurrency,
            plain_upsert=args.mode == "procrastinate-upsert",
        )


if __name__ == "__main__":
    main()
