"""No N+1: each screen runs the same, bounded number of SQL statements however many items it shows,
in one transaction (a signed-in screen's token lookup included)."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from common.db.engine import get_engine
from common.db.transactions import write
from common.shop.catalog import CATEGORY_TILES
from tests import shop_fixtures as shop

# The most SQL statements each screen may run (SQLite's explicit BEGINs not counted), on either database.
BOUNDS = {
    "home": 6,  # promotions, three shelves, their ratings, categories
    "home signed in": 8,  # + the customer, the cart
    "product": 6,  # promotions, product, histogram, latest reviews, related, their ratings
    "search": 4,  # promotions, typo vocabulary, the page (with its count), ratings
    "checkout": 4,  # customer, promotions, cart lines, addresses
    "cart add": 8,  # customer, product, cart insert, cart lock, line upsert, promotions, cart lines, event
    "cart change": 8,  # customer, product, cart lock, line read, line update, promotions, cart lines, event
    "cart remove": 6,  # customer, cart lock, line delete, promotions, cart lines, event
}


def _shop(engine, products: int, cart_lines: int) -> dict:
    """`products` products over two categories, each reviewed and promoted; a customer with `cart_lines` lines."""
    with write(engine) as c:
        categories = [shop.category(c, "Phones"), shop.category(c, "Audio")]
        ids = [
            shop.product(
                c, f"Samsung Galaxy {n}", 1000 + n, category_id=categories[n % 2], is_featured=n % 3 == 0, sales_count=n
            )
            for n in range(products)
        ]
        for product_id in ids:
            for rating in (3, 4, 5):
                shop.review(c, product_id, rating)
        for category in categories:
            shop.promotion(c, "percentage", 10, category_id=category)
        shop.promotion(c, "fixed", 500, applies_to="checkout")
        customer = shop.customer(c)
        shop.address(c, customer, "Home", is_default=True)
        shop.address(c, customer, "Work")
        shop.cart(c, customer, {product_id: 1 for product_id in ids[:cart_lines]})
    return {"products": ids, "customer": customer}


@contextmanager
def _counting() -> Iterator[dict[str, int]]:
    counts = {"statements": 0, "transactions": 0}

    def statement(_conn, _cursor, text, *_args) -> None:
        if not text.startswith("BEGIN"):
            counts["statements"] += 1

    def transaction(_conn) -> None:
        counts["transactions"] += 1

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "begin", transaction)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "begin", transaction)


def _counts_per_screen(client, data: dict) -> dict[str, dict[str, int]]:
    auth = shop.bearer(data["customer"])
    spare, in_cart = data["products"][-1], data["products"][0]
    screens = {
        "home": lambda: client.get("/api/mobile/home"),
        "home signed in": lambda: client.get("/api/mobile/home", headers=auth),
        "product": lambda: client.get(f"/api/mobile/products/{data['products'][1]}"),
        "search": lambda: client.get("/api/mobile/search", query_string={"q": "samsnug galaxy"}),
        "checkout": lambda: client.get("/api/mobile/checkout", headers=auth),
        "cart add": lambda: client.post(
            "/api/mobile/cart/items", json={"product_id": spare, "quantity": 1}, headers=auth
        ),
        "cart change": lambda: client.patch(f"/api/mobile/cart/items/{in_cart}", json={"quantity": 2}, headers=auth),
        "cart remove": lambda: client.delete(f"/api/mobile/cart/items/{spare}", headers=auth),
    }
    counts = {}
    for name, call in screens.items():
        CATEGORY_TILES.clear()  # measure the cold case: category counts are cached for a minute
        with _counting() as counted:
            response = call()
        assert response.status_code == 200, (name, response.get_json())
        counts[name] = counted
    return counts


def test_statements_per_screen_are_bounded_and_do_not_grow_with_the_items_shown(client, db):
    small = _counts_per_screen(client, _shop(db.engine, products=12, cart_lines=1))
    # 48 more products (60 in all) and another customer with 8 lines in the cart.
    large = _counts_per_screen(client, _shop(db.engine, products=48, cart_lines=8))
    assert small == large
    assert {name: c["statements"] for name, c in large.items() if c["statements"] > BOUNDS[name]} == {}


def test_each_screen_is_one_transaction_its_token_lookup_included(client, db):
    counts = _counts_per_screen(client, _shop(db.engine, products=12, cart_lines=1))
    assert {name: c["transactions"] for name, c in counts.items() if c["transactions"] != 1} == {}
