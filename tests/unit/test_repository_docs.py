"""The repository documents itself: docs/API.md lists exactly the routes of service.py, each
with the auth it declares, and nothing outside tests/ and .ci/ points at files beyond the repository."""

import re
import subprocess

import pytest

from common.keys import admin_key, webhook_key
from common.ops.pages import operator
from common.shop.auth import customer, optional_customer
from service import ROUTES
from tests.helpers import PROJECT_ROOT

API_DOC = PROJECT_ROOT / "docs" / "API.md"
# A route line of docs/API.md's route table: | `GET /api/mobile/home` | ...
_ROUTE_LINE = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/[^`]*)` \|", re.MULTILINE)
_AUTH_COLUMN = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/[^`]*)` \| ([^|]+?) \|", re.MULTILINE)
# docs/API.md's words in its Auth column, for each route guard (None: public).
AUTH_LABELS = {
    None: "–",
    webhook_key: "webhook key",
    admin_key: "admin key",
    customer: "customer token",
    optional_customer: "optional customer token",
    operator: "operator session",
}
OUTSIDE = "../shared"


def documented_routes() -> list[tuple[str, str]]:
    return _ROUTE_LINE.findall(API_DOC.read_text())


def test_api_doc_lists_every_route_of_the_route_table():
    documented = documented_routes()
    table = [(route.method, route.path) for route in ROUTES]
    missing = [f"{method} {path}" for method, path in table if (method, path) not in documented]
    unknown = [f"{method} {path}" for method, path in documented if (method, path) not in table]
    assert not missing, (
        f"docs/API.md's route table lacks {', '.join(missing)} (in service.py ROUTES): "
        "add a line | `METHOD path` | auth | what it does |"
    )
    assert not unknown, f"docs/API.md lists {', '.join(unknown)}, which service.py ROUTES does not have"
    assert len(documented) == len(set(documented)), "docs/API.md lists a route twice"


def test_api_doc_names_the_auth_each_route_declares():
    documented = {(method, path): auth for method, path, auth in _AUTH_COLUMN.findall(API_DOC.read_text())}
    wrong = [
        f"{route.method} {route.path} says {documented[(route.method, route.path)]!r}, declares {AUTH_LABELS[route.auth]!r}"
        for route in ROUTES
        if documented.get((route.method, route.path), AUTH_LABELS[route.auth]) != AUTH_LABELS[route.auth]
    ]
    assert not wrong, "docs/API.md's Auth column: " + "; ".join(wrong)


def test_the_route_lines_are_recognised():
    """The parser above must see the table at all, or the comparison would prove nothing."""
    assert ("GET", "/health") in documented_routes()
    assert ("PATCH", "/api/mobile/cart/items/{product_id}") in documented_routes()


def test_nothing_outside_tests_points_out_of_the_repository():
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"git ls-files is needed to list the tracked files: {exc}")
    offenders = []
    for name in listed.stdout.decode().split("\0"):
        if not name or name.startswith(("tests/", ".ci/")):
            continue
        path = PROJECT_ROOT / name
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace")
            offenders += [f"{name}:{n}" for n, line in enumerate(text.splitlines(), 1) if OUTSIDE in line]
    assert not offenders, f"{OUTSIDE} is not in a clone of this repository, yet is named at {', '.join(offenders)}"
