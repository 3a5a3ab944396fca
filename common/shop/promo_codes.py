"""Promotion codes: a customer applies a checkout promotion's code to the cart, or removes it.

A code is checked when it is applied (422 `promo_code_invalid` with the reason) and again when
the order is placed (common.shop.orders), since dates, uses and the cart change in between:
unknown, inactive, not started, ended, no uses left, below its minimum purchase, or already
used by this customer (once per customer; a cancelled order gives the use back).
Codes are compared upper case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Row, exists, select, text, update

from common.clock import utcnow
from common.db.statements import insert
from common.db.transactions import write
from common.errors import PromoCodeInvalid
from common.models import carts, promotion_redemptions, promotions
from common.shop.checkout import current_cart
from common.shop.schemas import Cart


def normalised(code: str) -> str:
    return code.strip().upper()


def find_code(connection: Connection, code: str) -> Row | None:
    """The checkout promotion carrying this code, whatever its dates (None: no such code)."""
    return connection.execute(
        select(promotions).where(promotions.c.code == normalised(code), promotions.c.applies_to == "checkout")
    ).first()


def code_problem(
    connection: Connection, promotion: Row | None, customer_id: int, subtotal: int, now: datetime
) -> str | None:
    """Why the customer cannot use this code on a cart of `subtotal` dinars now (None: they can)."""
    if promotion is None:
        return "unknown code"
    if not promotion.is_active or promotion.ends_at <= now:
        return "the code has expired"
    if promotion.starts_at > now:
        return "the code is not valid yet"
    if promotion.max_uses is not None and promotion.used_count >= promotion.max_uses:
        return "the code has been used up"
    if subtotal < promotion.min_purchase:
        return f"the code needs a purchase of at least {promotion.min_purchase} IQD"
    used = connection.execute(
        select(
            exists().where(
                promotion_redemptions.c.promotion_id == promotion.id, promotion_redemptions.c.customer_id == customer_id
            )
        )
    ).scalar()
    return "the code was already used on an earlier order" if used else None


def apply_code(customer_id: int, code: str) -> Cart:
    with write() as connection:
        now = utcnow()
        connection.execute(
            insert(connection, carts)
            .values(customer_id=customer_id, status="active", created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=[carts.c.customer_id], index_where=text("status = 'active'"))
        )
        _, priced = current_cart(connection, customer_id, now)
        problem = code_problem(connection, find_code(connection, code), customer_id, priced.subtotal, now)
        if problem:
            raise PromoCodeInvalid(f"Promotion code {normalised(code)}: {problem}")
        _set_code(connection, customer_id, normalised(code), now)
        return current_cart(connection, customer_id, now)[0]


def remove_code(customer_id: int) -> Cart:
    with write() as connection:
        now = utcnow()
        _set_code(connection, customer_id, None, now)
        return current_cart(connection, customer_id, now)[0]


def _set_code(connection: Connection, customer_id: int, code: str | None, now: datetime) -> None:
    connection.execute(
        update(carts)
        .where(carts.c.customer_id == customer_id, carts.c.status == "active")
        .values(promo_code=code, updated_at=now)
    )
