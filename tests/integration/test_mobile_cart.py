"""Cart changes on both databases (add, set, remove, every refusal), and double taps on PostgreSQL."""

import pytest
from sqlalchemy import func, select

from common.db.transactions import write
from common.models import cart_items, carts
from common.shop.cart import add_item, remove_item
from tests import shop_fixtures as shop
from tests.helpers import at_once

ITEMS = "/api/mobile/cart/items"


def _setup(engine) -> dict[str, int]:
    with write(engine) as c:
        category = shop.category(c, "Chargers")
        ids = {"customer": shop.customer(c)}
        ids["charger"] = shop.product(
            c, "Anker Nano 20W", 20_000, category_id=category, image_url="https://cdn.test/n.jpg"
        )
        ids["cable"] = shop.product(c, "USB-C Cable", 7_000)
        ids["retired"] = shop.product(c, "Old Charger", 5_000, is_active=False)
        shop.promotion(c, "percentage", 10, category_id=category)  # the charger costs 18,000
    return ids


def _lines(engine, customer_id: int) -> dict[int, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(cart_items.c.product_id, cart_items.c.quantity)
            .join(carts, carts.c.id == cart_items.c.cart_id)
            .where(carts.c.customer_id == customer_id, carts.c.status == "active")
        ).all()
    return dict(rows)


def _active_carts(engine, customer_id: int) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).where(carts.c.customer_id == customer_id, carts.c.status == "active")
        ).scalar_one()


def test_adding_creates_the_cart_then_adds_to_the_line(client, db):
    ids = _setup(db.engine)
    auth = shop.bearer(ids["customer"])
    first = client.post(ITEMS, json={"product_id": ids["charger"], "quantity": 2}, headers=auth)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "private, no-store"
    cart = first.get_json()
    assert cart == {
        "items": [
            {
                "id": cart["items"][0]["id"],
                "product_id": ids["charger"],
                "product_name": "Anker Nano 20W",
                "product_image": "https://cdn.test/n.jpg",
                "quantity": 2,
                "price": 18_000,
                "subtotal": 36_000,
                "is_available": True,
            }
        ],
        "subtotal": 36_000,
        "discount": 0,
        "delivery_fee": 5_000,
        "total": 41_000,
        "currency": "IQD",
        "promo_code": None,
    }
    again = client.post(ITEMS, json={"product_id": ids["charger"], "quantity": 3}, headers=auth).get_json()
    assert again["items"][0]["quantity"] == 5 and again["subtotal"] == 90_000
    client.post(ITEMS, json={"product_id": ids["cable"], "quantity": 1}, headers=auth)
    assert _lines(db.engine, ids["customer"]) == {ids["charger"]: 5, ids["cable"]: 1}
    assert _active_carts(db.engine, ids["customer"]) == 1


def test_a_sum_over_999_is_refused_and_changes_nothing(client, db):
    ids = _setup(db.engine)
    auth = shop.bearer(ids["customer"])
    assert client.post(ITEMS, json={"product_id": ids["cable"], "quantity": 999}, headers=auth).status_code == 200
    over = client.post(ITEMS, json={"product_id": ids["cable"], "quantity": 1}, headers=auth)
    # A valid request that conflicts with what the cart already holds.
    assert over.status_code == 409
    assert over.get_json()["code"] == "conflict" and "999" in over.get_json()["message"]
    assert _lines(db.engine, ids["customer"]) == {ids["cable"]: 999}


def test_quantities_are_json_integers_so_2_0_counts_as_2(client, db):
    ids = _setup(db.engine)
    auth = shop.bearer(ids["customer"])
    added = client.post(ITEMS, json={"product_id": float(ids["cable"]), "quantity": 2.0}, headers=auth)
    assert added.status_code == 200
    assert _lines(db.engine, ids["customer"]) == {ids["cable"]: 2}


def test_patch_sets_the_quantity_and_delete_removes_the_line(client, db):
    ids = _setup(db.engine)
    auth = shop.bearer(ids["customer"])
    client.post(ITEMS, json={"product_id": ids["charger"], "quantity": 4}, headers=auth)
    client.post(ITEMS, json={"product_id": ids["cable"], "quantity": 1}, headers=auth)
    patched = client.patch(f"{ITEMS}/{ids['charger']}", json={"quantity": 1}, headers=auth)
    assert patched.status_code == 200 and patched.headers["Cache-Control"] == "private, no-store"
    assert [line["quantity"] for line in patched.get_json()["items"]] == [1, 1]
    removed = client.delete(f"{ITEMS}/{ids['charger']}", headers=auth)
    assert removed.status_code == 200 and removed.headers["Cache-Control"] == "private, no-store"
    assert [line["product_id"] for line in removed.get_json()["items"]] == [ids["cable"]]
    assert removed.get_json()["total"] == 7_000 + 5_000
    assert client.delete(f"{ITEMS}/{ids['charger']}", headers=auth).status_code == 404
    assert _lines(db.engine, ids["customer"]) == {ids["cable"]: 1}


