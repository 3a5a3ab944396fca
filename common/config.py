"""Settings: read once from the environment (and a `.env` file), validated, passed down.

Nothing else in the project reads `os.environ` for configuration; in the cloud the secrets come
from SSM Parameter Store over it (SECRETS_SSM_PREFIX, common.ssm_secrets). A bad value raises
`ConfigError` with one line naming each offending variable; secrets are never echoed.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from common.errors import AppError
from common.ssm_secrets import SecretsUnavailable, fields_needed, secrets_from_ssm

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "tsh_erp.sqlite3"
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_SQLITE_PATH}"
LOCAL_TOKEN_SECRET_PATH = PROJECT_ROOT / "var" / "mobile_token_secret"
LOCAL_ADMIN_KEY_PATH = PROJECT_ROOT / "var" / "admin_api_key"

# Keys a production deployment must carry, those of them its function reads
# (common.ssm_secrets.FUNCTION_PARAMETERS) on AWS Lambda; a missing one stops start-up.
_PRODUCTION_SECRETS = (
    "webhook_api_key",
    "admin_api_key",
    "mobile_token_secret",
    "zoho_client_id",
    "zoho_client_secret",
    "zoho_refresh_token",
    "zoho_organization_id",
)
# HS256 wants a key at least as long as its hash; API keys shorter than this are guessable.
_MIN_SECRET_LENGTH = {"mobile_token_secret": 32, "webhook_api_key": 16, "admin_api_key": 16, "ops_viewer_key": 16}
# Secrets that may hold two comma-separated values during a rotation (the old one and the new one).
_ROTATED_SECRETS = ("webhook_api_key", "admin_api_key", "ops_viewer_key", "zoho_webhook_secret")
MAX_KEYS_IN_ROTATION = 2


def key_set(secret: SecretStr | None) -> tuple[str, ...]:
    """The keys a rotatable secret holds: one, or two separated by a comma (blanks ignored)."""
    if secret is None:
        return ()
    return tuple(part.strip() for part in secret.get_secret_value().split(",") if part.strip())


class ConfigError(AppError):
    """The configuration cannot be used; the message is one line naming the variable(s)."""


class _SsmSecrets(PydanticBaseSettingsSource):
    """The secrets under SECRETS_SSM_PREFIX (common.ssm_secrets), ranked above the environment.

    The prefix and APP_ENV themselves come from the sources it is given (arguments, environment,
    .env); in production every secret parameter must exist."""

    def __init__(self, settings_cls: type[BaseSettings], *sources: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self.sources = sources  # highest priority first

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[object, str, bool]:
        return None, field_name, False  # __call__ reads all the fields at once

    def __call__(self) -> dict[str, object]:
        found: dict[str, object] = {}
        for source in reversed(self.sources):
            found.update(source())
        prefix = found.get("secrets_ssm_prefix")
        if not prefix:
            return {}
        return secrets_from_ssm(str(prefix), require_all=found.get("app_env") == "production")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
    )

    database_url: str = DEFAULT_DATABASE_URL
    app_env: Literal["local", "production"] = "local"
    # An SSM Parameter Store path (`/tsh-erp/prod/`) whose parameters override the environment.
    secrets_ssm_prefix: str | None = None

    webhook_api_key: SecretStr | None = None
    admin_api_key: SecretStr | None = None
    mobile_token_secret: SecretStr | None = None
    # Signs in to the operations page and reads the admin GET endpoints; every change is refused to it.
    ops_viewer_key: SecretStr | None = None
    # Where alert incidents are POSTed (a Slack or Teams incoming webhook, or any JSON receiver);
    # secret, since such a URL carries its own token.
    alert_webhook_url: SecretStr | None = None
    # The secret given to Zoho's webhook: X-Zoho-Webhook-Signature is then required (common.sync.signature).
    zoho_webhook_secret: SecretStr | None = None

    zoho_client_id: str | None = None
    zoho_client_secret: SecretStr | None = None
    zoho_refresh_token: SecretStr | None = None
    zoho_organization_id: str | None = None
    zoho_accounts_url: str = "https://accounts.zoho.com"
    zoho_api_url: str = "https://www.zohoapis.com"
    zoho_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Zoho's limits, shared by every caller (common.sync.zoho_budget): calls a minute per
    # organisation, and a day (1,000 on Zoho's smallest plan; raise it with the plan).
    zoho_minute_call_limit: int = Field(default=100, ge=1, le=100_000)
    zoho_daily_call_limit: int = Field(default=1000, ge=1, le=10_000_000)
    # The import of an existing organisation brings invoices, bills and credit notes dated this far back.
    zoho_import_days: int = Field(default=365, ge=1, le=3650)

    tds_batch_size: int = Field(default=10, ge=1, le=1000)
    tds_queue_poll_interval_ms: int = Field(default=1000, ge=10, le=600_000)
    tds_lock_timeout_seconds: int = Field(default=300, ge=1, le=86_400)
    tds_max_retry_attempts: int = Field(default=5, ge=1, le=100)
    tds_workers: int = Field(default=2, ge=0, le=64)
    # How long one scheduled drain may run; below the scheduler's one-minute period.
    tds_drain_budget_seconds: float = Field(default=50.0, gt=0, le=900)
    # Completed queue rows (and so their dedupe keys) and the rest of the history are kept this long,
    # then purged (common.retention).
    tds_retention_hours: int = Field(default=168, ge=1, le=24 * 365)

    # Per-function request counts and latency (common.metrics.recording), flushed every few seconds.
    request_metrics: bool = True
    metrics_flush_seconds: float = Field(default=5.0, ge=0.5, le=300)

    # The EventBridge bus that domain events are published to; unset, only local subscribers get them.
    event_bus_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._\-/:]{1,1600}$")

    # The local runner's bound on receiving a request's body (1 MiB at most): past it, 408.
    request_body_timeout_seconds: float = Field(default=10.0, gt=0, le=300)

    db_pool_size: int = Field(default=10, ge=1, le=100)
    db_connect_timeout_seconds: float = Field(default=3.0, gt=0, le=60)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        ssm = _SsmSecrets(settings_cls, init_settings, env_settings, dotenv_settings)
        return init_settings, ssm, env_settings, dotenv_settings, file_secret_settings

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if not (scheme.startswith("sqlite") or scheme.startswith("postgres")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return url

    @field_validator("zoho_accounts_url", "zoho_api_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url.rstrip("/")

    @field_validator("alert_webhook_url")
    @classmethod
    def _alert_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url

    @field_validator(*_ROTATED_SECRETS)
    @classmethod
    def _at_most_two_keys(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(key_set(secret)) > MAX_KEYS_IN_ROTATION:
            raise ValueError("holds at most two comma-separated keys (the old and the new one during a rotation)")
        return secret

    @model_validator(mode="after")
    def _distinct_operator_keys(self) -> Settings:
        if set(key_set(self.ops_viewer_key)) & set(key_set(self.admin_api_key)):
            raise ValueError("OPS_VIEWER_KEY must differ from ADMIN_API_KEY (the viewer may not change anything)")
        return self

    @model_validator(mode="after")
    def _production_requirements(self) -> Settings:
        """Every production problem at once, so that an operator fixes them in one round."""
        if self.app_env != "production":
            return self
        problems = []
        try:
            needed = fields_needed()
        except SecretsUnavailable as exc:
            raise ValueError(str(exc)) from None
        missing = [name.upper() for name in _PRODUCTION_SECRETS if name in needed and not getattr(self, name)]
        if missing:
            problems.append(f"requires {', '.join(missing)}")
        short = [
            f"{name.upper()} (at least {length} characters)"
            for name, length in _MIN_SECRET_LENGTH.items()
            if any(len(key) < length for key in self._keys_of(name))
        ]
        if short:
            problems.append(f"needs longer secrets: {', '.join(short)}")
        if "database_url" in needed and not self.is_postgresql:
            problems.append("requires a postgresql:// DATABASE_URL")
        if problems:
            raise ValueError(f"APP_ENV=production {'; '.join(problems)}")
        return self

    def _keys_of(self, name: str) -> tuple[str, ...]:
        secret = getattr(self, name)
        if name in _ROTATED_SECRETS:
            return key_set(secret)
        return (secret.get_secret_value(),) if secret else ()

    @property
    def is_postgresql(self) -> bool:
        return self.database_url.lower().startswith("postgres")

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def zoho_configured(self) -> bool:
        return all((self.zoho_client_id, self.zoho_client_secret, self.zoho_refresh_token, self.zoho_organization_id))


def local_token_secret(path: Path = LOCAL_TOKEN_SECRET_PATH) -> str:
    """The customer-token secret of local development (no MOBILE_TOKEN_SECRET), kept in var/
    so that the tokens a runner prints survive its restart.

    Made once, readable by its owner only (0600), and created atomically: the secret is
    written to a private temporary file that is then linked into place, so two processes
    starting together agree on one secret and nobody ever reads a half-written file.
    """
    try:
        if not path.exists():
            _create_secret_file(path)
        return path.read_text().strip()
    except OSError as exc:
        reason = f"cannot keep the local token secret in {path} ({exc.strerror}): set MOBILE_TOKEN_SECRET"
        raise ConfigError(reason) from None


def local_admin_key(path: Path | None = None) -> tuple[str, bool]:
    """The admin key of local development (no ADMIN_API_KEY), made once and kept in var/ (0600)
    like the token secret; also says whether this call made it."""
    path = path or LOCAL_ADMIN_KEY_PATH
    try:
        created = not path.exists()
        if created:
            _create_secret_file(path)
        return path.read_text().strip(), created
    except OSError as exc:
        raise ConfigError(f"cannot keep the local admin key in {path} ({exc.strerror}): set ADMIN_API_KEY") from None


def _create_secret_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(48))
        file.flush()
        os.fsync(file.fileno())
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process won the race: its secret is the one
    finally:
        temporary.unlink()


def _describe(error: dict) -> str:
    location = ".".join(str(part) for part in error["loc"])
    name = location.upper() if location else "configuration"
    message = error["msg"].removeprefix("Value error, ")
    return message if not location else f"{name}: {message}"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; raise ConfigError with one line naming every problem."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = [_describe(e) for e in exc.errors()]
        raise ConfigError("; ".join(problems + _whole_configuration_problems(exc, overrides))) from None
    except SecretsUnavailable as exc:
        raise ConfigError(str(exc)) from None


def _whole_configuration_problems(exc: ValidationError, overrides: dict) -> list[str]:
    """pydantic skips the checks of the whole configuration (production's requirements) once a
    value is bad; run them again with the bad values at their defaults, so that one message
    lists everything to fix."""
    bad = {e["loc"][0] for e in exc.errors() if e["loc"] and e["loc"][0] in Settings.model_fields}
    if not bad:
        return []
    try:
        Settings(**{**overrides, **{name: Settings.model_fields[name].default for name in bad}})
    except ValidationError as again:
        return [_describe(e) for e in again.errors() if not e["loc"]]
    return []


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use (a warm function reuses them)."""
    return load_settings()
