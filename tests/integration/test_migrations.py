"""Migrations: they build exactly the models' schema, round-trip, and match the operators' SQL file."""

import shutil
import subprocess
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from common import migrate
from common.db.engine import sqlalchemy_url
from common.models import metadata
from tests.conftest import PG_ADMIN_URL

# Search helpers that only one database has; the models describe them for PostgreSQL only.
_BACKEND_SPECIFIC = {
    "products_fts",
    "products_fts_data",
    "products_fts_idx",
    "products_fts_docsize",
    "products_fts_config",
    "product_search",
    "ix_tds_sync_queue_payload",
}
_CONTRACT_TABLES = {
    "promotions",
    "carts",
    "cart_items",
    "reviews",
    "customer_addresses",
    "tds_sync_queue",
    "tds_dead_letter_queue",
    "products",
    "customers",
}


def _include(obj, name, type_, reflected, compare_to):
    return name not in _BACKEND_SPECIFIC


def test_migrations_create_exactly_the_models(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _include, "compare_type": True})
        assert compare_metadata(context, metadata) == []


@pytest.fixture
def scratch_url(request, tmp_path):
    """A brand-new empty database on the backend of the `db` parameter."""
    backend = request.node.callspec.params["db"]
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    admin = create_engine(sqlalchemy_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    name = f"tsh_scratch_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_downgrade_to_base_and_upgrade_again(db, scratch_url):
    engine = create_engine(sqlalchemy_url(scratch_url))
    migrate.upgrade(engine)
    assert {table.name for table in metadata.sorted_tables} <= _tables(engine)
    migrate.downgrade(engine, "base")
    assert not _tables(engine) - {"sqlite_sequence"}
    migrate.upgrade(engine)
    assert {table.name for table in metadata.sorted_tables} <= _tables(engine)
    engine.dispose()


def test_operator_sql_file_matches_the_migrations():
    assert migrate.OFFLINE_SQL_PATH.read_text() == migrate.offline_sql(), (
        "migrations/create_bff_models.sql is stale: regenerate it with `python -m common.migrate --sql`"
    )


@pytest.mark.postgres_only
def test_operator_sql_file_builds_the_schema_with_psql(pg, tmp_path):
    assert shutil.which("psql"), "psql (PostgreSQL client) is required by this test"
    admin = create_engine(sqlalchemy_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    name = f"tsh_psql_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(PG_ADMIN_URL).set(database=name)
    try:
        _psql(url, migrate.OFFLINE_SQL_PATH)
        engine = create_engine(sqlalchemy_url(url.render_as_string(hide_password=False)))
        assert _tables(engine) >= _CONTRACT_TABLES
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def test_operator_downgrade_file_matches_the_migrations():
    assert migrate.DOWNGRADE_SQL_PATH.read_text() == migrate.offline_downgrade_sql(), (
        "migrations/downgrade_latest.sql is stale: regenerate it with `python -m common.migrate --sql-downgrade`"
    )


def _psql(url, path) -> None:
    subprocess.run(
        [
            shutil.which("psql"),
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            "-d",
            url.database,
            "-f",
            str(path),
        ],
        check=True,
        capture_output=True,
        env={"PGPASSWORD": url.password or "", "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.postgres_only
def test_operator_downgrade_file_undoes_the_newest_migration_with_psql(pg):
    assert shutil.which("psql"), "psql (PostgreSQL client) is required by this test"
    head, previous = migrate.latest_revisions()
    admin = create_engine(sqlalchemy_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    name = f"tsh_psql_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
        connection.execute(text(f"CREATE DATABASE {name}_previous"))
    url = make_url(PG_ADMIN_URL).set(database=name)
    engine = create_engine(sqlalchemy_url(url.render_as_string(hide_password=False)))
    previous_engine = create_engine(
        sqlalchemy_url(url.set(database=f"{name}_previous").render_as_string(hide_password=False))
    )
    try:
        _psql(url, migrate.OFFLINE_SQL_PATH)
        before = _tables(engine)
        _psql(url, migrate.DOWNGRADE_SQL_PATH)
        # Exactly the tables of the revision before remain (the newest may be data-only).
        migrate.upgrade(previous_engine, previous)
        assert _tables(engine) == _tables(previous_engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == previous
        # Exactly the newest migration's tables are gone, and Alembic can re-apply it.
        migrate.upgrade(engine)
        assert _tables(engine) == before
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head
    finally:
        engine.dispose()
        previous_engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
            connection.execute(text(f"DROP DATABASE {name}_previous WITH (FORCE)"))
        admin.dispose()


def test_products_written_before_search_name_fields_get_them(db, scratch_url):
    """Revision 0003 rewrites search_name of existing rows (and back on downgrade), so an exact
    name ranks first in a database filled before it too."""
    from common.products.search_index import search_columns

    engine = create_engine(sqlalchemy_url(scratch_url))
    migrate.upgrade(engine, "0002")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO products (zoho_item_id, name, name_ar, sku, brand, price, search_name, search_text, "
                "created_at, updated_at) "
                "VALUES ('z1', 'USB-C cable 1m', 'كابل', 'CB-1', 'Anker', 5000, 'usb c cable 1m kabl anker cb 1', 'x', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    migrate.upgrade(engine)
    expected = search_columns(name="USB-C cable 1m", name_ar="كابل", sku="CB-1", brand="Anker")["search_name"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT search_name FROM products")).scalar_one() == expected
        if engine.dialect.name == "postgresql":  # the narrow copy search reads follows
            assert connection.execute(text("SELECT search_name FROM product_search")).scalar_one() == expected
    migrate.downgrade(engine, "0002")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT search_name FROM products")).scalar_one() == (
            "usb c cable 1m kabl anker cb 1"
        )
    engine.dispose()


def _ratings(connection) -> list[tuple]:
    return connection.execute(
        text("SELECT product_id, approved_count, rating_sum FROM product_ratings ORDER BY product_id")
    ).all()


def _add_review(connection, product_id: int, rating: int, approved: bool) -> None:
    connection.execute(
        text(
            "INSERT INTO reviews (product_id, rating, is_approved, created_at) VALUES (:p, :r, :a, CURRENT_TIMESTAMP)"
        ),
        {"p": product_id, "r": rating, "a": approved},
    )


def test_product_ratings_are_filled_from_existing_reviews_and_go_on_downgrade(db, scratch_url):
    """Revision 0005 sums the approved reviews already there; from then on its triggers keep the sums,
    and its downgrade takes the table and the triggers away."""
    engine = create_engine(sqlalchemy_url(scratch_url))
    migrate.upgrade(engine, "0004")
    with engine.begin() as connection:
        for product_id in (1, 2, 3):
            connection.execute(
                text(
                    "INSERT INTO products (id, name, price, search_name, search_text, created_at, updated_at) "
                    "VALUES (:id, 'P', 1000, 'p', 'p', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": product_id},
            )
        for product_id, rating, approved in ((1, 5, True), (1, 2, True), (1, 1, False), (2, 4, False)):
            _add_review(connection, product_id, rating, approved)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        assert _ratings(connection) == [(1, 2, 7)]
        _add_review(connection, 3, 4, True)
        assert _ratings(connection) == [(1, 2, 7), (3, 1, 4)]
    migrate.downgrade(engine, "0004")
    assert "product_ratings" not in _tables(engine)
    with engine.begin() as connection:  # no trigger is left to write into the missing table
        _add_review(connection, 2, 3, True)
        connection.execute(text("UPDATE reviews SET is_approved = NOT is_approved, rating = 1, product_id = 3"))
        connection.execute(text("DELETE FROM reviews"))
    engine.dispose()
