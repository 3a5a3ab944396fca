"""Apply Alembic migrations from code, and render them as SQL for operators who use psql.

`python -m common.migrate` upgrades the configured database;
`python -m common.migrate --sql` prints the PostgreSQL script kept in
migrations/create_bff_models.sql, `--sql-downgrade` the script that undoes the newest
migration, kept in migrations/downgrade_latest.sql, and `--revisions` the revisions and heads
kept in migrations/revisions.json, which the health check reads instead of importing Alembic
(tests prove all three files match the migrations).
"""

from __future__ import annotations

import io
import json
import sys

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from common.config import PROJECT_ROOT

OFFLINE_SQL_PATH = PROJECT_ROOT / "migrations" / "create_bff_models.sql"
DOWNGRADE_SQL_PATH = PROJECT_ROOT / "migrations" / "downgrade_latest.sql"
REVISIONS_PATH = PROJECT_ROOT / "migrations" / "revisions.json"
_OFFLINE_SQL_HEADER = (
    "-- Generated from the Alembic migrations by `python -m common.migrate --sql`; do not edit.\n"
    "-- Apply to an empty PostgreSQL database: psql -v ON_ERROR_STOP=1 -f migrations/create_bff_models.sql\n"
)
_DOWNGRADE_SQL_HEADER = (
    "-- Generated from the Alembic migrations by `python -m common.migrate --sql-downgrade`; do not edit.\n"
    "-- Undoes the newest migration ({head} -> {previous}) on PostgreSQL, after a backup:\n"
    "--   psql -v ON_ERROR_STOP=1 -f migrations/downgrade_latest.sql\n"
)


def alembic_config(output: io.StringIO | None = None) -> Config:
    return Config(str(PROJECT_ROOT / "alembic.ini"), output_buffer=output)


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(command.upgrade, engine, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    _run(command.downgrade, engine, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _run(step, engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        step(config, revision)
        connection.commit()


def _offline(step, revision: str) -> str:
    """SQL for PostgreSQL rendered by Alembic's offline mode."""
    output = io.StringIO()
    config = alembic_config(output)
    config.cmd_opts = type("Options", (), {"x": ["dialect=postgresql"]})()
    step(config, revision, sql=True)
    return output.getvalue()


def offline_sql() -> str:
    """The whole PostgreSQL schema as one SQL script."""
    return _OFFLINE_SQL_HEADER + _offline(command.upgrade, "head")


def latest_revisions() -> tuple[str, str]:
    """(the newest revision, the one before it): what the downgrade script moves between."""
    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_current_head()
    previous = scripts.get_revision(head).down_revision
    return head, previous or "base"


def offline_downgrade_sql() -> str:
    """The SQL that takes a database at the newest revision back to the one before it."""
    head, previous = latest_revisions()
    return _DOWNGRADE_SQL_HEADER.format(head=head, previous=previous) + _offline(
        command.downgrade, f"{head}:{previous}"
    )


def revisions_record() -> str:
    """Every revision of the migrations and their heads, as Alembic sees them (JSON)."""
    scripts = ScriptDirectory.from_config(alembic_config())
    revisions = sorted(script.revision for script in scripts.walk_revisions())
    return json.dumps({"revisions": revisions, "heads": sorted(scripts.get_heads())}, indent=2) + "\n"


def main(argv: list[str]) -> int:
    if argv == ["--sql"]:
        sys.stdout.write(offline_sql())
        return 0
    if argv == ["--sql-downgrade"]:
        sys.stdout.write(offline_downgrade_sql())
        return 0
    if argv == ["--revisions"]:
        sys.stdout.write(revisions_record())
        return 0
    if argv:
        print("usage: python -m common.migrate [--sql | --sql-downgrade | --revisions]", file=sys.stderr)
        return 2
    from sqlalchemy.exc import DBAPIError

    from common.config import get_settings
    from common.db.engine import get_engine
    from common.startup import database_problem

    try:
        upgrade(get_engine())
    except DBAPIError as exc:
        print(f"cannot migrate: {database_problem(exc, get_settings().database_url)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
