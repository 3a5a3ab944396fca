"""The operations page stays small whatever its dead letters and events weigh: payloads are
shown truncated (within the API's cap), lists are paginated, and the whole payload is a
download away."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import insert

from common.clock import utcnow
from common.models import tds_dead_letter_queue, tds_sync_queue
from tests.helpers import ADMIN_KEY, log_in

# The most a page may weigh: a few hundred kilobytes, against payloads of 0.9 MB each.
PAGE_BYTES = 400_000
LETTERS = 50
RECORD = "460000000077777"


def _payload(number: int) -> dict:
    """About 0.9 MB of JSON shaped like Zoho's: many small fields, quotes and Arabic included."""
    lines = [
        {
            "line_item_id": f"{number}-{index}",
            "name": 'مولد كهرباء "ديزل" <i-payload>',
            "rate": index,
            "sku": "GEN-5KVA",
        }
        for index in range(7_800)
    ]
    return {"item": {"item_id": RECORD, "number": number, "line_items": lines}}


@pytest.fixture
def heavy(db, configure):
    configure(DATABASE_URL=db.url, ADMIN_API_KEY=ADMIN_KEY)
    now = utcnow()
    assert 850_000 < len(json.dumps(_payload(0), ensure_ascii=False).encode()) < 1_000_000
    with db.engine.begin() as connection:
        for number in range(LETTERS):
            connection.execute(
                insert(tds_dead_letter_queue),
                {
                    "entity_type": "products",
                    "source_entity_id": RECORD,
                    "failure_reason": "permanent_error",
                    "total_attempts": 1,
                    "last_error_message": "e" * 100_000,
                    "last_payload": _payload(number),
                    "created_at": now - timedelta(seconds=number),
                },
            )
            connection.execute(
                insert(tds_sync_queue),
                {
                    "entity_type": "products",
                    "source_entity_id": RECORD,
                    "operation_type": "update",
                    "status": "dead_letter",
                    "priority": 5,
                    "idempotency_key": f"heavy-{number}",
                    "payload": _payload(number),
                    "created_at": now - timedelta(seconds=LETTERS - number),
                },
            )


@pytest.mark.slow
def test_fifty_dead_letters_of_0_9_mb_render_small_paginated_pages_with_downloads(client, heavy):
    """One test over one heavy database (writing 90 MB per backend is the slow part)."""
    assert log_in(client).status_code == 303
    for path in ("/dashboard", "/dashboard/panels", f"/dashboard?record={RECORD}"):
        response = client.get(path)
        assert response.status_code == 200
        assert len(response.data) < PAGE_BYTES, (path, len(response.data))
    html = client.get(f"/dashboard?record={RECORD}").get_data(as_text=True)
    assert len(re.findall(r'class="letter" data-id=', html)) == 10
    assert len(re.findall(r'class="history-row"', html)) == 10
    assert html.count("Page 1 of 5") == 2  # dead letters and the record's history
    assert "<i-payload>" not in html and "&lt;i-payload&gt;" in html, "payload text is escaped"
    seen = set()
    for page in range(1, 6):
        response = client.get(f"/dashboard?letters_page={page}")
        assert len(response.data) < PAGE_BYTES
        seen |= set(re.findall(r'class="letter" data-id="(\d+)"', response.get_data(as_text=True)))
    assert len(seen) == LETTERS
    letter = re.search(r'href="(/dashboard/dead-letters/\d+/payload)"', html).group(1)
    event = re.search(r'href="(/dashboard/events/\d+/payload)"', html).group(1)
    for link in (letter, event):
        download = client.get(link)
        assert download.status_code == 200 and download.mimetype == "application/json"
        assert download.headers["Content-Disposition"].startswith("attachment")
        body = download.get_json()
        assert body == _payload(body["item"]["number"])
    assert client.get("/dashboard/events/999999/payload").status_code == 404
    assert client.get("/dashboard/events/x/payload").status_code == 404
    client.delete_cookie("tsh_ops_session", path="/dashboard")
    assert client.get(letter).status_code == 303, "a download needs a session"


def test_the_record_history_speaks_only_of_a_record_asked_for(client, db, configure):
    configure(ADMIN_API_KEY=ADMIN_KEY)
    assert log_in(client).status_code == 303

    unasked = client.get("/dashboard").get_data(as_text=True)
    asked = client.get("/dashboard?record=460000000099999").get_data(as_text=True)

    assert 'id="history-empty"' not in unasked
    assert "No event was received for <bdi>460000000099999</bdi>." in asked
