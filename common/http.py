"""HTTP edge shared by every function: request parsing, JSON answers, and where errors take the contract's shape.

`http_function(name, *routes)` builds a function's entry point from the routes declared in its
module; the local runner serves every function's routes through the same `handle`. It matches
the full request path once against the routes it serves, runs the route's guard (`route.auth`)
before its handler, gives the handler an `ApiRequest`, and maps every failure to
`{"success": false, "message", "code", "errors"}` (ANSWERS: the one place errors get a status).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from markupsafe import escape
from pydantic import BaseModel
from werkzeug.wrappers import Request, Response

from common.config import ConfigError, Settings, get_settings
from common.db.engine import time_limit
from common.db.errors import is_schema_missing, is_unavailable, root_cause
from common.errors import (
    AppError,
    BadRequest,
    CartEmpty,
    CheckoutChanged,
    Conflict,
    Forbidden,
    InvalidJson,
    MethodNotAllowed,
    NotCancellable,
    NotFound,
    OutOfStock,
    PayloadTooLarge,
    PromoCodeInvalid,
    RequestTimeout,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from common.logs import configure_logging, get_logger
from common.metrics import recording as metrics
from common.routes import Route, RouteTable
from common.validation import Model, decode_json, id_from_text, text_problem, validate

if TYPE_CHECKING:
    from common.ops.session import Session
    from common.shop.schemas import CustomerProfile

MAX_BODY_BYTES = 1024 * 1024
# All of a request's database waits together (pool, connect, statements): past it the
# answer is 503, within the 5 s every route promises. The drain lifts it for its own budget.
REQUEST_DB_SECONDS = 4.0
NO_STORE = "private, no-store"
# HTTP-triggered work (a drain, a reconcile) ends within this, inside API Gateway's 30 s.
HTTP_BUDGET_SECONDS = 20.0
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_JSON_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
_FORM_TYPE = "application/x-www-form-urlencoded"

log = get_logger("http")


# The one place errors become answers: each kind of error, its status and the contract's
# machine word (the most specific kind an error is counts). Database errors and configuration
# errors are mapped in error_response; anything else is a 500.
ANSWERS: dict[type[AppError], tuple[int, str]] = {
    BadRequest: (400, "bad_request"),
    InvalidJson: (400, "invalid_json"),
    Unauthorized: (401, "unauthorized"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    MethodNotAllowed: (405, "method_not_allowed"),
    Conflict: (409, "conflict"),
    RequestTimeout: (408, "request_timeout"),
    CartEmpty: (409, "cart_empty"),
    OutOfStock: (409, "out_of_stock"),
    CheckoutChanged: (409, "checkout_changed"),
    NotCancellable: (409, "not_cancellable"),
    PayloadTooLarge: (413, "payload_too_large"),
    UnsupportedMediaType: (415, "unsupported_media_type"),
    ValidationFailed: (422, "validation_error"),
    PromoCodeInvalid: (422, "promo_code_invalid"),
    Unavailable: (503, "service_unavailable"),
}
INTERNAL_ERROR = (500, "internal_error", "Internal server error")
SERVICE_UNAVAILABLE = ANSWERS[Unavailable]


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """Every non-2xx answer."""

    success: bool = False
    message: str
    code: str
    errors: list[FieldError] = []


class ApiRequest:
    """What a handler sees: the raw request, its route, path parameters and parsing helpers, and
    the caller its route's guard authenticated."""

    def __init__(self, raw: Request, route: Route, params: dict[str, str], request_id: str) -> None:
        self.raw = raw
        self.route = route
        self.params = params
        self.request_id = request_id
        self.customer: CustomerProfile | None = None  # set by the customer guards (common.shop.auth)
        self.ops_session: Session | None = None  # set by the operations page's guard (common.ops.pages)
        self.operator_role: str | None = None  # "admin" or "viewer", set by the admin-key guard (common.keys)

    @property
    def headers(self):
        return self.raw.headers

    @cached_property
    def settings(self) -> Settings:
        return get_settings()

    @cached_property
    def body(self) -> bytes:
        """The body, refused with 413 above 1 MiB before any of it is parsed."""
        declared = self.raw.content_length
        if declared is not None and declared > MAX_BODY_BYTES:
            raise PayloadTooLarge()
        data = self.raw.stream.read(MAX_BODY_BYTES + 1)
        if len(data) > MAX_BODY_BYTES:
            raise PayloadTooLarge()
        return data

    def path_id(self, name: str, not_found: str) -> int:
        """The row id in path parameter `name`; NotFound(`not_found`) when it cannot be one."""
        value = id_from_text(self.params[name])
        if value is None:
            raise NotFound(not_found)
        return value

    def json(self, form_field: str | None = None) -> Any:
        """The JSON body; with `form_field`, also an x-www-form-urlencoded body carrying the JSON
        text in that field (Zoho's form option), parsed and checked exactly as a JSON body."""
        mimetype = self.raw.mimetype or ""
        if form_field and mimetype == _FORM_TYPE:
            return decode_json(_form_field(self.body, form_field))
        if not _JSON_TYPE.match(mimetype):
            # The size check comes first: an oversized body is 413 whatever its type.
            self.body  # noqa: B018
            raise UnsupportedMediaType()
        return decode_json(self.body)

    def form(self) -> dict[str, str]:
        """An application/x-www-form-urlencoded body as {name: first value}; no body at all is an
        empty form, any other type 415."""
        if not self.raw.mimetype and not self.body:
            return {}
        if self.raw.mimetype != _FORM_TYPE:
            self.body  # noqa: B018 - 413 first, as for JSON
            raise UnsupportedMediaType("Request body must be application/x-www-form-urlencoded")
        try:
            values = {name: found[0] for name, found in _parse_form(self.body).items()}
        except ValueError as exc:
            raise BadRequest("Form body must be URL-encoded UTF-8") from exc
        if _unstorable(values):
            raise BadRequest("Form fields must be valid Unicode without NUL characters")
        return values

    def json_model(self, model: type[Model]) -> Model:
        """The JSON body as `model`; on a route whose body is optional, no body at all is the model's defaults."""
        if not self.route.body_required and not self.body and not self.raw.mimetype:
            return model()
        return validate(model, self.json())

    def query_model(self, model: type[Model]) -> Model:
        values = {key: self.raw.args.get(key) for key in self.raw.args}
        if _unstorable(values):
            raise ValidationFailed("Query parameters must be valid Unicode without NUL characters")
        return validate(model, values)


