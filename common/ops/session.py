"""The operations page's login: server-side sessions, CSRF tokens, and a per-client throttle.

A session is a row of `ops_sessions`; the cookie carries a random id (the row keeps only its
SHA-256) signed with HMAC-SHA256 under a key derived from the key the operator signed in with:
an admin key, or for the read-only viewer an OPS_VIEWER_KEY; the row records that role. A session
ends on the server: logout deletes its row; so does the first request after it has been idle for
IDLE_SECONDS or alive for SESSION_SECONDS, or after its key left its role's setting (ADMIN_API_KEY
or OPS_VIEWER_KEY; a rotation keeps the sessions of the key that stays). Each session's CSRF token
is echoed by every form and compared on each POST. Before login the form's token is checked
against a short-lived cookie of its own (double submit); SameSite=Strict keeps both away from
other sites' requests.

Wrong keys are counted per client address in `ops_login_failures`, so the limit holds across
worker processes and hosts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import SecretStr
from sqlalchemy import Connection, delete, func, insert, or_, select, update

from common.clock import utcnow
from common.config import Settings, key_set
from common.db.transactions import read, write
from common.keys import ADMIN, VIEWER, matching
from common.models import ops_login_failures, ops_sessions

SESSION_COOKIE = "tsh_ops_session"
LOGIN_COOKIE = "tsh_ops_login"
SESSION_SECONDS = 24 * 3600  # in all, from sign-in
IDLE_SECONDS = 8 * 3600  # without a request
LOGIN_FORM_SECONDS = 3600
COOKIE_PATH = "/dashboard"
LOGIN_ATTEMPTS_PER_MINUTE = 5
THROTTLE_WINDOW = timedelta(minutes=1)
# A session's last request is written at most this often: the page refreshes every few seconds.
_TOUCH_EVERY = timedelta(minutes=1)
_KEY_CONTEXT = b"tsh-erp operations page session v1"
_FINGERPRINT_CONTEXT = b"tsh-erp operations page key fingerprint v1"


@dataclass(frozen=True)
class Session:
    id: int
    csrf: str
    role: str = ADMIN

    @property
    def may_change(self) -> bool:
        return self.role == ADMIN


def _signing_key(admin_key: str) -> bytes:
    return hmac.new(admin_key.encode(), _KEY_CONTEXT, hashlib.sha256).digest()


def _fingerprint(admin_key: str) -> str:
    return hmac.new(admin_key.encode(), _FINGERPRINT_CONTEXT, hashlib.sha256).hexdigest()


def _signature(token: str, admin_key: str) -> str:
    return hmac.new(_signing_key(admin_key), token.encode(), hashlib.sha256).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def role_of(given: str, admin_key: SecretStr | None, viewer_key: SecretStr | None) -> tuple[str, str] | None:
    """(role, the configured key equal to `given`): an admin key first, else a viewer key."""
    for role, keys in ((ADMIN, admin_key), (VIEWER, viewer_key)):
        if (key := matching(given, key_set(keys))) is not None:
            return role, key
    return None


def _writing(connection: Connection | None) -> AbstractContextManager[Connection]:
    """The caller's transaction, or a write() of its own."""
    return nullcontext(connection) if connection is not None else write()


def start(
    signed_in_with: str, now: datetime | None = None, role: str = ADMIN, *, connection: Connection | None = None
) -> tuple[Session, str]:
    """A new session of `role` for an operator who gave the key `signed_in_with`, and its cookie
    value, written in `connection`'s transaction if given. Sessions past their end are deleted on the way."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with _writing(connection) as connection:
        connection.execute(delete(ops_sessions).where(_ended(now)))
        session_id = connection.execute(
            insert(ops_sessions).returning(ops_sessions.c.id),
            {
                "token_hash": _token_hash(token),
                "key_fingerprint": _fingerprint(signed_in_with),
                "csrf": csrf,
                "role": role,
                "created_at": now,
                "last_seen_at": now,
            },
        ).scalar_one()
    return Session(session_id, csrf, role), f"{token}.{_signature(token, signed_in_with)}"


def _ended(now: datetime):
    columns = ops_sessions.c
    return or_(
        columns.created_at <= now - timedelta(seconds=SESSION_SECONDS),
        columns.last_seen_at <= now - timedelta(seconds=IDLE_SECONDS),
    )


def find(
    cookie: str | None, admin_key: SecretStr, now: datetime | None = None, *, viewer_key: SecretStr | None = None
) -> Session | None:
    """The live session a cookie names, or None: missing, forged, logged out, idle too long, too
    old, or signed in with a key that is no longer configured for its role (an ended session's row
    is deleted)."""
    if not cookie or cookie.count(".") != 1:
        return None
    token, signature = cookie.split(".")
    now = now or utcnow()
    with read() as connection:
        row = connection.execute(select(ops_sessions).where(ops_sessions.c.token_hash == _token_hash(token))).first()
    if row is None:
        return None
    keys = key_set(admin_key if row.role == ADMIN else viewer_key)
    key = next((key for key in keys if hmac.compare_digest(_fingerprint(key), row.key_fingerprint)), None)
    if key is not None and not hmac.compare_digest(signature.encode(), _signature(token, key).encode()):
        return None  # a forged signature ends nothing: only the holder of the real cookie may
    live = key is not None and now - row.created_at < timedelta(seconds=SESSION_SECONDS)
    live = live and now - row.last_seen_at < timedelta(seconds=IDLE_SECONDS)
    if not live:
        end(row.id)
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        with write() as connection:
            connection.execute(update(ops_sessions).where(ops_sessions.c.id == row.id).values(last_seen_at=now))
    return Session(row.id, row.csrf, row.role)


def end(session_id: int, *, connection: Connection | None = None) -> None:
    """Delete the session, in `connection`'s transaction if given."""
    with _writing(connection) as connection:
        connection.execute(delete(ops_sessions).where(ops_sessions.c.id == session_id))


def csrf_matches(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(given.encode(), expected.encode())


def cookie_header(name: str, value: str, max_age: int, settings: Settings, path: str = COOKIE_PATH) -> str:
    """A Set-Cookie value: HttpOnly, SameSite=Strict, with an expiry; Secure outside local."""
    secure = "" if settings.app_env == "local" else "; Secure"
    return f"{name}={value}; Max-Age={max_age}; Path={path}; HttpOnly; SameSite=Strict{secure}"


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


# ---------------------------------------------------------------- the login throttle


def _client(address: str) -> str:
    return address[:64]


def retry_after(client: str, now: datetime | None = None) -> int:
    """Seconds until this client may try a key again (0: now): LOGIN_ATTEMPTS_PER_MINUTE wrong
    keys within THROTTLE_WINDOW close the door until the oldest of them leaves the window."""
    now = now or utcnow()
    failures = ops_login_failures.c
    with read() as connection:
        count, oldest = connection.execute(
            select(func.count(), func.min(failures.failed_at)).where(
                failures.client == _client(client), failures.failed_at > now - THROTTLE_WINDOW
            )
        ).one()
    if count < LOGIN_ATTEMPTS_PER_MINUTE:
        return 0
    return max(1, int((oldest + THROTTLE_WINDOW - now).total_seconds()) + 1)


def failed(client: str, now: datetime | None = None) -> None:
    """Count a wrong key; failures older than the window go, so the table stays small."""
    now = now or utcnow()
    with write() as connection:
        connection.execute(delete(ops_login_failures).where(ops_login_failures.c.failed_at <= now - THROTTLE_WINDOW))
        connection.execute(insert(ops_login_failures), {"client": _client(client), "failed_at": now})
