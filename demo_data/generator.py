"""Deterministic demo and benchmark data: an Iraqi electronics shop's catalogue, customers and history.

`generate(engine, DEMO_SIZE)` fills a database for the local runner;
`python -m demo_data.generator --size bench --replace` builds the benchmark data set.
The fixed words (products, names, places, reviews) come from catalogue.json (demo_data.catalogue).
The same seed gives the same rows. Ids are explicit (1..N), so rows reference each other
without reading generated keys back, and the demo customer is always id 1. Rows go in as
multi-row INSERT ... VALUES chunks: pg8000's executemany sends one statement per row.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate, chain, product
from typing import NamedTuple

from sqlalchemy import Connection, Engine, Table, func, insert, literal, select, text

from common.clock import utcnow
from common.config import ConfigError, get_settings
from common.db.engine import get_engine, is_postgresql
from common.db.statements import insert_rows
from common.db.transactions import write
from common.models import (
    cart_items,
    carts,
    categories,
    customer_addresses,
    customers,
    invoice_lines,
    invoices,
    metadata,
    order_lines,
    order_number_counters,
    order_status_history,
    orders,
    postgresql_metadata,
    product_ratings,
    products,
    promotions,
    reviews,
    search_terms,
    stock_reservations,
)
from common.products.sales import recompute_sales_counts
from common.products.search_index import product_search, vocabulary_rows
from demo_data import catalogue
from demo_data.catalogue import Line, Option


@dataclass(frozen=True)
class DatasetSize:
    products: int
    reviews: int
    customers: int


DEMO_SIZE = DatasetSize(products=240, reviews=1200, customers=30)
# The customer the local runner prints a token for: two addresses and a cart with an unavailable line.
DEMO_CUSTOMER_ID = 1
BENCH_SIZE = DatasetSize(products=100_000, reviews=500_000, customers=10_000)
# Enough products for the featured shelf (10), the demo cart and every category.
MIN_PRODUCTS = 20

# Sales are recounted for at most this many items per statement (bound-parameter limits).
_MAX_PARAMETERS = 30_000
_CDN = "https://cdn.tsh.example"

_RATINGS = (5, 4, 3, 2, 1)
_RATING_CUMULATIVE = (45, 75, 87, 94, 100)  # 45% five stars, 30% four, 12% three, 7% two, 6% one
_REVIEW_TONES = {5: "positive", 4: "positive", 3: "mixed", 2: "negative", 1: "negative"}

# Zoho-style numeric ids, distinct per kind.
_ZOHO_ITEM, _ZOHO_CONTACT, _ZOHO_INVOICE, _ZOHO_CATEGORY, _ZOHO_SALES_ORDER = 1, 2, 3, 4, 5
# The demo customer's past orders: (status, days ago, the statuses it went through).
_DEMO_ORDERS = (
    ("delivered", 30, ("placed", "confirmed", "shipped", "delivered")),
    ("cancelled", 12, ("placed", "cancelled")),
    ("shipped", 3, ("placed", "confirmed", "shipped")),
    ("confirmed", 1, ("placed", "confirmed")),
    ("placed", 0, ("placed",)),
)


def _zoho_id(kind: int, number: int) -> str:
    return f"4602139{kind}{number:011d}"


def _round_iqd(amount: int) -> int:
    """Shelf prices in Iraq end in 250s; nothing is free."""
    return max(250, (amount + 125) // 250 * 250)


def _join(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def _model_code(model: str) -> str:
    """SKU part for a model: tokens with digits kept whole, other words by initial ("Galaxy A55 5G" → GA555G)."""
    tokens = ("".join(filter(str.isalnum, token)) for token in model.split())
    return "".join(token if any(ch.isdigit() for ch in token) else token[:1] for token in tokens).upper()[:8]


class _Product(NamedTuple):
    """What later tables need to know about a generated product."""

    id: int
    name: str
    name_ar: str
    brand: str
    price: int
    is_active: bool
    is_featured: bool
    zoho_item_id: str | None
    created_at: datetime


# --- Generation ----------------------------------------------------------------------------


class _Builder:
    """Rows for each table, in insert order, all drawn from one seeded random stream."""

    def __init__(self, size: DatasetSize, seed: int, now: datetime) -> None:
        self.size = size
        self.rng = random.Random(seed)
        self.now = now
        self.source = catalogue.load()  # the fixed words every row is drawn from
        self.catalog: list[_Product] = []
        self.terms: set[str] = set()  # the typo vocabulary of the products generated so far
        self.zoho_contacts: list[tuple[int, str]] = []
        self.sold_out_id = 0  # an active product out of stock, set with the products
        self.rank: dict[int, int] = {}  # product id -> popularity rank (1 sells best)
        self.sold_item_ids: list[str] = []  # Zoho items on the generated invoices

    def tables(self) -> Iterator[tuple[Table, Iterable[dict]]]:
        # Each table's rows are generated while they are inserted; the next table's rows
        # are built only after that, so they can rely on what came before (and the random
        # stream is drawn in the same order on every run).
        yield categories, self._categories()
        yield products, self._products()
        self._rank_popularity()
        yield search_terms, self._search_terms()
        yield customers, self._customers()
        yield customer_addresses, self._addresses()
        cart_rows, item_rows = self._carts()
        yield carts, cart_rows
        yield cart_items, item_rows
        yield reviews, self._reviews()
        invoice_rows, line_rows = self._invoices()
        yield invoices, invoice_rows
        yield invoice_lines, line_rows
        yield promotions, self._promotions()
        order_rows, line_rows, history_rows, reservation_rows = self._orders()
        yield orders, order_rows
        yield order_lines, line_rows
        yield order_status_history, history_rows
        yield stock_reservations, reservation_rows
        yield order_number_counters, [{"year": self.now.year, "last_value": len(order_rows)}]

    def _ago(self, days: int) -> datetime:
        return self.now - timedelta(seconds=self.rng.randrange(days * 86_400))

    def _after(self, moment: datetime) -> datetime:
        return moment + (self.now - moment) * self.rng.random()

    def _categories(self) -> list[dict]:
        created = self.now - timedelta(days=400)
        return [
            {
                "id": number,
                "zoho_category_id": _zoho_id(_ZOHO_CATEGORY, number),
                "name": category.name,
                "name_ar": category.name_ar,
                "icon": category.icon,
                "sort_order": number * 10,
                "is_active": True,
                "created_at": created,
                "updated_at": created,
            }
            for number, category in enumerate(self.source.categories, 1)
        ]

    def _products(self) -> Iterator[dict]:
        rng, count = self.rng, self.size.products
        ids = range(1, count + 1)
        # Flags are drawn as exact shares so that small data sets still have every kind of product.
        featured = set(rng.sample(ids, max(10, count * 3 // 100)))
        ordinary = [number for number in ids if number not in featured]
        sold_out = rng.sample(ordinary, max(1, count * 8 // 100))
        self.sold_out_id = sold_out[0]  # stays active: the demo cart's unavailable item
        inactive = set(rng.sample([number for number in ordinary if number != self.sold_out_id], count * 3 // 100))
        without_zoho = set(rng.sample(ids, count // 10))
        sold_out_set = set(sold_out)
        kinds = self.source.categories
        combos = [list(product(c.lines, c.options, c.colors)) for c in kinds]
        for variants in combos:
            rng.shuffle(variants)
        positions, weights = range(len(kinds)), list(accumulate(c.weight for c in kinds))
        used = [0] * len(kinds)
        for number in ids:
            # Every category gets a product first; later ones are spread by weight.
            index = number - 1 if number <= len(kinds) else rng.choices(positions, cum_weights=weights)[0]
            variants = combos[index]
            line, option, color = variants[used[index] % len(variants)]
            used[index] += 1
            yield self._product(
                number,
                index,
                line,
                option,
                color,
                featured=number in featured,
                active=number not in inactive,
                in_stock=number not in sold_out_set,
                zoho=number not in without_zoho,
            )

    def _product(
        self,
        number: int,
        category_index: int,
        line: Line,
        option: Option,
        color: str,
        *,
        featured: bool,
        active: bool,
        in_stock: bool,
        zoho: bool,
    ) -> dict:
        rng, source, category = self.rng, self.source, self.source.categories[category_index]
        brand_ar, brand_code = source.brands[line.brand]
        color_ar, color_code = source.colors[color]
        model_ar = source.model_ar(line.model)
        noun_ar = line.noun_ar or category.noun_ar
        name = _join(line.brand, line.model, option.en, color)
        name_ar = _join(noun_ar, brand_ar, model_ar, option.ar, color_ar)
        sku = "-".join((brand_code, _model_code(line.model), option.code, color_code, f"{number:06d}"))
        low, high = category.price_range
        price = min(high, max(low, _round_iqd(line.base_price * option.price_pct * rng.randint(96, 106) // 10_000)))
        (feature, feature_ar), (other, other_ar) = rng.sample(category.features, 2)
        # No boilerplate ("genuine stock, delivered anywhere"): every product would match it.
        description = f"{line.brand} {line.model} with {feature} and {other}."
        description_ar = f"{noun_ar} {brand_ar} {model_ar} مع {feature_ar} و{other_ar}."
        images = [f"{_CDN}/products/{sku}.jpg"] + [
            f"{_CDN}/products/{sku}-{view}.jpg" for view in range(2, rng.randint(1, 3) + 1)
        ]
        created = self._ago(365)
        updated = self._after(created)
        zoho_item_id = _zoho_id(_ZOHO_ITEM, number) if zoho else None
        stock = rng.randint(1, 200) if in_stock else 0
        self.catalog.append(_Product(number, name, name_ar, line.brand, price, active, featured, zoho_item_id, created))
        search = product_search(
            dict(
                name=name,
                name_ar=name_ar,
                sku=sku,
                brand=line.brand,
                description=description,
                description_ar=description_ar,
            )
        )
        self.terms |= search.terms
        return {
            "id": number,
            "zoho_item_id": zoho_item_id,
            "name": name,
            "name_ar": name_ar,
            "sku": sku,
            "description": description,
            "description_ar": description_ar,
            "category_id": category_index + 1,
            "brand": line.brand,
            "unit": "pcs",
            "price": price,
            "cost": _round_iqd(price * rng.randint(75, 90) // 100),
            "stock_quantity": stock,
            "branch_name": rng.choice(source.branches),
            "image_url": images[0],
            "images": images,
            "specifications": {**option.specs, "color": color, "warranty": category.warranty},
            "is_featured": featured,
            "is_active": active,
            "zoho_last_modified": updated if zoho else None,
            "created_at": created,
            "updated_at": updated,
            **search.columns,
        }

    def _search_terms(self) -> list[dict]:
        return vocabulary_rows(sorted(self.terms))

    def _customers(self) -> Iterator[dict]:
        rng, source = self.rng, self.source
        yield self._customer(
            1, "Ahmed Al-Tamimi", "ahmed.altamimi@example.com", "+9647701234567", None, avatar=True, zoho=True
        )
        for number in range(2, self.size.customers + 1):
            (first, first_ar), (family, family_ar) = rng.choice(source.first_names), rng.choice(source.family_names)
            name = f"{first_ar} {family_ar}" if rng.random() < 0.45 else f"{first} {family}"
            email = f"{first}.{family.replace('-', '')}{number}@example.com".lower() if rng.random() < 0.7 else None
            phone = f"+9647{rng.choice('5789')}{rng.randrange(10**8):08d}"
            company = rng.choice(source.companies) if rng.random() < 0.12 else None
            yield self._customer(
                number, name, email, phone, company, avatar=rng.random() < 0.4, zoho=rng.random() < 0.85
            )

    def _customer(
        self, number: int, name: str, email: str | None, phone: str, company: str | None, *, avatar: bool, zoho: bool
    ) -> dict:
        created = self._ago(730)
        updated = self._after(created)
        zoho_contact_id = _zoho_id(_ZOHO_CONTACT, number) if zoho else None
        if zoho_contact_id:
            self.zoho_contacts.append((number, zoho_contact_id))
        return {
            "id": number,
            "zoho_contact_id": zoho_contact_id,
            "name": name,
            "company_name": company,
            "email": email,
            "phone": phone,
            "avatar_url": f"{_CDN}/avatars/{number}.jpg" if avatar else None,
            "is_active": True,
            "zoho_last_modified": updated if zoho else None,
            "created_at": created,
            "updated_at": updated,
        }

    def _addresses(self) -> Iterator[dict]:
        rng = self.rng
        cities = self.source.cities
        names, city_weights = list(cities), [city.weight for city in cities.values()]
        address_id = 0
        for customer_id in range(1, self.size.customers + 1):
            if customer_id == DEMO_CUSTOMER_ID:
                home, work = cities["Baghdad"].districts[:2]
                places = [("Home", "Baghdad", home), ("Work", "Baghdad", work)]
            else:
                places = []
                for label in self.source.address_labels[: rng.randint(1, 3)]:
                    city = rng.choices(names, city_weights)[0]
                    places.append((label, city, rng.choice(cities[city].districts)))
            for position, (label, city, district) in enumerate(places):
                address_id += 1
                yield self._address(address_id, customer_id, label, city, district, default=position == 0)

    def _address(
        self, address_id: int, customer_id: int, label: str, city: str, district: tuple[str, str], *, default: bool
    ) -> dict:
        rng = self.rng
        street, house = rng.randint(1, 60), rng.randint(1, 120)
        landmark, landmark_ar = rng.choice(self.source.landmarks)
        if rng.random() < 0.5:
            address = f"{district[1]}، زقاق {street}، دار {house}، قرب {landmark_ar}"
        else:
            address = f"{district[0]}, Street {street}, House {house}, near {landmark}"
        created = self._ago(365)
        return {
            "id": address_id,
            "customer_id": customer_id,
            "label": label,
            "address": address,
            "city": city,
            "phone": f"+9647{rng.choice('5789')}{rng.randrange(10**8):08d}" if rng.random() < 0.5 else None,
            "is_default": default,
            "created_at": created,
            "updated_at": created,
        }

    def _carts(self) -> tuple[list[dict], list[dict]]:
        """About 30% of customers have an active cart; the demo customer's has one unavailable item."""
        rng = self.rng
        active = [p.id for p in self.catalog if p.is_active]
        featured = sorted(p.id for p in self.catalog if p.is_featured)
        cart_rows, item_rows = [], []
        for customer_id in range(1, self.size.customers + 1):
            if customer_id == DEMO_CUSTOMER_ID:
                lines = [(featured[0], 1), (featured[1], 2), (self.sold_out_id, 1)]
            elif rng.random() < 0.3:
                lines = [(product_id, rng.randint(1, 3)) for product_id in rng.sample(active, rng.randint(1, 5))]
            else:
                continue
            created = self._ago(20)
            cart_id = len(cart_rows) + 1
            items = [
                {"id": len(item_rows) + position, "cart_id": cart_id, "product_id": product_id, "quantity": quantity}
                for position, (product_id, quantity) in enumerate(lines, 1)
            ]
            for item in items:
                item["created_at"] = item["updated_at"] = self._after(created)
            item_rows += items
            cart_rows.append(
                {
                    "id": cart_id,
                    "customer_id": customer_id,
                    "status": "active",
                    "created_at": created,
                    "updated_at": max(item["updated_at"] for item in items),
                }
            )
        return cart_rows, item_rows

    def _orders(self) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
        """The demo customer's orders, one in each status, all already in Zoho (so the sync's
        health stays clean); the placed one still holds its stock."""
        rng = self.rng
        sellable = [p for p in self.catalog if p.is_active and p.zoho_item_id and p.id != self.sold_out_id]
        order_rows, line_rows, history_rows, reservation_rows = [], [], [], []
        for number, (status, days, steps) in enumerate(_DEMO_ORDERS, 1):
            placed_at = self.now - timedelta(days=days, hours=rng.randint(1, 12))
            lines = [(p, rng.randint(1, 2)) for p in rng.sample(sellable, rng.randint(1, 3))]
            subtotal = sum(p.price * quantity for p, quantity in lines)
            order_rows.append(
                {
                    "id": number,
                    "number": f"TSH-{self.now.year}-{number:06d}",
                    "customer_id": DEMO_CUSTOMER_ID,
                    "status": status,
                    "subtotal": subtotal,
                    "discount": 0,
                    "delivery_fee": 5_000,
                    "total": subtotal + 5_000,
                    "currency": "IQD",
                    "address_id": 1,
                    "address_label": "Home",
                    "address_text": "Karrada, Street 12, House 40",
                    "address_city": "Baghdad",
                    "address_phone": None,
                    "delivery_option": "standard",
                    "payment_method": "cash_on_delivery",
                    "note": None,
                    "zoho_salesorder_id": _zoho_id(_ZOHO_SALES_ORDER, number),
                    "zoho_salesorder_number": f"SO-{number:05d}",
                    "zoho_synced_at": placed_at + timedelta(minutes=1),
                    "zoho_push_attempts": 1,
                    "zoho_voided_at": placed_at + timedelta(hours=2) if status == "cancelled" else None,
                    "created_at": placed_at,
                    "updated_at": placed_at + timedelta(hours=len(steps)),
                }
            )
            for p, quantity in lines:
                line_rows.append(
                    {
                        "id": len(line_rows) + 1,
                        "order_id": number,
                        "product_id": p.id,
                        "zoho_item_id": p.zoho_item_id,
                        "product_name": p.name,
                        "quantity": quantity,
                        "price": p.price,
                        "subtotal": p.price * quantity,
                    }
                )
                if status == "placed":
                    reservation_rows.append(
                        {
                            "id": len(reservation_rows) + 1,
                            "order_id": number,
                            "product_id": p.id,
                            "quantity": quantity,
                            "created_at": placed_at,
                        }
                    )
            for step, name in enumerate(steps):
                history_rows.append(
                    {
                        "id": len(history_rows) + 1,
                        "order_id": number,
                        "status": name,
                        "at": placed_at + timedelta(hours=step),
                        "source": "app" if step == 0 else "zoho",
                    }
                )
        return order_rows, line_rows, history_rows, reservation_rows

    def _rank_popularity(self) -> None:
        """Featured products sell best, then the rest in a random order."""
        rest = [p.id for p in self.catalog if not p.is_featured]
        self.rng.shuffle(rest)
        order = [p.id for p in self.catalog if p.is_featured] + rest
        self.rank = {product_id: rank for rank, product_id in enumerate(order, 1)}

    def _popularity(self, chosen: list[_Product]) -> list[float]:
        """Cumulative Zipf-like weights for random.choices: rank r is picked in proportion to r^-0.8."""
        return list(accumulate(self.rank[p.id] ** -0.8 for p in chosen))

    def _reviews(self) -> Iterator[dict]:
        rng, count = self.rng, self.size.reviews
        # Every active product gets a review before popular ones get more, so that the
        # shop's product pages mostly show ratings.
        first_round = [p for p in self.catalog if p.is_active]
        rng.shuffle(first_round)
        first_round = first_round[:count]
        popular = rng.choices(self.catalog, cum_weights=self._popularity(self.catalog), k=count - len(first_round))
        for review_id, reviewed in enumerate(chain(first_round, popular), 1):
            rating = rng.choices(_RATINGS, cum_weights=_RATING_CUMULATIVE)[0]
            texts = self.source.reviews[_REVIEW_TONES[rating]]
            language = 1 if rng.random() < 0.6 else 0  # Arabic more often than English
            yield {
                "id": review_id,
                "product_id": reviewed.id,
                "customer_id": rng.randint(1, self.size.customers),
                "rating": rating,
                "title": rng.choice(texts.titles)[language],
                "comment": rng.choice(texts.comments)[language] if rng.random() < 0.8 else None,
                "is_approved": rng.random() < 0.85,
                "created_at": self._after(reviewed.created_at),
            }

    def _invoices(self) -> tuple[list[dict], list[dict]]:
        """Zoho invoices over the last year; popular products sell more."""
        rng = self.rng
        sellable = [p for p in self.catalog if p.zoho_item_id]
        popularity = self._popularity(sellable)
        today = self.now.date()
        invoice_rows, line_rows = [], []
        for invoice_id in range(1, max(20, self.size.products // 5) + 1):
            customer_id, zoho_customer_id = rng.choice(self.zoho_contacts)
            created = self._ago(365)
            due = created.date() + timedelta(days=rng.choice((0, 15, 30)))
            bought = {p.id: p for p in rng.choices(sellable, cum_weights=popularity, k=rng.randint(1, 4))}
            total = 0
            for item in bought.values():
                quantity = rng.randint(1, 5)
                total += item.price * quantity
                line_rows.append(
                    {
                        "id": len(line_rows) + 1,
                        "invoice_id": invoice_id,
                        "zoho_item_id": item.zoho_item_id,
                        "name": item.name,
                        "quantity": quantity,
                        "rate": item.price,
                        "total": item.price * quantity,
                    }
                )
            paid = rng.random() < 0.65
            updated = self._after(created)
            invoice_rows.append(
                {
                    "id": invoice_id,
                    "zoho_invoice_id": _zoho_id(_ZOHO_INVOICE, invoice_id),
                    "invoice_number": f"INV-{invoice_id:06d}",
                    "zoho_customer_id": zoho_customer_id,
                    "customer_id": customer_id,
                    "date": created.date(),
                    "due_date": due,
                    "total": total,
                    "balance": 0 if paid else total,
                    "status": "paid" if paid else "sent" if due >= today else "overdue",
                    "currency_code": "IQD",
                    "is_active": True,
                    "zoho_last_modified": updated,
                    "created_at": created,
                    "updated_at": updated,
                }
            )
        self.sold_item_ids = sorted({line["zoho_item_id"] for line in line_rows})
        return invoice_rows, line_rows

    def _promotions(self) -> list[dict]:
        now, day = self.now, timedelta(days=1)
        on_sale = min((p for p in self.catalog if p.is_featured), key=lambda p: abs(p.price - 400_000))
        category_id = self.source.category_id
        phones, headphones = category_id("Smartphones"), category_id("Headphones")
        laptops, watches = category_id("Laptops"), category_id("Smart Watches")
        rows = [
            _promotion(
                "phone-week",
                "Phone Week: 10% off smartphones",
                "عروض الهواتف",
                "10% off every smartphone for two weeks.",
                "percentage",
                10,
                now - 3 * day,
                now + 11 * day,
                category_id=phones,
            ),
            _promotion(
                "deal-of-the-week",
                f"25,000 IQD off {on_sale.name}",
                f"خصم 25,000 دينار على {on_sale.name_ar}",
                "This week's featured deal.",
                "fixed",
                25_000,
                now - day,
                now + 6 * day,
                product_id=on_sale.id,
            ),
            _promotion(
                "headphones-15",
                "15% off headphones",
                "خصم 15% على السماعات",
                "Wireless headphones and earbuds at 15% off.",
                "percentage",
                15,
                now - 5 * day,
                now + 20 * day,
                category_id=headphones,
            ),
            _promotion(
                "ramadan-sale",
                "Ramadan Sale: 20% off everything",
                "تخفيضات رمضان: خصم 20% على كل المنتجات",
                "The Ramadan sale has ended.",
                "percentage",
                20,
                now - 40 * day,
                now - 10 * day,
            ),
            _promotion(
                "back-to-school",
                "Back to School: 12% off laptops",
                "العودة إلى المدارس: خصم 12% على الحواسيب",
                "Laptops for students, starting next week.",
                "percentage",
                12,
                now + 7 * day,
                now + 21 * day,
                category_id=laptops,
            ),
            _promotion(
                "watch-clearance",
                "Smart watch clearance: 30% off",
                "تصفية الساعات الذكية: خصم 30%",
                "Paused by the marketing team.",
                "percentage",
                30,
                now - 2 * day,
                now + 12 * day,
                category_id=watches,
                is_active=False,
            ),
            _promotion(
                "big-basket",
                "5% off orders over 500,000 IQD",
                "خصم 5% على الطلبات فوق 500,000 دينار",
                "Applied at checkout.",
                "percentage",
                5,
                now - 10 * day,
                now + 50 * day,
                applies_to="checkout",
                min_purchase=500_000,
            ),
            _promotion(
                "welcome-10k",
                "10,000 IQD off orders over 250,000 IQD",
                "خصم 10,000 دينار على الطلبات فوق 250,000 دينار",
                "For the first 1,000 orders.",
                "fixed",
                10_000,
                now - 10 * day,
                now + 30 * day,
                applies_to="checkout",
                min_purchase=250_000,
                max_uses=1000,
                used_count=10,
            ),
            _promotion(
                "launch-voucher",
                "Launch voucher: 15,000 IQD off",
                "قسيمة الافتتاح: خصم 15,000 دينار",
                "All vouchers have been used.",
                "fixed",
                15_000,
                now - 20 * day,
                now + 10 * day,
                applies_to="checkout",
                min_purchase=100_000,
                max_uses=5,
                used_count=5,
            ),
            _promotion(
                "welcome-code",
                "WELCOME10: 10,000 IQD off orders over 25,000 IQD",
                "WELCOME10: خصم 10,000 دينار على الطلبات فوق 25,000 دينار",
                "Enter the code at checkout; once per customer.",
                "fixed",
                10_000,
                now - 5 * day,
                now + 60 * day,
                applies_to="checkout",
                min_purchase=25_000,
                code="WELCOME10",
            ),
        ]
        created = now - 45 * day
        return [
            {"id": number, **row, "created_at": created, "updated_at": created} for number, row in enumerate(rows, 1)
        ]


def _promotion(
    slug: str,
    title: str,
    title_ar: str,
    description: str,
    discount_type: str,
    discount_value: int,
    starts_at: datetime,
    ends_at: datetime,
    *,
    applies_to: str = "catalog",
    product_id: int | None = None,
    category_id: int | None = None,
    min_purchase: int = 0,
    max_uses: int | None = None,
    used_count: int = 0,
    is_active: bool = True,
    code: str | None = None,
) -> dict:
    return {
        "title": title,
        "title_ar": title_ar,
        "description": description,
        "banner_url": f"{_CDN}/banners/{slug}.jpg",
        "applies_to": applies_to,
        "discount_type": discount_type,
        "discount_value": discount_value,
        "product_id": product_id,
        "category_id": category_id,
        "min_purchase": min_purchase,
        "max_uses": max_uses,
        "used_count": used_count,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "is_active": is_active,
        "code": code,
    }


def _delete_everything(connection: Connection) -> None:
    tables = list(reversed(metadata.sorted_tables))
    if is_postgresql(connection):
        # One TRUNCATE of everything: deleting the benchmark data set row by row, with its
        # foreign-key checks, takes minutes.
        everything = [*tables, *postgresql_metadata.sorted_tables]
        names = ", ".join(connection.dialect.identifier_preparer.format_table(table) for table in everything)
        connection.execute(text(f"TRUNCATE TABLE {names}"))
    else:
        for table in tables:
            connection.execute(table.delete())


def _reset_sequences(connection: Connection, tables: Iterable[Table]) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move each past its table's highest id."""
    for table in tables:
        if "id" in table.c:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                )
            )