def _unstorable(values: dict[str, str | None]) -> bool:
    """Does a name or value hold text that no database can store (see text_problem)?"""
    return any(text_problem(text) for pair in values.items() for text in pair if text is not None)


def _parse_form(body: bytes) -> dict[str, list[str]]:
    """A URL-encoded UTF-8 form: each field's values (ValueError when the body is not one)."""
    return parse_qs(
        body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body), encoding="utf-8", errors="strict"
    )


def _form_field(body: bytes, name: str) -> str:
    """The one value of `name` in a URL-encoded form (400 when it is missing, repeated or not UTF-8)."""
    try:
        fields = _parse_form(body)
    except ValueError as exc:
        raise InvalidJson(f"Form body must be URL-encoded UTF-8 with the JSON in {name}") from exc
    values = fields.get(name, [])
    if len(values) != 1:
        raise InvalidJson(f"Form body must carry the JSON in exactly one {name} field")
    return values[0]


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_json(body: Any) -> bytes:
    """UTF-8 JSON with Arabic as real characters; pydantic models dump themselves."""
    if isinstance(body, BaseModel):
        return body.model_dump_json().encode()
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode()


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dump_json(body), status=status, headers=dict(headers or {}), content_type="application/json")


def html_response(body: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """An HTML page that no cache keeps (operators' pages show live, private data)."""
    return Response(
        body,
        status=status,
        headers={"Cache-Control": NO_STORE, **(headers or {})},
        content_type="text/html; charset=utf-8",
    )


def redirect(location: str, headers: Mapping[str, str] | None = None) -> Response:
    """303 See Other: after a form post the browser GETs `location` (a path on this host)."""
    return Response(
        f'<a href="{escape(location)}">Continue</a>',
        status=303,
        headers={"Location": location, "Cache-Control": NO_STORE, **(headers or {})},
        content_type="text/html; charset=utf-8",
    )


def cached_json_response(request: ApiRequest, body: Any, cache_control: str) -> Response:
    """200 with an ETag of the body, or 304 when the client already holds that version."""
    return cached_response(request, dump_json(body), "application/json", cache_control, vary="Authorization")


def cached_response(
    request: ApiRequest, payload: bytes, media_type: str, cache_control: str, vary: str | None = None
) -> Response:
    etag = '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if vary:
        headers["Vary"] = vary
    if _etag_matches(request.headers.get("If-None-Match"), etag):
        return Response(status=304, headers=headers)
    return Response(payload, status=200, headers=headers, content_type=media_type)


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(candidate.strip().removeprefix("W/") == etag for candidate in if_none_match.split(","))


def _error_body(
    status: int,
    code: str,
    message: str,
    errors: list | None = None,
    headers: Mapping[str, str] | None = None,
    issues: list[dict] | None = None,
) -> Response:
    body = ErrorBody(message=message, code=code, errors=errors or []).model_dump(mode="json")
    if issues is not None:
        body["issues"] = issues
    return json_response(body, status, headers)


def _answer_of(error: AppError) -> tuple[int, str] | None:
    return next((ANSWERS[kind] for kind in type(error).__mro__ if kind in ANSWERS), None)


def _headers_of(error: AppError) -> dict[str, str]:
    if isinstance(error, MethodNotAllowed):
        return {"Allow": ", ".join(error.allowed)}
    if isinstance(error, Unavailable) and error.retry_after is not None:
        return {"Retry-After": str(error.retry_after)}
    return {}


def error_response(exc: Exception, request_id: str) -> Response:
    """The contract's error answer for any exception a request raised."""
    answer = _answer_of(exc) if isinstance(exc, AppError) else None
    if answer is not None:
        status, code = answer
        issues = exc.issues if isinstance(exc, Conflict) else None
        return _error_body(status, code, exc.message, exc.errors, _headers_of(exc), issues)
    if is_schema_missing(exc):
        cause = str(root_cause(exc))[:200]
        log.error("database schema is not migrated", extra={"request_id": request_id, "error": cause})
        return _error_body(*SERVICE_UNAVAILABLE, "Database schema is not migrated: run python -m common.migrate")
    if is_unavailable(exc):
        log.warning("database unavailable", extra={"request_id": request_id, "error": type(exc).__name__})
        return _error_body(*SERVICE_UNAVAILABLE, "Database unavailable, try again later")
    if isinstance(exc, ConfigError):
        log.error("configuration error: %s", exc, extra={"request_id": request_id})
        return _error_body(*SERVICE_UNAVAILABLE, "Service is not configured")
    log.exception("unhandled error", extra={"request_id": request_id})
    return _error_body(*INTERNAL_ERROR)


def request_id_for(raw: Request) -> str:
    incoming = raw.headers.get("X-Request-ID", "")
    return incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex


def _to_response(result: Any) -> Response:
    return result if isinstance(result, Response) else json_response(result)


def handle(raw: Request, table: RouteTable, serve: bool = True) -> Response:
    """Serve one request: match (an unknown route is 404, a wrong method 405), check the caller
    with the route's guard, call the handler, map errors, tag with a request id, log one line.
    With `serve` false, a matched route is 404 too (the cloud's catch-all serves no route)."""
    started = time.perf_counter()
    request_id = request_id_for(raw)
    route = None
    try:
        route, params = table.match(raw.method, raw.path)
        if not serve:
            raise NotFound("Route not found")
        request = ApiRequest(raw, route, params, request_id)
        with time_limit(REQUEST_DB_SECONDS):
            result = route.auth(request, route.handler) if route.auth else route.handler(request)
            response = _to_response(result)
    except Exception as exc:  # noqa: BLE001 - the single place errors become answers
        response = error_response(exc, request_id)
    response.headers["X-Request-ID"] = request_id
    # No browser guesses a type other than the declared one (a JSON body read as HTML, say).
    response.headers["X-Content-Type-Options"] = "nosniff"
    duration_ms = (time.perf_counter() - started) * 1000
    metrics.record(
        route.function if route else "unmatched",
        route.operation if route else "unmatched",
        response.status_code,
        duration_ms,
    )
    log.info(
        "request",
        extra={
            "request_id": request_id,
            "method": raw.method,
            "path": raw.path,
            "operation": route.operation if route else None,
            "status": response.status_code,
            "duration_ms": round(duration_ms, 2),
        },
    )
    return response


def http_function(name: str, *routes: Route) -> Callable[[Request], Response]:
    """The deployable function `name` serving `routes` (declared with common.routes.route beside
    their handlers): a plain `def entry(request)` as functions-framework and AWS Lambda call it.
    Its routes, marked as served by `name` (its name in serverless.yml and in the metrics), are
    `entry.routes`."""
    table = RouteTable([declared.served_by(name) for declared in routes])
    configure_logging()

    def entry(request: Request) -> Response:
        return handle(request, table)

    entry.__name__ = entry.__qualname__ = name
    entry.routes = table.routes
    return entry


def as_wsgi(dispatch: Callable[[Request], Response]):
    """A WSGI application around a function entry (or the runner's dispatcher): every host
    hands the same werkzeug Request to the same handler code."""

    def application(environ, start_response):
        return dispatch(Request(environ))(environ, start_response)

    return application
