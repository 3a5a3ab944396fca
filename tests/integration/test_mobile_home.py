"""GET /api/mobile/home on both databases: shelves, promotions, categories, the signed-in part, caching."""

from common.clock import utcnow
from common.db.transactions import write
from tests import shop_fixtures as shop

HOME = "/api/mobile/home"


def _catalogue(engine) -> dict[str, int]:
    """Two categories (and a hidden one), six products, promotions running, over and to come."""
    now = utcnow()
    with write(engine) as c:
        phones = shop.category(c, "Phones", name_ar="هواتف", icon="smartphone", sort_order=1)
        audio = shop.category(c, "Audio", name_ar="صوتيات", icon="headphones", sort_order=2)
        shop.category(c, "Hidden", sort_order=0, is_active=False)
        ids = {"phones": phones, "audio": audio}
        ids["galaxy"] = shop.product(
            c,
            "Samsung Galaxy A55",
            480_000,
            name_ar="سامسونج جالكسي",
            category_id=phones,
            is_featured=True,
            sales_count=50,
            image_url="https://cdn.test/galaxy.jpg",
            created_at=now - 30 * shop.DAY,
        )
        ids["iphone"] = shop.product(
            c,
            "Apple iPhone 15",
            1_100_000,
            category_id=phones,
            is_featured=True,
            sales_count=80,
            created_at=now - 20 * shop.DAY,
        )
        ids["buds"] = shop.product(
            c,
            "Galaxy Buds FE",
            120_000,
            category_id=audio,
            sales_count=90,
            stock_quantity=0,
            created_at=now - 10 * shop.DAY,
        )
        ids["cable"] = shop.product(c, "USB-C Cable", 7_000, sales_count=5, created_at=now - 1 * shop.DAY)
        ids["speaker"] = shop.product(
            c, "JBL Flip 6", 150_000, category_id=audio, sales_count=20, created_at=now - 5 * shop.DAY
        )
        ids["retired"] = shop.product(
            c,
            "Old Phone",
            90_000,
            category_id=phones,
            is_featured=True,
            sales_count=999,
            is_active=False,
            created_at=now,
        )
        ids["phone_week"] = shop.promotion(
            c,
            "percentage",
            10,
            title="Phone week",
            category_id=phones,
            ends_at=now + 5 * shop.DAY,
            description="10% off phones",
            banner_url="https://cdn.test/phones.jpg",
        )
        ids["deal"] = shop.promotion(
            c, "fixed", 25_000, title="Deal", title_ar="عرض", product_id=ids["galaxy"], ends_at=now + 2 * shop.DAY
        )
        ids["basket"] = shop.promotion(
            c,
            "percentage",
            5,
            title="Big basket",
            applies_to="checkout",
            min_purchase=500_000,
            ends_at=now + 10 * shop.DAY,
        )
        shop.promotion(c, "percentage", 50, title="Expired", starts_at=now - 9 * shop.DAY, ends_at=now - shop.DAY)
        shop.promotion(c, "percentage", 50, title="Future", starts_at=now + shop.DAY, ends_at=now + 9 * shop.DAY)
        shop.promotion(c, "percentage", 50, title="Paused", is_active=False)
        for rating, approved in ((5, True), (4, True), (4, True), (1, False)):
            shop.review(c, ids["iphone"], rating, is_approved=approved)
    return ids


def _card(body_list: list[dict], product_id: int) -> dict:
    return next(card for card in body_list if card["id"] == product_id)


def test_anonymous_home_shows_shelves_promotions_and_categories(client, db):
    ids = _catalogue(db.engine)
    response = client.get(HOME)
    assert response.status_code == 200
    body = response.get_json()
    assert [card["id"] for card in body["featured_products"]] == [ids["iphone"], ids["galaxy"]]
    best_sellers = ("buds", "iphone", "galaxy", "speaker", "cable")
    new_arrivals = ("cable", "speaker", "buds", "iphone", "galaxy")
    assert [card["id"] for card in body["best_sellers"]] == [ids[key] for key in best_sellers]
    assert [card["id"] for card in body["new_arrivals"]] == [ids[key] for key in new_arrivals]
    # The phones' 10% (48,000) takes more off the galaxy than its own fixed deal (25,000).
    assert _card(body["featured_products"], ids["galaxy"]) == {
        "id": ids["galaxy"],
        "name": "Samsung Galaxy A55",
        "name_ar": "سامسونج جالكسي",
        "price": 432_000,
        "original_price": 480_000,
        "discount": 10,
        "image": "https://cdn.test/galaxy.jpg",
        "in_stock": True,
        "rating": None,
        "review_count": 0,
    }
    assert _card(body["featured_products"], ids["iphone"]) == {
        "id": ids["iphone"],
        "name": "Apple iPhone 15",
        "name_ar": None,
        "price": 990_000,
        "original_price": 1_100_000,
        "discount": 10,
        "image": None,
        "in_stock": True,
        "rating": 4.3,
        "review_count": 3,
    }
    buds = _card(body["best_sellers"], ids["buds"])
    assert (buds["price"], buds["discount"], buds["in_stock"]) == (120_000, None, False)
    assert [p["id"] for p in body["promotions"]] == [ids["deal"], ids["phone_week"], ids["basket"]]
    phone_week = body["promotions"][1]
    assert phone_week["title"] == "Phone week" and phone_week["description"] == "10% off phones"
    assert phone_week["banner_url"] == "https://cdn.test/phones.jpg" and phone_week["discount_percentage"] == 10
    assert phone_week["valid_until"].endswith("Z")
    assert body["promotions"][0]["discount_percentage"] is None  # a fixed amount has no percentage
    assert body["promotions"][0]["title_ar"] == "عرض"
    assert body["categories"] == [
        {"id": ids["phones"], "name": "Phones", "name_ar": "هواتف", "icon": "smartphone", "product_count": 2},
        {"id": ids["audio"], "name": "Audio", "name_ar": "صوتيات", "icon": "headphones", "product_count": 2},
    ]
    assert body["customer"] is None and body["cart"] is None


