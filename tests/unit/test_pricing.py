"""Price arithmetic in whole dinars: catalog promotions on cards, checkout promotions on orders, ratings."""

from datetime import UTC, datetime

import pytest

from common.shop.catalog import average_rating
from common.shop.pricing import Price, Promotion, best_promotion, card_price, order_discount, percent_off

END = datetime(2030, 1, 1, tzinfo=UTC)
PHONE, CHARGER = 1, 2  # product ids
PHONES, ACCESSORIES = 10, 20  # category ids


def promo(
    id_: int,
    kind: str,
    value: int,
    *,
    applies_to="catalog",
    product_id=None,
    category_id=None,
    min_purchase=0,
    max_uses=None,
    used_count=0,
) -> Promotion:
    return Promotion(
        id=id_,
        title=f"promotion {id_}",
        title_ar=None,
        description=None,
        banner_url=None,
        applies_to=applies_to,
        discount_type=kind,
        discount_value=value,
        product_id=product_id,
        category_id=category_id,
        min_purchase=min_purchase,
        max_uses=max_uses,
        used_count=used_count,
        ends_at=END,
    )


def test_no_promotion_keeps_the_list_price_and_no_discount():
    assert card_price(150_000, PHONE, PHONES, []) == Price(150_000, 150_000, None)


@pytest.mark.parametrize(
    ("price", "percent", "expected_price"),
    [
        (1_250_000, 10, 1_125_000),
        (12_345, 10, 11_110),  # 1,234.5 off rounds half up to 1,235
        (12_344, 10, 11_110),  # 1,234.4 off rounds down to 1,234
        (999, 15, 849),  # 149.85 → 150
        (250, 100, 0),
    ],
)
def test_a_percentage_promotion_takes_that_percent_rounded_half_up(price, percent, expected_price):
    assert card_price(price, PHONE, PHONES, [promo(1, "percentage", percent)]) == Price(expected_price, price, percent)


@pytest.mark.parametrize(
    ("price", "amount", "expected"),
    [
        (400_000, 25_000, Price(375_000, 400_000, 6)),  # 6.25% shows as 6
        (8_000, 3_000, Price(5_000, 8_000, 38)),  # 37.5% rounds half up to 38
        (5_000, 25_000, Price(0, 5_000, 100)),  # never below zero
    ],
)
def test_a_fixed_promotion_takes_its_amount_and_shows_the_percent_it_makes(price, amount, expected):
    assert card_price(price, PHONE, PHONES, [promo(1, "fixed", amount)]) == expected


def test_percent_off_rounds_half_up():
    assert [percent_off(amount, 1000) for amount in (4, 5, 6, 994, 995)] == [0, 1, 1, 99, 100]


def test_scopes_product_category_and_everything():
    for_phone = promo(1, "percentage", 30, product_id=PHONE)
    for_phones = promo(2, "percentage", 20, category_id=PHONES)
    everything = promo(3, "percentage", 5)
    both = promo(4, "percentage", 50, product_id=CHARGER, category_id=PHONES)  # needs the product in that category
    active = [for_phone, for_phones, everything, both]
    assert card_price(1000, PHONE, PHONES, active).discount == 30
    assert card_price(1000, 3, PHONES, active).discount == 20
    assert card_price(1000, CHARGER, ACCESSORIES, active).discount == 5
    assert card_price(1000, CHARGER, PHONES, active).discount == 50
    assert card_price(1000, 4, None, active).discount == 5  # uncategorised: only "everything"


def test_the_best_promotion_is_the_largest_amount_for_this_price():
    ten_percent, twenty_thousand = promo(1, "percentage", 10), promo(2, "fixed", 20_000)
    assert card_price(150_000, PHONE, PHONES, [ten_percent, twenty_thousand]) == Price(130_000, 150_000, 13)
    assert card_price(300_000, PHONE, PHONES, [ten_percent, twenty_thousand]) == Price(270_000, 300_000, 10)


def test_a_tie_goes_to_the_lower_promotion_id():
    later, earlier = promo(9, "fixed", 10_000), promo(3, "percentage", 10)
    assert best_promotion([later, earlier], 100_000) == (earlier, 10_000)
    assert best_promotion([later, earlier], 100_001) == (earlier, 10_000)  # 10,000.1 rounds down: a tie again
    assert best_promotion([later, earlier], 100_005) == (earlier, 10_001)


def test_card_prices_ignore_checkout_promotions_and_orders_ignore_catalog_ones():
    at_checkout = promo(1, "percentage", 50, applies_to="checkout")
    on_cards = promo(2, "percentage", 50)
    assert card_price(1000, PHONE, PHONES, [at_checkout]) == Price(1000, 1000, None)
    assert order_discount(1000, [on_cards]) == (None, 0)


def test_an_order_discount_needs_the_minimum_purchase():
    big_basket = promo(1, "percentage", 5, applies_to="checkout", min_purchase=500_000)
    assert order_discount(499_999, [big_basket]) == (None, 0)
    assert order_discount(500_000, [big_basket]) == (big_basket, 25_000)
    assert order_discount(500_010, [big_basket]) == (big_basket, 25_001)  # 25,000.5 rounds half up


def test_an_order_discount_needs_uses_left():
    used_up = promo(1, "fixed", 15_000, applies_to="checkout", max_uses=5, used_count=5)
    one_left = promo(2, "fixed", 10_000, applies_to="checkout", max_uses=5, used_count=4)
    unlimited = promo(3, "fixed", 5_000, applies_to="checkout")
    assert order_discount(100_000, [used_up, one_left, unlimited]) == (one_left, 10_000)
    assert order_discount(100_000, [used_up, unlimited]) == (unlimited, 5_000)


def test_the_best_order_discount_wins_and_never_exceeds_the_subtotal():
    fixed = promo(1, "fixed", 10_000, applies_to="checkout")
    percent = promo(2, "percentage", 5, applies_to="checkout")
    assert order_discount(150_000, [fixed, percent]) == (fixed, 10_000)
    assert order_discount(400_000, [fixed, percent]) == (percent, 20_000)
    assert order_discount(200_000, [fixed, percent]) == (fixed, 10_000)  # a tie: the lower id
    assert order_discount(4_000, [fixed]) == (fixed, 4_000)
    assert order_discount(0, [fixed, percent]) == (None, 0)


@pytest.mark.parametrize(
    ("total", "count", "expected"),
    [(0, 0, None), (5, 1, 5.0), (9, 2, 4.5), (17, 4, 4.3), (13, 3, 4.3), (14, 3, 4.7), (41, 10, 4.1), (3, 2, 1.5)],
)
def test_the_average_rating_has_one_decimal_rounded_half_up(total, count, expected):
    assert average_rating(total, count) == expected
