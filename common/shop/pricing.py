"""Promotions and price arithmetic, in whole dinars.

One rounding rule everywhere: `common.money.percent_of` (half up, integer arithmetic).

- A catalog promotion (`applies_to='catalog'`) lowers card prices of its scope: a product,
  a category (both when both are set), or everything when neither is set.
- A checkout promotion discounts an order's subtotal when the minimum purchase is met
  and it has uses left; one with a `code` only when the cart carries that code.
- A promotion's amount on a price: percentage → percent_of(price, value); fixed →
  min(value, price). The best promotion is the one with the largest amount; a tie goes
  to the lower promotion id. An amount of 0 is no discount.

The active promotions are few, so each request loads them with one query and applies
them in Python; search's price sort and filter get the same arithmetic as SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Table, and_, case, func, literal, select

from common.db.engine import is_postgresql
from common.models import promotions
from common.money import percent_of


@dataclass(frozen=True)
class Promotion:
    id: int
    title: str
    title_ar: str | None
    description: str | None
    banner_url: str | None
    applies_to: str
    discount_type: str
    discount_value: int
    product_id: int | None
    category_id: int | None
    min_purchase: int
    max_uses: int | None
    used_count: int
    ends_at: datetime
    code: str | None = None  # a coded checkout promotion applies only to a cart that carries the code

    @property
    def percentage(self) -> int | None:
        return self.discount_value if self.discount_type == "percentage" else None

    def amount_on(self, price: int) -> int:
        """How many dinars this promotion takes off `price`: never more than `price` (percentages are ≤ 100)."""
        if self.discount_type == "percentage":
            return percent_of(price, self.discount_value)
        return min(self.discount_value, price)

    def covers(self, product_id: int, category_id: int | None) -> bool:
        return (self.product_id is None or self.product_id == product_id) and (
            self.category_id is None or self.category_id == category_id
        )

    def applicable_to_order(self, subtotal: int) -> bool:
        uses_left = self.max_uses is None or self.used_count < self.max_uses
        return subtotal >= self.min_purchase and uses_left


@dataclass(frozen=True)
class Price:
    """A card's price: after the best catalog promotion, the list price, and the percent off."""

    price: int
    original_price: int
    discount: int | None


def load_active_promotions(connection: Connection, now: datetime) -> tuple[Promotion, ...]:
    """Every active, in-date promotion (catalog and checkout), soonest-ending first."""
    rows = connection.execute(
        select(*(promotions.c[name] for name in Promotion.__dataclass_fields__))
        .where(promotions.c.is_active, promotions.c.starts_at <= now, promotions.c.ends_at > now)
        .order_by(promotions.c.ends_at, promotions.c.id)
    ).all()
    return tuple(Promotion(**row._mapping) for row in rows)


def best_promotion(candidates: Iterable[Promotion], price: int) -> tuple[Promotion | None, int]:
    """The promotion taking the most off `price` (ties: the lower id), and that amount (0: none)."""
    best, best_amount = None, 0
    for promotion in sorted(candidates, key=lambda p: p.id):
        amount = promotion.amount_on(price)
        if amount > best_amount:
            best, best_amount = promotion, amount
    return best, best_amount


def percent_off(amount: int, price: int) -> int:
    """`amount` as a whole percent of `price`, rounded half up (the card's `discount` of a fixed promotion)."""
    return (200 * amount + price) // (2 * price)


def card_price(price: int, product_id: int, category_id: int | None, active: Sequence[Promotion]) -> Price:
    """The price a card shows, from the catalog promotions in `active`."""
    best, amount = best_promotion(
        (p for p in active if p.applies_to == "catalog" and p.covers(product_id, category_id)), price
    )
    if best is None:
        return Price(price, price, None)
    percent = best.percentage if best.percentage is not None else percent_off(amount, price)
    return Price(price - amount, price, percent)


def order_discount(subtotal: int, active: Sequence[Promotion], code: str | None = None) -> tuple[Promotion | None, int]:
    """The best checkout promotion for an order of `subtotal` dinars, and its amount (≤ subtotal):
    the uncoded ones, and the one whose code the cart carries."""
    return best_promotion(
        (
            p
            for p in active
            if p.applies_to == "checkout" and p.code in (None, code) and p.applicable_to_order(subtotal)
        ),
        subtotal,
    )


def effective_price_sql(connection: Connection, source: Table, active: Sequence[Promotion]) -> ColumnElement[int]:
    """`source`'s price after the best catalog promotion, as SQL: the same arithmetic as `card_price`.

    `source` is products or a table with its id, price and category_id (product_search).
    """
    price = source.c.price
    amounts = []
    for promotion in active:
        if promotion.applies_to != "catalog":
            continue
        value = literal(promotion.discount_value)
        if promotion.discount_type == "percentage":
            amount = (price * value + 50) // 100  # percent_of; both databases truncate integer division
        else:
            amount = case((price < value, price), else_=value)
        scope = []
        if promotion.product_id is not None:
            scope.append(source.c.id == promotion.product_id)
        if promotion.category_id is not None:
            scope.append(source.c.category_id == promotion.category_id)
        amounts.append(case((and_(*scope), amount), else_=0) if scope else amount)
    if not amounts:
        return price
    # SQLite's multi-argument max() is its GREATEST (a leading 0 keeps it multi-argument).
    greatest = func.greatest if is_postgresql(connection) else func.max
    return price - greatest(literal(0), *amounts)
