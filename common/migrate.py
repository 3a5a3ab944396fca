"""Apply Alembic migrations from code, and render them as SQL for operators who use psql.

`python -m common.migrate` upgrades the configured database;
`python -m common.migrate --sql` prints the PostgreSQL script kept in
migrations/create_bff_models.sql (a test proves the file matches the migrations).
"""

from __future__ import annotations

import io
import sys

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from common.config import PROJECT_ROOT

OFFLINE_SQL_PATH = PROJECT_ROOT / "migrations" / "create_bff_models.sql"
_OFFLINE_SQL_HEADER = (
    "-- Generated from the Alembic migrations by `python -m common.migrate --sql`; do not edit.\n"
    "-- Apply to an empty PostgreSQL database: psql -v ON_ERROR_STOP=1 -f migrations/create_bff_models.sql\n"
)


def alembic_config(output: io.StringIO | None = None) -> Config:
    return Config(str(PROJECT_ROOT / "alembic.ini"), output_buffer=output)


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(command.upgrade, engine, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    _run(command.downgrade, engine, revision)


def _run(step, engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        step(config, revision)
        connection.commit()


def offline_sql() -> str:
    """The whole PostgreSQL schema as one SQL script, rendered by Alembic's offline mode."""
    output = io.StringIO()
    config = alembic_config(output)
    config.cmd_opts = type("Options", (), {"x": ["dialect=postgresql"]})()
    command.upgrade(config, "head", sql=True)
    return _OFFLINE_SQL_HEADER + output.getvalue()


def main(argv: list[str]) -> int:
    if argv == ["--sql"]:
        sys.stdout.write(offline_sql())
        return 0
    if argv:
        print("usage: python -m common.migrate [--sql]", file=sys.stderr)
        return 2
    from common.db import get_engine

    upgrade(get_engine())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
