"""The Zoho client against a fake Zoho on loopback, on both databases: the shared token, its refresh
(once, even under concurrency), a rejected token, rate limits, failures, and no credential in any text."""

import threading
import traceback
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from common.config import get_settings
from common.db import utcnow
from common.models import zoho_oauth_tokens
from common.sync.errors import TransientSyncError, is_transient
from common.sync.zoho_client import (
    TOKEN_NAME,
    ZohoApiError,
    ZohoAuthError,
    ZohoBudgetSpent,
    ZohoClient,
    ZohoNotConfigured,
    ZohoRateLimited,
    ZohoUnavailable,
)
from tests.fake_zoho import FakeZoho
from tests.helpers import early_in_a_minute, free_port

ITEMS = "/inventory/v1/items"


def _get(path: str = ITEMS) -> dict:
    with ZohoClient(get_settings()) as client:
        return client.get(path, {"page": 1})


def _stored_token(db):
    with db.engine.connect() as connection:
        return connection.execute(select(zoho_oauth_tokens)).one_or_none()


def test_a_token_is_obtained_once_and_shared_by_every_instance(db, fake_zoho, captured_logs):
    fake_zoho.add(ITEMS, {"item_id": "1", "name": "Cable", "last_modified_time": "2026-11-01T08:00:00+0300"})
    assert _get()["items"][0]["item_id"] == "1"
    assert _get()["code"] == 0  # a second instance: a new client, the same shared token

    [refresh] = fake_zoho.token_calls()
    assert refresh.form == {
        "refresh_token": FakeZoho.REFRESH_TOKEN,
        "client_id": FakeZoho.CLIENT_ID,
        "client_secret": FakeZoho.CLIENT_SECRET,
        "grant_type": "refresh_token",
    }
    assert refresh.query == {}  # credentials travel in the body, never in the URL
    stored = _stored_token(db)
    assert stored.name == TOKEN_NAME
    assert timedelta(seconds=3500) < stored.expires_at - utcnow() <= timedelta(seconds=3600)
    calls = fake_zoho.api_calls()
    assert len(calls) == 2
    for call in calls:
        assert call.headers["authorization"] == f"Zoho-oauthtoken {stored.access_token}"
        assert call.query == {"page": "1", "organization_id": FakeZoho.ORGANIZATION_ID}
    logs = captured_logs()
    assert "Zoho access token refreshed" in logs
    for secret in (stored.access_token, FakeZoho.REFRESH_TOKEN, FakeZoho.CLIENT_SECRET):
        assert secret not in logs


def test_a_token_about_to_expire_is_refreshed(db, fake_zoho):
    _get()
    first = _stored_token(db).access_token
    with db.engine.begin() as connection:
        connection.execute(update(zoho_oauth_tokens).values(expires_at=utcnow() + timedelta(seconds=30)))
    _get()
    assert len(fake_zoho.token_calls()) == 2
    assert _stored_token(db).access_token != first


def test_a_rejected_token_is_refreshed_once_and_the_call_retried(db, fake_zoho):
    _get()
    fake_zoho.expire_tokens()  # Zoho no longer honours it although our row says it is valid
    with ZohoClient(get_settings()) as client:
        client.get(ITEMS)
        client.get(ITEMS)  # the instance keeps the new token
    assert len(fake_zoho.token_calls()) == 2
    assert len(fake_zoho.api_calls()) == 1 + 2 + 1
    assert fake_zoho.api_calls()[-1].headers["authorization"].endswith(_stored_token(db).access_token)


def test_a_token_rejected_again_after_its_refresh_is_an_auth_error(db, fake_zoho):
    fake_zoho.fail(ITEMS, 401, {"code": 57, "message": "You are not authorized to perform this operation"}, times=2)
    with pytest.raises(ZohoAuthError, match="rejected a freshly refreshed access token"):
        _get()
    assert len(fake_zoho.token_calls()) == 2  # the first token, then one refresh: no loop
    assert len(fake_zoho.api_calls()) == 2


def test_concurrent_instances_refresh_the_shared_token_once(db, fake_zoho):
    fake_zoho.delay_seconds = 0.2  # a slow token endpoint widens the race
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def instance() -> None:
        start.wait()
        try:
            _get()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=instance) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(fake_zoho.token_calls()) == 1
    assert len(fake_zoho.api_calls()) == 6


