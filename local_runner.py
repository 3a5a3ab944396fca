"""Every function on one server, in one process: `python local_runner.py [--host H] [--port P] [--demo]`.

Mounts each route of the single route table (common.routes) on a threaded WSGI server
(waitress), applies the migrations first, loads demo data when asked to (or into the
embedded SQLite default while it is empty), and shuts down cleanly on Ctrl-C or SIGTERM.
A failure to start is one line naming the cause and the fix, with a non-zero exit.

This is also what a single-machine deployment runs, so the server is tuned for hostile
clients (docs/BENCHMARKS.md, "HTTP server"): waitress reads requests on its event loop
(poll, not select, so thousands of sockets), hands only complete requests to the threads,
and here also closes a connection that sent both Content-Length and Transfer-Encoding,
answers 400 when chunked is not the last transfer coding (RFC 9112), accepts raw UTF-8 in
the request target (as curl sends `?q=سامسونج`), and gives the errors it produces itself the
contract's JSON shape and a log line.
"""

from __future__ import annotations

import argparse
import importlib
import re
import signal
import socket
import sys
from collections.abc import Callable, Iterable

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from werkzeug.wrappers import Request, Response

from common import http
from common.config import DEFAULT_DATABASE_URL, ConfigError, Settings, get_settings
from common.db import get_engine, reset_engine
from common.errors import ApiError
from common.logs import configure_logging, get_logger
from common.routes import ROUTES, Route, RouteTable
from common.shop.auth import TOKEN_COMMAND, issue_token
from common.startup import bind_problem, database_problem

log = get_logger("runner")


def load_entries(routes: Iterable[Route]) -> dict[str, Callable[[Request], Response]]:
    """Import each function's module by the name the route table gives it."""
    entries = {}
    for route in routes:
        if route.target not in entries:
            module = importlib.import_module(f"functions.{route.module}")
            entries[route.target] = getattr(module, route.target)
    return entries


def create_app(routes: Iterable[Route] = ROUTES):
    """One WSGI application serving every route; unknown paths get the contract's 404 / 405."""
    table = RouteTable(tuple(routes))
    entries = load_entries(table.routes)

    def dispatch(request: Request) -> Response:
        try:
            route, _ = table.match(request.method, request.path)
        except ApiError:
            return http.handle(request, table, {})
        return entries[route.target](request)

    return http.as_wsgi(dispatch)


# Idle and slow clients cost a socket each, never a request thread; these bound how many.
CONNECTION_LIMIT = 4096
IDLE_SECONDS = 30
_TRANSFER_ENCODING = re.compile(rb"(?im)^transfer-encoding:[ \t]*([^\r\n]*)")


def _percent_encode_target(header_plus: bytes) -> bytes:
    """Raw UTF-8 in the request line, percent-encoded: waitress splits the target as ASCII and
    would answer 400 "Bad URI" to `/api/mobile/search?q=سامسونج` as curl sends it. Browsers
    encode those bytes the same way before sending, so the application sees the same PATH_INFO
    and QUERY_STRING either way."""
    line, separator, rest = header_plus.partition(b"\r\n")
    if line.isascii():
        return header_plus
    return b"".join(b"%%%02X" % byte if byte > 0x7F else bytes((byte,)) for byte in line) + separator + rest


