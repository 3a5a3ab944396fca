"""Product cards, the home screen and the product detail screen.

Every screen reads in one transaction with a fixed number of statements, whatever the
number of cards: the active promotions once, each list once, and the ratings of all the
screen's cards in one primary-key lookup of product_ratings (kept by triggers on reviews).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import Connection, Row, func, select

from common.cache import Cache
from common.clock import utcnow
from common.db.transactions import read
from common.errors import NotFound
from common.models import categories, customers, product_ratings, products, reviews
from common.shop import checkout
from common.shop.pricing import Promotion, card_price, load_active_promotions
from common.shop.schemas import (
    CategoryTile,
    CustomerProfile,
    HomeScreen,
    ProductCard,
    ProductDetail,
    PromotionBanner,
    Review,
)

SHELF_SIZE = 10
HOME_PROMOTIONS = 5
LATEST_REVIEWS = 5

# What a card needs from products (category_id for category promotions).
CARD_COLUMNS = (
    products.c.id,
    products.c.name,
    products.c.name_ar,
    products.c.price,
    products.c.category_id,
    products.c.image_url,
    products.c.stock_quantity,
)
_BY_SALES = (products.c.sales_count.desc(), products.c.id)
_Ratings = dict[int, tuple[int, int]]  # product id -> (sum of approved ratings, their count)


def average_rating(total: int, count: int) -> float | None:
    """The mean rating to one decimal, rounded half up in integers (4.25 → 4.3)."""
    if not count:
        return None
    return (20 * total + count) // (2 * count) / 10


def _ratings(connection: Connection, product_ids: Collection[int]) -> _Ratings:
    if not product_ids:
        return {}
    rows = connection.execute(
        select(product_ratings.c.product_id, product_ratings.c.rating_sum, product_ratings.c.approved_count).where(
            product_ratings.c.product_id.in_(sorted(product_ids))
        )
    ).all()
    return {product_id: (total, count) for product_id, total, count in rows}


def _card(row: Row, active: Sequence[Promotion], total: int, count: int) -> ProductCard:
    price = card_price(row.price, row.id, row.category_id, active)
    return ProductCard(
        id=row.id,
        name=row.name,
        name_ar=row.name_ar,
        price=price.price,
        original_price=price.original_price,
        discount=price.discount,
        image=row.image_url,
        in_stock=row.stock_quantity > 0,
        rating=average_rating(total, count),
        review_count=count,
    )


def cards(connection: Connection, rows: Sequence[Row], active: Sequence[Promotion]) -> list[ProductCard]:
    """Cards for rows of CARD_COLUMNS, with their ratings read in one query."""
    ratings = _ratings(connection, {row.id for row in rows})
    return [_card(row, active, *ratings.get(row.id, (0, 0))) for row in rows]


def _shelf(connection: Connection, *conditions, order_by) -> list[Row]:
    return connection.execute(
        select(*CARD_COLUMNS).where(products.c.is_active, *conditions).order_by(*order_by).limit(SHELF_SIZE)
    ).all()


# Counting every active product per category is the costliest part of home (about 13 ms on
# 100,000 products); a count a minute old serves a shelf of category tiles as well.
CATEGORY_COUNTS_TTL_SECONDS = 60.0
# Per database (tests change the catalogue under a running process, and clear it).
CATEGORY_TILES: Cache[str, list[CategoryTile]] = Cache(ttl_seconds=CATEGORY_COUNTS_TTL_SECONDS)


def _category_tiles(connection: Connection) -> list[CategoryTile]:
    database = connection.engine.url.render_as_string(hide_password=True)
    return CATEGORY_TILES.get(database, lambda: _count_category_tiles(connection))


def _count_category_tiles(connection: Connection) -> list[CategoryTile]:
    counted = (
        select(products.c.category_id, func.count().label("product_count"))
        .where(products.c.is_active)
        .group_by(products.c.category_id)
        .subquery()
    )
    rows = connection.execute(
        select(categories.c.id, categories.c.name, categories.c.name_ar, categories.c.icon, counted.c.product_count)
        .outerjoin(counted, counted.c.category_id == categories.c.id)
        .where(categories.c.is_active)
        .order_by(categories.c.sort_order, categories.c.name, categories.c.id)
    ).all()
    return [
        CategoryTile(id=r.id, name=r.name, name_ar=r.name_ar, icon=r.icon, product_count=r.product_count or 0)
        for r in rows
    ]


def _banner(promotion: Promotion) -> PromotionBanner:
    return PromotionBanner(
        id=promotion.id,
        title=promotion.title,
        title_ar=promotion.title_ar,
        description=promotion.description,
        banner_url=promotion.banner_url,
        discount_percentage=promotion.percentage,
        valid_until=promotion.ends_at,
    )


def home_screen(customer: CustomerProfile | None) -> HomeScreen:
    """Shelves of active products, running promotions, categories, and the customer's cart when signed in."""
    with read() as connection:
        active = load_active_promotions(connection, utcnow())
        featured = _shelf(connection, products.c.is_featured, order_by=_BY_SALES)
        best_sellers = _shelf(connection, order_by=_BY_SALES)
        new_arrivals = _shelf(connection, order_by=(products.c.created_at.desc(), products.c.id.desc()))
        shown = cards(connection, [*featured, *best_sellers, *new_arrivals], active)
        tiles = _category_tiles(connection)
        badge = checkout.cart_badge(connection, customer.id, active) if customer else None
    first_best, first_new = len(featured), len(featured) + len(best_sellers)
    return HomeScreen(
        featured_products=shown[:first_best],
        best_sellers=shown[first_best:first_new],
        new_arrivals=shown[first_new:],
        promotions=[_banner(promotion) for promotion in active[:HOME_PROMOTIONS]],
        categories=tiles,
        customer=customer,
        cart=badge,
    )


