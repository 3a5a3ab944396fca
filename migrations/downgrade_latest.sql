-- Generated from the Alembic migrations by `python -m common.migrate --sql-downgrade`; do not edit.
-- Undoes the newest migration (0002 -> 0001) on PostgreSQL, after a backup:
--   psql -v ON_ERROR_STOP=1 -f migrations/downgrade_latest.sql
BEGIN;

-- Running downgrade 0002 -> 0001

DROP INDEX ix_tds_request_metrics_minute;

DROP TABLE tds_request_metrics;

UPDATE alembic_version SET version_num='0001' WHERE alembic_version.version_num = '0002';

COMMIT;

