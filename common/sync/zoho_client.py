"""The Zoho Books / Inventory API client: the OAuth refresh-token flow, a shared access token, JSON calls.

The access token lives in `zoho_oauth_tokens`, so one refresh serves every function instance
until the token nears expiry; so does the `api_domain` Zoho answers with it, the API host of the
organisation's data centre (`ZOHO_API_URL` only until Zoho has named one). Refreshes are
serialised on that row (Zoho rate-limits its token endpoint): an instance locks it, looks again,
and refreshes only if nobody did meanwhile.
Every API call spends from the organisation's shared budget first (common.sync.zoho_budget);
a spent budget or Zoho's 429 raises `ZohoPaused`, which says when calls may resume: callers
stop where they are and come back then, losing nothing.
Failures leave this module as `ZohoError` subclasses whose messages are safe to log and to
answer with: they never carry an access token, the refresh token or the client secret.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import Engine, Row, select, update

from common.clock import utcnow
from common.config import Settings
from common.db.statements import insert
from common.db.transactions import read, write
from common.errors import Unavailable
from common.logs import get_logger
from common.models import zoho_oauth_tokens as tokens
from common.sync import zoho_budget
from common.sync.errors import PermanentSyncError, SyncError, TransientSyncError

log = get_logger("sync.zoho")

CONNECT_TIMEOUT_SECONDS = 3.0
TOKEN_NAME = "zoho"
# A token this close to expiry is replaced rather than used, so that no call outlives it.
TOKEN_MARGIN = timedelta(seconds=60)
_DEFAULT_EXPIRES_IN = 3600
_EXPIRED = datetime(1970, 1, 1, tzinfo=UTC)
# Zoho's OAuth error codes are short words (invalid_code, invalid_client); anything else is not echoed.
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_. -]{1,64}$")
_MAX_MESSAGE = 200
ITEMS_PATH = "/inventory/v1/items"
RECORD_DOES_NOT_EXIST = 1002  # Zoho's code for a record id it does not hold (deleted)


class ZohoError(SyncError, Unavailable):
    """Root of the client's errors; the message is safe to log and to show. To this service's
    own callers Zoho failing is a dependency unavailable (`retry_after`: Zoho's, when it said)."""


class ZohoNotConfigured(ZohoError, PermanentSyncError):
    def __init__(self) -> None:
        super().__init__("Zoho API is not configured")


class ZohoAuthError(ZohoError, PermanentSyncError):
    """Zoho refused the refresh token or the client credentials, or rejected a fresh access token."""


class ZohoApiError(ZohoError, PermanentSyncError):
    """Zoho answered a call with an error: a 4xx or a non-zero `code`."""

    def __init__(self, message: str, *, status: int, code: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ZohoUnavailable(ZohoError, TransientSyncError):
    """Zoho could not be reached, timed out, or failed on its side (5xx)."""


class ZohoPaused(ZohoUnavailable):
    """No call may go to Zoho before `resume_at`: Zoho's limits, the service's or its own, are reached."""

    def __init__(self, message: str, resume_at: datetime) -> None:
        super().__init__(message, retry_after=max(1, math.ceil((resume_at - utcnow()).total_seconds())))
        self.resume_at = resume_at


class ZohoRateLimited(ZohoPaused):
    """Zoho answered 429 (with a Retry-After in seconds, or none, as its API sends)."""

    def __init__(self, what: str, resume_at: datetime) -> None:
        super().__init__(f"{what} rate limit reached; retry after {resume_at:%H:%M:%S} UTC", resume_at)


class ZohoBudgetSpent(ZohoPaused):
    """The organisation's calls for this minute or this day are spent
    (ZOHO_MINUTE_CALL_LIMIT, ZOHO_DAILY_CALL_LIMIT)."""

    def __init__(self, resume_at: datetime) -> None:
        super().__init__(f"Zoho call budget spent until {resume_at:%Y-%m-%d %H:%M:%S} UTC", resume_at)


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: datetime
    api_domain: str | None


class ZohoClient:
    """One per run: one HTTP session (its connections are reused) and this instance's copy of the token."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        if not settings.zoho_configured:
            raise ZohoNotConfigured()
        self._settings = settings
        self._engine = engine
        self._timeout = (CONNECT_TIMEOUT_SECONDS, settings.zoho_timeout_seconds)
        self._session = requests.Session()
        self._token: _Token | None = None

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> ZohoClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET {api_domain}{path} for the configured organization; a rejected token is refreshed once.

        Each attempt spends one call of the shared budget; ZohoPaused when none is left."""
        return self._api("GET", path, params)

    def post(
        self, path: str, body: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """POST a JSON body to {api_domain}{path} (a create, a status change), as `get` does."""
        return self._api("POST", path, params, body)

    def _api(
        self, method: str, path: str, params: Mapping[str, Any] | None, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        token = self._access_token()
        response = self._call(method, path, params, token, body)
        if response.status_code == 401:
            response = self._call(method, path, params, self._access_token(rejected=token.value), body)
            if response.status_code == 401:
                raise ZohoAuthError("Zoho API rejected a freshly refreshed access token (check the client's scopes)")
        return self._payload(response)

    def list_page(self, path: str, key: str, params: Mapping[str, Any]) -> tuple[list[Any], bool]:
        """One page of a Zoho list endpoint: (its records under `key`, whether more pages follow)."""
        body = self.get(path, params)
        records = body.get(key)
        if not isinstance(records, list):
            raise ZohoApiError(f"Zoho API answer for {path} has no '{key}' list", status=200)
        context = body.get("page_context")
        return records, bool(isinstance(context, dict) and context.get("has_more_page"))

    def get_record(self, path: str, key: str, record_id: str) -> dict[str, Any] | None:
        """One record, GET {path}/{record_id}: Zoho's record under `key`, or None when Zoho says it
        does not exist (its code 1002). Any other error, a wrong URL's 404 (code 5) among them, is raised:
        only Zoho's word that the record is gone may deactivate the stored one."""
        try:
            body = self.get(f"{path}/{record_id}")
        except ZohoApiError as exc:
            if exc.code == RECORD_DOES_NOT_EXIST:
                return None
            raise
        record = body.get(key)
        if not isinstance(record, dict):
            raise ZohoApiError(f"Zoho API answer for {path}/{{id}} has no '{key}' object", status=200)
        return record

    def get_item(self, item_id: str) -> dict[str, Any] | None:
        """Zoho's current item (its stock included), or None when Zoho no longer holds it."""
        return self.get_record(ITEMS_PATH, "item", item_id)

    def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        token: _Token,
        body: Mapping[str, Any] | None = None,
    ) -> requests.Response:
        now = utcnow()
        resume_at = zoho_budget.spend(self._settings, now, self._engine)
        if resume_at is not None:
            raise ZohoBudgetSpent(resume_at)
        try:
            return self._send(
                method,
                f"{token.api_domain or self._settings.zoho_api_url}{path}",
                "Zoho API",
                params={**(params or {}), "organization_id": self._settings.zoho_organization_id},
                headers={"Authorization": f"Zoho-oauthtoken {token.value}"},
                **({"json": dict(body)} if body is not None else {}),
            )
        except ZohoRateLimited as limited:
            # Everyone waits for the next minute, or longer when Zoho asked for longer.
            filled = zoho_budget.fill_minute(self._settings, now, self._engine)
            raise ZohoRateLimited("Zoho API", max(filled, limited.resume_at)) from None

    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> requests.Response:
        """One request under both timeouts; network failures become ZohoUnavailable.

        The library's exception is not chained: its text names the URL and adds nothing safe.
        """
        try:
            response = self._session.request(method, url, timeout=self._timeout, **kwargs)
        except requests.Timeout:
            raise ZohoUnavailable(f"{what} timed out") from None
        except requests.RequestException as exc:
            raise ZohoUnavailable(f"{what} unreachable ({type(exc).__name__})") from None
        if response.status_code == 429:
            raise ZohoRateLimited(what, _resume_at(response))
        if response.status_code >= 500:
            raise ZohoUnavailable(f"{what} failed with HTTP {response.status_code}")
        return response

    def _payload(self, response: requests.Response) -> dict[str, Any]:
        body = _json_object(response)
        if body is None:
            raise ZohoUnavailable(f"Zoho API answered HTTP {response.status_code} without a JSON object")
        code = body.get("code")
        if response.status_code >= 400 or code != 0:
            message = self._scrub(str(body.get("message") or "no message"))
            raise ZohoApiError(f"Zoho API error {code}: {message}", status=response.status_code, code=code)
        return body

    def _scrub(self, text: str) -> str:
        """Zoho's own text, shortened, with any of the service's credentials it might echo masked."""
        settings = self._settings
        for secret in (settings.zoho_client_secret, settings.zoho_refresh_token):
            text = text.replace(secret.get_secret_value(), "[REDACTED]")
        if self._token:
            text = text.replace(self._token.value, "[REDACTED]")
        return " ".join(text.split())[:_MAX_MESSAGE]

    def _access_token(self, rejected: str | None = None) -> _Token:
        """A token with over TOKEN_MARGIN left, other than `rejected`: this instance's, the shared one, or a new one."""
        if _usable(self._token, rejected):
            return self._token
        with read(self._engine) as connection:
            shared = _stored(connection.execute(select(tokens).where(tokens.c.name == TOKEN_NAME)).first())
        if not _usable(shared, rejected):
            shared = self._refresh_shared(rejected)
        self._token = shared
        return shared

    def _refresh_shared(self, rejected: str | None) -> _Token:
        # The row is locked while Zoho answers (bounded by the timeouts): PostgreSQL blocks only
        # the other refreshers; SQLite's write transaction holds the whole database meanwhile.
        with write(self._engine) as connection:
            # Make sure there is a row to lock: FOR UPDATE on a missing row serialises nothing.
            connection.execute(
                insert(connection, tokens)
                .values(name=TOKEN_NAME, access_token="", expires_at=_EXPIRED, updated_at=utcnow())
                .on_conflict_do_nothing(index_elements=[tokens.c.name])
            )
            locked = connection.execute(select(tokens).where(tokens.c.name == TOKEN_NAME).with_for_update()).one()
            current = _stored(locked)
            if _usable(current, rejected):
                return current  # another instance refreshed it while this one waited for the lock
            fresh = self._refresh()
            connection.execute(
                update(tokens)
                .where(tokens.c.name == TOKEN_NAME)
                .values(
                    access_token=fresh.value,
                    expires_at=fresh.expires_at,
                    api_domain=fresh.api_domain,
                    updated_at=utcnow(),
                )
            )
        return fresh

    def _refresh(self) -> _Token:
        """Trade the refresh token for an access token at Zoho's accounts server."""
        settings = self._settings
        response = self._send(
            "POST",
            f"{settings.zoho_accounts_url}/oauth/v2/token",
            "Zoho token endpoint",
            # In the form body, never the query string, which proxies and access logs record.
            data={
                "refresh_token": settings.zoho_refresh_token.get_secret_value(),
                "client_id": settings.zoho_client_id,
                "client_secret": settings.zoho_client_secret.get_secret_value(),
                "grant_type": "refresh_token",
            },
        )
        body = _json_object(response) or {}
        token = body.get("access_token")
        if body.get("error") or not isinstance(token, str) or not token:
            error = body.get("error")
            code = error if isinstance(error, str) and _ERROR_CODE.match(error) else f"HTTP {response.status_code}"
            log.warning("Zoho token refresh refused", extra={"zoho_error": code})
            raise ZohoAuthError(f"Zoho refused the token refresh: {code} (check ZOHO_REFRESH_TOKEN and the client)")
        expires_in = body.get("expires_in")
        if not isinstance(expires_in, int) or expires_in <= 0:
            expires_in = _DEFAULT_EXPIRES_IN
        api_domain = self._api_domain(body.get("api_domain"))
        log.info("Zoho access token refreshed", extra={"expires_in": expires_in, "api_domain": api_domain})
        return _Token(token, utcnow() + timedelta(seconds=expires_in), api_domain)

    def _api_domain(self, value: Any) -> str | None:
        """Zoho's api_domain when it is a plain origin (https, or http only where ZOHO_API_URL is http, as in tests)."""
        if not isinstance(value, str) or len(value) > 255:
            return None
        parts = urlsplit(value.rstrip("/"))
        schemes = {"https", urlsplit(self._settings.zoho_api_url).scheme}
        if parts.scheme not in schemes or not parts.hostname or parts.username or parts.path or parts.query:
            log.warning("Zoho api_domain ignored", extra={"api_domain": value[:100]})
            return None
        return f"{parts.scheme}://{parts.netloc}"


def _stored(row: Row | None) -> _Token | None:
    return _Token(row.access_token, row.expires_at, row.api_domain) if row is not None else None


def _usable(token: _Token | None, rejected: str | None) -> bool:
    return token is not None and token.value != rejected and token.expires_at - utcnow() > TOKEN_MARGIN


def _json_object(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _resume_at(response: requests.Response) -> datetime:
    """After a 429: Retry-After's seconds when sent (Zoho's API sends none), else the next minute."""
    now = utcnow()
    value = response.headers.get("Retry-After", "")
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)
