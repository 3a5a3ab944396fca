"""The demo/benchmark data generator, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import create_engine, func, insert, select, update

from common.clock import utcnow
from common.db.transactions import read, write
from common.models import (
    cart_items,
    carts,
    categories,
    customer_addresses,
    customers,
    invoice_lines,
    invoices,
    products,
    promotions,
    reviews,
    search_terms,
)
from common.products.sales import recompute_sales_counts
from common.products.text import fold, index_key
from demo_data import generator
from tests import shop_fixtures as shop

SMALL = generator.DatasetSize(products=60, reviews=150, customers=8)


def _count(connection, table, *where) -> int:
    return connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_demo_size_gives_the_requested_rows_and_the_demo_customer(db):
    summary = generator.generate(db.engine, generator.DEMO_SIZE)

    assert {key: summary[key] for key in ("products", "reviews", "customers")} == {
        "products": 240,
        "reviews": 1200,
        "customers": 30,
    }
    with read(db.engine) as connection:
        assert _count(connection, products) == 240
        assert _count(connection, reviews) == 1200
        assert _count(connection, customers) == 30
        assert _count(connection, products, products.c.is_featured, products.c.is_active) >= 10
        addresses = connection.execute(
            select(customer_addresses.c.label, customer_addresses.c.is_default).where(
                customer_addresses.c.customer_id == 1
            )
        ).all()
        cart = connection.execute(
            select(products.c.is_active, products.c.stock_quantity)
            .select_from(cart_items.join(carts).join(products))
            .where(carts.c.customer_id == 1, carts.c.status == "active")
        ).all()
        prices = connection.execute(select(products.c.price, products.c.cost)).all()
        reviewed = _count(
            connection,
            products,
            products.c.is_active,
            select(reviews.c.id).where(reviews.c.product_id == products.c.id, reviews.c.is_approved).exists(),
        )
        active = _count(connection, products, products.c.is_active)

    assert sorted(label for label, _ in addresses) == ["Home", "Work"]
    assert [label for label, is_default in addresses if is_default] == ["Home"]
    assert len(cart) == 3 and all(is_active for is_active, _ in cart)
    assert sorted(stock == 0 for _, stock in cart) == [False, False, True]
    assert all(price > 0 and price % 250 == 0 and 0 < cost < price for price, cost in prices)
    assert reviewed >= 0.9 * active


def test_the_same_seed_gives_the_same_catalogue(db):
    def catalogue(seed: int) -> list[tuple]:
        generator.generate(db.engine, SMALL, seed=seed, replace=True)
        with read(db.engine) as connection:
            return connection.execute(
                select(products.c.id, products.c.name, products.c.name_ar, products.c.price).order_by(products.c.id)
            ).all()

    first = catalogue(7)
    assert catalogue(7) == first
    assert catalogue(8) != first


def test_refuses_to_overwrite_without_replace(db):
    generator.generate(db.engine, SMALL)

    with pytest.raises(ValueError, match="already has"):
        generator.generate(db.engine, SMALL, seed=8)
    with read(db.engine) as connection:
        assert _count(connection, products) == SMALL.products
        assert _count(connection, reviews) == SMALL.reviews


def test_the_rating_summary_is_complete_and_its_triggers_keep_working(db):
    """The generator fills product_ratings itself with the triggers held off; they are back afterwards,
    after a replace and after a refusal alike."""
    generator.generate(db.engine, SMALL)
    generator.generate(db.engine, SMALL, seed=8, replace=True)
    with pytest.raises(ValueError, match="already has"):
        generator.generate(db.engine, SMALL)
    with read(db.engine) as connection:
        generated = shop.stored_ratings(connection)
        assert generated == shop.counted_ratings(connection) and len(generated) > SMALL.products // 2
    product_id, (count, total) = min(generated.items())
    with write(db.engine) as connection:
        shop.review(connection, product_id, 5)
    with read(db.engine) as connection:
        assert shop.stored_ratings(connection)[product_id] == (count + 1, total + 5)


def test_refuses_when_only_zoho_documents_exist(db):
    with write(db.engine) as connection:
        connection.execute(
            insert(invoices).values(id=1, zoho_invoice_id="synced-1", created_at=utcnow(), updated_at=utcnow())
        )

    with pytest.raises(ValueError, match="already has invoices"):
        generator.generate(db.engine, SMALL)
    with read(db.engine) as connection:
        assert _count(connection, products) == 0


def test_refuses_production_before_touching_the_database(db, configure, capsys):
    now = utcnow()
    with write(db.engine) as connection:
        connection.execute(insert(categories).values(name="Kept", created_at=now, updated_at=now))
    settings = configure(
        APP_ENV="production",
        # Nothing listens on port 1: the CLI would fail differently if it connected.
        DATABASE_URL="postgresql://tsh@127.0.0.1:1/production",
        WEBHOOK_API_KEY="w" * 16,
        ADMIN_API_KEY="a" * 16,
        MOBILE_TOKEN_SECRET="m" * 32,
        ZOHO_CLIENT_ID="client",
        ZOHO_CLIENT_SECRET="secret",
        ZOHO_REFRESH_TOKEN="refresh",
        ZOHO_ORGANIZATION_ID="org",
    )
    assert settings.is_production

    with pytest.raises(RuntimeError, match="production"):
        generator.generate(db.engine, SMALL, replace=True)
    # A connection attempt would raise a connection error instead.
    with pytest.raises(RuntimeError, match="production"):
        generator.generate(create_engine("postgresql+pg8000://tsh@127.0.0.1:1/production"), SMALL)
    assert generator.main(["--size", "demo", "--replace"]) == 2
    assert "production" in capsys.readouterr().err
    with read(db.engine) as connection:
        assert connection.execute(select(categories.c.name)).scalars().all() == ["Kept"]


def test_products_are_searchable_in_ascii_and_arabic_words_are_in_the_vocabulary(db):
    generator.generate(db.engine, generator.DEMO_SIZE)

    with read(db.engine) as connection:
        columns = connection.execute(select(products.c.search_name, products.c.search_text)).all()
        terms = set(
            connection.scalars(select(search_terms.c.term).where(search_terms.c.variant == search_terms.c.term))
        )
        tv_text = connection.scalars(
            select(products.c.search_text).join(categories).where(categories.c.name == "TVs").limit(1)
        ).one()

    assert all(name and text and name.isascii() and text.isascii() for name, text in columns)
    # ة, آ and ى are folded: the vocabulary holds the folded words of Arabic names.
    for word in ("شاشة", "سماعة", "آيفون", "مقوى"):
        assert fold(word) in terms, word
    assert index_key(fold("شاشة")) in tv_text.split()


def test_promotions_cover_active_expired_and_checkout_cases(db):
    generator.generate(db.engine, SMALL)
    now = utcnow()

    with read(db.engine) as connection:
        rows = connection.execute(select(promotions)).mappings().all()

    in_date = [row for row in rows if row["is_active"] and row["starts_at"] <= now < row["ends_at"]]
    assert any(row["applies_to"] == "catalog" and row["category_id"] for row in in_date)
    assert any(row["applies_to"] == "checkout" and row["min_purchase"] > 0 for row in in_date)
    assert any(row["ends_at"] < now for row in rows)
    assert any(row["starts_at"] > now for row in rows)
    assert all(row["starts_at"] < row["ends_at"] for row in rows)


def test_recompute_sales_counts_follows_active_invoice_lines(db):
    generator.generate(db.engine, SMALL)
    with read(db.engine) as connection:
        sold: Counter[str] = Counter()
        for zoho_item_id, quantity in connection.execute(
            select(invoice_lines.c.zoho_item_id, invoice_lines.c.quantity).join(invoices).where(invoices.c.is_active)
        ):
            sold[zoho_item_id] += quantity
        counts = dict(
            connection.execute(
                select(products.c.zoho_item_id, products.c.sales_count).where(products.c.zoho_item_id.is_not(None))
            ).all()
        )
    assert counts == {zoho_item_id: sold[zoho_item_id] for zoho_item_id in counts}
    assert any(counts.values())
    item = min(counts)

    def sales_count(connection) -> int:
        return connection.scalars(select(products.c.sales_count).where(products.c.zoho_item_id == item)).one()

    with write(db.engine) as connection:
        # No explicit id: PostgreSQL's sequence must have been moved past the generated ids.
        invoice_id = connection.execute(
            insert(invoices)
            .values(zoho_invoice_id="extra-1", total=0, date=date.today(), created_at=utcnow(), updated_at=utcnow())
            .returning(invoices.c.id)
        ).scalar_one()
        connection.execute(
            insert(invoice_lines).values(invoice_id=invoice_id, zoho_item_id=item, quantity=7, rate=1000, total=7000)
        )
        recompute_sales_counts(connection, [item])
        assert sales_count(connection) == counts[item] + 7

        connection.execute(update(invoices).where(invoices.c.id == invoice_id).values(is_active=False))
        recompute_sales_counts(connection)
        assert sales_count(connection) == counts[item]
