"""The operations page (GET /dashboard), its login and logout, its replay, pause and bulk forms and its assets.

Its pages are HTML for people, behind their own session cookie (common.ops.session): without
one, every route guarded by `operator` answers 303 to /dashboard/login.
"""

from common.http import ApiRequest, http_function
from common.ops import pages
from common.ops.pages import PageQuery, operator
from common.routes import route

_PAGE = {200: "html", 303: "html", 403: "html"}
_FORM_POST = {303: "html", 403: "html"}
_DEAD_LETTER_ID = {"dead_letter_id": {"type": "integer", "minimum": 1}}
_ORDER_ID = {"order_id": {"type": "integer", "minimum": 1}}
_TAG = "operations"
_HTML = "text/html"


@route(
    method="GET",
    path="/dashboard",
    operation="ops_page",
    summary="Operations page: sync status, queue, 24-hour chart, functions, dead letters, record history",
    tag=_TAG,
    auth=operator,
    query=PageQuery,
    responses=_PAGE,
    media_type=_HTML,
)
def show_page(request: ApiRequest):
    return pages.page(request, fragment=False)


@route(
    method="GET",
    path="/dashboard/panels",
    operation="ops_panels",
    summary="The operations page's live panels (its own refresh fetches them)",
    tag=_TAG,
    auth=operator,
    query=PageQuery,
    responses=_PAGE,
    media_type=_HTML,
)
def show_panels(request: ApiRequest):
    return pages.page(request, fragment=True)


@route(
    method="GET",
    path="/dashboard/login",
    operation="ops_login_form",
    summary="Sign-in form of the operations page",
    tag=_TAG,
    responses={200: "html", 403: "html"},
    media_type=_HTML,
)
def show_login_form(request: ApiRequest):
    return pages.login_form(request)


@route(
    method="POST",
    path="/dashboard/login",
    operation="ops_login",
    summary="Sign in with the admin key (form: admin_key, csrf); sets the session cookie",
    tag=_TAG,
    responses={303: "html", 401: "html", 403: "html", 429: "html"},
    errors=(400, 413, 415),
    media_type=_HTML,
)
def log_in(request: ApiRequest):
    return pages.log_in(request)


@route(
    method="POST",
    path="/dashboard/logout",
    operation="ops_logout",
    summary="Sign out (form: csrf)",
    tag=_TAG,
    auth=operator,
    responses=_FORM_POST,
    errors=(400, 413, 415),
    media_type=_HTML,
)
def log_out(request: ApiRequest):
    return pages.log_out(request)


@route(
    method="POST",
    path="/dashboard/dead-letters/{dead_letter_id}/replay",
    operation="ops_replay_one",
    summary="Replay one dead letter from the page (form: csrf)",
    tag=_TAG,
    auth=operator,
    path_params=_DEAD_LETTER_ID,
    responses=_FORM_POST,
    errors=(400, 413, 415),
    media_type=_HTML,
)
def replay_one(request: ApiRequest):
    return pages.replay_one(request)


@route(
    method="POST",
    path="/dashboard/orders/{order_id}/push",
    operation="ops_push_order",
    summary="Push a failed order to Zoho now instead of after its backoff (form: csrf)",
    tag=_TAG,
    auth=operator,
    path_params=_ORDER_ID,
    responses=_FORM_POST,
    errors=(400, 413, 415),
    media_type=_HTML,
)
def push_order(request: ApiRequest):
    return pages.push_order(request)


@route(
    method="POST",
    path="/dashboard/dead-letters/replay",
    operation="ops_replay_entity",
    summary="Replay every unresolved dead letter of one entity type from the page (form: csrf, entity_type)",
    tag=_TAG,
    auth=operator,
    responses={**_FORM_POST, 400: "html"},
    errors=(413, 415),
    media_type=_HTML,
)
def replay_entity(request: ApiRequest):
    return pages.replay_entity(request)


@route(
    method="POST",
    path="/dashboard/queue/pause",
    operation="ops_queue_pause",
    summary="Pause the drain from the page (form: csrf, entity_type blank for all)",
    tag=_TAG,
    auth=operator,
    responses=_FORM_POST,
    errors=(400, 413, 415),
    media_type=_HTML,
)
def pause_queue(request: ApiRequest):
    return pages.pause(request)


@route(
    method="POST",
    path="/dashboard/queue/resume",
    operation="ops_queue_resume",
    summary="Resume the drain from the page (form: csrf, entity_type blank for all)",
    tag=_TAG,
    auth=operator,
    responses=_FORM_POST,
    errors=(400, 413, 415),
    media_type=_HTML,
)
def resume_queue(request: ApiRequest):
    return pages.resume(request)


@route(
    method="POST",
    path="/dashboard/dead-letters/bulk",
    operation="ops_bulk_dead_letters",
    summary="Replay or discard the dead letters a filter matches: first the count, then (with confirmed) the action "
    "(form: csrf, action, entity_type, error_contains, since, until, confirmed)",
    tag=_TAG,
    auth=operator,
    responses={200: "html", **_FORM_POST, 400: "html", 409: "html"},
    errors=(413, 415),
    media_type=_HTML,
)
def bulk_dead_letters(request: ApiRequest):
    return pages.bulk_dead_letters(request)


@route(
    method="GET",
    path="/dashboard/dead-letters/{dead_letter_id}/payload",
    operation="ops_dead_letter_payload",
    summary="A dead letter's whole payload as a JSON file (the page shows a prefix)",
    tag=_TAG,
    auth=operator,
    path_params=_DEAD_LETTER_ID,
    responses={200: "payload", 303: "html", 403: "html"},
    media_type="*/*",
)
def dead_letter_payload(request: ApiRequest):
    return pages.download_payload(request)


@route(
    method="GET",
    path="/dashboard/events/{event_id}/payload",
    operation="ops_event_payload",
    summary="A queued event's whole payload as a JSON file (the page shows a prefix)",
    tag=_TAG,
    auth=operator,
    path_params={"event_id": {"type": "integer", "minimum": 1}},
    responses={200: "payload", 303: "html", 403: "html"},
    media_type="*/*",
)
def event_payload(request: ApiRequest):
    return pages.download_payload(request)


@route(
    method="GET",
    path="/dashboard/static/{asset}",
    operation="ops_asset",
    summary="The operations page's stylesheet and script",
    tag=_TAG,
    responses={200: "asset"},
    media_type="*/*",
    errors=(404,),
    path_params={"asset": {"type": "string", "enum": ["ops.css", "ops.js"]}},
)
def static_asset(request: ApiRequest):
    return pages.asset(request)


ops_dashboard = http_function(
    "ops_dashboard",
    show_page,
    show_panels,
    show_login_form,
    log_in,
    log_out,
    replay_one,
    push_order,
    replay_entity,
    pause_queue,
    resume_queue,
    bulk_dead_letters,
    dead_letter_payload,
    event_payload,
    static_asset,
)
