"""product_ratings: each product's approved review count and rating sum, kept by triggers on reviews.

Cards show the average approved rating and the review count; aggregating a best seller's
thousands of reviews on every request is what this table saves. Other systems write reviews
straight into the table, so the database keeps the summary: triggers on reviews (INSERT,
DELETE, UPDATE of product_id, rating or is_approved, and on PostgreSQL TRUNCATE) take the old
row's share out and put the new row's in. A product whose approved reviews all go keeps a
row of zeros.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The same two statements on both databases: take the old row's share out, put the new row's in.
_TAKE_OUT = (
    "UPDATE product_ratings SET approved_count = approved_count - 1, rating_sum = rating_sum - OLD.rating "
    "WHERE product_id = OLD.product_id AND OLD.is_approved"
)
# SELECT ... WHERE rather than VALUES, so that an unapproved review puts nothing in (on SQLite
# the WHERE also settles how ON CONFLICT after a SELECT parses).
_PUT_IN = (
    "INSERT INTO product_ratings (product_id, approved_count, rating_sum) "
    "SELECT NEW.product_id, 1, NEW.rating WHERE NEW.is_approved "
    "ON CONFLICT (product_id) DO UPDATE SET approved_count = product_ratings.approved_count + 1, "
    "rating_sum = product_ratings.rating_sum + excluded.rating_sum"
)
# Only an update that changes what the summary counts touches it (the columns are NOT NULL).
_CHANGED = "OLD.product_id <> NEW.product_id OR OLD.rating <> NEW.rating OR OLD.is_approved <> NEW.is_approved"
_COUNTED = "product_id, rating, is_approved"


def _dialect() -> str:
    return op.get_context().dialect.name


def _create_triggers() -> None:
    if _dialect() == "postgresql":
        op.execute(
            "CREATE FUNCTION product_ratings_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP <> 'INSERT' THEN {_TAKE_OUT}; END IF; "
            f"IF TG_OP <> 'DELETE' THEN {_PUT_IN}; END IF; "
            "RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER reviews_ratings_sync AFTER INSERT OR DELETE ON reviews "
            "FOR EACH ROW EXECUTE FUNCTION product_ratings_sync()"
        )
        op.execute(
            f"CREATE TRIGGER reviews_ratings_update AFTER UPDATE OF {_COUNTED} ON reviews "
            f"FOR EACH ROW WHEN ({_CHANGED}) EXECUTE FUNCTION product_ratings_sync()"
        )
        # Row triggers do not see a TRUNCATE.
        op.execute(
            "CREATE FUNCTION product_ratings_clear() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "DELETE FROM product_ratings; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER reviews_ratings_truncate AFTER TRUNCATE ON reviews "
            "FOR EACH STATEMENT EXECUTE FUNCTION product_ratings_clear()"
        )
    elif _dialect() == "sqlite":
        op.execute(f"CREATE TRIGGER reviews_ratings_insert AFTER INSERT ON reviews BEGIN {_PUT_IN}; END")
        op.execute(f"CREATE TRIGGER reviews_ratings_delete AFTER DELETE ON reviews BEGIN {_TAKE_OUT}; END")
        op.execute(
            f"CREATE TRIGGER reviews_ratings_update AFTER UPDATE OF {_COUNTED} ON reviews WHEN {_CHANGED} BEGIN "
            f"{_TAKE_OUT}; {_PUT_IN}; END"
        )


def upgrade() -> None:
    op.create_table(
        "product_ratings",
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("approved_count", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_ratings_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_product_ratings")),
    )
    # Triggers first: creating them locks reviews against writers (PostgreSQL), so no review
    # committed between the fill and the triggers can be missed.
    _create_triggers()
    op.execute(
        "INSERT INTO product_ratings (product_id, approved_count, rating_sum) "
        "SELECT product_id, COUNT(*), SUM(rating) FROM reviews WHERE is_approved GROUP BY product_id"
    )


def downgrade() -> None:
    if _dialect() == "postgresql":
        for trigger in ("reviews_ratings_truncate", "reviews_ratings_update", "reviews_ratings_sync"):
            op.execute(f"DROP TRIGGER {trigger} ON reviews")
        op.execute("DROP FUNCTION product_ratings_clear()")
        op.execute("DROP FUNCTION product_ratings_sync()")
    elif _dialect() == "sqlite":
        for trigger in ("reviews_ratings_update", "reviews_ratings_delete", "reviews_ratings_insert"):
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table("product_ratings")
