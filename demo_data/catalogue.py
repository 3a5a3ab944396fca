"""The demo shop's fixed words, read from catalogue.json: what it sells (categories, their product
lines and variants, brands, colours), its branches, and its customers' names, places and reviews.

In catalogue.json, English/Arabic pairs are two-item lists `[English, Arabic]`; prices are IQD;
`price_pct` is an option's price in percent of the line's base price; a category without
`options` has one standard variant. Order matters: generation draws from these lists in order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

Pair = tuple[str, str]  # (English, Arabic)


@dataclass(frozen=True)
class Option:
    """One value of a category's variant axis (storage, wattage, screen size...)."""

    en: str
    ar: str
    code: str  # goes into the SKU
    price_pct: int
    specs: dict[str, str]


STANDARD = (Option("", "", "STD", 100, {}),)  # products without variants


@dataclass(frozen=True)
class Line:
    brand: str
    model: str
    base_price: int  # IQD, for the first option
    noun_ar: str | None  # when the category's noun does not fit (a controller among consoles)


@dataclass(frozen=True)
class Category:
    name: str
    name_ar: str
    icon: str
    noun_ar: str  # the head noun of Arabic product names: "هاتف سامسونج ..."
    price_range: tuple[int, int]
    weight: int  # share of the catalogue
    warranty: str  # goes into the specifications
    features: tuple[Pair, ...]  # two go into each description
    lines: tuple[Line, ...]
    colors: tuple[str, ...]
    options: tuple[Option, ...]


@dataclass(frozen=True)
class City:
    weight: int  # share of the customers' addresses
    districts: tuple[Pair, ...]


@dataclass(frozen=True)
class ReviewTexts:
    titles: tuple[Pair, ...]
    comments: tuple[Pair, ...]


@dataclass(frozen=True)
class Catalogue:
    brands: dict[str, tuple[str, str]]  # brand -> (Arabic spelling, SKU prefix)
    model_words_ar: dict[str, str]  # model-name words Iraqi shops spell in Arabic; the rest stay Latin
    colors: dict[str, tuple[str, str]]  # colour -> (Arabic, SKU code)
    categories: tuple[Category, ...]
    branches: tuple[str, ...]
    first_names: tuple[Pair, ...]
    family_names: tuple[Pair, ...]
    companies: tuple[str, ...]
    cities: dict[str, City]
    landmarks: tuple[Pair, ...]
    address_labels: tuple[str, ...]
    reviews: dict[str, ReviewTexts]  # positive, mixed, negative

    def model_ar(self, model: str) -> str:
        return " ".join(self.model_words_ar.get(word, word) for word in model.split())

    def category_id(self, name: str) -> int:
        """Categories are numbered 1.. in the file's order."""
        return next(number for number, category in enumerate(self.categories, 1) if category.name == name)


def _pairs(items: list[list[str]]) -> tuple[Pair, ...]:
    return tuple((en, ar) for en, ar in items)


def _category(data: dict) -> Category:
    options = tuple(Option(**option) for option in data["options"]) if "options" in data else STANDARD
    return Category(
        name=data["name"],
        name_ar=data["name_ar"],
        icon=data["icon"],
        noun_ar=data["noun_ar"],
        price_range=(data["price_range"][0], data["price_range"][1]),
        weight=data["weight"],
        warranty=data["warranty"],
        features=_pairs(data["features"]),
        lines=tuple(
            Line(line["brand"], line["model"], line["base_price"], line.get("noun_ar")) for line in data["lines"]
        ),
        colors=tuple(data["colors"]),
        options=options,
    )


@lru_cache(maxsize=1)
def load() -> Catalogue:
    data = json.loads(files(__package__).joinpath("catalogue.json").read_text(encoding="utf-8"))
    return Catalogue(
        brands={brand: (names["ar"], names["sku"]) for brand, names in data["brands"].items()},
        model_words_ar=data["model_words_ar"],
        colors={color: (names["ar"], names["sku"]) for color, names in data["colors"].items()},
        categories=tuple(_category(category) for category in data["categories"]),
        branches=tuple(data["branches"]),
        first_names=_pairs(data["first_names"]),
        family_names=_pairs(data["family_names"]),
        companies=tuple(data["companies"]),
        cities={name: City(city["weight"], _pairs(city["districts"])) for name, city in data["cities"].items()},
        landmarks=_pairs(data["landmarks"]),
        address_labels=tuple(data["address_labels"]),
        reviews={tone: ReviewTexts(_pairs(t["titles"]), _pairs(t["comments"])) for tone, t in data["reviews"].items()},
    )
