"""The operations page (GET /dashboard), its login and logout, its replay, pause and bulk forms and its assets."""

from common.http import ApiRequest, http_function
from common.ops import pages


def _page(request: ApiRequest):
    return pages.page(request, fragment=False)


def _panels(request: ApiRequest):
    return pages.page(request, fragment=True)


def _login_form(request: ApiRequest):
    return pages.login_form(request)


ops_dashboard = http_function(
    "ops_dashboard",
    ops_page=_page,
    ops_panels=_panels,
    ops_login_form=_login_form,
    ops_login=pages.log_in,
    ops_logout=pages.log_out,
    ops_replay_one=pages.replay_one,
    ops_replay_entity=pages.replay_entity,
    ops_queue_pause=pages.pause,
    ops_queue_resume=pages.resume,
    ops_bulk_dead_letters=pages.bulk_dead_letters,
    ops_asset=pages.asset,
)
