"""The operations page at /dashboard: the session gate, the views and their forms' actions.

Every page needs a session (common.ops.session): the gate `operator` is the guard of
its routes (`auth=operator`), run by the HTTP edge before their handlers; without a
session the answer is a 303 to the login page. With no ADMIN_API_KEY configured (a local runner
generates one) the page says so instead of opening. Forms are plain HTML posts; each carries
the session's CSRF token, checked before anything runs. A viewer (OPS_VIEWER_KEY) sees every
panel but no form that changes anything, and any such POST of theirs is refused (403).
Sign-in, sign-out, pauses, replays and discards go to the audit trail (common.ops.audit).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field, StringConstraints, ValidationError
from sqlalchemy import Row
from werkzeug.wrappers import Response

from common.clock import utcnow
from common.db.transactions import read, write
from common.errors import Conflict, NotFound
from common.http import NO_STORE, ApiRequest, cached_response, dump_json, html_response, redirect
from common.ops import audit, control, incidents, queries, session
from common.ops.chart import SERIES, hourly_chart
from common.ops.schemas import DeadLetterFilter, PauseBody
from common.ops.search import search_payloads
from common.routes import Handler
from common.sync import dashboard, dead_letters, order_push, queue_reads
from common.sync.entities import BY_NAME
from common.sync.queue_reads import SHOWN_PAYLOAD_CHARS

_HERE = Path(__file__).resolve().parent
ASSETS = {"ops.css": "text/css; charset=utf-8", "ops.js": "text/javascript; charset=utf-8"}
PAGE_PATH, LOGIN_PATH = "/dashboard", "/dashboard/login"
NO_DEAD_LETTER = "Dead letter not found"
REFRESH_SECONDS = 5
# Pages load nothing from elsewhere and run no inline script.
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
Notice = Literal["replayed", "discarded", "already-resolved", "not-found", "paused", "resumed", "push-due", "no-push"]
_NOTICES = {
    "replayed": "{count} dead letter(s) re-queued; they complete at the next drain.",
    "discarded": "{count} dead letter(s) discarded (resolved without a replay).",
    "push-due": "The order's push to Zoho is due now; it runs within a minute.",
    "no-push": "That order has no push pending.",
    "already-resolved": "That dead letter was already resolved.",
    "not-found": "That dead letter no longer exists.",
    "paused": "Drain paused; webhooks are still accepted and queued.",
    "resumed": "Drain resumed.",
}
AUDIT_SHOWN = 50
SEARCH_SHOWN = 50


# Items per page of the dead-letter list and of a record's history.
LIST_PAGE_SIZE = 10
# Payload text one list shows on a page, in all: the API's cap for one payload. Past it an item
# offers only its download, so a page stays a few hundred kilobytes whatever the payloads weigh.
LIST_PAYLOAD_CHARS = SHOWN_PAYLOAD_CHARS
NO_PAYLOAD = "Payload not found"


class PageQuery(BaseModel):
    record: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = Field(
        None, description="A Zoho id whose event history to show"
    )
    notice: Notice | None = Field(None, description="The outcome of the last action (set by the page itself)")
    count: int | None = Field(None, ge=0, le=1_000_000)
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = Field(
        None, description="A value to find anywhere in the queued payloads"
    )
    letters_page: int = Field(1, ge=1, le=1_000_000, description="Page of the unresolved dead letters")
    history_page: int = Field(1, ge=1, le=1_000_000, description="Page of the record's history")


@dataclass(frozen=True)
class ShownPayload:
    """What a page prints of a stored payload: all of it (pretty) or a prefix, and its download."""

    text: str
    chars: int
    whole: bool
    href: str


@dataclass(frozen=True)
class Pages:
    page: int
    pages: int
    newer: str | None
    older: str | None


def _pretty(text: str) -> str | None:
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2, sort_keys=True)
    except (ValueError, RecursionError):
        return None


def _with_payloads(rows: Sequence[Row], source: str) -> list[tuple[Row, ShownPayload | None]]:
    """Each row with what the page shows of its payload, within LIST_PAYLOAD_CHARS for them all."""
    shown: list[tuple[Row, ShownPayload | None]] = []
    left = LIST_PAYLOAD_CHARS
    for row in rows:
        if row.payload_text is None:
            shown.append((row, None))
            continue
        prefix = row.payload_text[:left]
        left -= len(prefix)
        whole = len(prefix) == row.payload_chars
        text = (_pretty(prefix) if whole else None) or prefix
        shown.append((row, ShownPayload(text, row.payload_chars, whole, f"{PAGE_PATH}/{source}/{row.id}/payload")))
    return shown


def _pages(query: PageQuery, field: str, total: int) -> Pages:
    page, pages = getattr(query, field), max(1, -(-total // LIST_PAGE_SIZE))

    def link(number: int) -> str:
        values = {**query.model_dump(exclude_none=True, exclude={"notice", "count"}), field: number}
        return f"{PAGE_PATH}?{urlencode(values)}"

    return Pages(page, pages, link(page - 1) if page > 1 else None, link(page + 1) if page < pages else None)


@lru_cache(maxsize=1)
def _templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = lambda value: value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "never"
    return environment


def render(template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any) -> Response:
    body = _templates().get_template(template).render(refresh_seconds=REFRESH_SECONDS, **context)
    return html_response(body, status, {**_SECURITY_HEADERS, **(headers or {})})


def asset(request: ApiRequest) -> Response:
    name = request.params["asset"]
    if name not in ASSETS:
        raise NotFound("Asset not found")
    return cached_response(request, _asset_bytes(name), ASSETS[name], "public, max-age=300")


@lru_cache(maxsize=len(ASSETS))
def _asset_bytes(name: str) -> bytes:
    return (_HERE / "static" / name).read_bytes()


# ---------------------------------------------------------------- the gate


def _not_configured() -> Response:
    return render("not_configured.html", 403, title="Operations page disabled")


def operator(request: ApiRequest, handler: Handler) -> Any:
    """A signed-in operator, whose session goes on `request.ops_session`; a POST must
    also carry the session's CSRF token. Otherwise the answer is another page: to login without
    a session, the not-configured page without an admin key, a 403 page without the token.

    A query or a dead-letter id that the route's schema forbids is refused first (422, 404): a
    redirect to login would be a success answer to a request that the API document rules out."""
    if request.route.query:
        request.query_model(request.route.query)
    if "dead_letter_id" in request.params:
        request.path_id("dead_letter_id", NO_DEAD_LETTER)
    if "event_id" in request.params:
        request.path_id("event_id", NO_PAYLOAD)
    if "order_id" in request.params:
        request.path_id("order_id", "Order not found")
    admin_key = request.settings.admin_api_key
    if admin_key is None:
        return _not_configured()
    found = session.find(
        request.raw.cookies.get(session.SESSION_COOKIE), admin_key, viewer_key=request.settings.ops_viewer_key
    )
    if found is None:
        return redirect(LOGIN_PATH)
    if request.route.method == "POST" and not session.csrf_matches(request.form().get("csrf"), found.csrf):
        return render(
            "message.html",
            403,
            title="Refused",
            message="This form is missing its security token or it has expired. Reload the page and try again.",
        )
    if request.route.method == "POST" and not found.may_change and request.route.operation != "ops_logout":
        return render("message.html", 403, title="Refused", message="The viewer key may look but not change anything.")
    request.ops_session = found
    return handler(request)


# ---------------------------------------------------------------- login and logout


def login_form(request: ApiRequest, status: int = 200, error: str | None = None, headers=None) -> Response:
    if request.settings.admin_api_key is None:
        return _not_configured()
    token = session.new_login_token()
    response = render("login.html", status, headers, title="Sign in", csrf=token, error=error)
    response.headers.add(
        "Set-Cookie",
        session.cookie_header(session.LOGIN_COOKIE, token, session.LOGIN_FORM_SECONDS, request.settings, LOGIN_PATH),
    )
    return response


def log_in(request: ApiRequest) -> Response:
    admin_key = request.settings.admin_api_key
    if admin_key is None:
        return _not_configured()
    client = request.raw.remote_addr or "unknown"
    wait = session.retry_after(client)
    if wait:
        return login_form(
            request, 429, f"Too many wrong keys. Try again in {wait} seconds.", {"Retry-After": str(wait)}
        )
    form = request.form()
    if not session.csrf_matches(form.get("csrf"), request.raw.cookies.get(session.LOGIN_COOKIE)):
        return login_form(request, 403, "The sign-in form expired. Please try again.")
    signed_in = session.role_of(form.get("admin_key", ""), admin_key, request.settings.ops_viewer_key)
    if signed_in is None:
        session.failed(client)
        return login_form(request, 401, "That is not the admin key.")
    role, signed_in_with = signed_in
    with write() as connection:
        _, cookie = session.start(signed_in_with, role=role, connection=connection)
        audit.record(connection, role, audit.LOGIN, {"client": client})
    response = redirect(PAGE_PATH)
    response.headers.add(
        "Set-Cookie", session.cookie_header(session.SESSION_COOKIE, cookie, session.SESSION_SECONDS, request.settings)
    )
    response.headers.add("Set-Cookie", session.cookie_header(session.LOGIN_COOKIE, "", 0, request.settings, LOGIN_PATH))
    return response


def log_out(request: ApiRequest) -> Response:
    with write() as connection:
        session.end(request.ops_session.id, connection=connection)
        audit.record(connection, request.ops_session.role, audit.LOGOUT)
    response = redirect(LOGIN_PATH)
    response.headers.add("Set-Cookie", session.cookie_header(session.SESSION_COOKIE, "", 0, request.settings))
    return response


# ---------------------------------------------------------------- the page


def _overview(query: PageQuery, fragment: bool) -> dict[str, Any]:
    """What the page shows; for the fragment (the panels' refresh) only what panels.html renders:
    no payload search, record history, audit trail or entity types."""
    now = utcnow()
    health = dashboard.sync_health()
    view: dict[str, Any] = {
        "health": health,
        "now": now,
        "record": query.record,
        "series": SERIES,
        "pause_lines": [dashboard.pause_line(pause) for pause in health.paused],
        "query_value": query.q,
        "found_events": None,
        "history": None,  # a record's events, once one is asked for
        "audit_entries": [],
    }
    if not fragment:
        view["entity_types"] = sorted(BY_NAME)
    if query.notice:
        view["notice"] = _NOTICES[query.notice].format(count=query.count or 0)
    if health.status == "unhealthy":
        return view
    stats = dashboard.sync_stats(24)
    with read() as connection:
        bars = queries.hourly(connection, now)
        view.update(
            stats=stats,
            chart=hourly_chart(bars),
            totals={name: sum(getattr(bar, name) for bar in bars) for name, _, _ in SERIES},
            dead_letters_by_entity=queue_reads.unresolved_by_entity(connection),
            last_reconcile=queries.last_reconcile(connection),
            incidents=incidents.recent(connection),
        )
        if not fragment:
            view.update(
                audit_entries=audit.recent(connection, AUDIT_SHOWN),
                found_events=search_payloads(connection, query.q, SEARCH_SHOWN) if query.q else None,
            )
        total, letters = queue_reads.dead_letter_page(
            connection,
            include_resolved=False,
            entity_type=None,
            limit=LIST_PAGE_SIZE,
            offset=(query.letters_page - 1) * LIST_PAGE_SIZE,
        )
        view.update(
            dead_letters=_with_payloads(letters, "dead-letters"), letters_pages=_pages(query, "letters_page", total)
        )
        if query.record and not fragment:
            total, events = queue_reads.record_history(
                connection, query.record, LIST_PAGE_SIZE, (query.history_page - 1) * LIST_PAGE_SIZE
            )
            view.update(history=_with_payloads(events, "events"), history_pages=_pages(query, "history_page", total))
    return view


def page(request: ApiRequest, fragment: bool) -> Response:
    """The whole page, or (for the page's own refresh) only its live panels."""
    view = _overview(request.query_model(PageQuery), fragment)
    found = request.ops_session
    return render(
        "panels.html" if fragment else "dashboard.html",
        title="Operations",
        csrf=found.csrf,
        may_change=found.may_change,
        role=found.role,
        **view,
    )


def _back(notice: Notice, count: int = 0) -> Response:
    return redirect(f"{PAGE_PATH}?{urlencode({'notice': notice, 'count': count})}")


def download_payload(request: ApiRequest) -> Response:
    """The whole stored payload of a dead letter or a queued event, as a JSON file."""
    source = "dead-letter" if "dead_letter_id" in request.params else "event"
    row_id = request.path_id("dead_letter_id" if source == "dead-letter" else "event_id", NO_PAYLOAD)
    with read() as connection:
        payload = queue_reads.stored_payload(connection, source, row_id)
    if payload is None:
        raise NotFound(NO_PAYLOAD)
    headers = {"Content-Disposition": f'attachment; filename="{source}-{row_id}.json"', "Cache-Control": NO_STORE}
    return Response(dump_json(payload), headers=headers, content_type="application/json")


def replay_one(request: ApiRequest) -> Response:
    dead_letter_id = request.path_id("dead_letter_id", NO_DEAD_LETTER)
    try:
        replayed = dead_letters.replay_one(dead_letter_id, request.ops_session.role)
    except NotFound:
        return _back("not-found")
    except Conflict:
        return _back("already-resolved")
    return _back("replayed", replayed.requeued)


def push_order(request: ApiRequest) -> Response:
    """Make a failed push of an order to Zoho due now instead of after its backoff."""
    with write() as connection:
        due = order_push.replay(connection, request.path_id("order_id", "Order not found"))
    return _back("push-due" if due else "no-push")


def replay_entity(request: ApiRequest) -> Response:
    entity_type = request.form().get("entity_type", "").strip()[:32]
    if not entity_type:
        return render("message.html", 400, title="Nothing replayed", message="Choose an entity type to replay.")
    return _back("replayed", dead_letters.replay_all(entity_type, request.ops_session.role).requeued)


def _entity_type(request: ApiRequest) -> str | None:
    """The form's entity type (blank: all); an unknown one is a 400 page."""
    return PauseBody.model_validate({"entity_type": request.form().get("entity_type") or None}).entity_type


def _pause_or_resume(request: ApiRequest, act, notice: Notice, refused: str) -> Response:
    try:
        act(_entity_type(request), request.ops_session.role)
    except ValidationError:
        return render("message.html", 400, title=refused, message="Choose a known entity type, or all.")
    return _back(notice)


def pause(request: ApiRequest) -> Response:
    return _pause_or_resume(request, control.pause, "paused", "Nothing paused")


def resume(request: ApiRequest) -> Response:
    return _pause_or_resume(request, control.resume, "resumed", "Nothing resumed")


_FILTER_FIELDS = ("entity_type", "error_contains", "since", "until")


def bulk_dead_letters(request: ApiRequest) -> Response:
    """First the count of what the filter matches, with a form to confirm it; then, with
    `confirmed` (that count), the replay or discard. A count that changed in between is shown again."""
    form = request.form()
    action = form.get("action")
    if action not in (audit.REPLAY, audit.DISCARD):
        return render("message.html", 400, title="Nothing done", message="Choose replay or discard.")
    given = {name: form[name].strip() for name in _FILTER_FIELDS if form.get(name, "").strip()}
    for name in ("since", "until"):
        if name in given and len(given[name]) == 16:  # <input type="datetime-local"> gives minutes, no zone: UTC
            given[name] += ":00Z"
    try:
        where = DeadLetterFilter.model_validate(given)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'filter'}: {e['msg']}" for e in exc.errors())
        return render("message.html", 400, title="Nothing done", message=f"The filter is not valid: {problems}")
    confirmed = form.get("confirmed", "")
    if confirmed.isdigit():
        act = control.replay_matching if action == audit.REPLAY else control.discard_matching
        try:
            done = act(where, request.ops_session.role, expected=int(confirmed))
        except Conflict as changed:
            return _confirm(request, action, where, given, str(changed), 409)
        return _back("replayed" if action == audit.REPLAY else "discarded", done.matched)
    return _confirm(request, action, where, given)


def _confirm(
    request: ApiRequest, action: str, where: DeadLetterFilter, given: dict, warning: str | None = None, status=200
) -> Response:
    return render(
        "confirm.html",
        status,
        title=f"Confirm {action}",
        csrf=request.ops_session.csrf,
        action=action,
        matched=control.count_matching(where),
        given=given,
        warning=warning,
    )
