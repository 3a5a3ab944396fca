"""Orders under concurrency on PostgreSQL: real concurrent requests, each a thread through the
runner's WSGI app on its own pooled connection, released together by a barrier."""

from functools import partial

import pytest
from werkzeug.test import Client

from tests import shop_fixtures as shop
from tests.helpers import at_once
from tests.order_fixtures import new_key, open_reserved, order_body, order_count, place, sellable, setup_shop

pytestmark = pytest.mark.postgres_only


def _at_once(app, calls) -> list:
    """Run each call (a function of a test client, each its own) in its own thread, all released together."""
    clients = [Client(app) for _ in calls]
    return at_once(*(partial(call, client) for call, client in zip(calls, clients, strict=True)), timeout=60)


@pytest.fixture
def app(pg):
    from local_runner import create_app

    return create_app()


def test_ten_customers_racing_for_the_last_three_units_get_three_orders(app, pg):
    ids = setup_shop(pg.engine, stock=3, customers=10)
    calls = [
        (lambda client, customer=customer, address=address: place(client, customer, order_body(address)))
        for customer, address in ids["customers"]
    ]
    responses = _at_once(app, calls)
    assert not [r for r in responses if isinstance(r, Exception)], responses
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 3 + [409] * 7, [r.get_json() for r in responses]
    refusals = [response.get_json() for response in responses if response.status_code == 409]
    assert {body["code"] for body in refusals} == {"out_of_stock"}
    assert all(body["issues"][0]["product_id"] == ids["phone"] for body in refusals)
    assert order_count(pg.engine) == 3
    assert (open_reserved(pg.engine, ids["phone"]), sellable(pg.engine, ids["phone"])) == (3, 0)


def test_a_double_tap_with_one_key_makes_one_order(app, pg):
    ids = setup_shop(pg.engine, customers=5)
    for customer, address in ids["customers"]:
        key = new_key()

        def tap(client, customer=customer, address=address, key=key):
            return place(client, customer, order_body(address), key)

        responses = _at_once(app, [tap] * 2)
        assert not [r for r in responses if isinstance(r, Exception)], responses
        assert sorted(r.status_code for r in responses) == [200, 201], [r.get_json() for r in responses]
        first, second = (r.get_json() for r in responses)
        assert first == second
    assert order_count(pg.engine) == 5


def test_two_keys_racing_on_one_cart_make_one_order(app, pg):
    ids = setup_shop(pg.engine, customers=4)
    for customer, address in ids["customers"]:

        def tap(client, customer=customer, address=address):
            return place(client, customer, order_body(address))

        responses = _at_once(app, [tap] * 2)
        codes = sorted((r.status_code, r.get_json().get("code")) for r in responses)
        assert codes == [(201, None), (409, "cart_empty")], codes
    assert order_count(pg.engine) == 4


def test_racing_orders_and_cancels_never_sell_more_than_the_stock(app, pg):
    """Six customers order the last two units while the two holders cancel: whoever wins, the
    units held never exceed the stock."""
    ids = setup_shop(pg.engine, stock=2, customers=8)
    holders, racers = ids["customers"][:2], ids["customers"][2:]
    placed = [place(Client(app), customer, order_body(address)).get_json()["id"] for customer, address in holders]
    calls = [
        (
            lambda client, customer=customer, order=order: client.post(
                f"/api/mobile/orders/{order}/cancel", headers=shop.bearer(customer)
            )
        )
        for (customer, _), order in zip(holders, placed, strict=False)
    ] + [
        (lambda client, customer=customer, address=address: place(client, customer, order_body(address)))
        for customer, address in racers
    ]
    responses = _at_once(app, calls)
    assert not [r for r in responses if isinstance(r, Exception)], responses
    assert [r.status_code for r in responses[:2]] == [200, 200]
    placed_now = sum(r.status_code == 201 for r in responses[2:])
    assert placed_now <= 2
    assert open_reserved(pg.engine, ids["phone"]) == placed_now <= 2