def test_a_retired_product_cannot_be_added_or_changed_but_can_be_removed(client, db):
    ids = _setup(db.engine)
    with write(db.engine) as c:
        shop.cart(c, ids["customer"], {ids["retired"]: 2})
    auth = shop.bearer(ids["customer"])
    added = client.post(ITEMS, json={"product_id": ids["retired"], "quantity": 1}, headers=auth)
    assert added.status_code == 409 and added.get_json()["code"] == "conflict"
    assert client.patch(f"{ITEMS}/{ids['retired']}", json={"quantity": 1}, headers=auth).status_code == 409
    removed = client.delete(f"{ITEMS}/{ids['retired']}", headers=auth)
    assert removed.status_code == 200 and removed.get_json()["items"] == []


def test_unknown_products_and_lines_are_404(client, db):
    ids = _setup(db.engine)
    auth = shop.bearer(ids["customer"])
    unknown = client.post(ITEMS, json={"product_id": 987654, "quantity": 1}, headers=auth)
    assert unknown.status_code == 404 and unknown.get_json()["message"] == "Product not found"
    not_in_cart = client.patch(f"{ITEMS}/{ids['cable']}", json={"quantity": 2}, headers=auth)
    assert not_in_cart.status_code == 404 and not_in_cart.get_json()["message"] == "Product is not in the cart"
    assert client.delete(f"{ITEMS}/{ids['cable']}", headers=auth).status_code == 404
    for raw in ("abc", "0", "9223372036854775808"):
        assert client.patch(f"{ITEMS}/{raw}", json={"quantity": 1}, headers=auth).status_code == 404
        assert client.delete(f"{ITEMS}/{raw}", headers=auth).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"product_id": 1, "quantity": 0},
        {"product_id": 1, "quantity": 1000},
        {"product_id": 1, "quantity": -1},
        {"product_id": 1, "quantity": True},
        {"product_id": 1, "quantity": "2"},
        {"product_id": 1, "quantity": 1.5},
        {"product_id": 1, "quantity": None},
        {"product_id": 1},
        {"quantity": 1},
        {"product_id": "1", "quantity": 1},
        {"product_id": 2**63, "quantity": 1},
        [],
    ],
)
def test_invalid_add_bodies_are_422(client, db, body):
    ids = _setup(db.engine)
    response = client.post(ITEMS, json=body, headers=shop.bearer(ids["customer"]))
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_error"


@pytest.mark.parametrize("quantity", [0, 1000, True, "3", 2.5])
def test_invalid_patch_quantities_are_422(client, db, quantity):
    ids = _setup(db.engine)
    auth = shop.bearer(ids["customer"])
    client.post(ITEMS, json={"product_id": ids["cable"], "quantity": 1}, headers=auth)
    response = client.patch(f"{ITEMS}/{ids['cable']}", json={"quantity": quantity}, headers=auth)
    assert response.status_code == 422
    assert _lines(db.engine, ids["customer"]) == {ids["cable"]: 1}


def test_bodies_must_be_json(client, db):
    ids = _setup(db.engine)
    auth = shop.bearer(ids["customer"])
    assert client.post(ITEMS, data="{", content_type="application/json", headers=auth).status_code == 400
    assert client.post(ITEMS, data="product_id=1", headers=auth).status_code == 415


def test_the_customer_comes_from_the_token_only(client, db):
    ids = _setup(db.engine)
    with write(db.engine) as c:
        other = shop.customer(c, "Other")
    body = {"product_id": ids["cable"], "quantity": 1, "customer_id": other}
    assert client.post(ITEMS, json=body, headers=shop.bearer(ids["customer"])).status_code == 200
    assert _lines(db.engine, ids["customer"]) == {ids["cable"]: 1}
    assert _lines(db.engine, other) == {}
    assert client.post(ITEMS, json=body).status_code == 401
    assert client.patch(f"{ITEMS}/{ids['cable']}", json={"quantity": 2}).status_code == 401
    assert client.delete(f"{ITEMS}/{ids['cable']}").status_code == 401
    assert _lines(db.engine, ids["customer"]) == {ids["cable"]: 1}


