"""The tuned pg8000 connection (common/pg8000_tuning.py): one round trip per statement, and
everything else as pg8000 itself does it, on a real PostgreSQL server; written for one driver
version, applied to that one only, and another version runs untuned, with one warning."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time
from decimal import Decimal

import pg8000
import pg8000.dbapi
import pg8000.legacy
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, ProgrammingError

from common import pg8000_tuning
from common.config import get_settings
from common.db.engine import create_engine_for
from tests.helpers import PROJECT_ROOT

PINNED = re.compile(r"^pg8000==(\S+)$", re.MULTILINE)


def test_the_installed_pg8000_is_the_version_the_tuning_was_written_for():
    installed = pg8000.__version__
    assert installed == pg8000_tuning.WRITTEN_FOR, (
        f"pg8000 {installed} is installed, but common/pg8000_tuning.py was written for "
        f"{pg8000_tuning.WRITTEN_FOR} and leaves any other version untuned. Review TunedConnection against "
        f"this version's core.py (execute_simple, execute_unnamed, the message helpers, _usock), "
        f"convert_paramstyle in legacy.py, then set WRITTEN_FOR to {installed}."
    )
    assert pg8000_tuning.connection_class() is pg8000_tuning.TunedConnection


@pytest.mark.parametrize("requirements", ["requirements.txt", "requirements-lambda.txt"])
def test_the_requirements_pin_that_version(requirements):
    assert PINNED.findall((PROJECT_ROOT / requirements).read_text()) == [pg8000_tuning.WRITTEN_FOR]


def test_the_remembered_rewrite_gives_what_pg8000_itself_would(pg):
    create_engine_for(get_settings()).dispose()  # installs the tuning
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
import pg8000, pg8000.legacy
pg8000.__version__ = "9.9.9"  # a newer one (SQLAlchemy refuses older ones)
from common import pg8000_tuning
from common.config import Settings
from common.db.engine import create_engine_for
from common.logs import configure_logging
from sqlalchemy import text

configure_logging()
untouched = pg8000.legacy.convert_paramstyle
for _ in range(2):
    engine = create_engine_for(Settings(database_url=sys.argv[1], _env_file=None))
    with engine.begin() as connection:
        assert connection.execute(text("SELECT :n + 1"), {"n": 41}).scalar_one() == 42
        assert type(connection.connection.dbapi_connection) is pg8000.legacy.Connection
    with engine.connect() as connection, connection.begin() as transaction:
        connection.execute(text("SELECT 1"))
        transaction.rollback()
    engine.dispose()
print("untouched" if pg8000.legacy.convert_paramstyle is untouched else "patched")
"""


def test_another_version_runs_untuned_with_one_warning(pg):
    run = subprocess.run(
        [sys.executable, "-c", _UNKNOWN_VERSION, pg.url], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "untouched"
    assert run.stderr.count("pg8000 9.9.9 is installed") == 1, run.stderr


class _CountingSocket:
    """The connection's own socket, counting flushes: each is one round trip here."""

    def __init__(self, sock) -> None:
        self._sock, self.flushes = sock, 0

    def flush(self):
        self.flushes += 1
        return self._sock.flush()

    def __getattr__(self, name):
        return getattr(self._sock, name)


@pytest.fixture
def engine(pg):
    engine = create_engine_for(get_settings(), pool_size=1)
    yield engine
    engine.dispose()


def _counted(connection) -> _CountingSocket:
    dbapi = connection.connection.dbapi_connection
    assert isinstance(dbapi, pg8000_tuning.TunedConnection)
    counter = _CountingSocket(dbapi._sock)
    dbapi._sock = counter
    return counter


def test_a_transaction_costs_one_round_trip_per_statement_and_one_to_commit(engine):
    with engine.connect() as connection:
        counter = _counted(connection)
        connection.execute(text("CREATE TEMP TABLE rt (id int PRIMARY KEY, name text)"))
        assert counter.flushes == 1  # BEGIN travelled with the first statement
        connection.execute(text("INSERT INTO rt VALUES (:id, :name)"), {"id": 1, "name": "a"})
        assert counter.flushes == 2  # Parse, Bind, Describe, Execute, Sync in one train (pg8000: 3)
        assert connection.execute(text("SELECT name FROM rt WHERE id = :id"), {"id": 1}).scalar() == "a"
        assert counter.flushes == 3
        connection.commit()
        assert counter.flushes == 4


def test_a_transaction_that_sent_nothing_costs_nothing_to_end(engine):
    with engine.connect() as connection:
        counter = _counted(connection)
        dbapi = connection.connection.dbapi_connection
        dbapi.execute_simple("begin transaction")
        dbapi.commit()
        dbapi.execute_simple("begin transaction")
        dbapi.rollback()
        assert counter.flushes == 0
        assert connection.execute(text("SELECT 1")).scalar() == 1  # and the connection is in step


def test_values_come_back_as_pg8000_decodes_them(engine):
    moment = dt.datetime(2026, 11, 1, 5, 0, tzinfo=dt.UTC)
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT CAST(:n AS bigint), CAST(:t AS text), CAST(:ts AS timestamptz), CAST(:d AS numeric(14, 2)),"
                " CAST(:j AS jsonb), CAST(:none AS text), 'سامسونج'::text"
            ),
            {"n": 2**40, "t": "black", "ts": moment, "d": Decimal("450000.50"), "j": '{"a": [1, 2]}', "none": None},
        ).one()
    assert tuple(row) == (2**40, "black", moment, Decimal("450000.50"), {"a": [1, 2]}, None, "سامسونج")


