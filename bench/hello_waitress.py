"""`hello` mounted the way local_runner.py mounts our functions: waitress, same options, common.http.as_wsgi.

    python -m bench.hello_waitress --port P --threads T
"""

from __future__ import annotations

import argparse
import signal

from waitress.server import create_server
from werkzeug.wrappers import Response

from bench.hello import hello
from common.http import as_wsgi


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    app = as_wsgi(lambda request: Response(hello(request)))
    server = create_server(
        app, host="127.0.0.1", port=args.port, threads=args.threads, ident="tsh-erp", clear_untrusted_proxy_headers=True
    )
    signal.signal(signal.SIGTERM, lambda *_: server.close())
    try:
        server.run()
    except (KeyboardInterrupt, OSError):
        pass


if __name__ == "__main__":
    main()
