"""GET /api/mobile/checkout on both databases: totals in the contract's order, issues, promotions, access."""

import pytest

from common.clock import utcnow
from common.db.transactions import write
from tests import shop_fixtures as shop

CHECKOUT = "/api/mobile/checkout"


def _shopper(engine, phones: int = 1) -> dict[str, int]:
    """A customer whose cart has two good lines, one sold out, one short of stock and one retired product."""
    now = utcnow()
    with write(engine) as c:
        category = shop.category(c, "Phones")
        ids = {"customer": shop.customer(c, "Ahmed")}
        ids["work"] = shop.address(c, ids["customer"], "Work", city="Erbil")
        ids["home"] = shop.address(c, ids["customer"], "Home", is_default=True)
        ids["phone"] = shop.product(
            c, "Galaxy A55", 400_000, category_id=category, stock_quantity=5, image_url="https://cdn.test/a55.jpg"
        )
        ids["cable"] = shop.product(c, "USB-C Cable", 7_000, stock_quantity=100)
        ids["sold_out"] = shop.product(c, "AirPods Pro", 380_000, stock_quantity=0)
        ids["scarce"] = shop.product(c, "JBL Flip 6", 150_000, stock_quantity=2)
        ids["retired"] = shop.product(c, "Old Phone", 90_000, is_active=False)
        shop.promotion(c, "percentage", 10, category_id=category)  # the phone costs 360,000
        ids["big_basket"] = shop.promotion(
            c, "percentage", 5, title="5% over 500,000", applies_to="checkout", min_purchase=500_000
        )
        ids["welcome"] = shop.promotion(
            c,
            "fixed",
            10_000,
            title="Welcome",
            applies_to="checkout",
            min_purchase=250_000,
            max_uses=1000,
            used_count=10,
        )
        ids["voucher"] = shop.promotion(
            c, "fixed", 15_000, title="Voucher", applies_to="checkout", min_purchase=100_000, max_uses=5, used_count=5
        )
        shop.promotion(
            c,
            "fixed",
            99_000,
            title="Over",
            applies_to="checkout",
            starts_at=now - 9 * shop.DAY,
            ends_at=now - shop.DAY,
        )
        shop.cart(
            c,
            ids["customer"],
            {ids["phone"]: phones, ids["cable"]: 2, ids["sold_out"]: 1, ids["scarce"]: 3, ids["retired"]: 1},
        )
    return ids


def test_checkout_prices_the_cart_in_the_contracts_order(client, db):
    ids = _shopper(db.engine)
    response = client.get(CHECKOUT, headers=shop.bearer(ids["customer"]))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_json()
    assert set(body) == {
        "cart",
        "addresses",
        "payment_methods",
        "delivery_options",
        "promotions",
        "summary",
        "issues",
        "checkout_token",
    }
    lines = body["cart"]["items"]
    assert lines[0] == {
        "id": lines[0]["id"],
        "product_id": ids["phone"],
        "product_name": "Galaxy A55",
        "product_image": "https://cdn.test/a55.jpg",
        "quantity": 1,
        "price": 360_000,
        "subtotal": 360_000,
        "is_available": True,
    }
    assert [(line["product_id"], line["subtotal"], line["is_available"]) for line in lines] == [
        (ids["phone"], 360_000, True),
        (ids["cable"], 14_000, True),
        (ids["sold_out"], 380_000, False),
        (ids["scarce"], 450_000, False),
        (ids["retired"], 90_000, False),
    ]
    # 374,000 of available lines; the welcome 10,000 applies (min 250,000 met), the 5% needs 500,000 and
    # the voucher has no uses left; standard delivery 5,000.
    totals = {"subtotal": 374_000, "discount": 10_000, "delivery_fee": 5_000, "total": 369_000, "currency": "IQD"}
    assert {key: body["cart"][key] for key in totals} == totals and body["cart"]["promo_code"] is None
    assert body["summary"] == totals
    assert [(issue["code"], issue["product_id"]) for issue in body["issues"]] == [
        ("out_of_stock", ids["sold_out"]),
        ("insufficient_stock", ids["scarce"]),
        ("unavailable", ids["retired"]),
    ]
    assert "JBL Flip 6" in body["issues"][1]["message"] and "2" in body["issues"][1]["message"]
    promotions = {p["id"]: (p["applicable"], p["applied"]) for p in body["promotions"]}
    assert promotions == {
        ids["big_basket"]: (False, False),
        ids["welcome"]: (True, True),
        ids["voucher"]: (False, False),
    }
    assert [a["id"] for a in body["addresses"]] == [ids["home"], ids["work"]]
    assert body["addresses"][1] == {
        "id": ids["work"],
        "label": "Work",
        "address": "Work street 1",
        "city": "Erbil",
        "phone": None,
        "is_default": False,
    }
    assert [m["id"] for m in body["payment_methods"]] == ["cash_on_delivery"]  # no online provider configured
    assert [(o["id"], o["fee"]) for o in body["delivery_options"]] == [
        ("standard", 5_000),
        ("express", 10_000),
        ("pickup", 0),
    ]
    assert all(o["name"] and o["name_ar"] and o["estimated_days"] for o in body["delivery_options"])


