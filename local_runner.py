"""Every function on one server: `python local_runner.py [--host H] [--port P] [--workers N] [--demo]`.

Serves every route of every function (service.py) on granian,
applies the migrations first, loads demo data when asked to (or into the embedded SQLite
default while it is empty), and shuts down cleanly on Ctrl-C or SIGTERM. A failure to start
is one line naming the cause and the fix, with a non-zero exit.

Processes: this one is the coordinator. It prepares the database once, binds the port, then
granian starts N HTTP worker processes (`--workers`) that share the socket; each builds the
WSGI application and runs its own request-metrics flusher (its own counts; the readers add
up rows from several processes). The background jobs, the drain workers (TDS_WORKERS
threads), the alert watcher and the hourly retention purge, run only here, in the coordinator,
so they do not multiply with N. Worker processes are started with `spawn`: a fresh interpreter inherits no
database connection, lock or thread.

This is also what a single-machine deployment runs, so the server is chosen for hostile
clients (bench/README.md, "HTTP server of the local runner"): granian's Rust event loop holds idle and slow
connections at the cost of a socket, bounds the time and size of the headers, and the body
stage (common.body_stage) awaits each body within REQUEST_BODY_TIMEOUT_SECONDS on the event
loop, so only complete requests reach the request threads.
"""

from __future__ import annotations

import argparse
import atexit
import multiprocessing
import os
import socket
import sys
from functools import partial

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from werkzeug.wrappers import Request, Response

from common import http
from common.config import (
    DEFAULT_DATABASE_URL,
    LOCAL_ADMIN_KEY_PATH,
    ConfigError,
    Settings,
    get_settings,
    local_admin_key,
)
from common.db.engine import ENGINES, get_engine
from common.logs import configure_logging, get_logger
from common.routes import Route, RouteTable
from common.shop.auth import TOKEN_COMMAND, issue_token
from common.startup import bind_problem, database_problem
from service import ROUTES

log = get_logger("runner")


def create_app(routes: tuple[Route, ...] = ROUTES):
    """One WSGI application serving every route with the functions' own handlers, each request
    matched once against the whole table: unknown paths get the contract's 404 / 405."""
    table = RouteTable(routes)

    def dispatch(request: Request) -> Response:
        return http.handle(request, table)

    return http.as_wsgi(dispatch)


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run every TSH ERP function on one local server.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to bind (default 8080)")
    parser.add_argument("--workers", type=int, default=1, help="HTTP worker processes sharing the port (default 1)")
    parser.add_argument("--threads", type=int, default=8, help="request threads per worker process (default 8)")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="replace ALL data in the database with the demo set (done without asking only for the "
        "embedded SQLite default while its catalogue is empty; refused in production)",
    )
    return parser.parse_args(argv)


def _database_label(settings: Settings) -> str:
    return make_url(settings.database_url).render_as_string(hide_password=True)


def _prepare_database(settings: Settings, load_demo: bool) -> None:
    """Migrate; load demo data when asked, or into the embedded SQLite default while its
    catalogue is empty: any other database may be an operator's, and is never filled unasked."""
    from common import migrate
    from common.models import products
    from demo_data import generator

    engine = get_engine()
    migrate.upgrade(engine)
    if settings.is_production:
        return
    with engine.connect() as connection:
        empty = connection.execute(select(func.count()).select_from(products)).scalar_one() == 0
    if load_demo or (empty and settings.database_url == DEFAULT_DATABASE_URL):
        summary = generator.generate(engine, generator.DEMO_SIZE, replace=True)
        log.info("demo data loaded", extra=summary)
    elif empty:
        print("The catalogue is empty; --demo would replace all data with the demo set.", flush=True)


def _demo_customer_token(settings: Settings) -> str | None:
    """A token for the demo customer, so that checkout can be tried with curl (never in production)."""
    from common.models import customers
    from demo_data.generator import DEMO_CUSTOMER_ID

    if settings.is_production:
        return None
    with get_engine().connect() as connection:
        if connection.execute(select(customers.c.id).where(customers.c.id == DEMO_CUSTOMER_ID)).first() is None:
            return None
    return issue_token(DEMO_CUSTOMER_ID, settings, ttl_seconds=30 * 24 * 3600)


def _local_admin_key(settings: Settings) -> tuple[Settings, str | None]:
    """Locally, with no ADMIN_API_KEY, the key kept in var/ (made at the first start): the settings
    that carry it, and the key itself when this start made it (to print once). The HTTP worker
    processes inherit it through the environment, as if it had been set there."""
    if settings.admin_api_key is not None or settings.is_production:
        return settings, None
    key, created = local_admin_key()
    os.environ["ADMIN_API_KEY"] = key
    get_settings.cache_clear()
    return get_settings(), key if created else None


