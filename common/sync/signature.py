"""Zoho's webhook signature: `X-Zoho-Webhook-Signature`, required when ZOHO_WEBHOOK_SECRET is set.

Zoho's recipe for secured webhooks (Zoho Billing / Subscriptions "How do I secure my webhooks",
the webhook engine of Zoho's finance apps; docs/ZOHO.md names the page): take the query
string's parameters and, for an x-www-form-urlencoded body, the form's fields, all decoded;
sort them by name; concatenate each as name then value with no separator; append the raw body
when it is JSON; the signature is the HMAC-SHA256 of that text (UTF-8) under the webhook's
secret, in hexadecimal.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl

from common.config import key_set
from common.errors import Unauthorized
from common.http import ApiRequest

SIGNATURE_HEADER = "X-Zoho-Webhook-Signature"
_FORM_TYPE = "application/x-www-form-urlencoded"


def signed_text(query: list[tuple[str, str]], form: list[tuple[str, str]] | None, body: bytes) -> bytes:
    """What Zoho signs: sorted `namevalue` pairs of the query (and form), then a JSON body as sent."""
    pairs = sorted([*query, *(form or [])], key=lambda pair: pair[0])
    text = "".join(name + value for name, value in pairs).encode()
    return text if form is not None else text + body


def zoho_signature(secret: str, text: bytes) -> str:
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


def _request_text(request: ApiRequest) -> bytes | None:
    """The signed text of a request; None when its form body cannot be decoded (nothing matches)."""
    body = request.body
    form = None
    if request.raw.mimetype == _FORM_TYPE:
        try:
            form = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            return None
    return signed_text(list(request.raw.args.items(multi=True)), form, body)


def require_zoho_signature(request: ApiRequest) -> None:
    """401 "Invalid webhook signature" unless the request carries the signature of one of the
    configured secrets (two during a rotation); nothing to check without a secret."""
    secrets = key_set(request.settings.zoho_webhook_secret)
    if not secrets:
        return
    given = request.headers.get(SIGNATURE_HEADER, "").strip().lower()
    text = _request_text(request) if given else None
    if text is None or not any(
        hmac.compare_digest(given.encode(), zoho_signature(secret, text).encode()) for secret in secrets
    ):
        raise Unauthorized("Invalid webhook signature")
