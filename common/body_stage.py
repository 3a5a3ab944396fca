"""The local runner's front stage: a request's body is read whole on the event loop, within a
deadline, before any request thread sees the request.

A WSGI server hands the request to a thread as soon as the headers are in, and the thread then
blocks on every byte of the body: a few dozen clients trickling one byte a second hold every
thread and the service stops answering. granian's HTTP/1 settings bound the headers (their read
timeout and size) but not the body. Here the body is awaited as a coroutine, so a slow client
costs a socket and a buffer, not a thread; past the deadline it gets 408 and the connection is
closed, over 1 MiB 413, a broken body 400, each in the contract's error shape with an X-Request-ID. Complete
requests then run on a bounded pool of request threads, with the body in memory.

`BodyFirst(wsgi_app, threads, body_seconds)` is an ASGI application (granian's ASGI interface
without lifespan) around the same WSGI application every other host serves.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from werkzeug.wrappers import Request

from common.errors import AppError, BadRequest, PayloadTooLarge, RequestTimeout
from common.http import MAX_BODY_BYTES, error_response, request_id_for
from common.logs import get_logger

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

log = get_logger("http")


def environ_for(scope: Scope) -> dict[str, Any]:
    """The WSGI environ of an ASGI HTTP scope, without its body (PEP 3333: texts as latin-1)."""
    server_host, server_port = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode().decode("latin-1"),
        "PATH_INFO": scope["path"].encode().decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server_host),
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


async def _read_body(receive: Receive, declared: str | None) -> bytes:
    """The whole body; PayloadTooLarge past MAX_BODY_BYTES, before reading it when it says so."""
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge()
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":  # gone, or a broken chunked framing: granian says the same
            raise BadRequest("Request body could not be read")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _run_wsgi(app: WsgiApp, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request through the WSGI application, on a request thread: (status, headers, body)."""
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
        started.update(status=int(status.split(" ", 1)[0]), headers=headers)
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return started["status"], started["headers"], b"".join(chunks)


def _refusal(error: AppError, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """The contract's error answer for a request refused before the application saw it; the
    connection is closed after it (the rest of the body is never read)."""
    request_id = request_id_for(Request(environ))
    log.warning("request refused before the application",
                extra={"request_id": request_id, "error": type(error).__name__, "path": environ["PATH_INFO"]})  # fmt: skip
    response = error_response(error, request_id)
    response.headers.update({"X-Request-ID": request_id, "X-Content-Type-Options": "nosniff", "Connection": "close"})
    return response.status_code, list(response.headers.items()), response.get_data()


class BodyFirst:
    """ASGI in front of a WSGI application: the body first (on the loop, with a deadline), then
    the application on one of `threads` request threads."""

    def __init__(self, app: WsgiApp, threads: int, body_seconds: float) -> None:
        self.app = app
        self.body_seconds = body_seconds
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        environ = environ_for(scope)
        try:
            async with asyncio.timeout(self.body_seconds):
                body = await _read_body(receive, environ.get("CONTENT_LENGTH"))
        except TimeoutError:
            answer = _refusal(RequestTimeout(), environ)
        except (PayloadTooLarge, BadRequest) as error:
            answer = _refusal(error, environ)
        else:
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            answer = await asyncio.get_running_loop().run_in_executor(self.pool, _run_wsgi, self.app, environ)
        status, headers, payload = answer
        await send({
            "type": "http.response.start",
            "status": status,
            "headers": [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": payload})
