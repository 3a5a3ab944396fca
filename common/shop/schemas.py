"""Pydantic models of every mobile request, query and answer; the OpenAPI document is built from them.

Money is whole Iraqi dinars (int). Timestamps are UTC. Query models see the raw query
string values, so numbers and booleans are parsed from text (lax); JSON bodies are strict.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from common.validation import MAX_ID, json_integer

MAX_QUANTITY = 999

Iqd = Annotated[int, Field(description="Whole Iraqi dinars", examples=[125_000])]
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
Quantity = json_integer(1, MAX_QUANTITY, description="How many, 1..999", examples=[1])
Currency = Literal["IQD"]
SearchSort = Literal["relevance", "price_asc", "price_desc", "newest"]
DeliveryOptionId = Literal["standard", "express", "pickup"]


class ProductCard(BaseModel):
    """A product as every list shows it."""

    id: int
    name: str
    name_ar: str | None
    price: Iqd = Field(description="After the best active catalog promotion")
    original_price: Iqd = Field(description="The list price")
    discount: int | None = Field(description="The promotion's percentage off, null without a promotion", examples=[10])
    image: str | None
    in_stock: bool
    rating: float | None = Field(description="Average approved rating, one decimal; null without reviews")
    review_count: int = Field(description="Approved reviews")


# --- Home ----------------------------------------------------------------------------------


class PromotionBanner(BaseModel):
    id: int
    title: str
    title_ar: str | None
    description: str | None
    banner_url: str | None
    discount_percentage: int | None = Field(description="Null for a fixed-amount promotion")
    valid_until: dt.datetime


class CategoryTile(BaseModel):
    id: int
    name: str
    name_ar: str | None
    icon: str | None
    product_count: int = Field(description="Active products in the category")


class CustomerProfile(BaseModel):
    id: int
    name: str
    avatar: str | None
    phone: str | None


class CartBadge(BaseModel):
    items_count: int = Field(description="Units in the cart (sum of quantities)")
    total: Iqd = Field(description="Subtotal of the lines that can be ordered now")
    currency: Currency = "IQD"


class HomeScreen(BaseModel):
    featured_products: list[ProductCard]
    best_sellers: list[ProductCard]
    new_arrivals: list[ProductCard]
    promotions: list[PromotionBanner]
    categories: list[CategoryTile]
    customer: CustomerProfile | None = Field(description="Only for an authenticated customer")
    cart: CartBadge | None = Field(description="Only for an authenticated customer")


# --- Product detail ------------------------------------------------------------------------


class Review(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rating: int = Field(ge=1, le=5)
    title: str | None
    comment: str | None
    customer_name: str | None
    created_at: dt.datetime


class ProductDetail(ProductCard):
    description: str | None
    description_ar: str | None
    images: list[str]
    stock_quantity: int
    branch_name: str | None
    specifications: dict[str, object]
    rating_histogram: dict[Literal["1", "2", "3", "4", "5"], int] = Field(
        description="Approved reviews per star", examples=[{"1": 0, "2": 1, "3": 0, "4": 3, "5": 9}]
    )
    reviews: list[Review] = Field(description="The latest approved reviews, newest first (at most 5)")
    related: list[ProductCard] = Field(description="Best sellers of the same category (at most 10)")


# --- Search --------------------------------------------------------------------------------


class SearchQuery(BaseModel):
    q: str | None = Field(None, max_length=200, description="Words to find in name, Arabic name, SKU, description")
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=100)
    category_id: RecordId | None = None
    min_price: Annotated[int, Field(ge=0, le=MAX_ID)] | None = Field(None, description="After promotions, IQD")
    max_price: Annotated[int, Field(ge=0, le=MAX_ID)] | None = Field(None, description="After promotions, IQD")
    in_stock: bool | None = Field(None, description="true: only products in stock")
    sort: SearchSort = "relevance"


class SearchPage(BaseModel):
    query: str
    results: list[ProductCard]
    total_count: int
    page: int
    page_size: int
    has_more: bool


# --- Checkout and cart ---------------------------------------------------------------------


class CustomerScope(BaseModel):
    """The query of a customer-scoped screen: a `customer_id`, when given, must be the token's."""

    customer_id: RecordId | None = Field(None, description="Must be the token's customer when given")


class CheckoutQuery(CustomerScope):
    delivery_option: DeliveryOptionId = "standard"


class CartLine(BaseModel):
    id: int
    product_id: int
    product_name: str
    product_image: str | None
    quantity: int
    price: Iqd = Field(description="Unit price after catalog promotions")
    subtotal: Iqd = Field(description="price × quantity")
    is_available: bool = Field(description="False when inactive or short of stock; then left out of the totals")


