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
        f"{route.method} {route.path} says {documented[(route.method, route.path)]!r}, "
        f"declares {AUTH_LABELS[route.auth]!r}"
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


# The repository's voice: no first person, and no pointer into a tracker. "I" is matched apart
# with its case, as are the others' first letters: a loop's `i` and the US are no pronouns; a
# hyphen, a slash or a word character either side (me-south-1, python -I, I/O) makes it no word.
_FIRST_PERSON = re.compile(r"(?<![\w/-])(?:[Ww]e|[Oo]urs?|[Uu]s|[Ll]et's|[Mm]y|[Mm]e|[Mm]ine|I)(?![\w/-])")
_TRACKER = re.compile(r"(?i)\b(?:issue|task|ticket)s? #?\d+\b")
_VOICE_SUFFIXES = (".py", ".md", ".yml", ".yaml", ".js", ".sh", ".toml", ".html", ".css", ".ini", ".txt", ".cfg")
# Other people's words, quoted as they are: Zoho's checkbox and article title, ruff's rule "I".
_QUOTED = ("I want to secure this webhook", "How Do I Secure My Webhooks", "How do I secure my webhooks", '"I",')


def _tracked_text_files() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"git ls-files is needed to list the tracked files: {exc}")
    return [name for name in listed.stdout.decode().split("\0") if name.endswith(_VOICE_SUFFIXES)]


def test_nothing_speaks_in_the_first_person_or_cites_a_tracker():
    offenders = []
    for name in _tracked_text_files():
        path = PROJECT_ROOT / name
        if name == "tests/unit/test_repository_docs.py" or not path.is_file():  # the patterns' own examples
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            unquoted = line
            for quote in _QUOTED:
                unquoted = unquoted.replace(quote, "")
            found = _FIRST_PERSON.findall(unquoted) + _TRACKER.findall(unquoted)
            if found:
                offenders.append(f"{name}:{number} {found}")
    assert not offenders, "first person or a tracker reference at:\n" + "\n".join(offenders)


def test_the_voice_check_sees_what_it_forbids():
    """The patterns must catch what they are for, or the scan above would prove nothing."""
    for text in ("We retry", "differs from ours", "a fault of ours", "as I said", "see issue 22", "Let's go"):
        assert _FIRST_PERSON.search(text) or _TRACKER.search(text), text
    for text in ("region me-south-1", "python -I -c", "no I/O", "for i in range(3)", "the US", "museum", "Iraq"):
        assert not (_FIRST_PERSON.search(text) or _TRACKER.search(text)), text


def test_the_benchmark_summary_stays_a_summary():
    """docs/BENCHMARKS.md holds each target's latest figure; method and history go to bench/README.md."""
    lines = len((PROJECT_ROOT / "docs" / "BENCHMARKS.md").read_text().splitlines())
    assert lines < 200, f"docs/BENCHMARKS.md has {lines} lines: move detail to bench/README.md"