def test_timestamps_python_cannot_hold_come_back_as_pg8000_gives_them(engine):
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT 'infinity'::timestamptz, '-infinity'::timestamp, '2026-11-01 08:00:00.5'::timestamp,"
                " '2026-11-01 08:00:00+03'::timestamptz"
            )
        ).one()
    assert tuple(row) == (
        "infinity",
        "-infinity",
        dt.datetime(2026, 11, 1, 8, 0, 0, 500000),
        dt.datetime(2026, 11, 1, 5, 0, tzinfo=dt.UTC),
    )


def test_a_failing_first_statement_fails_its_transaction_and_the_connection_goes_on(engine):
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS rt_unique (id int PRIMARY KEY)"))
        connection.execute(text("INSERT INTO rt_unique VALUES (1)"))
        connection.commit()
        with pytest.raises(IntegrityError):  # the BEGIN travelled with it
            connection.execute(text("INSERT INTO rt_unique VALUES (:id)"), {"id": 1})
        connection.rollback()
        with pytest.raises(ProgrammingError):  # refused at Parse: the rest of the train is skipped
            connection.execute(text("SELEC :id"), {"id": 1})
        connection.rollback()
        connection.execute(text("INSERT INTO rt_unique VALUES (:id)"), {"id": 2})
        connection.commit()
        assert connection.execute(text("SELECT array_agg(id ORDER BY id) FROM rt_unique")).scalar() == [1, 2]
        connection.execute(text("DROP TABLE rt_unique"))
        connection.commit()


def test_a_rolled_back_transaction_leaves_nothing(engine):
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS rt_gone (id int)"))
        connection.commit()
        connection.execute(text("INSERT INTO rt_gone VALUES (:id)"), {"id": 7})
        connection.rollback()
        assert connection.execute(text("SELECT count(*) FROM rt_gone")).scalar() == 0
        connection.execute(text("DROP TABLE rt_gone"))
        connection.commit()


# --- The pool's liveness check (common/db/engine.py): no ping for a connection just used -------------


def test_a_connection_used_moments_ago_is_not_pinged_and_a_long_idle_one_is(engine):
    with engine.connect() as connection:
        counter = _counted(connection)
        connection.execute(text("SELECT 1"))
        connection.commit()
    used = counter.flushes
    with engine.connect() as connection:  # the same pooled connection, back within moments
        assert counter.flushes == used
        info = connection.connection.info  # the pooled connection's record
    info["returned_at"] -= 60  # as if it had sat in the pool for a minute since
    with engine.connect() as connection:
        assert counter.flushes == used + 1  # asked once before use
        assert connection.execute(text("SELECT 2")).scalar() == 2


def test_a_connection_the_server_closed_is_replaced_without_an_error(engine, pg):
    with engine.connect() as connection:
        first = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        connection.commit()
    with pg.engine.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar() is True
        admin.commit()
        # pg_terminate_backend only signals: the backend has closed the socket once it is gone.
        deadline = time.monotonic() + 5
        while admin.execute(text("SELECT 1 FROM pg_stat_activity WHERE pid = :pid"), {"pid": first}).first():
            assert time.monotonic() < deadline, "the terminated backend did not exit"
            admin.commit()
            time.sleep(0.01)
    # The pooled connection was used a moment ago (no ping is due): only its readable socket
    # (the server's farewell and close) tells the pool to replace it.
    with engine.connect() as connection:
        second = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    assert second != first
