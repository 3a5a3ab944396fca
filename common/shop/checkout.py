"""The checkout screen: a customer's cart priced, with the addresses and choices checkout offers.

Totals, in the contract's order: each available line is unit price (after catalog
promotions) × quantity; subtotal = sum of available lines; discount = the best applicable
checkout promotion (never above the subtotal); total = subtotal − discount + the chosen
delivery option's fee. A line is unavailable when its product is inactive or has less
stock than the quantity; it is listed, left out of the totals and explained in `issues`.
With nothing available there is nothing to deliver, so no delivery fee either.
Home's cart badge and the answers of cart changes (common.shop.cart) are priced here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, select

from common.clock import utcnow
from common.db.transactions import read
from common.models import cart_items, carts, customer_addresses, products
from common.shop.pricing import Promotion, card_price, load_active_promotions, order_discount
from common.shop.schemas import (
    Address,
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
PAYMENT_METHODS = (
    PaymentMethod(id="cash_on_delivery", name="Cash on delivery", name_ar="الدفع عند الاستلام"),
    PaymentMethod(id="zaincash", name="ZainCash", name_ar="زين كاش"),
    PaymentMethod(id="card", name="Credit or debit card", name_ar="بطاقة ائتمان أو خصم"),
)


@dataclass(frozen=True)
class PricedCart:
    lines: list[CartLine]
    issues: list[CheckoutIssue]
    subtotal: int  # of the available lines
    items_count: int  # units in the cart, available or not


def _line_rows(connection: Connection, customer_id: int) -> list[Row]:
    """The lines of the customer's active cart with what pricing needs of each product."""
    return connection.execute(
        select(
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
        .select_from(carts.join(cart_items, cart_items.c.cart_id == carts.c.id).join(products))
        .where(carts.c.customer_id == customer_id, carts.c.status == "active")
        .order_by(cart_items.c.created_at, cart_items.c.id)
    ).all()


def _issue(row: Row) -> CheckoutIssue | None:
    if not row.is_active:
        return CheckoutIssue(code="unavailable", product_id=row.product_id, message=f"{row.name} is no longer sold")
    if row.stock_quantity <= 0:
        return CheckoutIssue(code="out_of_stock", product_id=row.product_id, message=f"{row.name} is out of stock")
    if row.stock_quantity < row.quantity:
        return CheckoutIssue(
            code="insufficient_stock",
            product_id=row.product_id,
            message=f"Only {row.stock_quantity} of {row.name} in stock; the cart has {row.quantity}",
        )
    return None


def price_cart(rows: Sequence[Row], active: Sequence[Promotion]) -> PricedCart:
    lines, issues = [], []
    for row in rows:
        unit = card_price(row.price, row.product_id, row.category_id, active).price
        issue = _issue(row)
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


def _totals(priced: PricedCart, active: Sequence[Promotion], delivery: DeliveryOptionId) -> tuple[Totals, int | None]:
    """The totals and the id of the checkout promotion they include."""
    promotion, discount = order_discount(priced.subtotal, active)
    fee = DELIVERY_OPTIONS[delivery].fee if any(line.is_available for line in priced.lines) else 0
    totals = Totals(
        subtotal=priced.subtotal, discount=discount, delivery_fee=fee, total=priced.subtotal - discount + fee
    )
    return totals, promotion.id if promotion else None


def _cart(priced: PricedCart, totals: Totals) -> Cart:
    return Cart(items=priced.lines, **totals.model_dump())


def cart_badge(connection: Connection, customer_id: int, active: Sequence[Promotion]) -> CartBadge:
    """Home's cart summary: units in the cart and the subtotal checkout would show."""
    priced = price_cart(_line_rows(connection, customer_id), active)
    return CartBadge(items_count=priced.items_count, total=priced.subtotal)


def current_cart(connection: Connection, customer_id: int, now: datetime) -> tuple[Cart, PricedCart]:
    """The cart as it stands in the caller's transaction (a cart change's), priced for the default delivery."""
    active = load_active_promotions(connection, now)
    priced = price_cart(_line_rows(connection, customer_id), active)
    return _cart(priced, _totals(priced, active, DEFAULT_DELIVERY)[0]), priced


def checkout(customer_id: int, delivery: DeliveryOptionId = DEFAULT_DELIVERY) -> Checkout:
    with read() as connection:
        active = load_active_promotions(connection, utcnow())
        priced = price_cart(_line_rows(connection, customer_id), active)
        addresses = connection.execute(
            select(customer_addresses)
            .where(customer_addresses.c.customer_id == customer_id)
            .order_by(customer_addresses.c.is_default.desc(), customer_addresses.c.id)
        ).all()
    totals, applied = _totals(priced, active, delivery)
    return Checkout(
        cart=_cart(priced, totals),
        addresses=[Address.model_validate(address) for address in addresses],
        payment_methods=list(PAYMENT_METHODS),
        delivery_options=list(DELIVERY_OPTIONS.values()),
        promotions=[
            CheckoutPromotion(**asdict(p), applicable=p.applicable_to_order(priced.subtotal), applied=p.id == applied)
            for p in active
            if p.applies_to == "checkout"
        ],
        summary=totals,
        issues=priced.issues,
    )
