"""Placing, reading and cancelling orders, addresses and promotion codes, on both databases."""

import re

from sqlalchemy import select, update

from common.db.transactions import write
from common.models import order_lines, orders, products, promotions
from tests import shop_fixtures as shop
from tests.order_fixtures import (
    ORDERS,
    cart_lines,
    checkout_token,
    events_of,
    new_key,
    open_reserved,
    order_body,
    order_count,
    place,
    sellable,
    setup_shop,
)

ADDRESSES = "/api/mobile/addresses"
PROMO = "/api/mobile/cart/promo-code"


def test_an_order_is_placed_from_the_cart_with_its_totals_stock_and_event(client, db):
    ids = setup_shop(db.engine, stock=5)
    token = checkout_token(client, ids["customer"])
    response = place(client, ids["customer"], order_body(ids["address"], note="Call first", checkout_token=token))

    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "private, no-store"
    order = response.get_json()
    assert re.fullmatch(r"TSH-\d{4}-\d{6}", order["number"])
    assert order["status"] == "placed" and order["zoho"] is None
    assert [(i["product_id"], i["quantity"], i["price"], i["subtotal"]) for i in order["items"]] == [
        (ids["phone"], 1, 250_000, 250_000),
        (ids["cable"], 2, 7_000, 14_000),
    ]
    assert (order["subtotal"], order["discount"], order["delivery_fee"], order["total"]) == (264_000, 0, 5_000, 269_000)
    assert order["address"] == {
        "label": "Home",
        "address": "Home street 1",
        "city": "Baghdad",
        "phone": "+9647700000000",
    }
    assert (order["delivery_option"], order["payment_method"], order["note"]) == (
        "standard",
        "cash_on_delivery",
        "Call first",
    )
    assert [step["status"] for step in order["timeline"]] == ["placed"]
    # The cart is empty, the units are held, and order.placed went out with the order.
    assert cart_lines(db.engine, ids["customer"]) == 0
    assert (open_reserved(db.engine, ids["phone"]), sellable(db.engine, ids["phone"])) == (1, 4)
    [placed] = events_of(db.engine, "order.placed")
    assert placed["aggregate"] == {"type": "order", "id": str(order["id"])}
    assert placed["data"]["number"] == order["number"] and placed["data"]["total"] == 269_000


def test_order_numbers_count_up_within_the_year(client, db):
    ids = setup_shop(db.engine, customers=2)
    numbers = [
        place(client, customer, order_body(address)).get_json()["number"] for customer, address in ids["customers"]
    ]
    first, second = (int(number.rsplit("-", 1)[1]) for number in numbers)
    assert second == first + 1


