-- Generated from the Alembic migrations by `python -m common.migrate --sql-downgrade`; do not edit.
-- Undoes the newest migration (0007 -> 0006) on PostgreSQL, after a backup:
--   psql -v ON_ERROR_STOP=1 -f migrations/downgrade_latest.sql
BEGIN;

-- Running downgrade 0007 -> 0006

DROP INDEX ix_stock_adjustments_item;

DROP INDEX ix_products_stock_check_due;

ALTER TABLE products DROP COLUMN stock_check_leased_until;

ALTER TABLE products DROP COLUMN stock_checked_at;

ALTER TABLE products DROP COLUMN stock_check_due_at;

UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0007';

COMMIT;

