"""The checkout screen: a customer's cart priced, with the addresses and choices checkout offers.

Totals, in the contract's order: each available line is unit price (after catalog
promotions) × quantity; subtotal = sum of available lines; discount = the best applicable
checkout promotion (never above the subtotal); total = subtotal − discount + the chosen
delivery option's fee. A line is unavailable when its product is inactive or has less
stock than the quantity (the stock Zoho reported, less the units reserved for placed orders
that Zoho does not count yet); it is listed, left out of the totals and explained in `issues`.
With nothing available there is nothing to deliver, so no delivery fee either. A promotion
code applied to the cart (common.shop.promo_codes) makes its promotion one of the candidates.
The answer carries a `checkout_token`: what it showed, which an order compares with that
instant's prices (common.shop.orders). Home's cart badge and the answers of cart changes
(common.shop.cart) are priced here too.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, select

from common.clock import utcnow
from common.db.transactions import read
from common.models import cart_items, carts, products
from common.products.reservations import held_units
from common.shop.addresses import customer_addresses
from common.shop.pricing import Promotion, card_price, load_active_promotions, order_discount
from common.shop.schemas import (
    Cart,
    CartBadge,
    CartLine,
    Checkout,
    CheckoutIssue,
    CheckoutPromotion,
    DeliveryOption,
    DeliveryOptionId,
    PaymentMethod,
    Totals,
)

DELIVERY_OPTIONS = {
    option.id: option
    for option in (
        DeliveryOption(id="standard", name="Standard delivery", name_ar="توصيل عادي", fee=5_000, estimated_days="2-4"),
        DeliveryOption(id="express", name="Express delivery", name_ar="توصيل سريع", fee=10_000, estimated_days="1"),
        DeliveryOption(id="pickup", name="Pick up at a branch", name_ar="الاستلام من الفرع", fee=0, estimated_days="0"),
    )
}
DEFAULT_DELIVERY: DeliveryOptionId = "standard"
# Cash on delivery is the one method the back end can take today: an online method is listed
# only once a payment provider is configured for it (none is yet).
PAYMENT_METHODS = (PaymentMethod(id="cash_on_delivery", name="Cash on delivery", name_ar="الدفع عند الاستلام"),)


@dataclass(frozen=True)
class PricedCart:
    lines: list[CartLine]
    issues: list[CheckoutIssue]
    subtotal: int  # of the available lines
    items_count: int  # units in the cart, available or not


# What pricing a cart line needs of the line and its product (price_cart reads these names).
CART_LINE_COLUMNS = (
    cart_items.c.id,
    cart_items.c.product_id,
    cart_items.c.quantity,
    products.c.name,
    products.c.image_url,
    products.c.price,
    products.c.category_id,
    products.c.stock_quantity,
    products.c.is_active,
)


def _line_rows(connection: Connection, customer_id: int) -> list[Row]:
    """The lines of the customer's active cart with what pricing needs of each product, the units
    held of it for placed orders (`held`) and the cart's promotion code, in one statement."""
    return connection.execute(
        select(
            carts.c.promo_code,
            held_units(products.c.id).label("held"),
            *CART_LINE_COLUMNS,
        )
        .select_from(carts.join(cart_items, cart_items.c.cart_id == carts.c.id).join(products))
        .where(carts.c.customer_id == customer_id, carts.c.status == "active")
        .order_by(cart_items.c.created_at, cart_items.c.id)
    ).all()


def _issue(row: Row, available: int) -> CheckoutIssue | None:
    if not row.is_active:
        return CheckoutIssue(code="unavailable", product_id=row.product_id, message=f"{row.name} is no longer sold")
    if available <= 0:
        return CheckoutIssue(code="out_of_stock", product_id=row.product_id, message=f"{row.name} is out of stock")
    if available < row.quantity:
        return CheckoutIssue(
            code="insufficient_stock",
            product_id=row.product_id,
            message=f"Only {available} of {row.name} in stock; the cart has {row.quantity}",
        )
    return None


def line_rows(connection: Connection, customer_id: int) -> tuple[list[Row], dict[int, int]]:
    """The cart's lines, and the units of their products held for placed orders."""
    rows = _line_rows(connection, customer_id)
    return rows, {row.product_id: row.held for row in rows}


