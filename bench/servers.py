"""A WSGI application on each HTTP arrangement the local runner has used, for side-by-side runs.

    python -m bench.servers --server waitress|granian|granian-wsgi --app hello|runner --port P [--threads T]

`hello` is bench/hello.py through common.http.as_wsgi; `runner` is local_runner.create_app
(the database must be migrated already). waitress gets the options the runner used with it
(issue 10's tuning); granian the runner's own arrangement (local_runner._server: ASGI with the
body stage of common.body_stage) in one worker; granian-wsgi the arrangement before the body
stage (granian's WSGI interface, the body read on the request thread).
"""

from __future__ import annotations

import argparse
import signal
from functools import partial

from werkzeug.wrappers import Response

from bench.hello import hello
from common.http import as_wsgi


def hello_app():
    return as_wsgi(lambda request: Response(hello(request)))


def runner_app():
    import local_runner

    return local_runner.create_app()


APPS = {"hello": hello_app, "runner": runner_app}


def serve_waitress(app, port: int, threads: int) -> None:
    from waitress.server import create_server

    server = create_server(
        app, host="127.0.0.1", port=port, threads=threads, ident="tsh-erp", clear_untrusted_proxy_headers=True,
        connection_limit=4096, channel_timeout=30, asyncore_use_poll=True, backlog=2048,
    )  # fmt: skip
    signal.signal(signal.SIGTERM, lambda *_: server.close())
    try:
        server.run()
    except (KeyboardInterrupt, OSError):
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", choices=("waitress", "granian", "granian-wsgi"), required=True)
    parser.add_argument("--app", choices=tuple(APPS), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    if args.server == "waitress":
        serve_waitress(APPS[args.app](), args.port, args.threads)
        return
    import multiprocessing

    import local_runner

    multiprocessing.set_start_method("spawn", force=True)
    runner_args = argparse.Namespace(host="127.0.0.1", port=args.port, workers=1, threads=args.threads)
    server = local_runner._server(runner_args)
    if args.server == "granian-wsgi":
        from granian.constants import Interfaces

        server.interface, server.blocking_threads = Interfaces.WSGI, args.threads
        server.serve(target_loader=APPS[args.app], wrap_loader=False)
        return
    server.serve(target_loader=partial(behind_body_stage, args.app, args.threads), wrap_loader=False)


def behind_body_stage(app: str, threads: int):
    """The application as the runner serves it: behind the body stage (built in the worker process)."""
    from common.body_stage import BodyFirst
    from common.config import get_settings

    return BodyFirst(APPS[app](), threads, get_settings().request_body_timeout_seconds)


if __name__ == "__main__":
    main()
