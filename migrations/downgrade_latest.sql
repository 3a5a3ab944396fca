-- Generated from the Alembic migrations by `python -m common.migrate --sql-downgrade`; do not edit.
-- Undoes the newest migration (0009 -> 0008) on PostgreSQL, after a backup:
--   psql -v ON_ERROR_STOP=1 -f migrations/downgrade_latest.sql
BEGIN;

-- Running downgrade 0009 -> 0008

DROP INDEX uq_promotions_code;

ALTER TABLE promotions DROP COLUMN code;

ALTER TABLE carts DROP COLUMN promo_code;

DROP INDEX ix_stock_reservations_open;

DROP TABLE stock_reservations;

DROP TABLE promotion_redemptions;

DROP INDEX ix_order_status_history_order;

DROP TABLE order_status_history;

DROP INDEX ix_order_lines_order;

DROP TABLE order_lines;

DROP TABLE order_idempotency_keys;

DROP INDEX ix_orders_push_due;

DROP INDEX ix_orders_customer;

DROP INDEX ix_orders_created;

DROP TABLE orders;

DROP TABLE order_number_counters;

UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0009';

COMMIT;