def test_the_fixed_deal_wins_when_it_is_larger(client, db):
    ids = _catalogue(db.engine)
    with write(db.engine) as c:
        cheap = shop.product(c, "Galaxy A15", 200_000, category_id=ids["phones"], is_featured=True, sales_count=1)
        shop.promotion(c, "fixed", 25_000, product_id=cheap)
    card = _card(client.get(HOME).get_json()["featured_products"], cheap)
    # 10% of 200,000 is 20,000 < 25,000: the fixed promotion, 12.5% shown as 13.
    assert (card["price"], card["original_price"], card["discount"]) == (175_000, 200_000, 13)


def test_shelves_hold_ten_cards_and_promotions_five(client, db):
    with write(db.engine) as c:
        for number in range(12):
            shop.product(c, f"Phone {number}", 1000, is_featured=True, sales_count=number)
        # Each promotion ends a day sooner than the one before.
        ending = [shop.promotion(c, "fixed", 100, ends_at=utcnow() + (10 - n) * shop.DAY) for n in range(7)]
    body = client.get(HOME).get_json()
    assert [len(body[shelf]) for shelf in ("featured_products", "best_sellers", "new_arrivals")] == [10, 10, 10]
    assert [card["name"] for card in body["featured_products"]][:2] == ["Phone 11", "Phone 10"]
    assert [p["id"] for p in body["promotions"]] == ending[::-1][:5]


def test_a_signed_in_home_shows_the_customer_and_the_cart(client, db):
    ids = _catalogue(db.engine)
    with write(db.engine) as c:
        customer = shop.customer(c, "Ahmed Al-Tamimi", phone="+9647701234567", avatar_url="https://cdn.test/a.jpg")
        shop.cart(c, customer, {ids["galaxy"]: 2, ids["buds"]: 1, ids["cable"]: 3})
    response = client.get(HOME, headers=shop.bearer(customer))
    assert response.status_code == 200
    body = response.get_json()
    assert body["customer"] == {
        "id": customer,
        "name": "Ahmed Al-Tamimi",
        "avatar": "https://cdn.test/a.jpg",
        "phone": "+9647701234567",
    }
    # Buds are out of stock: counted as units, left out of the total (2 × 432,000 + 3 × 7,000).
    assert body["cart"] == {"items_count": 6, "total": 885_000, "currency": "IQD"}
    assert response.headers["Cache-Control"] == "private, max-age=30"


def test_a_signed_in_customer_without_a_cart_has_an_empty_one(client, db):
    with write(db.engine) as c:
        customer = shop.customer(c)
    body = client.get(HOME, headers=shop.bearer(customer)).get_json()
    assert body["cart"] == {"items_count": 0, "total": 0, "currency": "IQD"}


def test_home_answers_304_to_a_matching_etag(client, db):
    _catalogue(db.engine)
    first = client.get(HOME)
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    again = client.get(HOME, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    with write(db.engine) as c:
        shop.product(c, "Brand new", 1000)
    changed = client.get(HOME, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_bad_token_on_home_is_401_not_anonymous(client, db):
    for header in ("Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer"):
        response = client.get(HOME, headers={"Authorization": header})
        assert response.status_code == 401
        assert response.get_json()["code"] == "unauthorized"


def test_category_counts_are_at_most_a_minute_old(client, db, monkeypatch):
    from common.shop import catalog

    with write(db.engine) as c:
        phones = shop.category(c, "Phones")
        shop.product(c, "Samsung Galaxy A55", 480_000, category_id=phones)

    def phone_count() -> int:
        tiles = client.get(HOME).get_json()["categories"]
        return next(tile["product_count"] for tile in tiles if tile["id"] == phones)

    assert phone_count() == 1
    with write(db.engine) as c:
        shop.product(c, "Apple iPhone 15", 1_100_000, category_id=phones)
    assert phone_count() == 1  # served from the minute-long cache
    monkeypatch.setattr(catalog.CATEGORY_TILES, "ttl_seconds", 0.0)  # a minute later
    assert phone_count() == 2