class Totals(BaseModel):
    subtotal: Iqd = Field(description="Sum of the available lines")
    discount: Iqd = Field(description="The best applicable checkout promotion, never above the subtotal")
    delivery_fee: Iqd = Field(description="The chosen delivery option's fee; nothing when nothing can be delivered")
    total: Iqd = Field(description="subtotal − discount + delivery_fee")
    currency: Currency = "IQD"


class Cart(Totals):
    items: list[CartLine]
    promo_code: str | None = Field(None, description="The promotion code applied to the cart, if any")


class Address(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    label: str
    address: str
    city: str
    phone: str | None = None
    is_default: bool


class PaymentMethod(BaseModel):
    id: str
    name: str
    name_ar: str


class DeliveryOption(BaseModel):
    id: DeliveryOptionId
    name: str
    name_ar: str
    fee: Iqd
    estimated_days: str = Field(examples=["2-3"])


class CheckoutPromotion(BaseModel):
    id: int
    title: str
    title_ar: str | None
    description: str | None
    discount_type: Literal["percentage", "fixed"]
    discount_value: int = Field(description="Percent, or IQD for a fixed promotion")
    min_purchase: Iqd
    code: str | None = Field(None, description="Set on the promotion of the cart's code")
    applicable: bool = Field(description="Minimum purchase met and uses left")
    applied: bool = Field(description="The one promotion whose discount the totals include")


class CheckoutIssue(BaseModel):
    code: Literal["out_of_stock", "insufficient_stock", "unavailable"]
    product_id: int
    message: str


class Checkout(BaseModel):
    cart: Cart
    addresses: list[Address] = Field(description="Default address first")
    payment_methods: list[PaymentMethod]
    delivery_options: list[DeliveryOption]
    promotions: list[CheckoutPromotion]
    summary: Totals
    issues: list[CheckoutIssue]
    checkout_token: str = Field(
        description="What this answer showed (lines, prices, discount, code); send it with POST /api/mobile/orders "
        "to be told (409 checkout_changed) when any of it changed before the order"
    )


class CartItemAdd(BaseModel):
    product_id: json_integer(1, MAX_ID)
    quantity: Quantity = Field(description="Added to the quantity already in the cart; the sum must stay ≤ 999")


class CartItemQuantity(BaseModel):
    quantity: Quantity


# --- Orders, addresses, promotion codes ------------------------------------------------------

OrderStatus = Literal["placed", "confirmed", "shipped", "delivered", "cancelled"]
PaymentMethodId = Literal["cash_on_delivery"]
ShortText = Annotated[str, Field(min_length=1, max_length=100)]


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address_id: json_integer(1, MAX_ID)
    delivery_option: DeliveryOptionId
    payment_method: PaymentMethodId = Field(description="cash_on_delivery (other methods when configured)")
    note: str | None = Field(None, max_length=500)
    checkout_token: str | None = Field(
        None,
        max_length=20_000,
        description="The checkout answer's checkout_token: the order is refused (409 "
        "checkout_changed) when prices, quantities, the discount or the code differ from what it showed",
    )


class OrderLine(BaseModel):
    product_id: int
    product_name: str
    quantity: int
    price: Iqd
    subtotal: Iqd


class OrderAddress(BaseModel):
    label: str
    address: str
    city: str
    phone: str | None


class OrderZoho(BaseModel):
    salesorder_id: str
    salesorder_number: str | None
    synced_at: dt.datetime | None


class OrderStatusChange(BaseModel):
    status: OrderStatus
    at: dt.datetime


class Order(Totals):
    id: int
    number: str = Field(examples=["TSH-2026-000123"])
    status: OrderStatus
    created_at: dt.datetime
    items: list[OrderLine]
    promo_code: str | None
    address: OrderAddress = Field(description="As it was when the order was placed")
    delivery_option: DeliveryOptionId
    payment_method: str
    note: str | None
    zoho: OrderZoho | None = Field(description="The Zoho sales order, once created")
    timeline: list[OrderStatusChange]


class OrderListQuery(BaseModel):
    cursor: str | None = Field(None, max_length=32, description="next_cursor of the previous page")
    limit: int = Field(20, ge=1, le=100)


class OrderPage(BaseModel):
    orders: list[Order]
    next_cursor: str | None


class OrderProblem(BaseModel):
    code: str = Field(examples=["price_changed", "insufficient_stock", "promo_code_invalid"])
    product_id: int | None = None
    message: str


class AddressList(BaseModel):
    addresses: list[Address]


class AddressCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: ShortText
    address: Annotated[str, Field(min_length=1, max_length=1000)]
    city: ShortText
    phone: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    is_default: StrictBool = False


class AddressChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: ShortText | None = None
    address: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    city: ShortText | None = None
    phone: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    is_default: Literal[True] | None = Field(None, description="true makes it the default; set another to move it")


class PromoCodeApply(BaseModel):
    code: Annotated[str, Field(min_length=1, max_length=32)]