def test_the_same_key_answers_the_same_order_and_another_body_is_422(client, db):
    ids = setup_shop(db.engine)
    key = new_key()
    first = place(client, ids["customer"], order_body(ids["address"]), key)
    again = place(client, ids["customer"], order_body(ids["address"]), key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    changed = place(client, ids["customer"], order_body(ids["address"], note="different"), key)
    assert changed.status_code == 422 and changed.get_json()["code"] == "validation_error"
    assert order_count(db.engine) == 1


def test_the_idempotency_key_is_required_and_bounded(client, db):
    ids = setup_shop(db.engine)
    auth = shop.bearer(ids["customer"])
    for headers in (auth, {**auth, "Idempotency-Key": "short"}, {**auth, "Idempotency-Key": "k" * 129}):
        response = client.post(ORDERS, json=order_body(ids["address"]), headers=headers)
        assert response.status_code == 400 and response.get_json()["code"] == "bad_request"
    assert order_count(db.engine) == 0 and cart_lines(db.engine, ids["customer"]) == 2


def test_an_empty_cart_is_409_cart_empty(client, db):
    ids = setup_shop(db.engine)
    assert place(client, ids["customer"], order_body(ids["address"])).status_code == 201
    again = place(client, ids["customer"], order_body(ids["address"]))
    assert again.status_code == 409 and again.get_json()["code"] == "cart_empty"


def test_an_address_of_someone_else_is_refused(client, db):
    ids = setup_shop(db.engine, customers=2)
    (customer, _), (_, theirs) = ids["customers"]
    response = place(client, customer, order_body(theirs))
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "address_id"
    assert order_count(db.engine) == 0


def test_units_reserved_by_placed_orders_are_not_sold_again(client, db):
    ids = setup_shop(db.engine, stock=1, customers=2)
    (first, first_address), (second, second_address) = ids["customers"]
    assert place(client, first, order_body(first_address)).status_code == 201
    # Zoho still says 1 in stock, but that unit is held for the first order.
    checkout = client.get("/api/mobile/checkout", headers=shop.bearer(second)).get_json()
    assert [issue["code"] for issue in checkout["issues"]] == ["out_of_stock"]
    refused = place(client, second, order_body(second_address))
    body = refused.get_json()
    assert refused.status_code == 409 and body["code"] == "out_of_stock"
    assert [(issue["code"], issue["product_id"]) for issue in body["issues"]] == [("out_of_stock", ids["phone"])]
    assert order_count(db.engine) == 1 and cart_lines(db.engine, second) == 2


def test_a_price_change_after_checkout_is_409_with_the_reason_and_changes_nothing(client, db):
    ids = setup_shop(db.engine)
    token = checkout_token(client, ids["customer"])
    with write(db.engine) as c:
        c.execute(update(products).where(products.c.id == ids["phone"]).values(price=260_000))
    response = place(client, ids["customer"], order_body(ids["address"], checkout_token=token))
    body = response.get_json()
    assert response.status_code == 409 and body["code"] == "checkout_changed"
    assert body["issues"] == [
        {
            "code": "price_changed",
            "product_id": ids["phone"],
            "old_price": 250_000,
            "new_price": 260_000,
            "message": body["issues"][0]["message"],
        }
    ]
    assert order_count(db.engine) == 0 and cart_lines(db.engine, ids["customer"]) == 2
    assert open_reserved(db.engine, ids["phone"]) == 0
    # Checking out again shows the new price; ordering with that token works.
    assert (
        place(
            client, ids["customer"], order_body(ids["address"], checkout_token=checkout_token(client, ids["customer"]))
        ).status_code
        == 201
    )


def test_a_promotion_ending_after_checkout_is_409(client, db):
    ids = setup_shop(db.engine)
    with write(db.engine) as c:
        promotion = shop.promotion(c, "fixed", 10_000, applies_to="checkout")
    token = checkout_token(client, ids["customer"])
    with write(db.engine) as c:
        c.execute(update(promotions).where(promotions.c.id == promotion).values(is_active=False))
    response = place(client, ids["customer"], order_body(ids["address"], checkout_token=token))
    assert response.status_code == 409
    assert [issue["code"] for issue in response.get_json()["issues"]] == ["promotion_changed"]


def test_orders_are_listed_newest_first_a_page_at_a_time_and_only_ones_own(client, db):
    ids = setup_shop(db.engine, customers=2)
    (customer, address), (other, other_address) = ids["customers"]
    placed = []
    for _ in range(3):
        placed.append(place(client, customer, order_body(address)).get_json()["id"])
        with write(db.engine) as c:
            shop.cart(c, customer, {ids["cable"]: 1})
    theirs = place(client, other, order_body(other_address)).get_json()["id"]
    auth = shop.bearer(customer)
    first = client.get(f"{ORDERS}?cursor=&limit=2", headers=auth).get_json()
    assert [o["id"] for o in first["orders"]] == placed[::-1][:2] and first["next_cursor"]
    rest = client.get(f"{ORDERS}?limit=2&cursor={first['next_cursor']}", headers=auth).get_json()
    assert [o["id"] for o in rest["orders"]] == [placed[0]] and rest["next_cursor"] is None
    assert client.get(f"{ORDERS}/{placed[0]}", headers=auth).get_json()["id"] == placed[0]
    foreign = client.get(f"{ORDERS}/{theirs}", headers=auth)
    assert foreign.status_code == 404 and foreign.get_json()["code"] == "not_found"
    assert client.post(f"{ORDERS}/{theirs}/cancel", headers=auth).status_code == 404
    assert client.get(f"{ORDERS}?cursor=abc", headers=auth).status_code == 422


def test_cancelling_releases_the_stock_and_only_placed_or_confirmed_orders_cancel(client, db):
    ids = setup_shop(db.engine, stock=1, customers=2)
    (first, address), (second, second_address) = ids["customers"]
    order = place(client, first, order_body(address)).get_json()
    auth = shop.bearer(first)
    cancelled = client.post(f"{ORDERS}/{order['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    assert [step["status"] for step in cancelled.get_json()["timeline"]] == ["placed", "cancelled"]
    assert open_reserved(db.engine, ids["phone"]) == 0
    assert [e["data"]["new_status"] for e in events_of(db.engine, "order.status_changed")] == ["cancelled"]
    assert len(events_of(db.engine, "order.cancelled")) == 1
    again = client.post(f"{ORDERS}/{order['id']}/cancel", headers=auth)
    assert again.status_code == 409 and again.get_json()["code"] == "not_cancellable"
    # The released unit is for sale again.
    shipped = place(client, second, order_body(second_address)).get_json()
    with write(db.engine) as c:
        c.execute(update(orders).where(orders.c.id == shipped["id"]).values(status="shipped"))
    refused = client.post(f"{ORDERS}/{shipped['id']}/cancel", headers=shop.bearer(second))
    assert refused.status_code == 409 and refused.get_json()["code"] == "not_cancellable"


def test_addresses_keep_exactly_one_default_and_a_deleted_one_stays_on_its_orders(client, db):
    with write(db.engine) as c:
        customer = shop.customer(c)
        product = shop.product(c, "Cable", 7_000, zoho_item_id="9002")
        shop.cart(c, customer, {product: 1})
    auth = shop.bearer(customer)
    home = client.post(ADDRESSES, json={"label": "Home", "address": "Street 1", "city": "Baghdad"}, headers=auth)
    assert home.status_code == 201 and home.get_json()["is_default"] is True  # the first is the default
    work = client.post(
        ADDRESSES, json={"label": "Work", "address": "Street 2", "city": "Erbil", "phone": "+964"}, headers=auth
    ).get_json()
    assert work["is_default"] is False
    moved = client.patch(f"{ADDRESSES}/{work['id']}", json={"is_default": True, "city": "Basra"}, headers=auth)
    assert moved.status_code == 200 and moved.get_json()["city"] == "Basra"
    listed = client.get(ADDRESSES, headers=auth).get_json()["addresses"]
    assert [(a["id"], a["is_default"]) for a in listed] == [(work["id"], True), (home.get_json()["id"], False)]
    order = place(client, customer, order_body(work["id"])).get_json()
    assert client.delete(f"{ADDRESSES}/{work['id']}", headers=auth).status_code == 204
    # The remaining address became the default; the order kept its copy.
    assert [(a["label"], a["is_default"]) for a in client.get(ADDRESSES, headers=auth).get_json()["addresses"]] == [
        ("Home", True)
    ]
    assert client.get(f"{ORDERS}/{order['id']}", headers=auth).get_json()["address"] == {
        "label": "Work",
        "address": "Street 2",
        "city": "Basra",
        "phone": "+964",
    }
    assert client.delete(f"{ADDRESSES}/{work['id']}", headers=auth).status_code == 404
    assert client.post(ADDRESSES, json={"label": "", "address": "x", "city": "y"}, headers=auth).status_code == 422


def test_a_foreign_address_cannot_be_changed_or_deleted(client, db):
    with write(db.engine) as c:
        customer, other = shop.customer(c), shop.customer(c, "Other")
        theirs = shop.address(c, other, "Home", is_default=True)
    auth = shop.bearer(customer)
    assert client.patch(f"{ADDRESSES}/{theirs}", json={"city": "X"}, headers=auth).status_code == 404
    assert client.delete(f"{ADDRESSES}/{theirs}", headers=auth).status_code == 404


def _coded_promotion(engine, **values) -> int:
    with write(engine) as c:
        return shop.promotion(c, "fixed", 20_000, applies_to="checkout", code="WELCOME20", **values)


def test_a_code_applies_to_the_cart_shows_at_checkout_and_goes_on_the_order(client, db):
    ids = setup_shop(db.engine)
    _coded_promotion(db.engine)
    auth = shop.bearer(ids["customer"])
    # Without the code, checkout does not offer the coded promotion.
    assert client.get("/api/mobile/checkout", headers=auth).get_json()["summary"]["discount"] == 0
    applied = client.post(PROMO, json={"code": "welcome20"}, headers=auth)
    assert applied.status_code == 200
    assert (applied.get_json()["promo_code"], applied.get_json()["discount"]) == ("WELCOME20", 20_000)
    checkout = client.get("/api/mobile/checkout", headers=auth).get_json()
    assert checkout["cart"]["promo_code"] == "WELCOME20" and checkout["summary"]["discount"] == 20_000
    assert [p["code"] for p in checkout["promotions"] if p["applied"]] == ["WELCOME20"]
    order = place(client, ids["customer"], order_body(ids["address"], checkout_token=checkout["checkout_token"]))
    assert order.status_code == 201
    assert (order.get_json()["promo_code"], order.get_json()["discount"]) == ("WELCOME20", 20_000)
    removed = client.delete(PROMO, headers=auth)
    assert removed.status_code == 200 and removed.get_json()["promo_code"] is None


def test_bad_codes_are_422_with_the_reason(client, db):
    ids = setup_shop(db.engine)
    now = shop.utcnow()
    with write(db.engine) as c:
        shop.promotion(
            c, "fixed", 1_000, applies_to="checkout", code="OLD", starts_at=now - 3 * shop.DAY, ends_at=now - shop.DAY
        )
        shop.promotion(c, "fixed", 1_000, applies_to="checkout", code="BIG", min_purchase=1_000_000)
        shop.promotion(c, "fixed", 1_000, applies_to="checkout", code="GONE", max_uses=5, used_count=5)
    auth = shop.bearer(ids["customer"])
    for code, reason in (("NOPE", "unknown"), ("OLD", "expired"), ("BIG", "at least"), ("GONE", "used up")):
        response = client.post(PROMO, json={"code": code}, headers=auth)
        body = response.get_json()
        assert (response.status_code, body["code"]) == (422, "promo_code_invalid"), code
        assert reason in body["message"], body
    assert client.get("/api/mobile/checkout", headers=auth).get_json()["cart"]["promo_code"] is None


def test_a_code_used_up_by_one_customer_is_refused_to_the_next_at_ordering(client, db):
    ids = setup_shop(db.engine, customers=2)
    _coded_promotion(db.engine, max_uses=1)
    (first, first_address), (second, second_address) = ids["customers"]
    for customer in (first, second):  # both apply it while one use is left
        assert client.post(PROMO, json={"code": "WELCOME20"}, headers=shop.bearer(customer)).status_code == 200
    assert place(client, first, order_body(first_address)).get_json()["discount"] == 20_000
    refused = place(client, second, order_body(second_address))
    body = refused.get_json()
    assert refused.status_code == 409 and body["code"] == "checkout_changed"
    assert body["issues"][0]["code"] == "promo_code_invalid" and "used up" in body["issues"][0]["message"]
    assert order_count(db.engine) == 1
    again = client.post(PROMO, json={"code": "WELCOME20"}, headers=shop.bearer(second))
    assert again.status_code == 422 and "used up" in again.get_json()["message"]


def test_a_code_is_used_once_per_customer_and_a_cancel_gives_the_use_back(client, db):
    ids = setup_shop(db.engine)
    _coded_promotion(db.engine)
    auth = shop.bearer(ids["customer"])
    client.post(PROMO, json={"code": "WELCOME20"}, headers=auth)
    order = place(client, ids["customer"], order_body(ids["address"])).get_json()
    with write(db.engine) as c:
        shop.cart(c, ids["customer"], {ids["cable"]: 1})
        c.execute(update(promotions).values(min_purchase=0))
    refused = client.post(PROMO, json={"code": "WELCOME20"}, headers=auth)
    assert refused.status_code == 422 and "already used" in refused.get_json()["message"]
    client.post(f"{ORDERS}/{order['id']}/cancel", headers=auth)
    assert client.post(PROMO, json={"code": "WELCOME20"}, headers=auth).status_code == 200
    with db.engine.connect() as connection:
        assert connection.execute(select(promotions.c.used_count)).scalar_one() == 0


def test_a_rejected_order_writes_nothing(client, db):
    ids = setup_shop(db.engine, stock=0)
    assert place(client, ids["customer"], order_body(ids["address"])).status_code == 409
    assert order_count(db.engine) == 0
    with db.engine.connect() as connection:
        assert connection.execute(select(order_lines)).all() == []
    assert events_of(db.engine, "order.placed") == []
