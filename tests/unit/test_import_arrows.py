"""Imports run one way between the wings of common/: sync and shop never import each other, and the
pieces both use (common/products, common/events) import neither. common/ never imports functions/,
and functions/ never import each other (service.py, at the top, assembles them).
Nothing deployed imports the demo data (demo_data/ is not in the Lambda package).

Every other arrow is one an editor can follow: no code is reached through a name held in a
string (importlib, `globals()`, a module's `__getattr__`). The drain reaches an entity's handler
through the dict common.sync.handlers.HANDLERS, a webhook route its entity through
common.sync.entities.BY_ROUTE, and a deployed Lambda its function through a `def` in aws_lambda.py
that imports that function's module alone."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PROJECT_ROOT

# A folder or a file of the repository -> modules nothing in it may import.
FORBIDDEN = {
    "common/sync": ("common.shop",),
    "common/ops": ("common.shop",),
    "common/products": ("common.shop", "common.sync"),
    "common/events": ("common.shop", "common.sync"),
    "common/shop": ("common.sync",),
    "common": ("functions", "demo_data"),
    # What serverless.yml ships.
    "functions": ("functions", "demo_data"),  # each function stands alone
    "migrations": ("demo_data",),
    "aws_lambda.py": ("demo_data",),
}


def imported_modules(path: Path, root: Path = PROJECT_ROOT) -> set[str]:
    """Every module a file imports, at its top or inside a function; `from a import b` counts as a and a.b."""
    package = list(path.relative_to(root).parent.parts)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # A relative import is resolved against the file's package: `from ..shop import auth` in common/sync.
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def python_files(folder: str) -> list[Path]:
    path = PROJECT_ROOT / folder
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


def offending_imports(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    offenders = []
    for path in python_files(folder):
        for module in sorted(imported_modules(path)):
            if any(_within(module, package) for package in forbidden):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)} imports {module}")
    return offenders


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_the_wing_imports_none_of_its_forbidden_neighbours(folder):
    assert python_files(folder), f"{folder} has no modules: the check would prove nothing"
    assert offending_imports(folder, FORBIDDEN[folder]) == []


def test_the_import_walk_sees_every_form_of_import(tmp_path):
    """The walk above must recognise the import statements it polices, or it would pass on anything."""
    module = tmp_path / "common" / "sync" / "sample.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "import common.shop.search\n"
        "from common import shop\n"
        "def later():\n"
        "    from common.shop.pricing import card_price\n"
        "from ..shop import auth\n"
        "from . import queue\n"
    )
    assert imported_modules(module, tmp_path) == {
        "common.shop.search", "common", "common.shop", "common.shop.pricing", "common.shop.pricing.card_price",
        "common.shop.auth", "common.sync", "common.sync.queue",
    }  # fmt: skip


def test_loading_the_sync_wing_and_the_shared_pieces_loads_no_shop_module():
    """What the drain imports, transitively, in a fresh interpreter: none of it is the shop."""
    packages = ("common.sync", "common.products", "common.events")
    modules = [
        f"{package}.{path.stem}"
        for package in packages
        for path in sorted((PROJECT_ROOT / package.replace(".", "/")).glob("*.py"))
        if path.stem != "__init__"
    ]
    assert "common.sync.drain" in modules
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(name for name in sys.modules if name.split('.')[:2] == ['common', 'shop'])))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


APPLICATION = ("common", "functions", "service.py", "aws_lambda.py", "local_runner.py")
# Looking code up by a name held in a string, which no editor's "go to definition" follows.
_LOOKUPS_BY_NAME = {"import_module", "__import__", "globals"}


def lookups_by_name(path: Path, root: Path = PROJECT_ROOT) -> list[str]:
    where = path.relative_to(root)
    found = []
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in _LOOKUPS_BY_NAME:
                found.append(f"{where}:{node.lineno} calls {name}()")
    found += [
        f"{where}:{node.lineno} defines a module __getattr__"
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
    ]
    return found


def test_no_code_is_reached_through_a_name_in_a_string():
    assert [path for folder in APPLICATION for path in python_files(folder)], "nothing to check"
    assert [
        problem for folder in APPLICATION for path in python_files(folder) for problem in lookups_by_name(path)
    ] == []


def test_the_lookup_check_sees_each_form(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import importlib\n"
        "handler = globals()['apply']\n"
        "module = importlib.import_module('functions.health')\n"
        "other = __import__('json')\n"
        "def __getattr__(name):\n"
        "    return name\n"
    )
    assert len(lookups_by_name(sample, tmp_path)) == 4


def test_only_the_routes_needing_every_route_import_the_whole_service():
    """A deployed function imports its own module alone (its cold start); service.py
    imports them all, so only the OpenAPI document and the cloud's catch-all may import it."""
    importers = {
        str(path.relative_to(PROJECT_ROOT))
        for folder in APPLICATION
        for path in python_files(folder)
        if "service" in imported_modules(path)
    }
    assert importers <= {"functions/api_docs.py", "functions/fallback.py", "local_runner.py"}