def price_cart(rows: Sequence[Row], active: Sequence[Promotion], held: Mapping[int, int]) -> PricedCart:
    """The lines priced; `held` are the units of each product reserved for placed orders."""
    lines, issues = [], []
    for row in rows:
        unit = card_price(row.price, row.product_id, row.category_id, active).price
        issue = _issue(row, row.stock_quantity - held.get(row.product_id, 0))
        if issue:
            issues.append(issue)
        lines.append(
            CartLine(
                id=row.id,
                product_id=row.product_id,
                product_name=row.name,
                product_image=row.image_url,
                quantity=row.quantity,
                price=unit,
                subtotal=unit * row.quantity,
                is_available=issue is None,
            )
        )
    subtotal = sum(line.subtotal for line in lines if line.is_available)
    return PricedCart(lines, issues, subtotal, sum(line.quantity for line in lines))


def totals_of(
    priced: PricedCart, active: Sequence[Promotion], delivery: DeliveryOptionId, code: str | None
) -> tuple[Totals, Promotion | None]:
    """The totals and the checkout promotion they include."""
    promotion, discount = order_discount(priced.subtotal, active, code)
    fee = DELIVERY_OPTIONS[delivery].fee if any(line.is_available for line in priced.lines) else 0
    totals = Totals(
        subtotal=priced.subtotal, discount=discount, delivery_fee=fee, total=priced.subtotal - discount + fee
    )
    return totals, promotion


def checkout_token(priced: PricedCart, totals: Totals, code: str | None) -> str:
    """What a checkout showed, as a token the app echoes when it orders: each line's product,
    quantity, unit price and availability, the discount and the code."""
    seen = {
        "lines": [[line.product_id, line.quantity, line.price, line.is_available] for line in priced.lines],
        "discount": totals.discount,
        "code": code,
    }
    return base64.urlsafe_b64encode(json.dumps(seen, separators=(",", ":")).encode()).decode().rstrip("=")


def read_checkout_token(token: str) -> dict | None:
    """A checkout_token's content; None when it is not one."""
    try:
        seen = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return None
    valid = isinstance(seen, dict) and isinstance(seen.get("lines"), list) and isinstance(seen.get("discount"), int)
    return seen if valid else None


def cart_code(connection: Connection, customer_id: int, rows: Sequence[Row]) -> str | None:
    """The promotion code applied to the customer's active cart (its lines carry it; an empty
    cart is asked)."""
    if rows:
        return rows[0].promo_code
    return connection.execute(
        select(carts.c.promo_code).where(carts.c.customer_id == customer_id, carts.c.status == "active")
    ).scalar()


def _cart(priced: PricedCart, totals: Totals, code: str | None) -> Cart:
    return Cart(items=priced.lines, promo_code=code, **totals.model_dump())


def cart_badge(connection: Connection, customer_id: int, active: Sequence[Promotion]) -> CartBadge:
    """Home's cart summary: units in the cart and the subtotal checkout would show."""
    rows, held = line_rows(connection, customer_id)
    priced = price_cart(rows, active, held)
    return CartBadge(items_count=priced.items_count, total=priced.subtotal)


def current_cart(connection: Connection, customer_id: int, now: datetime) -> tuple[Cart, PricedCart]:
    """The cart as it stands in the caller's transaction (a cart change's), priced for the default delivery."""
    active = load_active_promotions(connection, now)
    rows, held = line_rows(connection, customer_id)
    priced = price_cart(rows, active, held)
    code = cart_code(connection, customer_id, rows)
    return _cart(priced, totals_of(priced, active, DEFAULT_DELIVERY, code)[0], code), priced


def checkout(customer_id: int, delivery: DeliveryOptionId = DEFAULT_DELIVERY) -> Checkout:
    with read() as connection:
        active = load_active_promotions(connection, utcnow())
        rows, held = line_rows(connection, customer_id)
        priced = price_cart(rows, active, held)
        code = cart_code(connection, customer_id, rows)
        addresses = customer_addresses(connection, customer_id)
    totals, applied = totals_of(priced, active, delivery, code)
    return Checkout(
        cart=_cart(priced, totals, code),
        addresses=addresses,
        payment_methods=list(PAYMENT_METHODS),
        delivery_options=list(DELIVERY_OPTIONS.values()),
        promotions=[
            CheckoutPromotion(
                **asdict(p),
                applicable=p.applicable_to_order(priced.subtotal),
                applied=applied is not None and p.id == applied.id,
            )
            for p in active
            if p.applies_to == "checkout" and p.code in (None, code)
        ],
        summary=totals,
        issues=priced.issues,
        checkout_token=checkout_token(priced, totals, code),
    )
