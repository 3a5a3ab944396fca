"""Shared-secret headers for Zoho's webhooks and for operators' admin calls.

Keys are compared in constant time. With no key configured the endpoint is open: that is
only possible in local development, since production refuses to start without the keys.
"""

from __future__ import annotations

import hmac

from pydantic import SecretStr

from common.errors import Unauthorized
from common.http import ApiRequest

WEBHOOK_KEY_HEADER = "X-Webhook-Key"
ADMIN_KEY_HEADER = "X-Admin-Key"


def _require(request: ApiRequest, header: str, expected: SecretStr | None, message: str) -> None:
    if expected is None:
        return
    given = request.headers.get(header, "").encode()
    if not hmac.compare_digest(given, expected.get_secret_value().encode()):
        raise Unauthorized(message)


def require_webhook_key(request: ApiRequest) -> None:
    _require(request, WEBHOOK_KEY_HEADER, request.settings.webhook_api_key, "Invalid or missing webhook API key")


def require_admin_key(request: ApiRequest) -> None:
    _require(request, ADMIN_KEY_HEADER, request.settings.admin_api_key, "Invalid or missing admin API key")
