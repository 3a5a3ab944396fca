"""Shared-secret headers for Zoho's webhooks and for operators' admin calls: the guards
`webhook_key` and `admin_key`, which routes name as their `auth`; the HTTP edge runs them before the handler.

Keys are compared in constant time. Each secret may hold two comma-separated keys during a
rotation (common.config.key_set); either is accepted. With no key configured the endpoint is
open in local development only; in production a function whose parameters lack a key it must
check (common.ssm_secrets.FUNCTION_PARAMETERS) refuses the request as not configured. With
ZOHO_WEBHOOK_SECRET set, a webhook must also carry Zoho's signature (common.sync.signature).
OPS_VIEWER_KEY is accepted where the admin key is, for reading only: anything else is 403.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from pydantic import SecretStr

from common.config import ConfigError, key_set
from common.errors import Forbidden, Unauthorized
from common.http import ApiRequest
from common.routes import Handler
from common.sync.signature import require_zoho_signature

WEBHOOK_KEY_HEADER = "X-Webhook-Key"
ADMIN_KEY_HEADER = "X-Admin-Key"


def matching(given: str, keys: Iterable[str]) -> str | None:
    """The key of `keys` equal to `given`, or None; every key compared in constant time (no early exit)."""
    found = None
    for key in keys:
        if hmac.compare_digest(given.encode(), key.encode()):
            found = key
    return found


def matches_any(given: str, keys: Iterable[str]) -> bool:
    """Whether `given` is one of `keys`, every key compared in constant time (no early exit)."""
    return matching(given, keys) is not None


def _require(request: ApiRequest, header: str, expected: SecretStr | None, message: str) -> None:
    if expected is None:
        if request.settings.is_production:
            raise ConfigError(f"this function does not read the key that {header} is checked against")
        return
    if not matches_any(request.headers.get(header, ""), key_set(expected)):
        raise Unauthorized(message)


def _require_admin_key(request: ApiRequest) -> None:
    _require(request, ADMIN_KEY_HEADER, request.settings.admin_api_key, "Invalid or missing admin API key")


def is_dry_run(request: ApiRequest) -> bool:
    """A webhook that post-deployment checks send to be validated, not queued (docs/OPERATIONS.md)."""
    return request.headers.get("X-Dry-Run", "").lower() == "true" or request.raw.args.get("dry_run") == "1"


def webhook_key(request: ApiRequest, handler: Handler) -> Any:
    """Zoho's key and, when a secret is configured, Zoho's signature; a dry run is for
    operators, so it needs the admin key as well."""
    _require(request, WEBHOOK_KEY_HEADER, request.settings.webhook_api_key, "Invalid or missing webhook API key")
    require_zoho_signature(request)
    if is_dry_run(request):
        _require_admin_key(request)
    return handler(request)


ADMIN, VIEWER = "admin", "viewer"
_READS = ("GET", "HEAD")


def admin_key(request: ApiRequest, handler: Handler) -> Any:
    """The admin key, or the viewer key on a read; the caller's role goes on `request.operator_role`."""
    settings = request.settings
    given = request.headers.get(ADMIN_KEY_HEADER, "")
    if settings.admin_api_key is None and settings.is_production:
        raise ConfigError(f"this function does not read the key that {ADMIN_KEY_HEADER} is checked against")
    if settings.admin_api_key is None or matches_any(given, key_set(settings.admin_api_key)):
        request.operator_role = ADMIN
    elif matches_any(given, key_set(settings.ops_viewer_key)):
        if request.raw.method not in _READS:
            raise Forbidden("The viewer key may only read")
        request.operator_role = VIEWER
    else:
        raise Unauthorized("Invalid or missing admin API key")
    return handler(request)