def test_a_refused_refresh_token_is_a_clear_error_that_reveals_no_secret(db, fake_zoho, captured_logs):
    fake_zoho.accepted_refresh_token = "1000.a-token-zoho-revoked"
    with pytest.raises(ZohoAuthError) as raised:
        _get()
    message = str(raised.value)
    assert "Zoho refused the token refresh: invalid_code" in message
    texts = [message, repr(raised.value), "".join(traceback.format_exception(raised.value)), captured_logs()]
    for text in texts:
        assert FakeZoho.REFRESH_TOKEN not in text
        assert FakeZoho.CLIENT_SECRET not in text
    assert _stored_token(db) is None  # nothing half-written
    assert fake_zoho.api_calls() == []


def test_a_429_is_transient_and_pauses_every_caller_until_the_next_minute(db, fake_zoho):
    early_in_a_minute()
    fake_zoho.fail(ITEMS, 429, {"code": 44, "message": "API call limit exceeded"})  # no Retry-After, as Zoho
    with pytest.raises(ZohoRateLimited) as raised:
        _get()
    assert raised.value.resume_at == utcnow().replace(second=0, microsecond=0) + timedelta(minutes=1)
    assert 0 < raised.value.retry_after <= 60
    assert "rate limit" in str(raised.value)
    assert isinstance(raised.value, TransientSyncError) and is_transient(raised.value)

    with pytest.raises(ZohoBudgetSpent) as other:  # another instance: no call to Zoho this minute
        _get()
    assert other.value.resume_at == raised.value.resume_at
    assert len(fake_zoho.api_calls()) == 1


def test_a_retry_after_zoho_sends_is_respected(db, fake_zoho):
    fake_zoho.fail(ITEMS, 429, {"code": 44, "message": "API call limit exceeded"}, {"Retry-After": "300"})
    with pytest.raises(ZohoRateLimited) as raised:
        _get()
    assert 298 <= raised.value.retry_after <= 300


def test_a_rate_limited_token_endpoint_is_transient_too(db, fake_zoho):
    fake_zoho.fail("/oauth/v2/token", 429)
    with pytest.raises(ZohoRateLimited, match="Zoho token endpoint rate limit reached"):
        _get()


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_transient(db, fake_zoho, status):
    fake_zoho.fail(ITEMS, status)
    with pytest.raises(ZohoUnavailable, match=f"HTTP {status}") as raised:
        _get()
    assert is_transient(raised.value)


@pytest.mark.parametrize("endpoint", ["token", "api"])
def test_a_slow_zoho_times_out(db, fake_zoho, configure, endpoint):
    if endpoint == "api":
        _get()  # the token first, so that only the API call is slow
    configure(ZOHO_TIMEOUT_SECONDS="0.2")
    fake_zoho.delay_seconds = 1.0
    with pytest.raises(ZohoUnavailable, match="timed out"):
        _get()


def test_an_unreachable_zoho_is_transient(db, fake_zoho, configure):
    configure(ZOHO_ACCOUNTS_URL=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ZohoUnavailable, match="Zoho token endpoint unreachable") as raised:
        _get()
    assert is_transient(raised.value)


def test_a_zoho_error_code_carries_zohos_message(db, fake_zoho):
    fake_zoho.fail(ITEMS, 400, {"code": 2, "message": "Invalid value passed for per_page"})
    with pytest.raises(ZohoApiError, match="Zoho API error 2: Invalid value passed for per_page") as raised:
        _get()
    assert (raised.value.status, raised.value.code) == (400, 2)
    assert not is_transient(raised.value)
    fake_zoho.fail(ITEMS, 200, {"code": 1001, "message": f"Bad request for {FakeZoho.CLIENT_SECRET}"})
    with pytest.raises(ZohoApiError, match="Zoho API error 1001") as raised:
        _get()
    assert FakeZoho.CLIENT_SECRET not in str(raised.value)


def test_a_client_needs_the_zoho_settings():
    with pytest.raises(ZohoNotConfigured, match="Zoho API is not configured"):
        ZohoClient(get_settings())


def test_only_zohos_does_not_exist_says_a_record_is_gone(db, fake_zoho):
    item = fake_zoho.put(ITEMS, {"name": "Cable", "rate": 5000, "stock_on_hand": 3})
    with ZohoClient(get_settings()) as client:
        assert client.get_item(item["item_id"])["stock_on_hand"] == 3
        fake_zoho.delete(ITEMS, item["item_id"])
        assert client.get_item(item["item_id"]) is None  # Zoho's code 1002
        with pytest.raises(ZohoApiError) as wrong_url:  # 404 "Invalid URL Passed" (code 5) is not a deletion
            client.get_record("/inventory/v1/no-such-list", "item", item["item_id"])
    assert (wrong_url.value.status, wrong_url.value.code) == (404, 5)
