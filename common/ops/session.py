"""The operations page's login: a signed session cookie, CSRF tokens, and a per-client throttle.

The cookie holds `{"exp", "csrf", "role"}` signed with HMAC-SHA256 under a key derived from
the key its role signed in with (ADMIN_API_KEY, or OPS_VIEWER_KEY for the read-only viewer), so
changing a key ends every session of its role. Its CSRF token is echoed by every form
and compared on each POST. Before login the form's token is checked against a short-lived
cookie of its own (double submit); SameSite=Strict keeps both away from other sites' requests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from pydantic import SecretStr

from common.config import Settings

SESSION_COOKIE = "tsh_ops_session"
LOGIN_COOKIE = "tsh_ops_login"
SESSION_SECONDS = 8 * 3600
LOGIN_FORM_SECONDS = 3600
COOKIE_PATH = "/dashboard"
LOGIN_ATTEMPTS_PER_MINUTE = 5
_KEY_CONTEXT = b"tsh-erp operations page session v1"


ADMIN, VIEWER = "admin", "viewer"


@dataclass(frozen=True)
class Session:
    csrf: str
    expires_at: int
    role: str = ADMIN

    @property
    def may_change(self) -> bool:
        return self.role == ADMIN


def _signing_key(admin_key: SecretStr) -> bytes:
    return hmac.new(admin_key.get_secret_value().encode(), _KEY_CONTEXT, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_matches(given: str, key: SecretStr | None) -> bool:
    return key is not None and hmac.compare_digest(given.encode(), key.get_secret_value().encode())


def new_session(key: SecretStr, now: float | None = None, role: str = ADMIN) -> tuple[Session, str]:
    """A fresh session for `role`, and its cookie value signed under that role's key."""
    session = Session(csrf=secrets.token_urlsafe(32), expires_at=int(now or time.time()) + SESSION_SECONDS, role=role)
    payload = _b64(json.dumps({"exp": session.expires_at, "csrf": session.csrf, "role": role}).encode())
    signature = _b64(hmac.new(_signing_key(key), payload.encode(), hashlib.sha256).digest())
    return session, f"{payload}.{signature}"


def read_session(
    cookie: str | None, admin_key: SecretStr, now: float | None = None, viewer_key: SecretStr | None = None
) -> Session | None:
    """The session a cookie proves, or None when it is missing, forged, tampered with, expired, or
    of a role whose key is no longer configured."""
    if not cookie or cookie.count(".") != 1:
        return None
    payload, signature = cookie.split(".")
    try:
        data = json.loads(_unb64(payload))
        session = Session(csrf=str(data["csrf"]), expires_at=int(data["exp"]), role=str(data.get("role", ADMIN)))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    key = {ADMIN: admin_key, VIEWER: viewer_key}.get(session.role)
    if key is None:
        return None
    expected = _b64(hmac.new(_signing_key(key), payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return None
    return session if session.expires_at > (now or time.time()) else None


def csrf_matches(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(given.encode(), expected.encode())


def cookie_header(name: str, value: str, max_age: int, settings: Settings, path: str = COOKIE_PATH) -> str:
    """A Set-Cookie value: HttpOnly, SameSite=Strict, with an expiry; Secure outside local."""
    secure = "" if settings.app_env == "local" else "; Secure"
    return f"{name}={value}; Max-Age={max_age}; Path={path}; HttpOnly; SameSite=Strict{secure}"


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


class LoginThrottle:
    """At most LOGIN_ATTEMPTS_PER_MINUTE wrong keys per client address a minute, in this process."""

    def __init__(self, limit: int = LOGIN_ATTEMPTS_PER_MINUTE, window_seconds: float = 60.0) -> None:
        self.limit = limit
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, client: str) -> int:
        """Seconds until this client may try again; 0 when it may now."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(client, now)
            if len(failures) < self.limit:
                return 0
            return max(1, int(failures[0] + self.window - now) + 1)

    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 10_000:  # a crowd of addresses cannot grow this without bound
                for name in [name for name, times in self._failures.items() if not self._recent(name, now)]:
                    del self._failures[name]
            self._recent(client, now).append(now)


THROTTLE = LoginThrottle()
