"""Alembic environment: the database comes from common.config (DATABASE_URL), never from alembic.ini.

Offline SQL for operators: `alembic -x dialect=postgresql upgrade head --sql`.
"""

from alembic import context
from sqlalchemy import create_engine, pool

from common.config import get_settings
from common.db.engine import sqlalchemy_url
from common.models import metadata

config = context.config


def run_offline() -> None:
    dialect = context.get_x_argument(as_dictionary=True).get("dialect")
    options = {"dialect_name": dialect} if dialect else {"url": sqlalchemy_url(get_settings().database_url)}
    context.configure(target_metadata=metadata, literal_binds=True, **options)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(sqlalchemy_url(get_settings().database_url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _migrate(connection)


def _migrate(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
