"""Imports run one way between the wings of common/: sync and shop never import each other, and the
pieces both use (common/products, common/events) import neither. Nothing deployed imports the demo
data (demo_data/ is not in the Lambda package)."""

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
    # What serverless.yml ships.
    "common": ("demo_data",),
    "functions": ("demo_data",),
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
