"""Secrets from SSM Parameter Store, read once per process when SECRETS_SSM_PREFIX is set.

In the cloud the Lambda configuration carries only the path (`/tsh-erp/prod/`); the SecureString
parameters under it are read here, decrypted, at cold start, and override the environment
(common.config). boto3 is imported only then: the Lambda Python runtime provides it, and a
process without the prefix never pays for importing it. Values are never logged.
"""

from __future__ import annotations

import logging
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

log = get_logger("secrets")

# Each SSM path's parameters, read once per process (a test that changes them clears it).
SECRETS: Cache[str, dict[str, str]] = Cache()


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


def _read_path(path: str) -> dict[str, str]:
    """Every parameter directly under `path` (name without the path -> decrypted value)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        with _botocore_quiet():
            pages = boto3.client("ssm").get_paginator("get_parameters_by_path")
            values = {
                parameter["Name"].removeprefix(path + "/"): parameter["Value"]
                for page in pages.paginate(Path=path, WithDecryption=True, Recursive=False)
                for parameter in page["Parameters"]
            }
    except (BotoCoreError, ClientError) as exc:
        # Error codes and messages name the path or the missing permission, never a value.
        raise SecretsUnavailable(f"SECRETS_SSM_PREFIX: cannot read SSM path {path}: {exc}") from None
    log.info("Read %d SSM parameters under %s: %s", len(values), path, ", ".join(sorted(values)))
    return values


def secrets_from_ssm(prefix: str, *, require_all: bool) -> dict[str, str]:
    """The secrets under `prefix` as Settings field -> value; with `require_all`, every one must exist."""
    path = ssm_path(prefix)
    values = SECRETS.get(path, lambda: _read_path(path))
    missing = [f"{path}/{name}" for name in SECRET_PARAMETERS if name not in values]
    if require_all and missing:
        raise SecretsUnavailable(f"SECRETS_SSM_PREFIX: missing SSM parameters {', '.join(missing)}")
    known = {**SECRET_PARAMETERS, **OPTIONAL_PARAMETERS}
    return {field: values[name] for name, field in known.items() if name in values}