def test_a_customer_id_other_than_the_tokens_is_403_and_changes_nothing(client, db):
    ids = _setup(db.engine)
    with write(db.engine) as c:
        other = shop.customer(c, "Other")
    own = shop.bearer(ids["customer"])
    assert client.post(ITEMS, json={"product_id": ids["cable"], "quantity": 1}, headers=own).status_code == 200
    before = (_lines(db.engine, ids["customer"]), _lines(db.engine, other))
    calls = [
        client.post(f"{ITEMS}?customer_id={other}", json={"product_id": ids["charger"], "quantity": 1}, headers=own),
        client.patch(f"{ITEMS}/{ids['cable']}?customer_id={other}", json={"quantity": 5}, headers=own),
        client.delete(f"{ITEMS}/{ids['cable']}?customer_id={other}", headers=own),
    ]
    assert [(r.status_code, r.get_json()["code"]) for r in calls] == [(403, "forbidden")] * 3
    assert (_lines(db.engine, ids["customer"]), _lines(db.engine, other)) == before
    allowed = client.patch(f"{ITEMS}/{ids['cable']}?customer_id={ids['customer']}", json={"quantity": 2}, headers=own)
    assert allowed.status_code == 200
    assert client.delete(f"{ITEMS}/{ids['cable']}?customer_id=abc", headers=own).status_code == 422


@pytest.mark.postgres_only
def test_a_double_tap_leaves_one_cart_with_one_summed_line(pg):
    with write(pg.engine) as c:
        product, other = shop.product(c, "Anker Nano 20W", 20_000), shop.product(c, "Cable", 7_000)
        rounds = []  # (customer, the product's quantity before the taps)
        for n in range(4):
            rounds.append((shop.customer(c, f"New {n}"), 0))  # the taps also race to create the cart
            with_cart = shop.customer(c, f"Shopper {n}")
            shop.cart(c, with_cart, {other: 1})
            rounds.append((with_cart, 0))  # ... to create the line
            with_line = shop.customer(c, f"Regular {n}")
            shop.cart(c, with_line, {product: 1})
            rounds.append((with_line, 1))  # ... to add to the line
    for customer, before in rounds:
        results = at_once(*(lambda customer=customer: add_item(customer, product, 2) for _ in range(2)))
        assert all(not isinstance(result, Exception) for result in results), results
        assert _active_carts(pg.engine, customer) == 1
        assert _lines(pg.engine, customer).get(product) == before + 4
        answers = sorted(line.quantity for result in results for line in result.items if line.product_id == product)
        assert answers == [before + 2, before + 4]  # the taps took turns: each saw its own change


@pytest.mark.postgres_only
def test_an_add_racing_a_remove_ends_consistent(pg):
    with write(pg.engine) as c:
        product = shop.product(c, "USB-C Cable", 7_000)
        customers = [shop.customer(c, f"Racer {n}") for n in range(8)]
        for customer in customers:
            shop.cart(c, customer, {product: 2})
    for customer in customers:
        added, removed = at_once(
            lambda customer=customer: add_item(customer, product, 3),
            lambda customer=customer: remove_item(customer, product),
        )
        assert not isinstance(added, Exception) and not isinstance(removed, Exception), (added, removed)
        assert [line.product_id for line in removed.items] == []
        (quantity,) = [line.quantity for line in added.items if line.product_id == product]
        # The add either went first (2 + 3, then the remove took the line) or second (a new line of 3).
        assert (quantity, _lines(pg.engine, customer)) in ((5, {}), (3, {product: 3}))
        assert _active_carts(pg.engine, customer) == 1


@pytest.mark.postgres_only
def test_changes_of_one_customer_take_turns_on_the_cart(pg):
    """Taps on two products: the second answer includes the first change, never just its own."""
    with write(pg.engine) as c:
        first, second = shop.product(c, "Charger", 20_000), shop.product(c, "Cable", 7_000)
        customers = [shop.customer(c, f"Shopper {n}") for n in range(6)]
        for customer in customers:
            shop.cart(c, customer, {})
    for customer in customers:
        results = at_once(
            lambda customer=customer: add_item(customer, first, 1),
            lambda customer=customer: add_item(customer, second, 1),
        )
        assert sorted(len(result.items) for result in results) == [1, 2], results
        assert _lines(pg.engine, customer) == {first: 1, second: 1}
