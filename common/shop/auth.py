"""Customer tokens for the shop app: HS256 JWTs signed with MOBILE_TOKEN_SECRET, `sub` = customer id,
checked by the guards `customer` and `optional_customer`, which routes name as their `auth`.

Without MOBILE_TOKEN_SECRET (local development only: production refuses to start without
it) tokens are signed with a random secret made once and kept in var/ (common.config), so
a local runner can issue and verify its own tokens, and they survive its restart.

`python -m common.shop.auth token <customer id>` prints a token for a customer (not in production).
"""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from functools import lru_cache
from typing import Any

import jwt
from sqlalchemy import select

from common.config import Settings, local_token_secret
from common.db import read, request_transaction, utcnow
from common.errors import Forbidden, Unauthorized
from common.http import ApiRequest
from common.models import customers
from common.routes import Handler
from common.shop.schemas import CustomerProfile, CustomerScope
from common.validation import id_from_text

ALGORITHM = "HS256"
DEFAULT_TTL_SECONDS = 30 * 24 * 3600
# The longest lifetime a token may claim: a leaked token dies within this whatever its signer wrote.
MAX_TTL_SECONDS = DEFAULT_TTL_SECONDS
_BEARER = re.compile(r"^Bearer +(\S+)$", re.IGNORECASE)


TOKEN_COMMAND = ".venv/bin/python -m common.shop.auth token <customer id>"


@lru_cache(maxsize=1)
def _local_secret() -> str:
    return local_token_secret()


def _signing_key(settings: Settings) -> str:
    secret = settings.mobile_token_secret
    return secret.get_secret_value() if secret else _local_secret()


def _how_to_authenticate(settings: Settings) -> str:
    hint = "send the header Authorization: Bearer <token>"
    return hint if settings.is_production else f"{hint} (locally, print a token with {TOKEN_COMMAND})"


def issue_token(customer_id: int, settings: Settings, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> str:
    now = utcnow()
    claims = {"sub": str(customer_id), "iat": now, "exp": now + timedelta(seconds=ttl_seconds)}
    return jwt.encode(claims, _signing_key(settings), algorithm=ALGORITHM)


def _too_long_lived(claims: dict[str, Any]) -> bool:
    """A lifetime over MAX_TTL_SECONDS, as written (exp - iat) or from now (an `iat` set ahead)."""
    expires, issued = claims["exp"], claims["iat"]
    if not all(isinstance(value, int | float) for value in (expires, issued)):
        return True
    return expires - issued > MAX_TTL_SECONDS or expires - utcnow().timestamp() > MAX_TTL_SECONDS


def customer_id_from_token(token: str, settings: Settings) -> int:
    """The token's customer id; Unauthorized for a bad signature, an expired token or a bad `sub`."""
    try:
        claims = jwt.decode(token, _signing_key(settings), algorithms=[ALGORITHM],
                            options={"require": ["exp", "iat", "sub"]})  # fmt: skip
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Token has expired") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("Invalid token") from None
    if _too_long_lived(claims):
        raise Unauthorized("Token lifetime exceeds 30 days")
    customer_id = id_from_text(claims["sub"]) if isinstance(claims["sub"], str) else None
    if customer_id is None:
        raise Unauthorized("Invalid token")
    return customer_id


def _profile(customer_id: int) -> CustomerProfile:
    with read() as connection:
        row = connection.execute(
            select(customers.c.id, customers.c.name, customers.c.avatar_url, customers.c.phone).where(
                customers.c.id == customer_id, customers.c.is_active
            )
        ).first()
    if row is None:
        raise Unauthorized("Unknown customer")
    return CustomerProfile(id=row.id, name=row.name, avatar=row.avatar_url, phone=row.phone)


def _token_customer_id(request: ApiRequest, header: str) -> int:
    bearer = _BEARER.match(header.strip())
    if bearer is None:
        raise Unauthorized(f"Authorization must be a Bearer token: {_how_to_authenticate(request.settings)}")
    return customer_id_from_token(bearer.group(1), request.settings)


def _signed_in(request: ApiRequest, handler: Handler, customer_id: int, scoped: bool) -> Any:
    """The token's customer on `request.customer` (401 unless existing and active), then the
    handler, in one transaction: the lookup joins the screen's own work (a write for a change)."""
    with request_transaction(writes=request.route.method != "GET"):
        request.customer = _profile(customer_id)
        if scoped:
            claimed = request.query_model(CustomerScope).customer_id
            if claimed is not None and claimed != customer_id:
                raise Forbidden("customer_id must be the signed-in customer")
        return handler(request)


def optional_customer(request: ApiRequest, handler: Handler) -> Any:
    """With an Authorization header, a signed-in customer (401 for a bad token);
    without one, an anonymous caller."""
    header = request.headers.get("Authorization")
    if header is None:
        return handler(request)
    return _signed_in(request, handler, _token_customer_id(request, header), scoped=False)


def customer(request: ApiRequest, handler: Handler) -> Any:
    """A customer-scoped screen, for a valid token of an existing, active customer (401
    otherwise); 403 when the query's `customer_id` names anyone else, so a client bug never
    shows or changes another's data."""
    header = request.headers.get("Authorization")
    if header is None:
        raise Unauthorized(f"Authentication required: {_how_to_authenticate(request.settings)}")
    return _signed_in(request, handler, _token_customer_id(request, header), scoped=True)


def main(argv: list[str]) -> int:
    """Print a token for an existing, active customer; local development only."""
    from sqlalchemy.exc import DBAPIError

    from common.config import ConfigError, get_settings
    from common.startup import database_problem

    if len(argv) != 2 or argv[0] != "token" or id_from_text(argv[1]) is None:
        print(f"usage: {TOKEN_COMMAND}", file=sys.stderr)
        return 2
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if settings.is_production:
        print("refused with APP_ENV=production: customers get their tokens by signing in", file=sys.stderr)
        return 2
    customer_id = id_from_text(argv[1])
    try:
        _profile(customer_id)
    except Unauthorized:
        print(f"no active customer with id {customer_id} in the configured database", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        print(f"cannot read customers: {database_problem(exc, settings.database_url)}", file=sys.stderr)
        return 1
    print(issue_token(customer_id, settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
