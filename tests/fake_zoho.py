"""A fake Zoho on 127.0.0.1: the OAuth token endpoint and the list endpoints the reconcile job reads.

It behaves as Zoho does where our client depends on it: a form-encoded refresh-token grant
(200 with `{"error": ...}` when refused), `Authorization: Zoho-oauthtoken`, `organization_id`,
the `last_modified_time` filter (modified at or after), `page` / `per_page`, `page_context`
and `"code": 0`. It records what it was asked, and can be told to misbehave: expire the tokens
it issued, fail the next calls of a path with any status, answer slowly, or echo credentials
in its error texts (which the client must not repeat).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN_PATH = "/oauth/v2/token"
# Zoho's list endpoints and the key each answer's records come under.
LISTS = {
    "/inventory/v1/items": "items",
    "/books/v3/contacts": "contacts",
    "/books/v3/invoices": "invoices",
    "/books/v3/bills": "bills",
    "/books/v3/creditnotes": "creditnotes",
    "/inventory/v1/pricebooks": "pricebooks",
    "/inventory/v1/salesorders": "salesorders",
}
BAGHDAD = timezone(timedelta(hours=3))


def zoho_time(at: datetime) -> str:
    """Zoho's timestamp text: the organization's offset, without a colon."""
    return at.astimezone(BAGHDAD).strftime("%Y-%m-%dT%H:%M:%S%z")


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

    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, Any]]] = {path: [] for path in LISTS}
        self.max_per_page = 200  # lower it to make a few records span several pages
        self.expires_in = 3600
        self.delay_seconds = 0.0  # before answering anything
        self.accepted_refresh_token = self.REFRESH_TOKEN
        self.calls: list[Call] = []
        self._tokens: set[str] = set()
        self._failures: dict[str, list[Failure]] = defaultdict(list)
        self._lock = threading.Lock()
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
        """Settings that point our client at this fake."""
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
        with self._lock:
            self.records[path].extend(records)

    def fail(
        self, path: str, status: int, body: dict | None = None, headers: dict | None = None, *, times: int = 1,
        after: int = 0,
    ) -> None:  # fmt: skip
        """After `after` normal answers, the next `times` requests to `path` get this answer instead."""
        with self._lock:
            failures = self._failures[path]
            failures.append(Failure(status, body or {}, headers or {}, after))
            failures.extend(Failure(status, body or {}, headers or {}, 0) for _ in range(times - 1))

    def expire_tokens(self) -> None:
        """Every access token issued so far is now rejected with 401, as after expiry or revocation."""
        with self._lock:
            self._tokens.clear()

    # What tests check.

    def token_calls(self) -> list[Call]:
        return [call for call in self.calls if call.path == TOKEN_PATH]

    def api_calls(self, path: str | None = None) -> list[Call]:
        return [call for call in self.calls if call.path != TOKEN_PATH and path in (None, call.path)]

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
        if call.method == "GET" and call.path in LISTS:
            return self._list(call)
        return self._create_or_change(call)

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
        return 200, {"access_token": token, "expires_in": self.expires_in, "api_domain": self.url,
                     "token_type": "Bearer"}, {}  # fmt: skip

    def _list(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        scheme, _, token = call.headers.get("authorization", "").partition(" ")
        with self._lock:
            authorised = scheme == "Zoho-oauthtoken" and token in self._tokens
            records = list(self.records[call.path])
        if not authorised:
            return 401, {"code": 57, "message": "You are not authorized to perform this operation"}, {}
        if call.query.get("organization_id") != self.ORGANIZATION_ID:
            return 400, {"code": 6041, "message": "This user is not associated with the organization"}, {}
        since = call.query.get("last_modified_time")
        if since:
            threshold = datetime.fromisoformat(since)
            records = [r for r in records if datetime.fromisoformat(r["last_modified_time"]) >= threshold]
        for exact in ("reference_number", "contact_name"):  # Zoho's list filters used by the order push
            if exact in call.query:
                records = [r for r in records if r.get(exact) == call.query[exact]]
        if call.query.get("sort_column") == "last_modified_time":
            records.sort(key=lambda r: datetime.fromisoformat(r["last_modified_time"]),
                         reverse=call.query.get("sort_order") == "D")  # fmt: skip
        page = int(call.query.get("page", 1))
        per_page = min(int(call.query.get("per_page", 200)), self.max_per_page)
        chunk = records[(page - 1) * per_page : page * per_page]
        context = {"page": page, "per_page": per_page, "has_more_page": page * per_page < len(records)}
        return 200, {"code": 0, "message": "success", LISTS[call.path]: chunk, "page_context": context}, {}

    # Sales orders and contacts (the order push): created by POST, voided by POST .../status/void.

    stall_after_create_seconds = 0.0  # a create stores the record, then answers this late (past a timeout)
    status_after_create: int | None = None  # a create stores the record, then answers with this status (a 5xx)

    def sales_orders(self, reference_number: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            found = list(self.records["/inventory/v1/salesorders"])
        return [so for so in found if reference_number in (None, so.get("reference_number"))]

    def contacts(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.records["/books/v3/contacts"])

    def _authorised(self, call: Call) -> bool:
        scheme, _, token = call.headers.get("authorization", "").partition(" ")
        with self._lock:
            return scheme == "Zoho-oauthtoken" and token in self._tokens

    def _create_or_change(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        not_found = 404, {"code": 5, "message": "Invalid URL Passed"}, {}
        if call.method != "POST":
            return not_found
        if not self._authorised(call):
            return 401, {"code": 57, "message": "You are not authorized to perform this operation"}, {}
        if call.path == "/inventory/v1/salesorders":
            return self._stored_then_answered(self._create_sales_order(call.json or {}), "salesorder")
        if call.path == "/books/v3/contacts":
            return self._stored_then_answered(self._create_contact(call.json or {}), "contact")
        parts = call.path.split("/")
        if call.path.startswith("/inventory/v1/salesorders/") and parts[-2:] == ["status", "void"]:
            with self._lock:
                for record in self.records["/inventory/v1/salesorders"]:
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
            stored = self.records["/inventory/v1/salesorders"]
            record = {**body, "salesorder_id": str(4_000_000 + len(stored) + 1),
                      "salesorder_number": f"SO-{len(stored) + 1:05d}", "status": "draft",
                      "shipped_status": "pending", "created_time": now, "last_modified_time": now}  # fmt: skip
            stored.append(record)
        return record

    def _create_contact(self, body: dict[str, Any]) -> dict[str, Any]:
        now = zoho_time(datetime.now(UTC))
        with self._lock:
            stored = self.records["/books/v3/contacts"]
            record = {**body, "contact_id": str(5_000_000 + len(stored) + 1), "last_modified_time": now}
            stored.append(record)
        return record


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
            try:
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

        def log_message(self, *_args: object) -> None:
            pass  # quiet test output

    return Handler
