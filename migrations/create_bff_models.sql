-- Generated from the Alembic migrations by `python -m common.migrate --sql`; do not edit.
-- Apply to an empty PostgreSQL database: psql -v ON_ERROR_STOP=1 -f migrations/create_bff_models.sql
BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

CREATE TABLE bills (
    id BIGSERIAL NOT NULL, 
    zoho_bill_id VARCHAR(64) NOT NULL, 
    bill_number VARCHAR(64) NOT NULL, 
    zoho_vendor_id VARCHAR(64) NOT NULL, 
    vendor_name VARCHAR(255), 
    date DATE, 
    due_date DATE, 
    total BIGINT DEFAULT 0 NOT NULL, 
    balance BIGINT, 
    status VARCHAR(32), 
    is_active BOOLEAN DEFAULT true NOT NULL, 
    zoho_last_modified TIMESTAMP WITH TIME ZONE, 
    zoho_data JSONB, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_bills PRIMARY KEY (id), 
    CONSTRAINT uq_bills_zoho_bill_id UNIQUE (zoho_bill_id)
);

CREATE INDEX ix_bills_vendor ON bills (zoho_vendor_id);

CREATE TABLE categories (
    id BIGSERIAL NOT NULL, 
    zoho_category_id VARCHAR(64), 
    name VARCHAR(255) NOT NULL, 
    name_ar VARCHAR(255), 
    icon VARCHAR(255), 
    sort_order INTEGER DEFAULT 0 NOT NULL, 
    is_active BOOLEAN DEFAULT true NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_categories PRIMARY KEY (id), 
    CONSTRAINT uq_categories_zoho_category_id UNIQUE (zoho_category_id)
);

CREATE TABLE customers (
    id BIGSERIAL NOT NULL, 
    zoho_contact_id VARCHAR(64), 
    name VARCHAR(255) NOT NULL, 
    company_name VARCHAR(255), 
    email VARCHAR(255), 
    phone VARCHAR(64), 
    avatar_url VARCHAR(1000), 
    is_active BOOLEAN DEFAULT true NOT NULL, 
    zoho_last_modified TIMESTAMP WITH TIME ZONE, 
    zoho_data JSONB, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_customers PRIMARY KEY (id), 
    CONSTRAINT uq_customers_zoho_contact_id UNIQUE (zoho_contact_id)
);

CREATE TABLE pricelists (
    id BIGSERIAL NOT NULL, 
    zoho_pricelist_id VARCHAR(64) NOT NULL, 
    name VARCHAR(255) NOT NULL, 
    currency_code VARCHAR(8), 
    pricing_scheme VARCHAR(32), 
    percentage INTEGER, 
    is_active BOOLEAN DEFAULT true NOT NULL, 
    zoho_last_modified TIMESTAMP WITH TIME ZONE, 
    zoho_data JSONB, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_pricelists PRIMARY KEY (id), 
    CONSTRAINT uq_pricelists_zoho_pricelist_id UNIQUE (zoho_pricelist_id)
);

CREATE TABLE search_terms (
    variant VARCHAR(128) NOT NULL, 
    term VARCHAR(128) NOT NULL, 
    CONSTRAINT pk_search_terms PRIMARY KEY (variant, term)
);

CREATE TABLE stock_adjustments (
    id BIGSERIAL NOT NULL, 
    zoho_adjustment_id VARCHAR(64) NOT NULL, 
    zoho_item_id VARCHAR(64) NOT NULL, 
    quantity_adjusted INTEGER, 
    stock_on_hand INTEGER, 
    reason VARCHAR(500), 
    adjusted_at TIMESTAMP WITH TIME ZONE, 
    applied_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    reversed_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT pk_stock_adjustments PRIMARY KEY (id), 
    CONSTRAINT uq_stock_adjustments_zoho_adjustment_id_zoho_item_id UNIQUE (zoho_adjustment_id, zoho_item_id)
);

CREATE TABLE tds_drain_runs (
    id BIGSERIAL NOT NULL, 
    worker_id VARCHAR(128) NOT NULL, 
    trigger VARCHAR(16) NOT NULL, 
    started_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    finished_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    claimed INTEGER NOT NULL, 
    completed INTEGER NOT NULL, 
    retried INTEGER NOT NULL, 
    dead_lettered INTEGER NOT NULL, 
    stale INTEGER NOT NULL, 
    remaining INTEGER NOT NULL, 
    duration_ms INTEGER NOT NULL, 
    CONSTRAINT pk_tds_drain_runs PRIMARY KEY (id)
);

CREATE INDEX ix_tds_drain_runs_finished ON tds_drain_runs (finished_at);

CREATE TABLE tds_sync_cursors (
    entity_type VARCHAR(32) NOT NULL, 
    cursor VARCHAR(64) NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_tds_sync_cursors PRIMARY KEY (entity_type)
);

