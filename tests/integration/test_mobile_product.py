"""GET /api/mobile/products/{id} on both databases: detail, reviews, related products, 404s, caching."""

from datetime import timedelta

import pytest

from common.clock import utcnow
from common.db.transactions import write
from tests import shop_fixtures as shop


def _phone_with_reviews(engine) -> dict[str, int]:
    now = utcnow()
    with write(engine) as c:
        phones = shop.category(c, "Phones")
        audio = shop.category(c, "Audio")
        ids = {"phones": phones}
        ids["phone"] = shop.product(
            c,
            "Samsung Galaxy S24",
            1_000_000,
            name_ar="سامسونج جالكسي",
            category_id=phones,
            stock_quantity=7,
            description="A flagship phone",
            description_ar="هاتف رائد",
            branch_name="Baghdad - Karrada",
            image_url="https://cdn.test/s24.jpg",
            images=["https://cdn.test/s24.jpg", "https://cdn.test/s24-2.jpg"],
            specifications={"storage": "256GB", "color": "Black"},
            sales_count=10,
        )
        ids["related"] = [
            shop.product(c, f"Phone {n}", 100_000 + n, category_id=phones, sales_count=100 - n) for n in range(12)
        ]
        shop.product(c, "Retired phone", 1000, category_id=phones, sales_count=1000, is_active=False)
        shop.product(c, "Headphones", 1000, category_id=audio, sales_count=1000)
        shop.promotion(c, "fixed", 50_000, product_id=ids["phone"])
        ahmed, sara = shop.customer(c, "Ahmed"), shop.customer(c, "Sara")
        reviews = []
        for days_ago, rating, approved, author in [
            (9, 5, True, ahmed),
            (8, 4, True, sara),
            (7, 5, True, None),
            (6, 2, True, ahmed),
            (5, 5, True, sara),
            (4, 3, True, ahmed),
            (3, 1, False, sara),
            (2, 5, True, sara),
            (1, 1, False, ahmed),
        ]:
            reviews.append(
                shop.review(
                    c,
                    ids["phone"],
                    rating,
                    is_approved=approved,
                    customer_id=author,
                    title=f"{rating} stars",
                    comment="ok" if approved else "hidden",
                    created_at=now - timedelta(days=days_ago),
                )
            )
        shop.review(c, ids["related"][0], 4)
        ids["reviews"] = reviews
    return ids


def test_a_product_shows_its_details_reviews_and_related_products(client, db):
    ids = _phone_with_reviews(db.engine)
    response = client.get(f"/api/mobile/products/{ids['phone']}")
    assert response.status_code == 200
    body = response.get_json()
    histogram = {"1": 0, "2": 1, "3": 1, "4": 1, "5": 4}  # the two unapproved 1-star reviews do not count
    assert {key: body[key] for key in body if key not in ("reviews", "related")} == {
        "id": ids["phone"],
        "name": "Samsung Galaxy S24",
        "name_ar": "سامسونج جالكسي",
        "price": 950_000,
        "original_price": 1_000_000,
        "discount": 5,
        "image": "https://cdn.test/s24.jpg",
        "in_stock": True,
        "rating": 4.1,
        "review_count": 7,
        "description": "A flagship phone",
        "description_ar": "هاتف رائد",
        "images": ["https://cdn.test/s24.jpg", "https://cdn.test/s24-2.jpg"],
        "stock_quantity": 7,
        "branch_name": "Baghdad - Karrada",
        "specifications": {"storage": "256GB", "color": "Black"},
        "rating_histogram": histogram,
    }
    latest = body["reviews"]
    assert [r["id"] for r in latest] == [ids["reviews"][i] for i in (7, 5, 4, 3, 2)]
    assert [r["customer_name"] for r in latest] == ["Sara", "Ahmed", "Sara", "Ahmed", None]
    assert latest[0]["rating"] == 5 and latest[0]["title"] == "5 stars" and latest[0]["comment"] == "ok"
    assert latest[0]["created_at"].endswith("Z")
    related = body["related"]
    assert [card["id"] for card in related] == ids["related"][:10]
    assert related[0] == {
        "id": ids["related"][0],
        "name": "Phone 0",
        "name_ar": None,
        "price": 100_000,
        "original_price": 100_000,
        "discount": None,
        "image": None,
        "in_stock": True,
        "rating": 4.0,
        "review_count": 1,
    }


def test_missing_images_and_specifications_have_empty_defaults(client, db):
    with write(db.engine) as c:
        plain = shop.product(c, "Plain", 1000)
        pictured = shop.product(c, "Pictured", 1000, image_url="https://cdn.test/p.jpg")
    body = client.get(f"/api/mobile/products/{plain}").get_json()
    assert (body["images"], body["specifications"], body["related"]) == ([], {}, [])
    assert body["rating"] is None and body["rating_histogram"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
    assert client.get(f"/api/mobile/products/{pictured}").get_json()["images"] == ["https://cdn.test/p.jpg"]


@pytest.mark.parametrize(
    "raw", ["999999", "abc", "1.5", "-1", "0", "9223372036854775808", "1e3", "%D9%A3", "99999999999999999999"]
)
def test_unknown_or_malformed_ids_are_404(client, db, raw):
    response = client.get(f"/api/mobile/products/{raw}")
    assert response.status_code == 404
    assert response.get_json() == {"success": False, "message": "Product not found", "code": "not_found", "errors": []}


def test_an_inactive_product_is_404(client, db):
    with write(db.engine) as c:
        retired = shop.product(c, "Retired", 1000, is_active=False)
    assert client.get(f"/api/mobile/products/{retired}").status_code == 404


def test_the_largest_id_is_looked_up_not_refused(client, db):
    response = client.get("/api/mobile/products/9223372036854775807")
    assert response.status_code == 404 and response.get_json()["message"] == "Product not found"


def test_product_detail_answers_304_to_a_matching_etag(client, db):
    with write(db.engine) as c:
        product = shop.product(c, "Cached", 1000)
    first = client.get(f"/api/mobile/products/{product}")
    assert first.headers["Cache-Control"] == "public, max-age=60"
    cached = client.get(f"/api/mobile/products/{product}", headers={"If-None-Match": first.headers["ETag"]})
    assert cached.status_code == 304 and cached.data == b""
    with write(db.engine) as c:
        shop.review(c, product, 5)
    fresh = client.get(f"/api/mobile/products/{product}", headers={"If-None-Match": first.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.get_json()["review_count"] == 1
