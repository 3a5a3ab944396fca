-- Generated from the Alembic migrations by `python -m common.migrate --sql-downgrade`; do not edit.
-- Undoes the newest migration (0005 -> 0004) on PostgreSQL, after a backup:
--   psql -v ON_ERROR_STOP=1 -f migrations/downgrade_latest.sql
BEGIN;

-- Running downgrade 0005 -> 0004

DROP TRIGGER reviews_ratings_truncate ON reviews;

DROP TRIGGER reviews_ratings_update ON reviews;

DROP TRIGGER reviews_ratings_sync ON reviews;

DROP FUNCTION product_ratings_clear();

DROP FUNCTION product_ratings_sync();

DROP TABLE product_ratings;

UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0005';

COMMIT;

