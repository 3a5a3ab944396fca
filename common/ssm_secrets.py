"""Secrets from SSM Parameter Store, read once per process when SECRETS_SSM_PREFIX is set.

In the cloud the Lambda configuration carries only the path (`/tsh-erp/prod/`); the SecureString
parameters under it are read here, decrypted, at cold start, and override the environment
(common.config). Each Lambda reads only the parameters its function needs (FUNCTION_PARAMETERS,
which its IAM role in serverless.yml mirrors); a process that is not a Lambda reads them all.
Values are never logged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from common.cache import Cache
from common.errors import AppError
from common.logs import get_logger

# Parameter name under the prefix -> the Settings field it fills.
SECRET_PARAMETERS = {
    "database-url": "database_url",
    "webhook-api-key": "webhook_api_key",
    "admin-api-key": "admin_api_key",
    "mobile-token-secret": "mobile_token_secret",
    "zoho-client-id": "zoho_client_id",
    "zoho-client-secret": "zoho_client_secret",
    "zoho-refresh-token": "zoho_refresh_token",
    "zoho-organization-id": "zoho_organization_id",
}
# Used when present, never required: the viewer role and the alert webhook (whose URL carries its token).
OPTIONAL_PARAMETERS = {
    "ops-viewer-key": "ops_viewer_key",
    "alert-webhook-url": "alert_webhook_url",
}
_DATABASE = ("database-url",)
_ADMIN = (*_DATABASE, "admin-api-key", "ops-viewer-key")
_ZOHO = ("zoho-client-id", "zoho-client-secret", "zoho-refresh-token", "zoho-organization-id")
_SHOP = (*_DATABASE, "mobile-token-secret")
# Each deployed function (a def of aws_lambda.py) -> the parameters it reads: what its routes'
# guards check and what its work calls. serverless.yml grants each function's role exactly these
# (tests/e2e/test_packaging.py reads the packaged template against this table).
FUNCTION_PARAMETERS: dict[str, tuple[str, ...]] = {
    "health": _DATABASE,
    # A dry run (X-Dry-Run) needs the admin key beside Zoho's (common.keys.webhook_key).
    "zoho_webhook": (*_DATABASE, "webhook-api-key", "admin-api-key"),
    # The scheduled drain also sends the operators' alerts (common.ops.notify).
    "drain_queue": (*_DATABASE, "alert-webhook-url"),
    "drain_queue_http": _ADMIN,
    "reconcile_zoho": (*_DATABASE, *_ZOHO),
    "reconcile_zoho_http": (*_ADMIN, *_ZOHO),
    # After the relay it pushes placed and cancelled orders to Zoho (common.sync.order_push).
    "publish_events": (*_DATABASE, *_ZOHO),
    "purge_history": _DATABASE,
    "events_feed": _ADMIN,
    "zoho_dashboard": _ADMIN,
    "mobile_home": _SHOP,
    "mobile_product": _SHOP,
    "mobile_search": _SHOP,
    "mobile_checkout": _SHOP,
    "mobile_cart": _SHOP,
    "mobile_orders": _SHOP,
    "mobile_addresses": _SHOP,
    "api_docs": (),
    "ops_dashboard": _ADMIN,
    "fallback": (),
    "migrate": _DATABASE,
}
# SSM's read, at cold start: two attempts that end inside the request budget (common.aws).
SSM_ATTEMPTS = 2
# A failed read is answered from memory this long, so that one request does not wait for SSM
# once per settings lookup, and a warm Lambda retries it on a later request.
FAILED_READ_SECONDS = 15.0
# Lambda's own variable naming the handler it runs: `aws_lambda.<function>`.
LAMBDA_HANDLER_VARIABLE = "_HANDLER"

log = get_logger("secrets")

# The parameters read from each SSM path, once per process; a failed read's message, for a while.
SECRETS: Cache[tuple[str, tuple[str, ...]], dict[str, str]] = Cache()
FAILED_READS: Cache[str, str] = Cache(ttl_seconds=FAILED_READ_SECONDS)


def forget() -> None:
    """Read SSM again on the next lookup (a test that changed the parameters)."""
    SECRETS.clear()
    FAILED_READS.clear()


class SecretsUnavailable(AppError):
    """SSM could not be read, or lacks parameters a production start needs; names only, no values."""


def ssm_path(prefix: str) -> str:
    """`/tsh-erp/prod/` and `tsh-erp/prod` both name the path `/tsh-erp/prod`."""
    return "/" + prefix.strip("/")


@contextmanager
def _botocore_quiet() -> Iterator[None]:
    """botocore logs whole response bodies, decrypted values included, at DEBUG: not while reading these."""
    botocore_log = logging.getLogger("botocore")
    level = botocore_log.level
    botocore_log.setLevel(max(level, logging.INFO))
    try:
        yield
    finally:
        botocore_log.setLevel(level)


def lambda_function() -> str | None:
    """The function this Lambda runs (from `_HANDLER`, set by the Lambda runtime), else None."""
    handler = os.environ.get(LAMBDA_HANDLER_VARIABLE, "")
    module, _, name = handler.rpartition(".")
    return name if module == "aws_lambda" else None


def parameters_needed() -> tuple[str, ...]:
    """The parameters this process reads: its Lambda function's, or all of them elsewhere."""
    function = lambda_function()
    if function is None:
        return (*SECRET_PARAMETERS, *OPTIONAL_PARAMETERS)
    if function not in FUNCTION_PARAMETERS:
        raise SecretsUnavailable(f"no SSM parameters are listed for the function {function}")
    return FUNCTION_PARAMETERS[function]