CREATE TABLE tds_sync_queue (
    id BIGSERIAL NOT NULL, 
    entity_type VARCHAR(32) NOT NULL, 
    source_entity_id VARCHAR(64) NOT NULL, 
    operation_type VARCHAR(16) NOT NULL, 
    status VARCHAR(16) DEFAULT 'pending' NOT NULL, 
    priority INTEGER NOT NULL, 
    attempt_count INTEGER DEFAULT 0 NOT NULL, 
    next_retry_at TIMESTAMP WITH TIME ZONE, 
    locked_by VARCHAR(128), 
    lock_expires_at TIMESTAMP WITH TIME ZONE, 
    error_message TEXT, 
    idempotency_key VARCHAR(64) NOT NULL, 
    event_id VARCHAR(128), 
    payload JSONB NOT NULL, 
    source_modified_at TIMESTAMP WITH TIME ZONE, 
    result VARCHAR(32), 
    processing_ms INTEGER, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    started_at TIMESTAMP WITH TIME ZONE, 
    completed_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT pk_tds_sync_queue PRIMARY KEY (id), 
    CONSTRAINT ck_tds_sync_queue_operation_known CHECK (operation_type IN ('create', 'update', 'delete', 'upsert')), 
    CONSTRAINT ck_tds_sync_queue_status_known CHECK (status IN ('pending', 'processing', 'completed', 'retry', 'dead_letter')), 
    CONSTRAINT ck_tds_sync_queue_priority_range CHECK (priority BETWEEN 1 AND 10), 
    CONSTRAINT uq_tds_sync_queue_idempotency_key UNIQUE (idempotency_key)
);

CREATE INDEX ix_tds_sync_queue_claim ON tds_sync_queue (priority, created_at, id) WHERE status IN ('pending', 'retry', 'processing');

CREATE INDEX ix_tds_sync_queue_created ON tds_sync_queue (created_at);

CREATE INDEX ix_tds_sync_queue_entity ON tds_sync_queue (entity_type, source_entity_id);

CREATE INDEX ix_tds_sync_queue_status_completed ON tds_sync_queue (status, completed_at);

CREATE TABLE zoho_oauth_tokens (
    name VARCHAR(32) NOT NULL, 
    access_token TEXT NOT NULL, 
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_zoho_oauth_tokens PRIMARY KEY (name)
);

CREATE TABLE carts (
    id BIGSERIAL NOT NULL, 
    customer_id BIGINT NOT NULL, 
    status VARCHAR(16) DEFAULT 'active' NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_carts PRIMARY KEY (id), 
    CONSTRAINT ck_carts_status_known CHECK (status IN ('active', 'ordered', 'abandoned')), 
    CONSTRAINT fk_carts_customer_id_customers FOREIGN KEY(customer_id) REFERENCES customers (id) ON DELETE CASCADE
);

CREATE INDEX ix_carts_customer ON carts (customer_id);

CREATE UNIQUE INDEX uq_carts_active_customer ON carts (customer_id) WHERE status = 'active';

CREATE TABLE credit_notes (
    id BIGSERIAL NOT NULL, 
    zoho_creditnote_id VARCHAR(64) NOT NULL, 
    creditnote_number VARCHAR(64) NOT NULL, 
    zoho_customer_id VARCHAR(64), 
    customer_id BIGINT, 
    date DATE, 
    total BIGINT DEFAULT 0 NOT NULL, 
    balance BIGINT, 
    status VARCHAR(32), 
    is_active BOOLEAN DEFAULT true NOT NULL, 
    zoho_last_modified TIMESTAMP WITH TIME ZONE, 
    zoho_data JSONB, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_credit_notes PRIMARY KEY (id), 
    CONSTRAINT fk_credit_notes_customer_id_customers FOREIGN KEY(customer_id) REFERENCES customers (id) ON DELETE SET NULL, 
    CONSTRAINT uq_credit_notes_zoho_creditnote_id UNIQUE (zoho_creditnote_id)
);

CREATE INDEX ix_credit_notes_customer ON credit_notes (customer_id);

CREATE TABLE customer_addresses (
    id BIGSERIAL NOT NULL, 
    customer_id BIGINT NOT NULL, 
    label VARCHAR(100) NOT NULL, 
    address VARCHAR(1000) NOT NULL, 
    city VARCHAR(100) NOT NULL, 
    phone VARCHAR(64), 
    is_default BOOLEAN DEFAULT false NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_customer_addresses PRIMARY KEY (id), 
    CONSTRAINT fk_customer_addresses_customer_id_customers FOREIGN KEY(customer_id) REFERENCES customers (id) ON DELETE CASCADE
);

CREATE INDEX ix_customer_addresses_customer ON customer_addresses (customer_id);

CREATE UNIQUE INDEX uq_customer_addresses_default ON customer_addresses (customer_id) WHERE is_default;

CREATE TABLE invoices (
    id BIGSERIAL NOT NULL, 
    zoho_invoice_id VARCHAR(64) NOT NULL, 
    invoice_number VARCHAR(64), 
    zoho_customer_id VARCHAR(64), 
    customer_id BIGINT, 
    date DATE, 
    due_date DATE, 
    total BIGINT DEFAULT 0 NOT NULL, 
    balance BIGINT, 
    status VARCHAR(32), 
    currency_code VARCHAR(8), 
    is_active BOOLEAN DEFAULT true NOT NULL, 
    zoho_last_modified TIMESTAMP WITH TIME ZONE, 
    zoho_data JSONB, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_invoices PRIMARY KEY (id), 
    CONSTRAINT fk_invoices_customer_id_customers FOREIGN KEY(customer_id) REFERENCES customers (id) ON DELETE SET NULL, 
    CONSTRAINT uq_invoices_zoho_invoice_id UNIQUE (zoho_invoice_id)
);

