-- Generated from the Alembic migrations by `python -m common.migrate --sql-downgrade`; do not edit.
-- Undoes the newest migration (0006 -> 0005) on PostgreSQL, after a backup:
--   psql -v ON_ERROR_STOP=1 -f migrations/downgrade_latest.sql
BEGIN;

-- Running downgrade 0006 -> 0005

DROP TABLE zoho_pass_seen;

DROP TABLE zoho_sync_progress;

DROP TABLE zoho_call_budget;

ALTER TABLE zoho_oauth_tokens DROP COLUMN api_domain;

UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0006';

COMMIT;