def fields_needed() -> set[str]:
    """The Settings fields this process's secret parameters fill (production requires them)."""
    return {SECRET_PARAMETERS[name] for name in parameters_needed() if name in SECRET_PARAMETERS}


GET_PARAMETERS_MAX = 10


def _read(path: str, names: tuple[str, ...]) -> dict[str, str]:
    """The parameters `names` under `path` that exist (name without the path -> decrypted value)."""
    if not names:
        return {}
    from botocore.exceptions import BotoCoreError, ClientError

    from common import aws

    found = []
    try:
        with _botocore_quiet():
            client = aws.client("ssm", attempts=SSM_ATTEMPTS)
            for start in range(0, len(names), GET_PARAMETERS_MAX):  # SSM answers at most 10 names a call
                chunk = names[start : start + GET_PARAMETERS_MAX]
                answer = client.get_parameters(Names=[f"{path}/{name}" for name in chunk], WithDecryption=True)
                found += answer["Parameters"]
    except (BotoCoreError, ClientError) as exc:
        # Error codes and messages name the path or the missing permission, never a value.
        raise SecretsUnavailable(f"SECRETS_SSM_PREFIX: cannot read SSM path {path}: {exc}") from None
    values = {parameter["Name"].removeprefix(path + "/"): parameter["Value"] for parameter in found}
    log.info("Read %d SSM parameters under %s: %s", len(values), path, ", ".join(sorted(values)))
    return values


def _read_once(path: str, names: tuple[str, ...]) -> dict[str, str]:
    failure = FAILED_READS.lookup(path)
    if failure is not None:
        raise SecretsUnavailable(failure)
    try:
        return _read(path, names)
    except SecretsUnavailable as exc:
        FAILED_READS.keep(path, str(exc))
        raise


def secrets_from_ssm(prefix: str, *, require_all: bool) -> dict[str, str]:
    """This process's secrets under `prefix` as Settings field -> value; with `require_all`, every
    one it needs must exist."""
    path = ssm_path(prefix)
    names = parameters_needed()
    values = SECRETS.get((path, names), lambda: _read_once(path, names))
    missing = [f"{path}/{name}" for name in names if name not in values and name not in OPTIONAL_PARAMETERS]
    if require_all and missing:
        raise SecretsUnavailable(f"SECRETS_SSM_PREFIX: missing SSM parameters {', '.join(missing)}")
    known = {**SECRET_PARAMETERS, **OPTIONAL_PARAMETERS}
    return {known[name]: values[name] for name in names if name in values}