CREATE INDEX ix_invoices_customer ON invoices (customer_id);

CREATE INDEX ix_invoices_zoho_customer ON invoices (zoho_customer_id);

CREATE TABLE product_prices (
    id BIGSERIAL NOT NULL, 
    pricelist_id BIGINT NOT NULL, 
    zoho_item_id VARCHAR(64) NOT NULL, 
    price BIGINT NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_product_prices PRIMARY KEY (id), 
    CONSTRAINT ck_product_prices_price_not_negative CHECK (price >= 0), 
    CONSTRAINT fk_product_prices_pricelist_id_pricelists FOREIGN KEY(pricelist_id) REFERENCES pricelists (id) ON DELETE CASCADE, 
    CONSTRAINT uq_product_prices_pricelist_id_zoho_item_id UNIQUE (pricelist_id, zoho_item_id)
);

CREATE INDEX ix_product_prices_item ON product_prices (zoho_item_id);

CREATE TABLE products (
    id BIGSERIAL NOT NULL, 
    zoho_item_id VARCHAR(64), 
    name VARCHAR(500) NOT NULL, 
    name_ar VARCHAR(500), 
    sku VARCHAR(128), 
    description TEXT, 
    description_ar TEXT, 
    category_id BIGINT, 
    brand VARCHAR(255), 
    unit VARCHAR(64), 
    price BIGINT DEFAULT 0 NOT NULL, 
    cost BIGINT, 
    stock_quantity INTEGER DEFAULT 0 NOT NULL, 
    branch_name VARCHAR(255), 
    image_url VARCHAR(1000), 
    images JSONB, 
    specifications JSONB, 
    is_featured BOOLEAN DEFAULT false NOT NULL, 
    sales_count INTEGER DEFAULT 0 NOT NULL, 
    search_name TEXT DEFAULT ('') NOT NULL, 
    search_text TEXT DEFAULT ('') NOT NULL, 
    is_active BOOLEAN DEFAULT true NOT NULL, 
    zoho_last_modified TIMESTAMP WITH TIME ZONE, 
    zoho_data JSONB, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_products PRIMARY KEY (id), 
    CONSTRAINT ck_products_price_not_negative CHECK (price >= 0), 
    CONSTRAINT fk_products_category_id_categories FOREIGN KEY(category_id) REFERENCES categories (id) ON DELETE SET NULL, 
    CONSTRAINT uq_products_zoho_item_id UNIQUE (zoho_item_id)
);

CREATE INDEX ix_products_active_category ON products (is_active, category_id);

CREATE INDEX ix_products_active_created ON products (is_active, created_at);

CREATE INDEX ix_products_active_featured ON products (is_active, is_featured);

CREATE INDEX ix_products_active_price ON products (is_active, price);

CREATE INDEX ix_products_active_sales ON products (is_active, sales_count);

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE product_search (
    id BIGINT NOT NULL, 
    search_name TEXT NOT NULL, 
    search_text TEXT NOT NULL, 
    is_active BOOLEAN NOT NULL, 
    category_id BIGINT, 
    price BIGINT NOT NULL, 
    stock_quantity INTEGER NOT NULL, 
    sales_count INTEGER NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_product_search PRIMARY KEY (id), 
    CONSTRAINT fk_product_search_id_products FOREIGN KEY(id) REFERENCES products (id) ON DELETE CASCADE
);

CREATE INDEX ix_product_search_text_trgm ON product_search USING gin (search_text gin_trgm_ops);

CREATE INDEX ix_product_search_category ON product_search (category_id);

CREATE FUNCTION product_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO product_search (id, search_name, search_text, is_active, category_id, price, stock_quantity, sales_count, created_at) VALUES (NEW.id, NEW.search_name, NEW.search_text, NEW.is_active, NEW.category_id, NEW.price, NEW.stock_quantity, NEW.sales_count, NEW.created_at) ON CONFLICT (id) DO UPDATE SET search_name = EXCLUDED.search_name, search_text = EXCLUDED.search_text, is_active = EXCLUDED.is_active, category_id = EXCLUDED.category_id, price = EXCLUDED.price, stock_quantity = EXCLUDED.stock_quantity, sales_count = EXCLUDED.sales_count, created_at = EXCLUDED.created_at; RETURN NULL; END $$;

CREATE TRIGGER products_search_sync AFTER INSERT OR UPDATE OF search_name, search_text, is_active, category_id, price, stock_quantity, sales_count, created_at ON products FOR EACH ROW EXECUTE FUNCTION product_search_sync();

CREATE INDEX ix_products_sku ON products (sku);

CREATE INDEX ix_products_category ON products (category_id);

