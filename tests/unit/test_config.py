"""Configuration: defaults, one clear line for a bad value, production refuses to start without keys."""

import pytest

from common.config import DEFAULT_DATABASE_URL, ConfigError, load_settings

PRODUCTION = {
    "APP_ENV": "production",
    "DATABASE_URL": "postgresql://tsh@db.internal:5432/tsh",
    "WEBHOOK_API_KEY": "w" * 24,
    "ADMIN_API_KEY": "a" * 24,
    "MOBILE_TOKEN_SECRET": "m" * 40,
    "ZOHO_CLIENT_ID": "1000.CLIENT",
    "ZOHO_CLIENT_SECRET": "zoho-secret-value",
    "ZOHO_REFRESH_TOKEN": "1000.refresh-token-value",
    "ZOHO_ORGANIZATION_ID": "600000001",
}


def test_defaults_match_the_contract():
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.app_env == "local"
    assert (settings.tds_batch_size, settings.tds_queue_poll_interval_ms) == (10, 1000)
    assert (settings.tds_lock_timeout_seconds, settings.tds_max_retry_attempts, settings.tds_workers) == (300, 5, 2)
    assert settings.zoho_accounts_url == "https://accounts.zoho.com"
    assert settings.zoho_api_url == "https://www.zohoapis.com"
    assert settings.webhook_api_key is None and settings.admin_api_key is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TDS_BATCH_SIZE", "ten"),
        ("TDS_BATCH_SIZE", "0"),
        ("TDS_WORKERS", "-1"),
        ("TDS_LOCK_TIMEOUT_SECONDS", "1.5x"),
        ("APP_ENV", "staging"),
        ("DATABASE_URL", "mysql://db/tsh"),
        ("ZOHO_API_URL", "ftp://zoho"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(configure, name, value):
    with pytest.raises(ConfigError) as caught:
        configure(**{name: value})
    message = str(caught.value)
    assert name in message
    assert "\n" not in message


def test_production_refuses_to_start_without_its_keys(configure):
    with pytest.raises(ConfigError) as caught:
        configure(APP_ENV="production", DATABASE_URL="postgresql://tsh@db/tsh")
    message = str(caught.value)
    for name in ("WEBHOOK_API_KEY", "ADMIN_API_KEY", "MOBILE_TOKEN_SECRET", "ZOHO_REFRESH_TOKEN"):
        assert name in message


def test_production_refuses_sqlite_and_short_secrets(configure):
    with pytest.raises(ConfigError, match="postgresql"):
        configure(**{**PRODUCTION, "DATABASE_URL": "sqlite:///var/x.sqlite3"})
    with pytest.raises(ConfigError, match="MOBILE_TOKEN_SECRET"):
        configure(**{**PRODUCTION, "MOBILE_TOKEN_SECRET": "short"})


def test_complete_production_settings_start(configure):
    settings = configure(**PRODUCTION)
    assert settings.is_production and settings.is_postgresql and settings.zoho_configured


def test_secrets_are_never_echoed(configure):
    secret = "s3cr3t-value-never-printed"
    settings = configure(WEBHOOK_API_KEY=secret, MOBILE_TOKEN_SECRET=secret)
    assert secret not in repr(settings)
    with pytest.raises(ConfigError) as caught:
        configure(**{**PRODUCTION, "MOBILE_TOKEN_SECRET": "tiny-secret"})
    assert "tiny-secret" not in str(caught.value)


def test_every_production_problem_is_in_one_message(configure):
    """Missing keys, short secrets, a SQLite URL and a bad value: one round of fixes, not four."""
    with pytest.raises(ConfigError) as caught:
        configure(
            APP_ENV="production",
            DATABASE_URL="sqlite:///var/x.sqlite3",
            WEBHOOK_API_KEY="short",
            ADMIN_API_KEY="a" * 24,
            MOBILE_TOKEN_SECRET="m" * 40,
            TDS_BATCH_SIZE="ten",
        )
    message = str(caught.value)
    assert "\n" not in message
    for problem in (
        "TDS_BATCH_SIZE",
        "ZOHO_CLIENT_ID",
        "ZOHO_REFRESH_TOKEN",
        "WEBHOOK_API_KEY (at least 16",
        "postgresql:// DATABASE_URL",
    ):
        assert problem in message, message
    assert "ADMIN_API_KEY" not in message and "MOBILE_TOKEN_SECRET" not in message
