"""pg8000's patches (common/pg8000_tuning.py): written for one driver version, applied to that one
only, sending what pg8000 itself would; another version runs unpatched, with one warning."""

import re
import subprocess
import sys

import pg8000.dbapi
import pg8000.legacy
import pytest

from common import pg8000_tuning
from tests.helpers import PROJECT_ROOT

PINNED = re.compile(r"^pg8000==(\S+)$", re.MULTILINE)


def test_the_installed_pg8000_is_the_version_the_patches_were_written_for():
    installed = pg8000_tuning.installed_version()
    assert installed == pg8000_tuning.WRITTEN_FOR, (
        f"pg8000 {installed} is installed, but common/pg8000_tuning.py was written for "
        f"{pg8000_tuning.WRITTEN_FOR} and leaves any other version unpatched. Review each patch against "
        f"this version's source (pg8000.legacy.convert_paramstyle, Connection.commit and rollback, "
        f"Connection._usock), then set WRITTEN_FOR to {installed}."
    )


@pytest.mark.parametrize("requirements", ["requirements.txt", "requirements-lambda.txt"])
def test_the_requirements_pin_that_version(requirements):
    assert PINNED.findall((PROJECT_ROOT / requirements).read_text()) == [pg8000_tuning.WRITTEN_FOR]


def test_the_tuned_rewrite_sends_what_pg8000_itself_would(pg):
    assert pg8000_tuning.tune()  # applied by the engine the fixture made
    assert pg8000.legacy.convert_paramstyle is not pg8000.dbapi.convert_paramstyle  # dbapi's is pg8000's own
    cases = [
        ("format", "SELECT %s, %s FROM t WHERE a = '%%s' AND b = %s", (1, "x", None)),
        ("format", "SELECT 1", ()),
        ("qmark", "SELECT ? + ?", (1, 2)),
        ("numeric", "SELECT :2, :1", (1, 2)),
        ("named", "SELECT :a, :b", {"a": 1, "b": 2}),
        ("pyformat", "SELECT %(a)s", {"a": 1}),
    ]
    for style, statement, args in cases * 2:  # the second round is served from the remembered rewrites
        assert pg8000.legacy.convert_paramstyle(style, statement, args) == pg8000.dbapi.convert_paramstyle(
            style, statement, args
        )


_UNKNOWN_VERSION = """
import sys
import pg8000.legacy
from common import pg8000_tuning
from common.config import Settings
from common.db import create_engine_for
from common.logs import configure_logging
from sqlalchemy import text

configure_logging()
pg8000_tuning.installed_version = lambda: "0.0.1"
untouched = (pg8000.legacy.convert_paramstyle, pg8000.legacy.Connection.commit, pg8000.legacy.Connection.rollback)
for _ in range(2):
    engine = create_engine_for(Settings(database_url=sys.argv[1], _env_file=None))
    with engine.begin() as connection:
        assert connection.execute(text("SELECT :n + 1"), {"n": 41}).scalar_one() == 42
    with engine.connect() as connection, connection.begin() as transaction:
        connection.execute(text("SELECT 1"))
        transaction.rollback()
    engine.dispose()
now = (pg8000.legacy.convert_paramstyle, pg8000.legacy.Connection.commit, pg8000.legacy.Connection.rollback)
print("untouched" if now == untouched else "patched")
"""


def test_another_version_runs_unpatched_with_one_warning(pg):
    run = subprocess.run(
        [sys.executable, "-c", _UNKNOWN_VERSION, pg.url], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "untouched"
    assert run.stderr.count("pg8000 0.0.1 is installed") == 1, run.stderr