CREATE TABLE tds_dead_letter_queue (
    id BIGSERIAL NOT NULL, 
    sync_queue_id BIGINT, 
    entity_type VARCHAR(32) NOT NULL, 
    source_entity_id VARCHAR(64) NOT NULL, 
    failure_reason VARCHAR(32) NOT NULL, 
    total_attempts INTEGER NOT NULL, 
    last_error_message TEXT, 
    last_payload JSONB, 
    resolved BOOLEAN DEFAULT false NOT NULL, 
    resolved_at TIMESTAMP WITH TIME ZONE, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_tds_dead_letter_queue PRIMARY KEY (id), 
    CONSTRAINT fk_tds_dead_letter_queue_sync_queue_id_tds_sync_queue FOREIGN KEY(sync_queue_id) REFERENCES tds_sync_queue (id) ON DELETE SET NULL
);

CREATE INDEX ix_tds_dead_letter_queue_entity ON tds_dead_letter_queue (entity_type, resolved);

CREATE INDEX ix_tds_dead_letter_queue_resolved ON tds_dead_letter_queue (resolved, created_at);

CREATE INDEX ix_tds_dead_letter_queue_sync_queue ON tds_dead_letter_queue (sync_queue_id);

CREATE TABLE cart_items (
    id BIGSERIAL NOT NULL, 
    cart_id BIGINT NOT NULL, 
    product_id BIGINT NOT NULL, 
    quantity INTEGER NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_cart_items PRIMARY KEY (id), 
    CONSTRAINT ck_cart_items_quantity_range CHECK (quantity > 0 AND quantity <= 999), 
    CONSTRAINT fk_cart_items_cart_id_carts FOREIGN KEY(cart_id) REFERENCES carts (id) ON DELETE CASCADE, 
    CONSTRAINT fk_cart_items_product_id_products FOREIGN KEY(product_id) REFERENCES products (id) ON DELETE CASCADE, 
    CONSTRAINT uq_cart_items_cart_id_product_id UNIQUE (cart_id, product_id)
);

CREATE INDEX ix_cart_items_product ON cart_items (product_id);

CREATE TABLE invoice_lines (
    id BIGSERIAL NOT NULL, 
    invoice_id BIGINT NOT NULL, 
    zoho_item_id VARCHAR(64), 
    name VARCHAR(500), 
    quantity INTEGER NOT NULL, 
    rate BIGINT NOT NULL, 
    total BIGINT NOT NULL, 
    CONSTRAINT pk_invoice_lines PRIMARY KEY (id), 
    CONSTRAINT fk_invoice_lines_invoice_id_invoices FOREIGN KEY(invoice_id) REFERENCES invoices (id) ON DELETE CASCADE
);

CREATE INDEX ix_invoice_lines_invoice ON invoice_lines (invoice_id);

CREATE INDEX ix_invoice_lines_item ON invoice_lines (zoho_item_id);

CREATE TABLE promotions (
    id BIGSERIAL NOT NULL, 
    title VARCHAR(255) NOT NULL, 
    title_ar VARCHAR(255), 
    description TEXT, 
    banner_url VARCHAR(1000), 
    applies_to VARCHAR(16) DEFAULT 'catalog' NOT NULL, 
    discount_type VARCHAR(16) NOT NULL, 
    discount_value BIGINT NOT NULL, 
    product_id BIGINT, 
    category_id BIGINT, 
    min_purchase BIGINT DEFAULT 0 NOT NULL, 
    max_uses INTEGER, 
    used_count INTEGER DEFAULT 0 NOT NULL, 
    starts_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    ends_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    is_active BOOLEAN DEFAULT true NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_promotions PRIMARY KEY (id), 
    CONSTRAINT ck_promotions_applies_to_known CHECK (applies_to IN ('catalog', 'checkout')), 
    CONSTRAINT ck_promotions_discount_type_known CHECK (discount_type IN ('percentage', 'fixed')), 
    CONSTRAINT ck_promotions_discount_value_range CHECK (discount_value > 0 AND (discount_type <> 'percentage' OR discount_value <= 100)), 
    CONSTRAINT ck_promotions_ends_after_start CHECK (ends_at > starts_at), 
    CONSTRAINT fk_promotions_category_id_categories FOREIGN KEY(category_id) REFERENCES categories (id) ON DELETE CASCADE, 
    CONSTRAINT fk_promotions_product_id_products FOREIGN KEY(product_id) REFERENCES products (id) ON DELETE CASCADE
);

CREATE INDEX ix_promotions_active_ends ON promotions (is_active, ends_at);

CREATE INDEX ix_promotions_product ON promotions (product_id);

CREATE INDEX ix_promotions_category ON promotions (category_id);

CREATE TABLE reviews (
    id BIGSERIAL NOT NULL, 
    product_id BIGINT NOT NULL, 
    customer_id BIGINT, 
    rating INTEGER NOT NULL, 
    title VARCHAR(255), 
    comment TEXT, 
    is_approved BOOLEAN DEFAULT false NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_reviews PRIMARY KEY (id), 
    CONSTRAINT ck_reviews_rating_range CHECK (rating BETWEEN 1 AND 5), 
    CONSTRAINT fk_reviews_customer_id_customers FOREIGN KEY(customer_id) REFERENCES customers (id) ON DELETE SET NULL, 
    CONSTRAINT fk_reviews_product_id_products FOREIGN KEY(product_id) REFERENCES products (id) ON DELETE CASCADE
);

CREATE INDEX ix_reviews_product_approved ON reviews (product_id, is_approved, created_at);