@contextmanager
def _triggers_off(connection: Connection, table: Table) -> Iterator[None]:
    """The table's own triggers do not fire inside the block (its transaction's), whose caller
    brings up to date what they maintain. A rollback undoes this like the rest."""
    if is_postgresql(connection):
        connection.execute(text(f"ALTER TABLE {table.name} DISABLE TRIGGER USER"))
        yield
        connection.execute(text(f"ALTER TABLE {table.name} ENABLE TRIGGER USER"))
        return
    # SQLite cannot disable a trigger: each is dropped and created again from its own definition.
    triggers = connection.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"),
        {"table": table.name},
    ).all()
    for name, _ in triggers:
        connection.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _, definition in triggers:
        connection.execute(text(definition))


def _sum_ratings(connection: Connection) -> None:
    """What the triggers on reviews would have written, in one statement (product_ratings is empty)."""
    connection.execute(
        insert(product_ratings).from_select(
            ["product_id", "approved_count", "rating_sum"],
            select(reviews.c.product_id, func.count(), func.sum(reviews.c.rating))
            .where(reviews.c.is_approved)
            .group_by(reviews.c.product_id),
        )
    )


def generate(engine: Engine, size: DatasetSize, *, seed: int = 7, replace: bool = False) -> dict[str, int | float]:
    """Fill the database with generated data in one transaction; returns rows per table and the time taken.

    Refuses (RuntimeError) in production, before touching the database, and (ValueError)
    when a table it fills has rows and `replace` is False; `replace=True` first deletes
    every row of every table.
    """
    if get_settings().is_production:
        raise RuntimeError("refusing to generate data in production (APP_ENV=production)")
    if size.products < MIN_PRODUCTS or size.customers < 1 or size.reviews < 0:
        raise ValueError(f"a data set needs at least {MIN_PRODUCTS} products and 1 customer, got {size}")
    started = time.perf_counter()
    builder = _Builder(size, seed, utcnow())
    summary: dict[str, int | float] = {}
    # Held off, the triggers on reviews do not cost the benchmark data set's 500,000 reviews
    # about 25 s on PostgreSQL (85 s instead of 60); one grouped INSERT after them takes a second.
    with write(engine) as connection, _triggers_off(connection, reviews):
        if replace:
            _delete_everything(connection)
        filled = []
        for table, rows in builder.tables():
            # Explicit ids would collide with any existing row (Zoho-synced invoices, say).
            if not replace and connection.execute(select(literal(1)).select_from(table).limit(1)).first():
                raise ValueError(f"the database already has {table.name}; pass replace=True (--replace) to wipe it")
            summary[table.name] = insert_rows(connection, table, rows)
            filled.append(table)
        _sum_ratings(connection)
        # Only sold items: the rest were inserted with sales_count 0, and rewriting every
        # product row costs the benchmark data set 20 s on PostgreSQL.
        sold = builder.sold_item_ids
        for start in range(0, len(sold), _MAX_PARAMETERS):
            recompute_sales_counts(connection, sold[start : start + _MAX_PARAMETERS])
        if is_postgresql(connection):
            _reset_sequences(connection, filled)
    summary["elapsed_seconds"] = round(time.perf_counter() - started, 2)
    return summary


def _parse_size(value: str) -> DatasetSize:
    presets = {"demo": DEMO_SIZE, "bench": BENCH_SIZE}
    if value in presets:
        return presets[value]
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("expected demo, bench or a number of products") from None
    # The demo's proportions: five reviews per product, a customer per ten products.
    return DatasetSize(products=count, reviews=5 * count, customers=max(DEMO_SIZE.customers, count // 10))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo_data.generator", description="Fill the configured database with generated shop data."
    )
    parser.add_argument("--size", type=_parse_size, default=DEMO_SIZE, help="demo (default), bench or a product count")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--replace", action="store_true", help="delete ALL rows first (refused in production)")
    args = parser.parse_args(argv)
    try:
        # generate() refuses production itself, before it connects.
        summary = generate(get_engine(), args.size, seed=args.seed, replace=args.replace)
    except (ConfigError, RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
