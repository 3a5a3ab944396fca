"""Zoho's webhook signature (X-Zoho-Webhook-Signature) and the rotation of every shared secret.

The signatures here are made by the test itself, with the hmac module and the text Zoho's
documentation describes written out by hand: sorted query (and form) fields as `namevalue`,
then a JSON body as sent, HMAC-SHA256 under the secret, in hexadecimal.
"""

import hashlib
import hmac
import json
from urllib.parse import quote

import pytest

from common.config import ConfigError, load_settings
from common.models import tds_sync_queue
from tests import zoho_payloads as zoho
from tests.helpers import count

SECRET, NEXT_SECRET = "zohoSecret2024abc", "zohoSecret2025xyz"
KEY, NEXT_KEY = "webhook-key-0123456789abcdef", "webhook-key-next-0123456789"
ADMIN, NEXT_ADMIN = "admin-key-0123456789abcdef", "admin-key-next-0123456789ab"
URL = "/api/zoho/webhooks/products"


def _sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def signed_service(client, configure):
    configure(WEBHOOK_API_KEY=KEY, ZOHO_WEBHOOK_SECRET=SECRET)
    return client


def test_a_json_body_signed_with_the_secret_is_accepted(signed_service, db):
    body = json.dumps(zoho.product(version=1), separators=(",", ":"))
    response = signed_service.post(
        URL,
        data=body,
        content_type="application/json",
        headers={"X-Webhook-Key": KEY, "X-Zoho-Webhook-Signature": _sign(SECRET, body)},
    )
    assert response.status_code == 202, response.get_json()
    assert count(db.engine, tds_sync_queue) == 1


def test_query_parameters_are_signed_sorted_before_the_body(signed_service, db):
    body = json.dumps({"item": {"item_id": "460000000012345"}})
    signature = _sign(SECRET, "event_typedelete" + "source" + "zoho" + body)
    response = signed_service.post(
        f"{URL}?source=zoho&event_type=delete",
        data=body,
        content_type="application/json",
        headers={"X-Webhook-Key": KEY, "X-Zoho-Webhook-Signature": signature.upper()},
    )
    assert response.status_code == 202, response.get_json()
    assert count(db.engine, tds_sync_queue) == 1


def test_a_form_body_is_signed_as_its_decoded_fields(signed_service, db):
    json_text = json.dumps(zoho.product(version=2, name="مولد كهرباء"), ensure_ascii=False)
    form = "JSONString=" + quote(json_text)
    signature = _sign(SECRET, "JSONString" + json_text)
    response = signed_service.post(
        URL,
        data=form,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Webhook-Key": KEY, "X-Zoho-Webhook-Signature": signature},
    )
    assert response.status_code == 202, response.get_json()
    assert count(db.engine, tds_sync_queue) == 1


@pytest.mark.parametrize("case", ["missing", "other secret", "tampered body", "garbage"])
def test_a_missing_or_wrong_signature_is_401_and_queues_nothing(signed_service, db, case):
    body = json.dumps(zoho.product(version=3))
    signatures = {
        "missing": None,
        "other secret": _sign("not-the-secret-at-all", body),
        "tampered body": _sign(SECRET, json.dumps(zoho.product(version=4))),  # signed another body
        "garbage": "not hex at all",
    }
    headers = {"X-Webhook-Key": KEY}
    if signatures[case] is not None:
        headers["X-Zoho-Webhook-Signature"] = signatures[case]
    response = signed_service.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {
        "success": False,
        "message": "Invalid webhook signature",
        "code": "unauthorized",
        "errors": [],
    }
    assert count(db.engine, tds_sync_queue) == 0


def test_during_a_secret_rotation_both_secrets_sign(client, db, configure):
    configure(WEBHOOK_API_KEY=KEY, ZOHO_WEBHOOK_SECRET=f"{SECRET},{NEXT_SECRET}")
    for version, secret in ((1, SECRET), (2, NEXT_SECRET)):
        body = json.dumps(zoho.product(version=version))
        response = client.post(
            URL,
            data=body,
            content_type="application/json",
            headers={"X-Webhook-Key": KEY, "X-Zoho-Webhook-Signature": _sign(secret, body)},
        )
        assert response.status_code == 202, response.get_json()
    configure(ZOHO_WEBHOOK_SECRET=NEXT_SECRET)  # the rotation is over: the old secret signs nothing
    body = json.dumps(zoho.product(version=3))
    response = client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={"X-Webhook-Key": KEY, "X-Zoho-Webhook-Signature": _sign(SECRET, body)},
    )
    assert response.status_code == 401
    assert count(db.engine, tds_sync_queue) == 2


def test_during_a_key_rotation_both_webhook_keys_and_both_admin_keys_are_accepted(client, db, configure):
    configure(WEBHOOK_API_KEY=f"{KEY}, {NEXT_KEY}", ADMIN_API_KEY=f"{ADMIN},{NEXT_ADMIN}")
    for version, key in ((1, KEY), (2, NEXT_KEY)):
        assert client.post(URL, json=zoho.product(version=version), headers={"X-Webhook-Key": key}).status_code == 202
    for wrong in ("", f"{KEY},{NEXT_KEY}", KEY[:-1], "x"):
        assert client.post(URL, json=zoho.product(version=9), headers={"X-Webhook-Key": wrong}).status_code == 401
    for admin in (ADMIN, NEXT_ADMIN):
        assert client.get("/api/zoho/dashboard/stats", headers={"X-Admin-Key": admin}).status_code == 200
    assert client.get("/api/zoho/dashboard/stats", headers={"X-Admin-Key": f"{ADMIN},{NEXT_ADMIN}"}).status_code == 401
    assert count(db.engine, tds_sync_queue) == 2


def _production(**secrets: str) -> dict:
    return {
        "app_env": "production",
        "database_url": "postgresql://u@h/d",
        "mobile_token_secret": "m" * 32,
        "zoho_client_id": "i",
        "zoho_client_secret": "s",
        "zoho_refresh_token": "r",
        "zoho_organization_id": "o",
        "webhook_api_key": KEY,
        "admin_api_key": ADMIN,
        **secrets,
    }


def test_every_key_of_a_rotation_must_be_long_enough_in_production():
    assert load_settings(**_production(webhook_api_key=f"{KEY},{NEXT_KEY}")).webhook_api_key
    with pytest.raises(ConfigError, match="WEBHOOK_API_KEY"):
        load_settings(**_production(webhook_api_key=f"{KEY},short"))
    with pytest.raises(ConfigError, match="ADMIN_API_KEY"):
        load_settings(**_production(admin_api_key=f"{ADMIN},{NEXT_ADMIN},{ADMIN}x"))
