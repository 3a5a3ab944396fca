"""The cart and checkout: pricing a customer's cart, and changing its lines safely under double taps.

Totals, in the contract's order: each available line is unit price (after catalog
promotions) × quantity; subtotal = sum of available lines; discount = the best applicable
checkout promotion (never above the subtotal); total = subtotal − discount + the chosen
delivery option's fee. A line is unavailable when its product is inactive or has less
stock than the quantity; it is listed, left out of the totals and explained in `issues`.
With nothing available there is nothing to deliver, so no delivery fee either.

Changes: one active cart per customer (the partial unique index uq_carts_active_customer),
created with INSERT ... ON CONFLICT DO NOTHING; the cart row is then locked (an UPDATE of
its updated_at: a row lock on PostgreSQL, and SQLite's write transactions are serial
already) so that two changes of one customer take turns; a line changes with one atomic
upsert on (cart_id, product_id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, select, text, update

from common.db import insert, read, utcnow, write
from common.errors import Conflict, NotFound
from common.events import outbox
from common.events.outbox import Event
from common.models import cart_items, carts, customer_addresses, products
from common.shop.pricing import Promotion, card_price, load_active_promotions, order_discount
from common.shop.schemas import (
    MAX_QUANTITY,
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


# --- Changes -------------------------------------------------------------------------------


def _require_active_product(connection: Connection, product_id: int) -> None:
    row = connection.execute(select(products.c.is_active).where(products.c.id == product_id)).first()
    if row is None:
        raise NotFound("Product not found")
    if not row.is_active:
        raise Conflict("Product is no longer sold")


def _lock_cart(connection: Connection, customer_id: int, now: datetime) -> int | None:
    """The id of the customer's active cart, row-locked until the transaction ends (None: no cart)."""
    return connection.execute(
        update(carts)
        .where(carts.c.customer_id == customer_id, carts.c.status == "active")
        .values(updated_at=now)
        .returning(carts.c.id)
    ).scalar_one_or_none()


def _current_cart(connection: Connection, customer_id: int, now: datetime) -> tuple[Cart, PricedCart]:
    """The cart as it stands inside the changing transaction, priced for the default delivery."""
    active = load_active_promotions(connection, now)
    priced = price_cart(_line_rows(connection, customer_id), active)
    return _cart(priced, _totals(priced, active, DEFAULT_DELIVERY)[0]), priced


def _changed_cart(
    connection: Connection, customer_id: int, cart_id: int, product_id: int, quantity: int, now: datetime
) -> Cart:
    """The cart after a change; its cart.changed event (the line's new quantity, 0 when removed)
    is written in the changing transaction."""
    cart, priced = _current_cart(connection, customer_id, now)
    outbox.write(
        connection,
        [Event("cart.changed", "cart", cart_id,
               {"customer_id": customer_id, "product_id": product_id, "quantity": quantity,
                "items_count": priced.items_count, "subtotal": priced.subtotal})],
        now,
    )  # fmt: skip
    return cart


def add_item(customer_id: int, product_id: int, quantity: int) -> Cart:
    """Add `quantity` to the product's line (created when missing); the sum must stay ≤ 999."""
    with write() as connection:
        _require_active_product(connection, product_id)
        now = utcnow()
        connection.execute(
            insert(connection, carts)
            .values(customer_id=customer_id, status="active", created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=[carts.c.customer_id], index_where=text("status = 'active'"))
        )
        cart_id = _lock_cart(connection, customer_id, now)
        upsert = insert(connection, cart_items).values(
            cart_id=cart_id, product_id=product_id, quantity=quantity, created_at=now, updated_at=now
        )
        summed = cart_items.c.quantity + upsert.excluded.quantity
        changed = connection.execute(
            upsert.on_conflict_do_update(
                index_elements=[cart_items.c.cart_id, cart_items.c.product_id],
                set_={"quantity": summed, "updated_at": now},
                where=summed <= MAX_QUANTITY,
            ).returning(cart_items.c.quantity)
        ).first()
        if changed is None:  # a valid request, but not on top of what the cart holds now
            raise Conflict(f"The cart would hold more than {MAX_QUANTITY} of this product")
        return _changed_cart(connection, customer_id, cart_id, product_id, changed.quantity, now)


def set_quantity(customer_id: int, product_id: int, quantity: int) -> Cart:
    """Set the quantity of a product already in the cart."""
    with write() as connection:
        _require_active_product(connection, product_id)
        now = utcnow()
        cart_id = _lock_cart(connection, customer_id, now)
        line = (cart_items.c.cart_id == cart_id, cart_items.c.product_id == product_id)
        stored = connection.execute(select(cart_items.c.quantity).where(*line)).scalar()
        if stored is None:
            raise NotFound("Product is not in the cart")
        if stored == quantity:  # nothing changes: no write, no event
            return _current_cart(connection, customer_id, now)[0]
        connection.execute(update(cart_items).where(*line).values(quantity=quantity, updated_at=now))
        return _changed_cart(connection, customer_id, cart_id, product_id, quantity, now)


def remove_item(customer_id: int, product_id: int) -> Cart:
    """Take a product's line out of the cart (inactive products too: that is how a customer clears them)."""
    with write() as connection:
        now = utcnow()
        cart_id = _lock_cart(connection, customer_id, now)
        removed = connection.execute(
            cart_items.delete().where(cart_items.c.cart_id == cart_id, cart_items.c.product_id == product_id)
        )
        if removed.rowcount == 0:
            raise NotFound("Product is not in the cart")
        return _changed_cart(connection, customer_id, cart_id, product_id, 0, now)
