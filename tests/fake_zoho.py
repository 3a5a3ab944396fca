"""A fake Zoho on 127.0.0.1 that behaves as Zoho's API documents, where the service's code depends on it.

- OAuth: a form-encoded refresh-token grant (200 with `{"error": ...}` when refused); the
  answer carries `api_domain`, the host of the organisation's API (this fake's own URL).
- Calls: `Authorization: Zoho-oauthtoken`, `organization_id`, `"code": 0` answers.
- Lists (items, contacts of both types, price books, invoices, bills, credit notes, inventory
  adjustments): `page` / `per_page` (at most 200), `page_context.has_more_page`, the
  `last_modified_time` filter (modified at or after), `sort_column` / `sort_order`, the
  documents' `date_start` / `date_end` and `filter_by=Status.*`.
- One record by id (`GET /inventory/v1/items/{item_id}`: the item with its current stock).
- Zoho's minute limit: past `calls_per_minute` API calls (100 by default) in the current
  minute it answers 429 with no `Retry-After`; `next_minute()` starts a new minute at once.

Records change as in Zoho: `put`, `change` and `delete` stamp `last_modified_time` from the
fake's clock (one second per change, strictly increasing), while `adjust_stock` moves an
item's stock through a new inventory adjustment WITHOUT touching the item's
`last_modified_time` (Zoho does not promise that it does).

It records what it was asked (`calls`, `page_requests` per (list, page), `reads` per record)
and every stock each item has had (`stock_history`), and can be told to misbehave: expire the
tokens it issued, fail the next calls of a path with any status, answer slowly, or echo
credentials in its error texts (which the client must not repeat).
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN_PATH = "/oauth/v2/token"
ITEMS = "/inventory/v1/items"
CONTACTS = "/books/v3/contacts"
INVOICES = "/books/v3/invoices"
BILLS = "/books/v3/bills"
CREDIT_NOTES = "/books/v3/creditnotes"
PRICEBOOKS = "/inventory/v1/pricebooks"
ADJUSTMENTS = "/inventory/v1/inventoryadjustments"
SALES_ORDERS = "/inventory/v1/salesorders"


@dataclass(frozen=True)
class ZohoList:
    key: str  # the answer's list key: {"items": [...]}
    document: str  # one record's key: {"item": {...}}, also the webhook's default payload
    id_field: str


# Zoho's list endpoints.
LISTS = {
    ITEMS: ZohoList("items", "item", "item_id"),
    CONTACTS: ZohoList("contacts", "contact", "contact_id"),
    INVOICES: ZohoList("invoices", "invoice", "invoice_id"),
    BILLS: ZohoList("bills", "bill", "bill_id"),
    CREDIT_NOTES: ZohoList("creditnotes", "creditnote", "creditnote_id"),
    PRICEBOOKS: ZohoList("pricebooks", "pricebook", "pricebook_id"),
    ADJUSTMENTS: ZohoList("inventory_adjustments", "inventory_adjustment", "inventory_adjustment_id"),
    SALES_ORDERS: ZohoList("salesorders", "salesorder", "salesorder_id"),
}
MAX_PER_PAGE = 200  # Zoho's own bound
BAGHDAD = timezone(timedelta(hours=3))
RATE_LIMITED = {"code": 44, "message": "You have made too many requests. Please try after some time."}
NOT_FOUND = {"code": 1002, "message": "The record does not exist."}
_STATUS_FILTERS = {"Status.Active": "active", "Status.Inactive": "inactive"}


def zoho_time(at: datetime) -> str:
    """Zoho's timestamp text: the organization's offset, without a colon."""
    return at.astimezone(BAGHDAD).strftime("%Y-%m-%dT%H:%M:%S%z")


def _stamp(record: dict[str, Any]) -> datetime:
    text = record.get("last_modified_time")
    return datetime.fromisoformat(text) if text else datetime.min.replace(tzinfo=UTC)


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    after: int  # requests still to answer normally before this failure


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)
    json: Any = None  # a JSON body (creates), parsed


class FakeZoho:
    ORGANIZATION_ID = "600000001"
    CLIENT_ID = "1000.FAKECLIENTID"
    CLIENT_SECRET = "fake-client-secret-5f1e0c9a7b"
    REFRESH_TOKEN = "1000.fake-refresh-token-9d2c4e6b8a"

    def __init__(self, *, calls_per_minute: int = 100, clock_start: datetime | None = None) -> None:
        self.records: dict[str, list[dict[str, Any]]] = {path: [] for path in LISTS}
        self.max_per_page = MAX_PER_PAGE  # lower it to make a few records span several pages
        self.calls_per_minute = calls_per_minute
        self.expires_in = 3600
        self.delay_seconds = 0.0  # before answering anything
        self.accepted_refresh_token = self.REFRESH_TOKEN
        self.calls: list[Call] = []
        self.page_requests: Counter[tuple[str, int]] = Counter()  # (list key, page) answered with records
        self.reads: Counter[tuple[str, str]] = Counter()  # (document, id) answered by GET one
        self.rate_limited = 0  # calls answered 429 by the minute limit
        self.stock_history: defaultdict[str, set[int]] = defaultdict(set)  # every stock each item has had
        # The clock of last_modified_time: a week ago by default, one second further per change.
        self.clock = clock_start or datetime.now(UTC).replace(microsecond=0) - timedelta(days=7)
        self._minute_started = time.monotonic()
        self._minute_calls = 0
        self._next_id = 460000000100000
        self._tokens: set[str] = set()
        self._failures: dict[str, list[Failure]] = defaultdict(list)
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> FakeZoho:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def environment(self) -> dict[str, str]:
        """Settings that point the service's client at this fake."""
        return {
            "ZOHO_CLIENT_ID": self.CLIENT_ID,
            "ZOHO_CLIENT_SECRET": self.CLIENT_SECRET,
            "ZOHO_REFRESH_TOKEN": self.REFRESH_TOKEN,
            "ZOHO_ORGANIZATION_ID": self.ORGANIZATION_ID,
            "ZOHO_ACCOUNTS_URL": self.url,
            "ZOHO_API_URL": self.url,
        }

    # What tests arrange.

    def add(self, path: str, *records: dict[str, Any]) -> None:
        """Records as given (their own last_modified_time, if any), appended to the list."""
        with self._lock:
            self.records[path].extend(records)
            if path == ITEMS:
                for record in records:
                    self._remember_stock(record)

    def new_id(self) -> str:
        with self._lock:
            self._next_id += 1
            return str(self._next_id)

    def tick(self) -> str:
        """The next last_modified_time: one second after the previous one."""
        with self._lock:
            self.clock += timedelta(seconds=1)
            return zoho_time(self.clock)

    def put(self, path: str, record: dict[str, Any]) -> dict[str, Any]:
        """Create or replace a record (by its id), stamped now; returns a copy of it as stored."""
        id_field = LISTS[path].id_field
        with self._lock:
            stored = {**copy.deepcopy(record), "last_modified_time": self.tick()}
            stored.setdefault(id_field, self.new_id())
            index = self._index(path, stored[id_field])
            if index is None:
                stored.setdefault("created_time", stored["last_modified_time"])
                self.records[path].append(stored)
            else:
                self.records[path][index] = stored
            if path == ITEMS:
                self._remember_stock(stored)
            return copy.deepcopy(stored)

    def change(self, path: str, record_id: str, **fields: Any) -> dict[str, Any]:
        """Change some fields of a record, stamped now; returns a copy of the whole record."""
        with self._lock:
            return self.put(path, {**self.get(path, record_id), **fields})

    def delete(self, path: str, record_id: str) -> dict[str, Any]:
        """Remove a record, as Zoho's delete does (it is no longer listed); returns it. Deleting
        an inventory adjustment takes its quantities back from the items' stock."""
        with self._lock:
            removed = self.records[path].pop(self._require(path, record_id))
            if path == ADJUSTMENTS:
                self._move_stock([(line["item_id"], -line["quantity_adjusted"]) for line in removed["line_items"]])
            return removed

    def adjust_stock(self, *changes: tuple[str, int], reason: str = "Stocktaking") -> dict[str, Any]:
        """An inventory adjustment of (item id, quantity adjusted) lines: each item's stock on
        hand and available stock move by it, its last_modified_time stays. Returns the adjustment."""
        with self._lock:
            self._move_stock(changes)
            stamp = self.tick()
            adjustment = {
                "inventory_adjustment_id": self.new_id(),
                "date": self.clock.astimezone(BAGHDAD).date().isoformat(),
                "reason": reason,
                "adjustment_type": "quantity",
                "line_items": [
                    {"item_id": item_id, "line_item_id": self.new_id(), "quantity_adjusted": quantity}
                    for item_id, quantity in changes
                ],
                "created_time": stamp,
                "last_modified_time": stamp,
            }
            self.records[ADJUSTMENTS].append(adjustment)
            return copy.deepcopy(adjustment)

    def get(self, path: str, record_id: str) -> dict[str, Any]:
        """A copy of the record as Zoho holds it now."""
        with self._lock:
            return copy.deepcopy(self.records[path][self._require(path, record_id)])

    def all(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self.records[path])

    def webhook(self, path: str, record: dict[str, Any]) -> dict[str, Any]:
        """Zoho's webhook default payload for a record: `{"item": {...}}`."""
        return {LISTS[path].document: copy.deepcopy(record)}

    def fail(
        self,
        path: str,
        status: int,
        body: dict | None = None,
        headers: dict | None = None,
        *,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """After `after` normal answers, the next `times` requests to `path` get this answer instead."""
        with self._lock:
            failures = self._failures[path]
            failures.append(Failure(status, body or {}, headers or {}, after))
            failures.extend(Failure(status, body or {}, headers or {}, 0) for _ in range(times - 1))

    def expire_tokens(self) -> None:
        """Every access token issued so far is now rejected with 401, as after expiry or revocation."""
        with self._lock:
            self._tokens.clear()

    def next_minute(self) -> None:
        """Start a new minute of the rate limit now, as if a minute had passed."""
        with self._lock:
            self._minute_started = time.monotonic()
            self._minute_calls = 0

    # What tests check.

    def token_calls(self) -> list[Call]:
        return [call for call in self.calls if call.path == TOKEN_PATH]

    def api_calls(self, path: str | None = None) -> list[Call]:
        return [call for call in self.calls if call.path != TOKEN_PATH and path in (None, call.path)]

    def repeated_pages(self) -> dict[tuple[str, int], int]:
        """Pages answered more than once since the counters started: {(list key, page): times}."""
        return {page: times for page, times in self.page_requests.items() if times > 1}

    def reset_counters(self) -> None:
        with self._lock:
            self.calls.clear()
            self.page_requests.clear()
            self.reads.clear()
            self.rate_limited = 0

    # Serving.

    def answer(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.calls.append(call)
            pending = self._failures.get(call.path)
            if pending and pending[0].after:
                pending[0].after -= 1
            elif pending:
                failure = pending.pop(0)
                return failure.status, failure.body, failure.headers
        if call.method == "POST" and call.path == TOKEN_PATH:
            return self._token(call.form)
        if call.method == "POST":
            return self._create_or_change(call)
        path, _, record_id = call.path.rpartition("/")
        if call.method != "GET" or (call.path not in LISTS and path not in LISTS):
            return 404, {"code": 5, "message": "Invalid URL Passed"}, {}
        refused = self._refusal(call)
        if refused:
            return refused
        if call.path in LISTS:
            return self._list(call)
        return self._one(path, record_id)

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        if (
            form.get("grant_type") != "refresh_token"
            or form.get("client_id") != self.CLIENT_ID
            or form.get("client_secret") != self.CLIENT_SECRET
            or form.get("refresh_token") != self.accepted_refresh_token
        ):
            # A careless server echoes what it was sent; the client must not pass this on.
            detail = f"refresh_token {form.get('refresh_token')} / secret {form.get('client_secret')} not valid"
            return 200, {"error": "invalid_code", "error_description": detail}, {}
        token = f"1000.fake-access-{uuid.uuid4().hex}"
        with self._lock:
            self._tokens.add(token)
        return (
            200,
            {"access_token": token, "expires_in": self.expires_in, "api_domain": self.url, "token_type": "Bearer"},
            {},
        )

    def _refusal(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """401, 400 or the minute limit's 429 (no Retry-After: Zoho sends none), else None."""
        scheme, _, token = call.headers.get("authorization", "").partition(" ")
        with self._lock:
            if time.monotonic() - self._minute_started >= 60:
                self.next_minute()
            if self._minute_calls >= self.calls_per_minute:
                self.rate_limited += 1
                return 429, RATE_LIMITED, {}
            self._minute_calls += 1
            authorised = scheme == "Zoho-oauthtoken" and token in self._tokens
        if not authorised:
            return 401, {"code": 57, "message": "You are not authorized to perform this operation"}, {}
        if call.query.get("organization_id") != self.ORGANIZATION_ID:
            return 400, {"code": 6041, "message": "This user is not associated with the organization"}, {}
        return None

    def _list(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        query = call.query
        listed = LISTS[call.path]
        page = int(query.get("page", 1))
        per_page = min(int(query.get("per_page", MAX_PER_PAGE)), self.max_per_page, MAX_PER_PAGE)
        with self._lock:
            records = _selected(self.records[call.path], query)
            chunk = copy.deepcopy(records[(page - 1) * per_page : page * per_page])
            self.page_requests[(listed.key, page)] += 1
        context = {"page": page, "per_page": per_page, "has_more_page": page * per_page < len(records)}
        return 200, {"code": 0, "message": "success", listed.key: chunk, "page_context": context}, {}

    def _one(self, path: str, record_id: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        listed = LISTS[path]
        with self._lock:
            index = self._index(path, record_id)
            if index is None:
                return 404, NOT_FOUND, {}
            self.reads[(listed.document, record_id)] += 1
            record = copy.deepcopy(self.records[path][index])
        return 200, {"code": 0, "message": "success", listed.document: record}, {}

    def _move_stock(self, changes: list[tuple[str, int]] | tuple[tuple[str, int], ...]) -> None:
        for item_id, quantity in changes:
            item = self.records[ITEMS][self._require(ITEMS, item_id)]
            for field_name in ("stock_on_hand", "available_stock"):
                item[field_name] = (item.get(field_name) or 0) + quantity
            self._remember_stock(item)

    def _remember_stock(self, item: dict[str, Any]) -> None:
        stock = item.get("available_stock", item.get("stock_on_hand"))
        if stock is not None:
            self.stock_history[str(item["item_id"])].add(stock)

    def _index(self, path: str, record_id: str) -> int | None:
        id_field = LISTS[path].id_field
        return next((i for i, r in enumerate(self.records[path]) if str(r.get(id_field)) == str(record_id)), None)

    def _require(self, path: str, record_id: str) -> int:
        index = self._index(path, record_id)
        if index is None:
            raise KeyError(record_id)
        return index

    # Sales orders and contacts (the order push): created by POST, voided by POST .../status/void.

    stall_after_create_seconds = 0.0  # a create stores the record, then answers this late (past a timeout)
    status_after_create: int | None = None  # a create stores the record, then answers with this status (a 5xx)

    def sales_orders(self, reference_number: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            found = list(self.records[SALES_ORDERS])
        return [so for so in found if reference_number in (None, so.get("reference_number"))]

    def contacts(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.records[CONTACTS])

    def _create_or_change(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        not_found = 404, {"code": 5, "message": "Invalid URL Passed"}, {}
        refused = self._refusal(call)
        if refused:
            return refused
        if call.path == SALES_ORDERS:
            return self._stored_then_answered(self._create_sales_order(call.json or {}), "salesorder")
        if call.path == CONTACTS:
            return self._stored_then_answered(self._create_contact(call.json or {}), "contact")
        parts = call.path.split("/")
        if call.path.startswith(f"{SALES_ORDERS}/") and parts[-2:] == ["status", "void"]:
            with self._lock:
                for record in self.records[SALES_ORDERS]:
                    if record["salesorder_id"] == parts[-3]:
                        record.update(status="void", last_modified_time=zoho_time(datetime.now(UTC)))
                        return 200, {"code": 0, "message": "Sales Order status has been changed to Void."}, {}
            return 404, {"code": 36004, "message": "This sales order does not exist."}, {}
        return not_found

    def _stored_then_answered(self, record: dict[str, Any], key: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        if self.stall_after_create_seconds:
            time.sleep(self.stall_after_create_seconds)
        if self.status_after_create is not None:
            return self.status_after_create, {"code": 500, "message": "Internal error"}, {}
        return 201, {"code": 0, "message": "created", key: record}, {}

    def _create_sales_order(self, body: dict[str, Any]) -> dict[str, Any]:
        now = zoho_time(datetime.now(UTC))
        with self._lock:
            stored = self.records[SALES_ORDERS]
            record = {
                **body,
                "salesorder_id": str(4_000_000 + len(stored) + 1),
                "salesorder_number": f"SO-{len(stored) + 1:05d}",
                "status": "draft",
                "shipped_status": "pending",
                "created_time": now,
                "last_modified_time": now,
            }
            stored.append(record)
        return record

    def _create_contact(self, body: dict[str, Any]) -> dict[str, Any]:
        now = zoho_time(datetime.now(UTC))
        with self._lock:
            stored = self.records[CONTACTS]
            record = {**body, "contact_id": str(5_000_000 + len(stored) + 1), "last_modified_time": now}
            stored.append(record)
        return record


def _selected(records: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
    """The records a list query selects, in its order (Zoho's filters and sort)."""
    since = query.get("last_modified_time")
    if since:
        threshold = datetime.fromisoformat(since)
        records = [r for r in records if _stamp(r) >= threshold]
    for exact in ("reference_number", "contact_name"):  # the order push's look-ups
        if exact in query:
            records = [r for r in records if r.get(exact) == query[exact]]
    status = _STATUS_FILTERS.get(query.get("filter_by", ""))
    if status:
        records = [r for r in records if r.get("status", "active") == status]
    for bound, keep in (("date_start", lambda day, edge: day >= edge), ("date_end", lambda day, edge: day <= edge)):
        if query.get(bound):
            edge = date.fromisoformat(query[bound])
            records = [r for r in records if r.get("date") and keep(date.fromisoformat(r["date"]), edge)]
    column = query.get("sort_column")
    if column:
        key = _stamp if column in ("last_modified_time", "created_time") else lambda r: str(r.get(column) or "")
        records = sorted(records, key=key, reverse=query.get("sort_order") == "D")
    return records


def _handler(fake: FakeZoho) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            call = Call(
                method=self.command,
                path=url.path,
                query={key: values[-1] for key, values in parse_qs(url.query).items()},
                headers={key.lower(): value for key, value in self.headers.items()},
                form={key: values[-1] for key, values in parse_qs(raw).items()},
                json=json.loads(raw) if raw and "json" in self.headers.get("Content-Type", "") else None,
            )
            if fake.delay_seconds:
                time.sleep(fake.delay_seconds)
            status, body, headers = fake.answer(call)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                self.wfile.write(payload)

        def log_message(self, *_args: object) -> None:
            pass  # quiet test output

    return Handler
