"""Secrets from SSM Parameter Store at start-up (SECRETS_SSM_PREFIX), against moto's SSM."""

import json
import logging
import subprocess
import sys

import boto3
import pytest
from moto import mock_aws

from common import ssm_secrets
from common.config import ConfigError, load_settings
from common.logs import LOGGER_NAME
from common.ssm_secrets import SECRET_PARAMETERS
from tests.helpers import PROJECT_ROOT

PREFIX = "/tsh-erp/prod/"
SECRETS = {
    "database-url": "postgresql://tsh:pg-password-from-ssm-7f3a@db.internal:5432/tsh",
    "webhook-api-key": "webhook-key-from-ssm-0123456789",
    "admin-api-key": "admin-key-from-ssm-0123456789ab",
    "mobile-token-secret": "mobile-token-secret-from-ssm-0123456789abcdef",
    "zoho-client-id": "1000.ZOHOCLIENTFROMSSM",
    "zoho-client-secret": "zoho-client-secret-from-ssm-42",
    "zoho-refresh-token": "1000.zoho-refresh-token-from-ssm-99",
    "zoho-organization-id": "ssm-org-775533",
}


@pytest.fixture
def ssm(monkeypatch):
    """moto's SSM with the stage's secrets, beside ten other parameters that push them onto a second page."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "me-south-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    ssm_secrets.forget()
    with mock_aws():
        client = boto3.client("ssm", region_name="me-south-1")
        for number in range(10):
            client.put_parameter(Name=f"{PREFIX}feature-{number:02}", Value="on", Type="String")
        client.put_parameter(
            Name="/tsh-erp/staging/admin-api-key", Value="staging-admin-key-000000", Type="SecureString"
        )
        for name, value in SECRETS.items():
            client.put_parameter(Name=PREFIX + name, Value=value, Type="SecureString")
        yield client
    ssm_secrets.forget()


def test_every_secret_parameter_is_named_by_the_contract():
    assert set(SECRET_PARAMETERS) == set(SECRETS)


def test_production_starts_from_the_ssm_secrets_over_the_environment(ssm, monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRETS_SSM_PREFIX", PREFIX)
    monkeypatch.setenv("ADMIN_API_KEY", "admin-key-from-environment-000")
    settings = load_settings()
    assert settings.database_url == SECRETS["database-url"]
    assert settings.admin_api_key.get_secret_value() == SECRETS["admin-api-key"]
    assert settings.webhook_api_key.get_secret_value() == SECRETS["webhook-api-key"]
    assert settings.mobile_token_secret.get_secret_value() == SECRETS["mobile-token-secret"]
    assert settings.zoho_refresh_token.get_secret_value() == SECRETS["zoho-refresh-token"]
    assert settings.zoho_organization_id == SECRETS["zoho-organization-id"]


def test_the_viewer_key_and_the_alert_url_are_read_when_present_and_never_required(ssm, monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRETS_SSM_PREFIX", PREFIX)
    without = load_settings()
    assert without.ops_viewer_key is None and without.alert_webhook_url is None
    ssm_secrets.SECRETS.clear()
    ssm.put_parameter(Name=PREFIX + "ops-viewer-key", Value="viewer-key-from-ssm-0123456", Type="SecureString")
    ssm.put_parameter(Name=PREFIX + "alert-webhook-url", Value="https://hooks.example/T0/B0/x", Type="SecureString")
    settings = load_settings()
    assert settings.ops_viewer_key.get_secret_value() == "viewer-key-from-ssm-0123456"
    assert settings.alert_webhook_url.get_secret_value() == "https://hooks.example/T0/B0/x"


def test_ssm_is_read_once_per_process(ssm, monkeypatch):
    monkeypatch.setenv("SECRETS_SSM_PREFIX", "tsh-erp/prod")  # the same path, written without slashes
    first = load_settings()
    ssm.put_parameter(
        Name=PREFIX + "admin-api-key", Value="rotated-admin-key-00000000", Type="SecureString", Overwrite=True
    )
    assert load_settings().admin_api_key == first.admin_api_key
    ssm_secrets.forget()
    assert load_settings().admin_api_key.get_secret_value() == "rotated-admin-key-00000000"


def test_production_refuses_to_start_naming_the_missing_parameter(ssm, monkeypatch):
    ssm.delete_parameter(Name=PREFIX + "mobile-token-secret")
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRETS_SSM_PREFIX", PREFIX)
    monkeypatch.setenv("MOBILE_TOKEN_SECRET", "a-value-in-the-environment-is-not-enough-0123")
    with pytest.raises(ConfigError, match=r"missing SSM parameters /tsh-erp/prod/mobile-token-secret$") as raised:
        load_settings()
    assert not any(value in str(raised.value) for value in SECRETS.values())


def test_a_local_start_takes_what_ssm_has(ssm, monkeypatch):
    ssm.delete_parameter(Name=PREFIX + "zoho-client-secret")
    monkeypatch.setenv("SECRETS_SSM_PREFIX", PREFIX)
    settings = load_settings()
    assert settings.zoho_client_secret is None
    assert settings.admin_api_key.get_secret_value() == SECRETS["admin-api-key"]


def test_unreadable_ssm_is_a_clear_start_up_error(ssm, monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRETS_SSM_PREFIX", PREFIX)
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # a run outside AWS with no region configured
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(ConfigError, match="SECRETS_SSM_PREFIX: cannot read SSM path /tsh-erp/prod"):
        load_settings()


def test_no_secret_value_reaches_a_log_line(ssm, monkeypatch, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRETS_SSM_PREFIX", PREFIX)
    load_settings()
    ssm.delete_parameter(Name=PREFIX + "zoho-refresh-token")
    ssm_secrets.forget()
    with pytest.raises(ConfigError):
        load_settings()
    captured = capfd.readouterr()
    written = caplog.text + captured.out + captured.err
    assert "Read 8 SSM parameters under /tsh-erp/prod" in written  # the log line exists ...
    assert not [value for value in SECRETS.values() if value in written]  # ... and carries no value


def test_without_a_prefix_boto3_is_never_imported():
    probe = (
        "import json, sys; from common.config import load_settings; load_settings(); "
        "print(json.dumps('boto3' in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert json.loads(result.stdout) is False


def test_a_lambda_reads_only_its_function_s_parameters(ssm, monkeypatch):
    """The screens' Lambda starts in production with the database URL and the token secret alone."""
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRETS_SSM_PREFIX", PREFIX)
    monkeypatch.setenv(ssm_secrets.LAMBDA_HANDLER_VARIABLE, "aws_lambda.mobile_home")
    for name in ("admin-api-key", "zoho-refresh-token", "webhook-api-key"):
        ssm.delete_parameter(Name=PREFIX + name)  # its role could not read them anyway
    settings = load_settings()
    assert settings.mobile_token_secret.get_secret_value() == SECRETS["mobile-token-secret"]
    assert settings.database_url == SECRETS["database-url"]
    assert settings.admin_api_key is None and settings.zoho_client_secret is None and settings.zoho_client_id is None