CREATE INDEX ix_reviews_approved_rating ON reviews (product_id, rating) WHERE is_approved;

CREATE INDEX ix_reviews_customer ON reviews (customer_id);

INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING alembic_version.version_num;

-- Running upgrade 0001 -> 0002

CREATE TABLE tds_request_metrics (
    id BIGSERIAL NOT NULL, 
    minute TIMESTAMP WITH TIME ZONE NOT NULL, 
    function VARCHAR(64) NOT NULL, 
    route VARCHAR(96) NOT NULL, 
    requests INTEGER NOT NULL, 
    client_errors INTEGER NOT NULL, 
    server_errors INTEGER NOT NULL, 
    total_ms FLOAT NOT NULL, 
    max_ms FLOAT NOT NULL, 
    histogram JSONB NOT NULL, 
    CONSTRAINT pk_tds_request_metrics PRIMARY KEY (id)
);

CREATE INDEX ix_tds_request_metrics_minute ON tds_request_metrics (minute, function);

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';

-- Running upgrade 0002 -> 0003

CREATE TABLE event_outbox (
    id BIGSERIAL NOT NULL, 
    event_id VARCHAR(36) NOT NULL, 
    event_type VARCHAR(64) NOT NULL, 
    aggregate_type VARCHAR(32) NOT NULL, 
    aggregate_id VARCHAR(64) NOT NULL, 
    payload JSONB NOT NULL, 
    occurred_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    published_at TIMESTAMP WITH TIME ZONE, 
    attempts INTEGER DEFAULT 0 NOT NULL, 
    next_attempt_at TIMESTAMP WITH TIME ZONE, 
    last_error TEXT, 
    CONSTRAINT pk_event_outbox PRIMARY KEY (id), 
    CONSTRAINT uq_event_outbox_event_id UNIQUE (event_id)
);

CREATE INDEX ix_event_outbox_published ON event_outbox (published_at);

CREATE INDEX ix_event_outbox_unpublished ON event_outbox (id) WHERE published_at IS NULL;

CREATE INDEX ix_event_outbox_unpublished_aggregate ON event_outbox (aggregate_type, aggregate_id, id) WHERE published_at IS NULL;

CREATE TABLE event_deliveries (
    id BIGSERIAL NOT NULL, 
    outbox_id BIGINT NOT NULL, 
    subscriber VARCHAR(64) NOT NULL, 
    aggregate_type VARCHAR(32) NOT NULL, 
    aggregate_id VARCHAR(64) NOT NULL, 
    attempts INTEGER DEFAULT 0 NOT NULL, 
    next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    delivered_at TIMESTAMP WITH TIME ZONE, 
    last_error TEXT, 
    CONSTRAINT pk_event_deliveries PRIMARY KEY (id), 
    CONSTRAINT fk_event_deliveries_outbox_id_event_outbox FOREIGN KEY(outbox_id) REFERENCES event_outbox (id) ON DELETE CASCADE, 
    CONSTRAINT uq_event_deliveries_outbox_id_subscriber UNIQUE (outbox_id, subscriber)
);

CREATE INDEX ix_event_deliveries_due ON event_deliveries (next_attempt_at, id) WHERE delivered_at IS NULL;

CREATE INDEX ix_event_deliveries_pending_aggregate ON event_deliveries (subscriber, aggregate_type, aggregate_id, id) WHERE delivered_at IS NULL;

CREATE TABLE product_price_history (
    id BIGSERIAL NOT NULL, 
    product_id BIGINT NOT NULL, 
    event_id VARCHAR(36) NOT NULL, 
    old_price BIGINT, 
    new_price BIGINT NOT NULL, 
    changed_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_product_price_history PRIMARY KEY (id), 
    CONSTRAINT fk_product_price_history_product_id_products FOREIGN KEY(product_id) REFERENCES products (id) ON DELETE CASCADE, 
    CONSTRAINT uq_product_price_history_event_id UNIQUE (event_id)
);

CREATE INDEX ix_product_price_history_product ON product_price_history (product_id, changed_at);

ALTER TABLE cart_items ADD COLUMN availability_flag VARCHAR(16);

ALTER TABLE cart_items ADD COLUMN flagged_at TIMESTAMP WITH TIME ZONE;

UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002';

-- Running upgrade 0003 -> 0004

UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0003';

-- Running upgrade 0004 -> 0005

CREATE TABLE product_ratings (
    product_id BIGINT NOT NULL, 
    approved_count INTEGER NOT NULL, 
    rating_sum INTEGER NOT NULL, 
    CONSTRAINT pk_product_ratings PRIMARY KEY (product_id), 
    CONSTRAINT fk_product_ratings_product_id_products FOREIGN KEY(product_id) REFERENCES products (id) ON DELETE CASCADE
);

CREATE FUNCTION product_ratings_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP <> 'INSERT' THEN UPDATE product_ratings SET approved_count = approved_count - 1, rating_sum = rating_sum - OLD.rating WHERE product_id = OLD.product_id AND OLD.is_approved; END IF; IF TG_OP <> 'DELETE' THEN INSERT INTO product_ratings (product_id, approved_count, rating_sum) SELECT NEW.product_id, 1, NEW.rating WHERE NEW.is_approved ON CONFLICT (product_id) DO UPDATE SET approved_count = product_ratings.approved_count + 1, rating_sum = product_ratings.rating_sum + excluded.rating_sum; END IF; RETURN NULL; END $$;

