"""Hostile webhook bodies, on both databases: intake refuses (400/422, nothing stored) every body
that the queue, the drain or an admin view could not handle, and whatever it accepts is applied
or dead-lettered with a row the dead-letter list can show."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from common.models import tds_sync_queue
from common.validation import MAX_JSON_DEPTH
from tests import zoho_payloads as zoho
from tests.helpers import ADMIN_KEY, count, drain_now

ROUTES = sorted(zoho.ENTITY_CASES)
_STAMP = re.compile(rb'"20\d\d-\d\d-\d\dT[^"]*"')
_MARK = b'"@@hostile@@"'


def _record(body: dict) -> dict:
    """The Zoho record inside a body: the envelope's `data`, or the native body's single value."""
    return body["data"] if "data" in body else next(iter(body.values()))


def _body_with(route: str, fragment: bytes) -> bytes:
    """The route's valid sample body with `fragment` (raw JSON bytes) as an unknown field's value."""
    body = zoho.ENTITY_CASES[route][0]()
    _record(body)["cf_hostile"] = "@@hostile@@"
    return json.dumps(body).encode().replace(_MARK, fragment)


def _post(client, route: str, data: bytes):
    return client.post(f"/api/zoho/webhooks/{route}", data=data, content_type="application/json")


HOSTILE_FRAGMENTS = {
    "encoded surrogate ED A0 80": b'"\xed\xa0\x80"',
    "escaped lone surrogate": b'"\\ud800"',
    "escaped low surrogate as a key": b'{"\\udc00": 1}',
    "escaped NUL": b'"a\\u0000b"',
    "1e400": b"1e400",
    "-1e400": b"-1e400",
    "1e400 in a list": b"[1, [2, 1e400]]",
    "Infinity": b"Infinity",
    "NaN": b"NaN",
    "65 levels deep": b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
    "300 levels deep": b'{"a":' * 300 + b"1" + b"}" * 300,
    "600 levels deep": b"[" * 600 + b"]" * 600,
}


@pytest.mark.parametrize("route", ROUTES)
def test_bodies_no_part_could_handle_are_400_and_store_nothing(client, db, route):
    for name, fragment in HOSTILE_FRAGMENTS.items():
        response = _post(client, route, _body_with(route, fragment))
        assert (response.status_code, response.get_json()["code"]) == (400, "invalid_json"), name
    assert count(db.engine, tds_sync_queue) == 0
    # The same body without the hostile part, and 64 levels (the limit) in it, are taken.
    assert _post(client, route, _body_with(route, b'"fine"')).status_code == 202
    deepest = b"[" * (MAX_JSON_DEPTH - 3) + b"]" * (MAX_JSON_DEPTH - 3)  # the field sits 3 levels down
    assert _post(client, route, _body_with(route, deepest)).status_code == 202


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1899-12-31T23:59:59Z", "9001-01-01T00:00:00Z"]
)
def test_dates_outside_what_both_databases_store_are_422(client, db, route, moment):
    data = _body_with(route, b'"fine"')
    assert _STAMP.search(data), "the sample carries a timestamp"
    response = _post(client, route, _STAMP.sub(json.dumps(moment).encode(), data))
    assert response.status_code == 422, response.get_json()
    assert count(db.engine, tds_sync_queue) == 0


def test_the_year_range_ends_are_accepted(client, db):
    data = _STAMP.sub(json.dumps("1900-01-01T00:00:00-14:00").encode(), _body_with("products", b'"fine"'))
    assert _post(client, "products", data).status_code == 202
    # The far end fits a date that orders nothing (a version that far ahead is refused as such).
    body = zoho.ENTITY_CASES["products"][0]()
    _record(body)["created_time"] = "9000-12-31T23:59:59+14:00"
    assert _post(client, "products", json.dumps(body).encode()).status_code == 202


# --- Property: hostile JSON anywhere ---------------------------------------------------------

# Every code point, lone surrogates and NUL included, with the troublemakers drawn often.
any_text = st.one_of(
    st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=12),
    st.sampled_from(["\ud800", "x\udfffy", "\x00", "\u0645\u202e", "\U0001f600"]),
)
any_float = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([math.inf, -math.inf, math.nan]))
any_date = st.builds(
    lambda moment, hours: moment.replace(tzinfo=timezone(timedelta(hours=hours))).isoformat(),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.integers(-14, 14),
)
leaves = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30), any_float, any_text, any_date)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(any_text, inner, max_size=3)),
    max_leaves=8,
)
deep_values = st.builds(lambda value, levels: _nest(value, levels), values, st.integers(0, 2 * MAX_JSON_DEPTH))


def _nest(value, levels: int):
    for _ in range(levels):
        value = [value]
    return value


def _encode(value, raw: bool) -> bytes:
    """JSON bytes as a hostile sender writes them: strings raw (lone surrogates as ED A0 80...)
    or \\u-escaped, and non-finite numbers as 1e400 / -1e400 / NaN."""
    if isinstance(value, dict):
        return b"{" + b",".join(_encode(key, raw) + b":" + _encode(item, raw) for key, item in value.items()) + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(_encode(item, raw) for item in value) + b"]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=not raw).encode("utf-8", "surrogatepass")
    if isinstance(value, float) and not math.isfinite(value):
        return b"NaN" if math.isnan(value) else (b"1e400" if value > 0 else b"-1e400")
    return json.dumps(value).encode()


@pytest.mark.slow  # fuzzing
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(ROUTES),
    field=st.sampled_from(["cf_hostile", "last_modified_time", "name", "status"]),
    value=st.one_of(values, deep_values, any_date),
    raw=st.booleans(),
)
def test_intake_answers_202_or_4xx_and_every_accepted_event_ends_readable(
    client, db, configure, route, field, value, raw
):
    configure(TDS_MAX_RETRY_ATTEMPTS=1)  # a retry would be a later attempt: settle each event in one drain
    body = zoho.ENTITY_CASES[route][0]()
    _record(body)[field] = value
    before = count(db.engine, tds_sync_queue)
    response = _post(client, route, _encode(body, raw))
    assert response.status_code in (202, 400, 422), response.get_data()[:300]
    if response.status_code != 202:
        assert count(db.engine, tds_sync_queue) == before
        return
    drain_now()
    queue_id = int(response.get_json()["event_id"])
    with db.engine.connect() as connection:
        status = connection.execute(select(tds_sync_queue.c.status).where(tds_sync_queue.c.id == queue_id)).scalar_one()
    assert status in ("completed", "dead_letter")
    listed = client.get(
        "/api/zoho/dashboard/dead-letter?include_resolved=true&page_size=100", headers={"X-Admin-Key": ADMIN_KEY}
    )
    assert listed.status_code == 200
