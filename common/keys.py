"""Shared-secret headers for Zoho's webhooks and for operators' admin calls: the guards
`webhook_key` and `admin_key`, which routes name as their `auth`; the HTTP edge runs them before the handler.

Keys are compared in constant time. With no key configured the endpoint is open: that is
only possible in local development, since production refuses to start without the keys.
OPS_VIEWER_KEY is accepted where the admin key is, for reading only: anything else is 403.
"""

from __future__ import annotations

import hmac
from typing import Any

from pydantic import SecretStr

from common.errors import Forbidden, Unauthorized
from common.http import ApiRequest
from common.routes import Handler

WEBHOOK_KEY_HEADER = "X-Webhook-Key"
ADMIN_KEY_HEADER = "X-Admin-Key"


def _require(request: ApiRequest, header: str, expected: SecretStr | None, message: str) -> None:
    if expected is None:
        return
    given = request.headers.get(header, "").encode()
    if not hmac.compare_digest(given, expected.get_secret_value().encode()):
        raise Unauthorized(message)


def _require_admin_key(request: ApiRequest) -> None:
    _require(request, ADMIN_KEY_HEADER, request.settings.admin_api_key, "Invalid or missing admin API key")


def is_dry_run(request: ApiRequest) -> bool:
    """A webhook that post-deployment checks send to be validated, not queued (docs/OPERATIONS.md)."""
    return request.headers.get("X-Dry-Run", "").lower() == "true" or request.raw.args.get("dry_run") == "1"


def webhook_key(request: ApiRequest, handler: Handler) -> Any:
    """Zoho's key; a dry run is for operators, so it needs the admin key as well."""
    _require(request, WEBHOOK_KEY_HEADER, request.settings.webhook_api_key, "Invalid or missing webhook API key")
    if is_dry_run(request):
        _require_admin_key(request)
    return handler(request)


ADMIN, VIEWER = "admin", "viewer"
_READS = ("GET", "HEAD")


def _matches(given: bytes, expected: SecretStr | None) -> bool:
    return expected is not None and hmac.compare_digest(given, expected.get_secret_value().encode())


def admin_key(request: ApiRequest, handler: Handler) -> Any:
    """The admin key, or the viewer key on a read; the caller's role goes on `request.operator_role`."""
    settings = request.settings
    given = request.headers.get(ADMIN_KEY_HEADER, "").encode()
    if settings.admin_api_key is None or _matches(given, settings.admin_api_key):
        request.operator_role = ADMIN
    elif _matches(given, settings.ops_viewer_key):
        if request.raw.method not in _READS:
            raise Forbidden("The viewer key may only read")
        request.operator_role = VIEWER
    else:
        raise Unauthorized("Invalid or missing admin API key")
    return handler(request)