CREATE TRIGGER reviews_ratings_sync AFTER INSERT OR DELETE ON reviews FOR EACH ROW EXECUTE FUNCTION product_ratings_sync();

CREATE TRIGGER reviews_ratings_update AFTER UPDATE OF product_id, rating, is_approved ON reviews FOR EACH ROW WHEN (OLD.product_id <> NEW.product_id OR OLD.rating <> NEW.rating OR OLD.is_approved <> NEW.is_approved) EXECUTE FUNCTION product_ratings_sync();

CREATE FUNCTION product_ratings_clear() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM product_ratings; RETURN NULL; END $$;

CREATE TRIGGER reviews_ratings_truncate AFTER TRUNCATE ON reviews FOR EACH STATEMENT EXECUTE FUNCTION product_ratings_clear();

INSERT INTO product_ratings (product_id, approved_count, rating_sum) SELECT product_id, COUNT(*), SUM(rating) FROM reviews WHERE is_approved GROUP BY product_id;

UPDATE alembic_version SET version_num='0005' WHERE alembic_version.version_num = '0004';

-- Running upgrade 0005 -> 0006

ALTER TABLE zoho_oauth_tokens ADD COLUMN api_domain VARCHAR(255);

CREATE TABLE zoho_call_budget (
    organization_id VARCHAR(64) NOT NULL, 
    period VARCHAR(8) NOT NULL, 
    period_start TIMESTAMP WITH TIME ZONE NOT NULL, 
    calls INTEGER NOT NULL, 
    CONSTRAINT pk_zoho_call_budget PRIMARY KEY (organization_id, period), 
    CONSTRAINT ck_zoho_call_budget_period_known CHECK (period IN ('minute', 'day'))
);

CREATE TABLE zoho_sync_progress (
    organization_id VARCHAR(64) NOT NULL, 
    entity_type VARCHAR(32) NOT NULL, 
    mode VARCHAR(16) NOT NULL, 
    pass_started_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    since_date DATE, 
    next_page INTEGER NOT NULL, 
    listed INTEGER NOT NULL, 
    queued INTEGER NOT NULL, 
    duplicates INTEGER NOT NULL, 
    deactivated INTEGER NOT NULL, 
    listed_all BOOLEAN NOT NULL, 
    done BOOLEAN NOT NULL, 
    rail_tripped BOOLEAN NOT NULL, 
    finished_at TIMESTAMP WITH TIME ZONE, 
    last_complete_at TIMESTAMP WITH TIME ZONE, 
    last_queued INTEGER, 
    last_deactivated INTEGER, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_zoho_sync_progress PRIMARY KEY (organization_id, entity_type, mode), 
    CONSTRAINT ck_zoho_sync_progress_mode_known CHECK (mode IN ('import', 'full'))
);

CREATE TABLE zoho_pass_seen (
    entity_type VARCHAR(32) NOT NULL, 
    pass_started_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    zoho_id VARCHAR(64) NOT NULL, 
    CONSTRAINT pk_zoho_pass_seen PRIMARY KEY (entity_type, pass_started_at, zoho_id)
);

UPDATE alembic_version SET version_num='0006' WHERE alembic_version.version_num = '0005';

-- Running upgrade 0006 -> 0007

ALTER TABLE products ADD COLUMN stock_check_due_at TIMESTAMP WITH TIME ZONE;

ALTER TABLE products ADD COLUMN stock_checked_at TIMESTAMP WITH TIME ZONE;

ALTER TABLE products ADD COLUMN stock_check_leased_until TIMESTAMP WITH TIME ZONE;

CREATE INDEX ix_products_stock_check_due ON products (stock_check_due_at) WHERE stock_check_due_at IS NOT NULL;

CREATE INDEX ix_stock_adjustments_item ON stock_adjustments (zoho_item_id);

UPDATE alembic_version SET version_num='0007' WHERE alembic_version.version_num = '0006';

-- Running upgrade 0007 -> 0008

CREATE TABLE ops_sessions (
    id BIGSERIAL NOT NULL, 
    token_hash VARCHAR(64) NOT NULL, 
    key_fingerprint VARCHAR(64) NOT NULL, 
    csrf VARCHAR(64) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    last_seen_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_ops_sessions PRIMARY KEY (id), 
    CONSTRAINT uq_ops_sessions_token_hash UNIQUE (token_hash)
);

CREATE TABLE ops_login_failures (
    id BIGSERIAL NOT NULL, 
    client VARCHAR(64) NOT NULL, 
    failed_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_ops_login_failures PRIMARY KEY (id)
);

CREATE INDEX ix_ops_login_failures_client ON ops_login_failures (client, failed_at);

UPDATE alembic_version SET version_num='0008' WHERE alembic_version.version_num = '0007';

-- Running upgrade 0008 -> 0009

CREATE TABLE order_number_counters (
    year INTEGER NOT NULL, 
    last_value INTEGER NOT NULL, 
    CONSTRAINT pk_order_number_counters PRIMARY KEY (year)
);

