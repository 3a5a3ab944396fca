"""product_ratings, the summary behind the cards' ratings, on both databases: the triggers on reviews
keep it equal to a fresh count and sum of the approved reviews whatever writes them, and the cards
show it (test_migrations.py: the migration fills it from the reviews already there)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text, update

from common.db.transactions import read, write
from common.models import product_ratings, products, reviews
from tests import shop_fixtures as shop


def _review_id(connection, product_id: int, rating: int, approved: bool) -> int:
    return connection.execute(
        select(reviews.c.id).where(
            reviews.c.product_id == product_id, reviews.c.rating == rating, reviews.c.is_approved == approved
        )
    ).scalar_one()


def test_the_summary_follows_every_kind_of_change_to_reviews(db):
    with write(db.engine) as c:
        p, q, r = (shop.product(c, name, 1000) for name in ("P", "Q", "R"))

    def expect(summary: shop.RatingTotals, change) -> None:
        with write(db.engine) as c:
            change(c)
        with read(db.engine) as c:
            assert (shop.stored_ratings(c), shop.counted_ratings(c)) == (summary, summary)

    def add(c) -> None:
        for product_id, rating, approved in ((p, 5, True), (p, 4, True), (p, 2, False), (q, 3, False)):
            shop.review(c, product_id, rating, is_approved=approved)

    def set_review(product_id, rating, approved, /, **values):
        """Change the one review of the product with that rating and approval."""
        return lambda c: c.execute(
            update(reviews).where(reviews.c.id == _review_id(c, product_id, rating, approved)).values(**values)
        )

    expect({p: (2, 9)}, add)
    expect({p: (2, 9), q: (1, 3)}, set_review(q, 3, False, is_approved=True))
    expect({p: (1, 5), q: (1, 3)}, set_review(p, 4, True, is_approved=False))
    expect({p: (1, 1), q: (1, 3)}, set_review(p, 5, True, rating=1))
    expect({p: (1, 1), q: (1, 3)}, set_review(p, 2, False, rating=3))  # not approved: not counted
    expect({q: (1, 3), r: (1, 1)}, set_review(p, 1, True, product_id=r))
    expect({q: (1, 3), r: (1, 1)}, set_review(p, 3, False, product_id=q, rating=2))
    expect({q: (1, 3), r: (1, 1)}, set_review(r, 1, True, title="Edited", rating=1))  # nothing counted changes
    expect({q: (1, 3), r: (2, 6)}, set_review(p, 4, False, product_id=r, rating=5, is_approved=True))
    expect({q: (2, 5), r: (2, 6)}, lambda c: c.execute(update(reviews).values(is_approved=True)))  # several rows
    expect({q: (1, 2), r: (2, 6)}, lambda c: c.execute(delete(reviews).where(reviews.c.rating == 3)))
    expect({q: (1, 2)}, lambda c: c.execute(delete(products).where(products.c.id == r)))
    with read(db.engine) as c:
        kept = set(c.scalars(select(product_ratings.c.product_id)))
    assert kept == {p, q}  # the deleted product's row went with it; P keeps its row of zeros


@pytest.mark.postgres_only
def test_truncating_the_reviews_empties_the_summary(pg):
    with write(pg.engine) as c:
        shop.review(c, shop.product(c, "P", 1000), 4)
    with write(pg.engine) as c:
        c.execute(text("TRUNCATE reviews"))
    with read(pg.engine) as c:
        assert c.scalar(select(func.count()).select_from(product_ratings)) == 0


_PRODUCTS = 3
_changes = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, _PRODUCTS - 1), st.integers(1, 5), st.booleans()),
    st.tuples(st.just("approve"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("rate"), st.integers(0, 50), st.integers(1, 5)),
    st.tuples(st.just("move"), st.integers(0, 50), st.integers(0, _PRODUCTS - 1)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
)


@pytest.mark.slow  # fuzzing
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(_changes, max_size=20))
def test_any_sequence_of_changes_leaves_the_summary_equal_to_a_fresh_aggregate(db, changes):
    with write(db.engine) as c:
        c.execute(delete(products))
        ids = [shop.product(c, f"P{n}", 1000) for n in range(_PRODUCTS)]
        for kind, *args in changes:
            existing = c.scalars(select(reviews.c.id).order_by(reviews.c.id)).all()
            if kind == "insert":
                shop.review(c, ids[args[0]], args[1], is_approved=args[2])
                continue
            if not existing:
                continue
            chosen = reviews.c.id == existing[args[0] % len(existing)]
            if kind == "delete":
                c.execute(delete(reviews).where(chosen))
            else:
                column = {"approve": "is_approved", "rate": "rating", "move": "product_id"}[kind]
                value = ids[args[1]] if kind == "move" else args[1]
                c.execute(update(reviews).where(chosen).values({column: value}))
    with read(db.engine) as c:
        assert shop.stored_ratings(c) == shop.counted_ratings(c)


def test_cards_show_the_summary_with_and_without_approved_reviews(client, db):
    with write(db.engine) as c:
        phones = shop.category(c, "Phones")
        named = {
            name: shop.product(c, f"Galaxy {name}", 1000, category_id=phones, sales_count=sales)
            for name, sales in (("rated", 40), ("unreviewed", 30), ("unapproved", 20), ("withdrawn", 10))
        }
        for rating in (5, 4, 4):  # 13 / 3 = 4.33: one decimal, 4.3
            shop.review(c, named["rated"], rating)
        shop.review(c, named["rated"], 1, is_approved=False)
        shop.review(c, named["unapproved"], 5, is_approved=False)
        withdrawn = shop.review(c, named["withdrawn"], 2)
        c.execute(update(reviews).where(reviews.c.id == withdrawn).values(is_approved=False))
        # The detail page's own product is left out of its related products.
        page = shop.product(c, "Galaxy page", 1000, category_id=phones)
    expected = {
        named["rated"]: (4.3, 3),
        named["unreviewed"]: (None, 0),
        named["unapproved"]: (None, 0),
        named["withdrawn"]: (None, 0),
    }

    def ratings(cards: list[dict]) -> dict[int, tuple]:
        return {card["id"]: (card["rating"], card["review_count"]) for card in cards if card["id"] in expected}

    home = client.get("/api/mobile/home").get_json()
    assert ratings(home["best_sellers"]) == expected
    assert ratings(client.get("/api/mobile/search", query_string={"q": "galaxy"}).get_json()["results"]) == expected
    assert ratings(client.get(f"/api/mobile/products/{page}").get_json()["related"]) == expected
    detail = client.get(f"/api/mobile/products/{named['rated']}").get_json()
    assert (detail["rating"], detail["review_count"]) == (4.3, 3)