def test_a_lambda_without_a_parameter_list_refuses_to_start(ssm, monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRETS_SSM_PREFIX", PREFIX)
    monkeypatch.setenv(ssm_secrets.LAMBDA_HANDLER_VARIABLE, "aws_lambda.not_a_function")
    with pytest.raises(ConfigError, match="no SSM parameters are listed for the function not_a_function"):
        load_settings()


def test_every_deployed_function_lists_its_parameters():
    import aws_lambda
    from service import HTTP_FUNCTIONS, INVOCATIONS, SCHEDULES

    deployed = {entry.__name__ for entry in HTTP_FUNCTIONS} | {job.name for job in (*SCHEDULES, *INVOCATIONS)}
    assert set(ssm_secrets.FUNCTION_PARAMETERS) == deployed | {aws_lambda.FALLBACK}
    known = {*SECRET_PARAMETERS, *ssm_secrets.OPTIONAL_PARAMETERS}
    assert {name for needed in ssm_secrets.FUNCTION_PARAMETERS.values() for name in needed} <= known


def test_more_names_than_one_ssm_call_takes_are_all_read(ssm):
    """SSM's GetParameters takes at most ten names: a longer list is read in several calls."""
    names = (*(f"feature-{number:02}" for number in range(10)), "admin-api-key", "zoho-client-id")

    values = ssm_secrets._read(PREFIX.rstrip("/"), names)

    assert values == {
        **{f"feature-{number:02}": "on" for number in range(10)},
        **{name: SECRETS[name] for name in ("admin-api-key", "zoho-client-id")},
    }