CREATE TABLE orders (
    id BIGSERIAL NOT NULL, 
    number VARCHAR(32), 
    customer_id BIGINT NOT NULL, 
    status VARCHAR(16) NOT NULL, 
    subtotal BIGINT NOT NULL, 
    discount BIGINT NOT NULL, 
    delivery_fee BIGINT NOT NULL, 
    total BIGINT NOT NULL, 
    currency VARCHAR(3) DEFAULT 'IQD' NOT NULL, 
    promotion_id BIGINT, 
    promo_code VARCHAR(32), 
    address_id BIGINT, 
    address_label VARCHAR(100) NOT NULL, 
    address_text VARCHAR(1000) NOT NULL, 
    address_city VARCHAR(100) NOT NULL, 
    address_phone VARCHAR(64), 
    delivery_option VARCHAR(16) NOT NULL, 
    payment_method VARCHAR(32) NOT NULL, 
    note VARCHAR(500), 
    zoho_salesorder_id VARCHAR(64), 
    zoho_salesorder_number VARCHAR(64), 
    zoho_synced_at TIMESTAMP WITH TIME ZONE, 
    zoho_status VARCHAR(32), 
    zoho_last_modified TIMESTAMP WITH TIME ZONE, 
    zoho_committed_at TIMESTAMP WITH TIME ZONE, 
    zoho_voided_at TIMESTAMP WITH TIME ZONE, 
    zoho_push_due_at TIMESTAMP WITH TIME ZONE, 
    zoho_push_attempts INTEGER DEFAULT 0 NOT NULL, 
    zoho_push_error TEXT, 
    zoho_push_lease_until TIMESTAMP WITH TIME ZONE, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_orders PRIMARY KEY (id), 
    CONSTRAINT ck_orders_status_known CHECK (status IN ('placed', 'confirmed', 'shipped', 'delivered', 'cancelled')), 
    CONSTRAINT ck_orders_amounts_positive CHECK (subtotal >= 0 AND discount >= 0 AND delivery_fee >= 0 AND total >= 0), 
    CONSTRAINT fk_orders_address_id_customer_addresses FOREIGN KEY(address_id) REFERENCES customer_addresses (id) ON DELETE SET NULL, 
    CONSTRAINT fk_orders_customer_id_customers FOREIGN KEY(customer_id) REFERENCES customers (id), 
    CONSTRAINT fk_orders_promotion_id_promotions FOREIGN KEY(promotion_id) REFERENCES promotions (id) ON DELETE SET NULL, 
    CONSTRAINT uq_orders_number UNIQUE (number), 
    CONSTRAINT uq_orders_zoho_salesorder_id UNIQUE (zoho_salesorder_id)
);

CREATE INDEX ix_orders_created ON orders (created_at);

CREATE INDEX ix_orders_customer ON orders (customer_id, id);

CREATE INDEX ix_orders_push_due ON orders (zoho_push_due_at) WHERE zoho_push_due_at IS NOT NULL;

CREATE TABLE order_idempotency_keys (
    customer_id BIGINT NOT NULL, 
    key VARCHAR(128) NOT NULL, 
    body_hash VARCHAR(64) NOT NULL, 
    order_id BIGINT, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_order_idempotency_keys PRIMARY KEY (customer_id, key), 
    CONSTRAINT fk_order_idempotency_keys_customer_id_customers FOREIGN KEY(customer_id) REFERENCES customers (id) ON DELETE CASCADE, 
    CONSTRAINT fk_order_idempotency_keys_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id) ON DELETE CASCADE
);

CREATE TABLE order_lines (
    id BIGSERIAL NOT NULL, 
    order_id BIGINT NOT NULL, 
    product_id BIGINT NOT NULL, 
    zoho_item_id VARCHAR(64), 
    product_name VARCHAR(500) NOT NULL, 
    quantity INTEGER NOT NULL, 
    price BIGINT NOT NULL, 
    subtotal BIGINT NOT NULL, 
    CONSTRAINT pk_order_lines PRIMARY KEY (id), 
    CONSTRAINT ck_order_lines_quantity_positive CHECK (quantity > 0), 
    CONSTRAINT fk_order_lines_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id) ON DELETE CASCADE, 
    CONSTRAINT fk_order_lines_product_id_products FOREIGN KEY(product_id) REFERENCES products (id)
);

CREATE INDEX ix_order_lines_order ON order_lines (order_id);

CREATE TABLE order_status_history (
    id BIGSERIAL NOT NULL, 
    order_id BIGINT NOT NULL, 
    status VARCHAR(16) NOT NULL, 
    at TIMESTAMP WITH TIME ZONE NOT NULL, 
    source VARCHAR(16) NOT NULL, 
    CONSTRAINT pk_order_status_history PRIMARY KEY (id), 
    CONSTRAINT fk_order_status_history_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id) ON DELETE CASCADE
);

CREATE INDEX ix_order_status_history_order ON order_status_history (order_id, id);