def test_a_larger_order_gets_the_percentage_promotion(client, db):
    ids = _shopper(db.engine, phones=2)
    body = client.get(CHECKOUT, headers=shop.bearer(ids["customer"])).get_json()
    # 2 × 360,000 + 14,000 = 734,000: 5% is 36,700, more than the fixed 10,000.
    assert body["summary"] == {
        "subtotal": 734_000,
        "discount": 36_700,
        "delivery_fee": 5_000,
        "total": 702_300,
        "currency": "IQD",
    }
    applied = [p["id"] for p in body["promotions"] if p["applied"]]
    assert applied == [ids["big_basket"]]


@pytest.mark.parametrize(("option", "fee"), [("express", 10_000), ("pickup", 0), ("standard", 5_000)])
def test_the_chosen_delivery_option_sets_the_fee(client, db, option, fee):
    ids = _shopper(db.engine)
    body = client.get(f"{CHECKOUT}?delivery_option={option}", headers=shop.bearer(ids["customer"])).get_json()
    assert body["summary"]["delivery_fee"] == fee
    assert body["summary"]["total"] == 374_000 - 10_000 + fee


def test_an_unknown_delivery_option_is_422(client, db):
    ids = _shopper(db.engine)
    response = client.get(f"{CHECKOUT}?delivery_option=drone", headers=shop.bearer(ids["customer"]))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "delivery_option"


def test_a_customer_without_a_cart_gets_an_empty_one(client, db):
    with write(db.engine) as c:
        customer = shop.customer(c)
        shop.cart(c, customer, {shop.product(c, "Bought", 1000): 1}, status="ordered")
    response = client.get(CHECKOUT, headers=shop.bearer(customer))
    assert response.status_code == 200
    body = response.get_json()
    zero = {"subtotal": 0, "discount": 0, "delivery_fee": 0, "total": 0, "currency": "IQD"}
    assert body["cart"] == {"items": [], "promo_code": None, **zero} and body["summary"] == zero
    assert body["issues"] == [] and body["addresses"] == []


def test_a_cart_of_only_unavailable_lines_costs_nothing(client, db):
    with write(db.engine) as c:
        customer = shop.customer(c)
        shop.cart(c, customer, {shop.product(c, "Gone", 5000, stock_quantity=0): 1})
    body = client.get(CHECKOUT, headers=shop.bearer(customer)).get_json()
    assert body["summary"]["total"] == 0 and body["summary"]["delivery_fee"] == 0
    assert body["issues"][0]["code"] == "out_of_stock"


def test_checkout_needs_the_customers_own_token(client, db):
    ids = _shopper(db.engine)
    own = shop.bearer(ids["customer"])
    assert client.get(CHECKOUT).status_code == 401
    assert client.get(f"{CHECKOUT}?customer_id={ids['customer']}").status_code == 401
    assert client.get(f"{CHECKOUT}?customer_id={ids['customer']}", headers=own).status_code == 200
    other = client.get(f"{CHECKOUT}?customer_id={ids['customer'] + 1}", headers=own)
    assert other.status_code == 403
    assert other.get_json()["code"] == "forbidden"
    assert client.get(f"{CHECKOUT}?customer_id=abc", headers=own).status_code == 422
