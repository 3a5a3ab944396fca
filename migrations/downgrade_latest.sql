-- Generated from the Alembic migrations by `python -m common.migrate --sql-downgrade`; do not edit.
-- Undoes the newest migration (0003 -> 0002) on PostgreSQL, after a backup:
--   psql -v ON_ERROR_STOP=1 -f migrations/downgrade_latest.sql
BEGIN;

-- Running downgrade 0003 -> 0002

ALTER TABLE cart_items DROP COLUMN flagged_at;

ALTER TABLE cart_items DROP COLUMN availability_flag;

DROP INDEX ix_product_price_history_product;

DROP TABLE product_price_history;

DROP INDEX ix_event_deliveries_pending_aggregate;

DROP INDEX ix_event_deliveries_due;

DROP TABLE event_deliveries;

DROP INDEX ix_event_outbox_unpublished_aggregate;

DROP INDEX ix_event_outbox_unpublished;

DROP INDEX ix_event_outbox_published;

DROP TABLE event_outbox;

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0003';

COMMIT;

