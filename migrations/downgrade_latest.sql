-- Generated from the Alembic migrations by `python -m common.migrate --sql-downgrade`; do not edit.
-- Undoes the newest migration (0008 -> 0007) on PostgreSQL, after a backup:
--   psql -v ON_ERROR_STOP=1 -f migrations/downgrade_latest.sql
BEGIN;

-- Running downgrade 0008 -> 0007

DROP INDEX ix_ops_login_failures_client;

DROP TABLE ops_login_failures;

DROP TABLE ops_sessions;

UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0008';

COMMIT;