def _review_rows(connection: Connection, product_id: int) -> tuple[dict[int, int], list[Row]]:
    """Approved reviews of a product: the count per star, and the latest few with the reviewer's name."""
    approved = (reviews.c.product_id == product_id, reviews.c.is_approved)
    stars = dict(
        connection.execute(select(reviews.c.rating, func.count()).where(*approved).group_by(reviews.c.rating)).all()
    )
    latest = connection.execute(
        select(reviews, customers.c.name.label("customer_name"))
        .outerjoin(customers, customers.c.id == reviews.c.customer_id)
        .where(*approved)
        .order_by(reviews.c.created_at.desc(), reviews.c.id.desc())
        .limit(LATEST_REVIEWS)
    ).all()
    return stars, latest


def _related_rows(connection: Connection, product: Row) -> list[Row]:
    """The best sellers of the product's category (an uncategorised product has none)."""
    if product.category_id is None:
        return []
    return _shelf(
        connection,
        products.c.category_id == product.category_id,
        products.c.id != product.id,
        order_by=_BY_SALES,
    )


def product_detail(product_id: int) -> ProductDetail:
    """One active product with its reviews and related products; NotFound otherwise."""
    with read() as connection:
        active = load_active_promotions(connection, utcnow())
        row = connection.execute(
            select(
                *CARD_COLUMNS,
                products.c.description,
                products.c.description_ar,
                products.c.images,
                products.c.branch_name,
                products.c.specifications,
            ).where(products.c.id == product_id, products.c.is_active)
        ).first()
        if row is None:
            raise NotFound("Product not found")
        stars, latest = _review_rows(connection, product_id)
        related = cards(connection, _related_rows(connection, row), active)
    card = _card(row, active, sum(star * n for star, n in stars.items()), sum(stars.values()))
    return ProductDetail(
        **card.model_dump(),
        description=row.description,
        description_ar=row.description_ar,
        images=row.images or ([row.image_url] if row.image_url else []),
        stock_quantity=row.stock_quantity,
        branch_name=row.branch_name,
        specifications=row.specifications or {},
        rating_histogram={str(star): stars.get(star, 0) for star in range(1, 6)},
        reviews=[Review.model_validate(review) for review in latest],
        related=related,
    )