def _check_port(host: str, port: int) -> None:
    """Raise the OSError that binding host:port would raise now (the address in use, say)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.create_server((host, port), family=family):
        pass


def _cannot_start(reason: str) -> int:
    print(f"cannot start: {reason}", file=sys.stderr)
    ENGINES.clear()
    return 1


# granian's own log lines (start-up, worker processes, shutdown) in the project's JSON shape.
_GRANIAN_LOGGING = {
    "formatters": {"generic": {"()": "common.logs.JsonFormatter"}, "access": {"()": "common.logs.JsonFormatter"}},
    "handlers": {
        "console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
        "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
    },
}
# A worker process still busy this long after SIGTERM is killed.
_WORKER_STOP_SECONDS = 30
# A client gets this long to send its headers (slowloris), in at most this many bytes (431 past
# it); hyper's defaults are 30 s and 400 KiB, which 2,000 slow clients could turn into 800 MB.
_HEADER_SECONDS = 10
_HEADER_BYTES = 64 * 1024


def _worker_app(threads: int):
    """The application, built inside each HTTP worker process: the WSGI application behind the
    stage that reads each body whole, within its deadline, before a request thread takes it;
    with the process's metrics flusher. granian has no public hook for a worker's end; a spawned
    worker ends as any Python program does, so atexit writes the process's last counts after its
    final request."""
    from common.body_stage import BodyFirst
    from common.metrics.recording import MetricsFlusher

    configure_logging()
    flusher = MetricsFlusher()
    flusher.start()
    atexit.register(ENGINES.clear)
    atexit.register(flusher.stop)  # runs first: the flush needs the engine
    return BodyFirst(create_app(), threads, get_settings().request_body_timeout_seconds)


def _server(args: argparse.Namespace):
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.server import Server

    # ASGI without lifespan: the event loop awaits bodies (common.body_stage), `--threads`
    # request threads run complete requests; every other host serves the WSGI app directly.
    return Server(
        "local_runner:create_app",  # only names the processes; _worker_app loads the application
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGINL,
        workers=args.workers,
        backlog=2048,
        http1_settings=HTTP1Settings(header_read_timeout=_HEADER_SECONDS * 1000, max_buffer_size=_HEADER_BYTES),
        log_dictconfig=_GRANIAN_LOGGING,
        workers_kill_timeout=_WORKER_STOP_SECONDS,
    )


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    configure_logging()
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2

    from common.ops.watch import AlertTimer
    from common.retention import RetentionTimer
    from common.sync.workers import DrainWorkers

    if args.demo and settings.is_production:
        print("--demo replaces all data and is refused when APP_ENV=production", file=sys.stderr)
        return 2
    if args.workers < 1 or args.threads < 1:
        print("--workers and --threads must be at least 1", file=sys.stderr)
        return 2
    try:
        # The port is checked before the database: migrating and loading demo data take a
        # while, and a busy port should be reported at once.
        _check_port(args.host, args.port)
        _prepare_database(settings, args.demo)
    except OSError as exc:
        return _cannot_start(bind_problem(exc, args.host, args.port))
    except sa_exc.DBAPIError as exc:
        return _cannot_start(database_problem(exc, settings.database_url))
    try:
        settings, new_admin_key = _local_admin_key(settings)
    except ConfigError as exc:
        return _cannot_start(str(exc))
    url = f"http://{args.host}:{args.port}"
    print(
        f"TSH ERP local runner on {url} (database {_database_label(settings)}, {args.workers} worker processes)",
        flush=True,
    )
    for route in ROUTES:
        handler = route.handler
        print(f"  {route.method:6} {url}{route.path}  -> {handler.__module__}.{handler.__name__}", flush=True)
    print(f"Operations page: {url}/dashboard/login", flush=True)
    if new_admin_key:
        print(
            f"  admin key, generated at this first start and kept in {LOCAL_ADMIN_KEY_PATH} (shown this once):\n"
            f"  {new_admin_key}",
            flush=True,
        )
    token = _demo_customer_token(settings)
    if token:
        print(
            f"Demo customer (id 1) token, valid 30 days and across restarts "
            f"(print another: {TOKEN_COMMAND.replace('<customer id>', '1')}):\n  Authorization: Bearer {token}",
            flush=True,
        )

    multiprocessing.set_start_method("spawn", force=True)
    server = _server(args)
    for job in (DrainWorkers(settings), AlertTimer(settings), RetentionTimer(settings)):
        server.on_startup(job.start)  # once the port is bound, before the HTTP processes start
        server.on_shutdown(job.stop)  # after every HTTP process has finished its requests
    try:
        server.serve(target_loader=partial(_worker_app, args.threads), wrap_loader=False)
    finally:
        ENGINES.clear()
        print("TSH ERP local runner stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
