-- Generated from the Alembic migrations by `python -m common.migrate --sql-downgrade`; do not edit.
-- Undoes the newest migration (0010 -> 0009) on PostgreSQL, after a backup:
--   psql -v ON_ERROR_STOP=1 -f migrations/downgrade_latest.sql
BEGIN;

-- Running downgrade 0010 -> 0009

DROP INDEX ix_tds_sync_queue_payload;

ALTER TABLE ops_sessions DROP COLUMN role;

DROP TABLE ops_audit_log;

DROP TABLE ops_queue_pauses;

DROP TABLE ops_alert_notifications;

DROP TABLE ops_incidents;

DROP TABLE ops_alert_clock;

DROP TABLE ops_job_runs;

UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0010';

COMMIT;