def _hardened_server(server) -> None:
    """Waitress with the request parsing and error answers of the contract (see the docstring)."""
    from waitress.channel import HTTPChannel
    from waitress.parser import HTTPRequestParser, ParsingError, TransferEncodingNotImplemented
    from waitress.task import ErrorTask

    class StrictParser(HTTPRequestParser):
        def parse_header(self, header_plus: bytes) -> None:
            try:
                super().parse_header(_percent_encode_target(header_plus))
            except TransferEncodingNotImplemented:
                codings = _TRANSFER_ENCODING.search(header_plus)
                if codings and b"chunked" in codings.group(1).lower():
                    raise ParsingError("chunked must be the last transfer coding") from None
                raise
            if self.chunked and "CONTENT_LENGTH" in self.headers:
                # RFC 9112 6.3: a possible smuggling attempt; the answer closes the connection,
                # and bytes queued behind it are dropped unread.
                self.headers["CONNECTION"] = "close"

    class ContractErrorTask(ErrorTask):
        def execute(self) -> None:
            error = self.request.error
            # A request refused while its first line was parsed has no method or path yet.
            log.warning(
                "request refused by the server",
                extra={"status": error.code, "reason": error.reason, "detail": str(error.body)[:200],
                       "method": getattr(self.request, "command", None),
                       "path": getattr(self.request, "path", None),
                       "client": self.channel.addr[0] if self.channel.addr else None},
            )  # fmt: skip
            word = http.ERROR_CODES.get(error.code, "bad_request")
            body = http.dump_json(http.ErrorBody(message=error.reason, code=word))
            self.status = f"{error.code} {error.reason}"
            self.response_headers.append(("Content-Type", "application/json"))
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class Channel(HTTPChannel):
        parser_class = StrictParser
        error_task_class = ContractErrorTask

    server.channel_class = Channel


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run every TSH ERP function on one local server.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to bind (default 8080)")
    parser.add_argument("--threads", type=int, default=8, help="request threads (default 8)")
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
    from common.shop import generator

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
    from common.shop.generator import DEMO_CUSTOMER_ID

    if settings.is_production:
        return None
    with get_engine().connect() as connection:
        if connection.execute(select(customers.c.id).where(customers.c.id == DEMO_CUSTOMER_ID)).first() is None:
            return None
    return issue_token(DEMO_CUSTOMER_ID, settings, ttl_seconds=30 * 24 * 3600)


def _check_port(host: str, port: int) -> None:
    """Raise the OSError that binding host:port would raise now (the address in use, say)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.create_server((host, port), family=family):
        pass


def _cannot_start(reason: str) -> int:
    print(f"cannot start: {reason}", file=sys.stderr)
    reset_engine()
    return 1


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    configure_logging()
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2

    from waitress.server import create_server

    from common.metrics import MetricsFlusher
    from common.sync.workers import DrainWorkers

    if args.demo and settings.is_production:
        print("--demo replaces all data and is refused when APP_ENV=production", file=sys.stderr)
        return 2
    try:
        # The port is checked before the database: migrating and loading demo data take a
        # while, and a busy port should be reported at once.
        _check_port(args.host, args.port)
        _prepare_database(settings, args.demo)
        server = create_server(
            create_app(), host=args.host, port=args.port, threads=args.threads, ident="tsh-erp",
            clear_untrusted_proxy_headers=True, connection_limit=CONNECTION_LIMIT, channel_timeout=IDLE_SECONDS,
            asyncore_use_poll=True, backlog=2048,
        )  # fmt: skip
    except OSError as exc:
        return _cannot_start(bind_problem(exc, args.host, args.port))
    except sa_exc.DBAPIError as exc:
        return _cannot_start(database_problem(exc, settings.database_url))
    _hardened_server(server)
    workers = DrainWorkers(settings)

    def _stop(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    url = f"http://{args.host}:{server.effective_port}"
    print(f"TSH ERP local runner on {url} (database {_database_label(settings)})", flush=True)
    for route in ROUTES:
        print(f"  {route.method:6} {url}{route.path}  -> functions/{route.module}.py:{route.target}", flush=True)
    token = _demo_customer_token(settings)
    if token:
        print(
            f"Demo customer (id 1) token, valid 30 days and across restarts "
            f"(print another: {TOKEN_COMMAND.replace('<customer id>', '1')}):\n  Authorization: Bearer {token}",
            flush=True,
        )
    workers.start()
    flusher = MetricsFlusher()
    flusher.start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        workers.stop()
        server.task_dispatcher.shutdown()
        flusher.stop()  # after the last request thread, so its count is written too
        reset_engine()
        print("TSH ERP local runner stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