CREATE TABLE promotion_redemptions (
    id BIGSERIAL NOT NULL, 
    promotion_id BIGINT NOT NULL, 
    customer_id BIGINT NOT NULL, 
    order_id BIGINT NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_promotion_redemptions PRIMARY KEY (id), 
    CONSTRAINT fk_promotion_redemptions_customer_id_customers FOREIGN KEY(customer_id) REFERENCES customers (id) ON DELETE CASCADE, 
    CONSTRAINT fk_promotion_redemptions_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id) ON DELETE CASCADE, 
    CONSTRAINT fk_promotion_redemptions_promotion_id_promotions FOREIGN KEY(promotion_id) REFERENCES promotions (id) ON DELETE CASCADE, 
    CONSTRAINT uq_promotion_redemptions_promotion_id_customer_id UNIQUE (promotion_id, customer_id)
);

CREATE TABLE stock_reservations (
    id BIGSERIAL NOT NULL, 
    order_id BIGINT NOT NULL, 
    product_id BIGINT NOT NULL, 
    quantity INTEGER NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    released_at TIMESTAMP WITH TIME ZONE, 
    release_reason VARCHAR(32), 
    CONSTRAINT pk_stock_reservations PRIMARY KEY (id), 
    CONSTRAINT ck_stock_reservations_quantity_positive CHECK (quantity > 0), 
    CONSTRAINT fk_stock_reservations_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id) ON DELETE CASCADE, 
    CONSTRAINT fk_stock_reservations_product_id_products FOREIGN KEY(product_id) REFERENCES products (id), 
    CONSTRAINT uq_stock_reservations_order_id_product_id UNIQUE (order_id, product_id)
);

CREATE INDEX ix_stock_reservations_open ON stock_reservations (product_id) WHERE released_at IS NULL;

ALTER TABLE carts ADD COLUMN promo_code VARCHAR(32);

ALTER TABLE promotions ADD COLUMN code VARCHAR(32);

CREATE UNIQUE INDEX uq_promotions_code ON promotions (code);

UPDATE alembic_version SET version_num='0009' WHERE alembic_version.version_num = '0008';

-- Running upgrade 0009 -> 0010

CREATE TABLE ops_job_runs (
    id BIGSERIAL NOT NULL, 
    job VARCHAR(32) NOT NULL, 
    ok BOOLEAN NOT NULL, 
    error TEXT, 
    finished_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_ops_job_runs PRIMARY KEY (id)
);

CREATE INDEX ix_ops_job_runs_job ON ops_job_runs (job, finished_at);

CREATE TABLE ops_alert_clock (
    name VARCHAR(32) NOT NULL, 
    evaluated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_ops_alert_clock PRIMARY KEY (name)
);

CREATE TABLE ops_incidents (
    id BIGSERIAL NOT NULL, 
    rule VARCHAR(32) NOT NULL, 
    state VARCHAR(16) NOT NULL, 
    summary TEXT NOT NULL, 
    opened_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    resolved_at TIMESTAMP WITH TIME ZONE, 
    notified_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT pk_ops_incidents PRIMARY KEY (id), 
    CONSTRAINT ck_ops_incidents_state_known CHECK (state IN ('open', 'resolved'))
);

CREATE UNIQUE INDEX ix_ops_incidents_open_rule ON ops_incidents (rule) WHERE state = 'open';

CREATE INDEX ix_ops_incidents_opened ON ops_incidents (opened_at);

CREATE TABLE ops_alert_notifications (
    id BIGSERIAL NOT NULL, 
    incident_id BIGINT NOT NULL, 
    state VARCHAR(16) NOT NULL, 
    body JSONB NOT NULL, 
    attempts INTEGER DEFAULT 0 NOT NULL, 
    next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    sent_at TIMESTAMP WITH TIME ZONE, 
    last_error TEXT, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_ops_alert_notifications PRIMARY KEY (id), 
    CONSTRAINT fk_ops_alert_notifications_incident_id_ops_incidents FOREIGN KEY(incident_id) REFERENCES ops_incidents (id) ON DELETE CASCADE
);

CREATE INDEX ix_ops_alert_notifications_due ON ops_alert_notifications (next_attempt_at, id) WHERE sent_at IS NULL;

CREATE INDEX ix_ops_alert_notifications_incident ON ops_alert_notifications (incident_id);

CREATE TABLE ops_queue_pauses (
    entity_type VARCHAR(32) NOT NULL, 
    paused_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    paused_by VARCHAR(16) NOT NULL, 
    CONSTRAINT pk_ops_queue_pauses PRIMARY KEY (entity_type)
);

CREATE TABLE ops_audit_log (
    id BIGSERIAL NOT NULL, 
    at TIMESTAMP WITH TIME ZONE NOT NULL, 
    role VARCHAR(16) NOT NULL, 
    action VARCHAR(16) NOT NULL, 
    detail JSONB, 
    affected INTEGER, 
    CONSTRAINT pk_ops_audit_log PRIMARY KEY (id)
);

CREATE INDEX ix_ops_audit_log_at ON ops_audit_log (at);

ALTER TABLE ops_sessions ADD COLUMN role VARCHAR(16) DEFAULT 'admin' NOT NULL;

CREATE INDEX ix_tds_sync_queue_payload ON tds_sync_queue USING gin (payload);

UPDATE alembic_version SET version_num='0010' WHERE alembic_version.version_num = '0009';

COMMIT;

