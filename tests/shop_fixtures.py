"""Builders for shop test data with explicit values: categories, products, promotions, customers, carts;
and the two readings of the review totals the cards rely on (the stored summary, a fresh count).

Products get their search columns and the typo vocabulary exactly as the generator and the
Zoho sync write them (common.products.search_index), so search sees what production sees.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from sqlalchemy import Connection, func, select

from common.clock import utcnow
from common.config import get_settings
from common.db.statements import insert
from common.models import (
    cart_items,
    carts,
    categories,
    customer_addresses,
    customers,
    product_ratings,
    products,
    promotions,
    reviews,
    search_terms,
)
from common.products.search_index import product_search, vocabulary_rows
from common.shop.auth import issue_token

DAY = timedelta(days=1)
_sku_numbers = count(1)


def _add(connection: Connection, table, **values) -> int:
    now = utcnow()
    if "created_at" in table.c:
        values.setdefault("created_at", now)
    if "updated_at" in table.c:
        values.setdefault("updated_at", values["created_at"])
    return connection.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()


def category(connection: Connection, name: str, *, name_ar: str | None = None, **values) -> int:
    return _add(connection, categories, name=name, name_ar=name_ar, **values)


def product(
    connection: Connection,
    name: str,
    price: int,
    *,
    name_ar: str | None = None,
    sku: str | None = None,
    brand: str | None = None,
    description: str | None = None,
    description_ar: str | None = None,
    stock_quantity: int = 10,
    **values,
) -> int:
    """A product, searchable: its folded columns and its name words in the typo vocabulary."""
    sku = sku or f"TST-{next(_sku_numbers):05d}"
    columns = dict(
        name=name, name_ar=name_ar, sku=sku, brand=brand, description=description, description_ar=description_ar
    )
    search = product_search(columns)
    searchable = {**columns, **search.columns}
    product_id = _add(connection, products, price=price, stock_quantity=stock_quantity, **searchable, **values)
    rows = vocabulary_rows(search.terms)
    if rows:
        connection.execute(insert(connection, search_terms).values(rows).on_conflict_do_nothing())
    return product_id


def promotion(
    connection: Connection,
    discount_type: str,
    discount_value: int,
    *,
    title: str = "Promotion",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    **values,
) -> int:
    """A promotion running from yesterday to tomorrow unless told otherwise."""
    now = utcnow()
    return _add(
        connection,
        promotions,
        title=title,
        discount_type=discount_type,
        discount_value=discount_value,
        starts_at=starts_at or now - DAY,
        ends_at=ends_at or now + DAY,
        **values,
    )


def customer(connection: Connection, name: str = "Zainab Al-Saadi", **values) -> int:
    return _add(connection, customers, name=name, **values)


def address(connection: Connection, customer_id: int, label: str, city: str = "Baghdad", **values) -> int:
    return _add(
        connection,
        customer_addresses,
        customer_id=customer_id,
        label=label,
        address=f"{label} street 1",
        city=city,
        **values,
    )


def review(connection: Connection, product_id: int, rating: int, *, is_approved: bool = True, **values) -> int:
    return _add(connection, reviews, product_id=product_id, rating=rating, is_approved=is_approved, **values)


def cart(connection: Connection, customer_id: int, lines: dict[int, int], *, status: str = "active") -> int:
    """A cart holding {product_id: quantity}, lines added in the order given."""
    cart_id = _add(connection, carts, customer_id=customer_id, status=status)
    start = utcnow()
    for position, (product_id, quantity) in enumerate(lines.items()):
        added = start + timedelta(seconds=position)
        _add(connection, cart_items, cart_id=cart_id, product_id=product_id, quantity=quantity, created_at=added)
    return cart_id


def bearer(customer_id: int, ttl_seconds: int = 600) -> dict[str, str]:
    """The Authorization header of a customer's token, signed as the app under test signs."""
    return {"Authorization": f"Bearer {issue_token(customer_id, get_settings(), ttl_seconds)}"}


RatingTotals = dict[int, tuple[int, int]]  # product id -> (approved reviews, sum of their ratings)


def stored_ratings(connection: Connection) -> RatingTotals:
    """product_ratings as the triggers left it; a row of zeros (every approved review gone) counts as no row."""
    rows = connection.execute(
        select(product_ratings.c.product_id, product_ratings.c.approved_count, product_ratings.c.rating_sum)
    ).all()
    return {product_id: (count, total) for product_id, count, total in rows if (count, total) != (0, 0)}


def counted_ratings(connection: Connection) -> RatingTotals:
    """What product_ratings stands for, counted afresh from the approved reviews."""
    rows = connection.execute(
        select(reviews.c.product_id, func.count(), func.sum(reviews.c.rating))
        .where(reviews.c.is_approved)
        .group_by(reviews.c.product_id)
    ).all()
    return {product_id: (count, int(total)) for product_id, count, total in rows}
