-- Generated from the Alembic migrations by `python -m common.migrate --sql-downgrade`; do not edit.
-- Undoes the newest migration (0004 -> 0003) on PostgreSQL, after a backup:
--   psql -v ON_ERROR_STOP=1 -f migrations/downgrade_latest.sql
BEGIN;

-- Running downgrade 0004 -> 0003

UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0004';

COMMIT;

