"""Deterministic demo and benchmark data: an Iraqi electronics shop's catalogue, customers and history.

`generate(engine, DEMO_SIZE)` fills a database for the local runner;
`python -m common.shop.generator --size bench --replace` builds the benchmark data set.
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
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate, chain, product
from typing import NamedTuple

from sqlalchemy import Connection, Engine, Table, literal, select, text

from common.config import ConfigError, get_settings
from common.db import get_engine, insert_rows, is_postgresql, utcnow, write
from common.models import (
    cart_items,
    carts,
    categories,
    customer_addresses,
    customers,
    invoice_lines,
    invoices,
    metadata,
    postgresql_metadata,
    products,
    promotions,
    reviews,
    search_terms,
)
from common.products.sales import recompute_sales_counts
from common.products.search_index import search_columns, vocabulary, vocabulary_rows


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


# --- The catalogue -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Option:
    """One value of a category's variant axis (storage, wattage, screen size...)."""

    en: str
    ar: str
    code: str
    price_pct: int
    specs: dict[str, str]


_STANDARD = (_Option("", "", "STD", 100, {}),)  # products without variants


@dataclass(frozen=True)
class _Line:
    brand: str
    model: str
    base_price: int  # IQD, for the first option
    noun_ar: str | None  # when the category's noun does not fit (a controller among consoles)


@dataclass(frozen=True)
class _Category:
    name: str
    name_ar: str
    icon: str
    noun_ar: str  # the head noun of Arabic product names: "هاتف سامسونج ..."
    price_range: tuple[int, int]
    weight: int  # share of the catalogue
    warranty: str  # goes into the specifications
    features: tuple[tuple[str, str], ...]  # (English, Arabic), two go into each description
    lines: tuple[_Line, ...]
    colors: tuple[str, ...]
    options: tuple[_Option, ...] = _STANDARD


def _lines(brand: str, *models: tuple) -> tuple[_Line, ...]:
    """Product lines of one brand: (model, base price in thousands of IQD[, Arabic noun])."""
    return tuple(
        _Line(brand, model, thousands * 1000, noun_ar[0] if noun_ar else None) for model, thousands, *noun_ar in models
    )


def _sized(spec: str, unit: str, ar_format: str, *values: tuple[int, int]) -> tuple[_Option, ...]:
    """Options such as 65W or 45mm: (number, price in percent of the first option)."""
    return tuple(_Option(f"{n}{unit}", ar_format.format(n), str(n), pct, {spec: f"{n}{unit}"}) for n, pct in values)


def _capacities(*values: tuple[int, int]) -> tuple[_Option, ...]:
    """Storage options in GB (1024 and up read as TB)."""
    options = []
    for gigabytes, pct in values:
        number, unit, unit_ar = (
            (gigabytes // 1024, "TB", "تيرابايت") if gigabytes >= 1024 else (gigabytes, "GB", "جيجابايت")
        )
        label = f"{number}{unit}"
        options.append(_Option(label, f"سعة {number} {unit_ar}", label[:-1], pct, {"storage": label}))
    return tuple(options)


def _option(en: str, ar: str, code: str, pct: int, **specs: str) -> _Option:
    return _Option(en, ar, code, pct, specs)


_SIX_MONTHS, _ONE_YEAR, _TWO_YEARS = "6 months", "12 months", "24 months"

# Brand: (Arabic spelling, SKU prefix).
_BRANDS = {
    "Samsung": ("سامسونج", "SM"),
    "Apple": ("آبل", "AP"),
    "Xiaomi": ("شاومي", "XI"),
    "Huawei": ("هواوي", "HW"),
    "Oppo": ("أوبو", "OP"),
    "Realme": ("ريلمي", "RM"),
    "Lenovo": ("لينوفو", "LN"),
    "HP": ("HP", "HP"),
    "Dell": ("ديل", "DL"),
    "Asus": ("أسوس", "AS"),
    "Anker": ("أنكر", "AN"),
    "Baseus": ("بيسوس", "BS"),
    "Ugreen": ("يوجرين", "UG"),
    "Sony": ("سوني", "SN"),
    "JBL": ("JBL", "JB"),
    "LG": ("LG", "LG"),
    "TCL": ("TCL", "TC"),
    "TP-Link": ("TP-Link", "TP"),
    "Tenda": ("تندا", "TN"),
    "SanDisk": ("سانديسك", "SD"),
    "Kingston": ("كينغستون", "KS"),
    "Microsoft": ("مايكروسوفت", "MS"),
    "Nintendo": ("نينتندو", "NT"),
    "Logitech": ("لوجيتك", "LO"),
    "Canon": ("كانون", "CN"),
    "Philips": ("فيليبس", "PH"),
    "Tefal": ("تيفال", "TF"),
}
# Model-name words Iraqi shops spell in Arabic; the rest (A55, 5G, GaN5) stay Latin.
_MODEL_WORDS_AR = {
    "Galaxy": "جالكسي",
    "iPhone": "آيفون",
    "iPad": "آيباد",
    "MacBook": "ماك بوك",
    "AirPods": "إيربودز",
    "Air": "إير",
    "Pro": "برو",
    "Max": "ماكس",
    "Ultra": "ألترا",
    "Redmi": "ريدمي",
    "Note": "نوت",
    "Watch": "ووتش",
    "Buds": "بودز",
    "Tab": "تاب",
    "nova": "نوفا",
    "Reno": "رينو",
    "PlayStation": "بلايستيشن",
    "Xbox": "إكس بوكس",
    "Slim": "سليم",
    "Band": "باند",
}
# Colour: (Arabic, SKU code).
_COLORS = {
    "Black": ("أسود", "BK"),
    "White": ("أبيض", "WH"),
    "Blue": ("أزرق", "BL"),
    "Green": ("أخضر", "GN"),
    "Purple": ("بنفسجي", "PU"),
    "Silver": ("فضي", "SL"),
    "Gray": ("رمادي", "GY"),
    "Pink": ("وردي", "PK"),
    "Red": ("أحمر", "RD"),
}

# fmt: off
_CATEGORIES = (
    _Category(
        name="Smartphones", name_ar="هواتف ذكية", icon="smartphone", noun_ar="هاتف",
        price_range=(150_000, 2_500_000), weight=16, warranty=_ONE_YEAR,
        features=(
            ("a bright high-refresh display", "شاشة ساطعة بمعدل تحديث عالٍ"),
            ("a sharp main camera", "كاميرا رئيسية عالية الدقة"),
            ("all-day battery life", "بطارية تدوم طوال اليوم"),
            ("fast charging", "شحن سريع"),
        ),
        lines=(
            *_lines("Samsung", ("Galaxy A15", 185), ("Galaxy A25 5G", 270), ("Galaxy A35 5G", 370),
                    ("Galaxy A55 5G", 480), ("Galaxy S24", 1050), ("Galaxy S24 Ultra", 1750)),
            *_lines("Apple", ("iPhone 13", 780), ("iPhone 14", 900), ("iPhone 15", 1100), ("iPhone 15 Pro", 1450),
                    ("iPhone 15 Pro Max", 1700)),
            *_lines("Xiaomi", ("Redmi 13C", 160), ("Redmi Note 13", 240), ("Redmi Note 13 Pro", 340), ("14", 950)),
            *_lines("Huawei", ("nova 11i", 260), ("nova Y91", 230), ("Pura 70", 1150)),
            *_lines("Oppo", ("A78", 260), ("Reno 11", 480)),
            *_lines("Realme", ("C55", 195), ("12 Pro", 420)),
        ),
        colors=("Black", "White", "Blue", "Green", "Purple"),
        options=_capacities((128, 100), (256, 115), (512, 135)),
    ),
    _Category(
        name="Laptops", name_ar="حواسيب محمولة", icon="laptop", noun_ar="حاسوب محمول",
        price_range=(350_000, 4_500_000), weight=7, warranty=_ONE_YEAR,
        features=(
            ("a Full HD display", "شاشة بدقة Full HD"),
            ("a fast SSD", "قرص SSD سريع"),
            ("Wi-Fi 6", "واي فاي 6"),
            ("a comfortable keyboard", "لوحة مفاتيح مريحة"),
        ),
        lines=(
            *_lines("Lenovo", ("IdeaPad Slim 3", 520), ("ThinkPad E14", 900), ("Legion 5", 1650)),
            *_lines("HP", ("250 G9", 450), ("Pavilion 15", 700), ("Victus 16", 1200)),
            *_lines("Dell", ("Inspiron 15", 650), ("Vostro 3520", 600), ("XPS 13", 1900)),
            *_lines("Apple", ("MacBook Air M2", 1350), ("MacBook Pro 14 M3", 2600)),
            *_lines("Asus", ("VivoBook 15", 500), ("ROG Strix G16", 2000)),
        ),
        colors=("Silver", "Gray", "Black"),
        options=(
            _option("8GB 256GB SSD", "رام 8 جيجابايت وSSD سعة 256 جيجابايت", "8-256", 100, ram="8GB",
                    storage="256GB SSD"),
            _option("16GB 512GB SSD", "رام 16 جيجابايت وSSD سعة 512 جيجابايت", "16-512", 125, ram="16GB",
                    storage="512GB SSD"),
            _option("16GB 1TB SSD", "رام 16 جيجابايت وSSD سعة 1 تيرابايت", "16-1T", 145, ram="16GB",
                    storage="1TB SSD"),
        ),
    ),
    _Category(
        name="Tablets", name_ar="أجهزة لوحية", icon="tablet", noun_ar="جهاز لوحي",
        price_range=(120_000, 2_200_000), weight=5, warranty=_ONE_YEAR,
        features=(
            ("a large, sharp display", "شاشة كبيرة وواضحة"),
            ("stereo speakers", "سماعات ستيريو"),
            ("long battery life", "بطارية طويلة الأمد"),
        ),
        lines=(
            *_lines("Samsung", ("Galaxy Tab A9", 190), ("Galaxy Tab S9 FE", 480), ("Galaxy Tab S9", 950)),
            *_lines("Apple", ("iPad 10th Gen", 600), ("iPad Air M2", 900), ("iPad Pro 11 M4", 1600)),
            *_lines("Xiaomi", ("Redmi Pad SE", 210), ("Pad 6", 420)),
            *_lines("Lenovo", ("Tab M10", 170), ("Tab P12", 400)),
            *_lines("Huawei", ("MatePad 11.5", 380)),
        ),
        colors=("Gray", "Silver", "Blue"),
        options=_capacities((64, 100), (128, 112), (256, 130)),
    ),
    _Category(
        name="Chargers", name_ar="شواحن", icon="charging_station", noun_ar="شاحن",
        price_range=(5_000, 90_000), weight=9, warranty=_ONE_YEAR,
        features=(
            ("fast charging with Power Delivery", "شحن سريع بتقنية Power Delivery"),
            ("over-heat and over-current protection", "حماية من الحرارة الزائدة والتيار العالي"),
            ("a compact, travel-friendly size", "حجم صغير مناسب للسفر"),
        ),
        lines=(
            *_lines("Anker", ("Nano", 16), ("PowerPort III", 18), ("Prime GaN", 24)),
            *_lines("Baseus", ("GaN5 Pro", 14), ("Super Si", 10)),
            *_lines("Samsung", ("Super Fast Charger", 18)),
            *_lines("Apple", ("USB-C Power Adapter", 28)),
            *_lines("Xiaomi", ("Turbo Charger", 12)),
            *_lines("Ugreen", ("Nexode", 15)),
        ),
        colors=("White", "Black"),
        options=_sized("power", "W", "بقدرة {} واط", (20, 100), (33, 130), (65, 190), (100, 260)),
    ),
    _Category(
        name="Cables", name_ar="كابلات", icon="cable", noun_ar="كابل شحن",
        price_range=(3_000, 25_000), weight=9, warranty=_SIX_MONTHS,
        features=(
            ("a braided, tangle-free jacket", "غلاف مقوى مضاد للتشابك"),
            ("fast-charging support", "دعم الشحن السريع"),
            ("reliable data transfer", "نقل بيانات موثوق"),
        ),
        lines=(
            *_lines("Anker", ("PowerLine III", 9)),
            *_lines("Baseus", ("Crystal Shine", 6), ("Cafule", 4)),
            *_lines("Ugreen", ("Charging Cable", 5)),
            *_lines("Samsung", ("Data Cable", 7)),
            *_lines("Apple", ("Charge Cable", 14)),
        ),
        colors=("Black", "White"),
        options=(
            _option("USB-C to USB-C 1m", "من USB-C إلى USB-C بطول 1 متر", "CC1", 100, connector="USB-C to USB-C",
                    length="1m"),
            _option("USB-C to USB-C 2m Braided", "مقوى من USB-C إلى USB-C بطول 2 متر", "CC2", 130,
                    connector="USB-C to USB-C", length="2m"),
            _option("USB-C to Lightning 1m", "من USB-C إلى Lightning بطول 1 متر", "CL1", 140,
                    connector="USB-C to Lightning", length="1m"),
            _option("USB-A to USB-C 1m", "من USB-A إلى USB-C بطول 1 متر", "AC1", 90, connector="USB-A to USB-C",
                    length="1m"),
            _option("Micro USB 1m", "مايكرو USB بطول 1 متر", "MU1", 70, connector="Micro USB", length="1m"),
        ),
    ),
    _Category(
        name="Headphones", name_ar="سماعات", icon="headphones", noun_ar="سماعة لاسلكية",
        price_range=(15_000, 900_000), weight=9, warranty=_ONE_YEAR,
        features=(
            ("clear, balanced sound", "صوت نقي ومتوازن"),
            ("Bluetooth 5.3", "بلوتوث 5.3"),
            ("long battery life", "بطارية تدوم طويلًا"),
        ),
        lines=(
            *_lines("Apple", ("AirPods 2", 200), ("AirPods Pro 2", 380), ("AirPods Max", 850)),
            *_lines("Samsung", ("Galaxy Buds FE", 120), ("Galaxy Buds2 Pro", 220)),
            *_lines("Sony", ("WH-1000XM5", 520), ("WF-1000XM5", 450), ("WH-CH520", 75)),
            *_lines("JBL", ("Tune 520BT", 70), ("Tune Flex", 110), ("Live 660NC", 190)),
            *_lines("Xiaomi", ("Redmi Buds 5", 45)),
            *_lines("Anker", ("Soundcore Life Q30", 95), ("Soundcore R50i", 25)),
            *_lines("Baseus", ("Bowie E3", 20)),
        ),
        colors=("Black", "White", "Blue"),
    ),
    _Category(
        name="Smart Watches", name_ar="ساعات ذكية", icon="watch", noun_ar="ساعة ذكية",
        price_range=(30_000, 1_300_000), weight=5, warranty=_ONE_YEAR,
        features=(
            ("heart-rate and sleep tracking", "قياس نبض القلب ومراقبة النوم"),
            ("a bright AMOLED display", "شاشة أموليد ساطعة"),
            ("water resistance", "مقاومة للماء"),
        ),
        lines=(
            *_lines("Apple", ("Watch SE", 380), ("Watch Series 9", 600), ("Watch Ultra 2", 1150)),
            *_lines("Samsung", ("Galaxy Watch6", 330), ("Galaxy Watch6 Classic", 450), ("Galaxy Fit3", 75)),
            *_lines("Huawei", ("Watch GT 4", 280), ("Band 9", 60)),
            *_lines("Xiaomi", ("Smart Band 8", 40), ("Redmi Watch 4", 100)),
        ),
        colors=("Black", "Silver", "Pink"),
        options=_sized("case size", "mm", "مقاس {} ملم", (41, 100), (45, 110)),
    ),
    _Category(
        name="TVs", name_ar="شاشات تلفاز", icon="tv", noun_ar="شاشة تلفاز ذكية",
        price_range=(180_000, 3_500_000), weight=4, warranty=_TWO_YEARS,
        features=(
            ("4K UHD resolution", "دقة 4K فائقة الوضوح"),
            ("HDR10+ picture", "صورة بتقنية HDR10+"),
            ("built-in streaming apps", "تطبيقات بث مدمجة"),
        ),
        lines=(
            *_lines("Samsung", ("Crystal UHD CU7000", 330), ("Neo QLED QN90C", 1250)),
            *_lines("LG", ("UQ7500", 310), ("OLED evo C3", 1550)),
            *_lines("Sony", ("Bravia X75K", 400)),
            *_lines("Xiaomi", ("TV A Pro", 250)),
            *_lines("TCL", ("P635", 230)),
        ),
        colors=("Black",),
        options=_sized("screen size", '"', "مقاس {} بوصة", (43, 100), (50, 125), (55, 150), (65, 210)),
    ),
    _Category(
        name="Networking", name_ar="أجهزة شبكات", icon="router", noun_ar="راوتر لاسلكي",
        price_range=(25_000, 300_000), weight=4, warranty=_ONE_YEAR,
        features=(
            ("fast, stable Wi-Fi", "واي فاي سريع ومستقر"),
            ("easy setup from the app", "إعداد سهل عبر التطبيق"),
            ("wide home coverage", "تغطية واسعة للمنزل"),
        ),
        lines=(
            *_lines("TP-Link", ("Archer C6", 55), ("Archer AX23", 95), ("Archer AX55", 140), ("Deco M4", 130)),
            *_lines("Tenda", ("AC10", 40), ("Nova MW6", 110)),
            *_lines("Huawei", ("WiFi AX3", 75), ("4G Router B311", 85)),
        ),
        colors=("White", "Black"),
    ),
    _Category(
        name="Storage", name_ar="وحدات تخزين", icon="sd_storage", noun_ar="وحدة تخزين",
        price_range=(8_000, 500_000), weight=5, warranty=_TWO_YEARS,
        features=(
            ("fast read speeds", "سرعة قراءة عالية"),
            ("a compact, durable body", "تصميم صغير ومتين"),
            ("broad device compatibility", "توافق مع أغلب الأجهزة"),
        ),
        lines=(
            *_lines("SanDisk", ("Ultra Flair USB 3.0", 12), ("Extreme microSDXC", 22)),
            *_lines("Samsung", ("EVO Plus microSDXC", 18), ("T7 Portable SSD", 120)),
            *_lines("Kingston", ("DataTraveler Exodia", 10), ("NV2 NVMe SSD", 65)),
        ),
        colors=("Black",),
        options=_capacities((128, 100), (256, 150), (512, 240), (1024, 400)),
    ),
    _Category(
        name="Gaming", name_ar="ألعاب إلكترونية", icon="sports_esports", noun_ar="جهاز ألعاب",
        price_range=(50_000, 1_000_000), weight=3, warranty=_ONE_YEAR,
        features=(
            ("precise, responsive controls", "تحكم دقيق وسريع الاستجابة"),
            ("a comfortable design for long sessions", "تصميم مريح للجلسات الطويلة"),
            ("plug-and-play setup", "تشغيل فوري دون إعداد"),
        ),
        lines=(
            *_lines("Sony", ("PlayStation 5 Slim", 780), ("DualSense Wireless Controller", 110, "يد تحكم")),
            *_lines("Microsoft", ("Xbox Series S", 480), ("Xbox Wireless Controller", 85, "يد تحكم")),
            *_lines("Nintendo", ("Switch OLED", 520)),
            *_lines("Logitech", ("G29 Racing Wheel", 450, "مقود ألعاب"), ("G502 HERO", 75, "ماوس ألعاب")),
        ),
        colors=("White", "Black"),
    ),
    _Category(
        name="Cameras", name_ar="كاميرات", icon="photo_camera", noun_ar="كاميرا",
        price_range=(30_000, 3_500_000), weight=2, warranty=_ONE_YEAR,
        features=(
            ("sharp, detailed images", "صور واضحة وغنية بالتفاصيل"),
            ("Full HD video", "تصوير فيديو بدقة Full HD"),
            ("easy sharing over Wi-Fi", "مشاركة سهلة عبر واي فاي"),
        ),
        lines=(
            *_lines("Canon", ("EOS 2000D Kit 18-55mm", 650), ("EOS R50", 1250)),
            *_lines("Sony", ("ZV-E10", 1050), ("Alpha a7 IV", 3200)),
            *_lines("Xiaomi", ("Smart Camera C300", 45, "كاميرا مراقبة")),
            *_lines("TP-Link", ("Tapo C200", 40, "كاميرا مراقبة")),
        ),
        colors=("Black",),
    ),
    _Category(
        name="Power Banks", name_ar="باور بانك", icon="battery_charging_full", noun_ar="باور بانك",
        price_range=(12_000, 180_000), weight=6, warranty=_ONE_YEAR,
        features=(
            ("two-way fast charging", "شحن سريع ثنائي الاتجاه"),
            ("a digital charge display", "شاشة رقمية لمستوى الشحن"),
            ("charging two devices at once", "شحن جهازين في آن واحد"),
        ),
        lines=(
            *_lines("Anker", ("PowerCore Slim", 28), ("737", 75)),
            *_lines("Baseus", ("Bipow", 18), ("Blade", 45)),
            *_lines("Xiaomi", ("Redmi Power Bank", 15)),
            *_lines("Samsung", ("Battery Pack", 35)),
            *_lines("Ugreen", ("Nexode Power Bank", 40)),
        ),
        colors=("Black", "White", "Blue"),
        options=_sized("capacity", "mAh", "سعة {} ملي أمبير", (10000, 100), (20000, 150), (30000, 210)),
    ),
    _Category(
        name="Home Appliances", name_ar="أجهزة منزلية", icon="kitchen", noun_ar="جهاز منزلي",
        price_range=(30_000, 1_500_000), weight=2, warranty=_TWO_YEARS,
        features=(
            ("energy-efficient operation", "استهلاك منخفض للطاقة"),
            ("easy cleaning", "سهولة التنظيف"),
            ("quiet operation", "تشغيل هادئ"),
        ),
        lines=(
            *_lines("Xiaomi", ("Robot Vacuum S10", 330, "مكنسة روبوت"), ("Smart Air Purifier 4", 260, "منقي هواء ذكي")),
            *_lines("Philips", ("Airfryer XL", 170, "قلاية هوائية"), ("Blender 5000", 75, "خلاط")),
            *_lines("Tefal", ("Steam Iron", 45, "مكواة بخار")),
            *_lines("LG", ("Microwave 42L", 190, "مايكروويف")),
        ),
        colors=("White", "Black"),
    ),
    _Category(
        name="Speakers", name_ar="مكبرات صوت", icon="speaker", noun_ar="مكبر صوت",
        price_range=(25_000, 800_000), weight=4, warranty=_ONE_YEAR,
        features=(
            ("powerful bass", "صوت جهير قوي"),
            ("a splash-proof design", "تصميم مقاوم للرذاذ"),
            ("hours of music playback", "تشغيل الموسيقى لساعات طويلة"),
        ),
        lines=(
            *_lines("JBL", ("Flip 6", 150), ("Charge 5", 210), ("Go 3", 45), ("PartyBox 110", 550)),
            *_lines("Sony", ("SRS-XB100", 65)),
            *_lines("Anker", ("Soundcore Motion 300", 90)),
            *_lines("Xiaomi", ("Sound Outdoor", 60)),
        ),
        colors=("Black", "Blue", "Red"),
    ),
    _Category(
        name="Accessories", name_ar="إكسسوارات", icon="devices_other", noun_ar="إكسسوار",
        price_range=(3_000, 250_000), weight=10, warranty=_SIX_MONTHS,
        features=(
            ("premium materials", "خامات عالية الجودة"),
            ("a slim design", "تصميم نحيف"),
            ("wide compatibility", "توافق مع معظم الأجهزة"),
        ),
        lines=(
            *_lines("Baseus", ("Magnetic Car Holder", 12, "حامل هاتف مغناطيسي"),
                    ("USB-C Hub 6-in-1", 40, "موزع منافذ")),
            *_lines("Samsung", ("Clear Case", 15, "كفر حماية")),
            *_lines("Apple", ("MagSafe Silicone Case", 75, "كفر حماية")),
            *_lines("Ugreen", ("Tempered Glass Protector", 7, "واقي شاشة زجاجي")),
            *_lines("Logitech", ("MX Master 3S", 150, "ماوس لاسلكي"), ("K380", 65, "لوحة مفاتيح لاسلكية")),
            *_lines("Anker", ("Car Charger", 20, "شاحن سيارة")),
        ),
        colors=("Black", "White", "Gray"),
    ),
)
# fmt: on

_BRANCHES = ("Baghdad - Karrada", "Baghdad - Mansour", "Erbil", "Basra")

# --- People and their words ----------------------------------------------------------------

_FIRST_NAMES = (
    ("Ahmed", "أحمد"), ("Mohammed", "محمد"), ("Ali", "علي"), ("Hussein", "حسين"), ("Mustafa", "مصطفى"),
    ("Hassan", "حسن"), ("Omar", "عمر"), ("Abbas", "عباس"), ("Haider", "حيدر"), ("Murtadha", "مرتضى"),
    ("Yousif", "يوسف"), ("Karrar", "كرار"), ("Sajjad", "سجاد"), ("Zainab", "زينب"), ("Fatima", "فاطمة"),
    ("Maryam", "مريم"), ("Noor", "نور"), ("Sara", "سارة"), ("Zahraa", "زهراء"), ("Ruqaya", "رقية"),
    ("Aram", "آرام"), ("Shilan", "شيلان"), ("Dilshad", "دلشاد"),
)  # fmt: skip
_FAMILY_NAMES = (
    ("Al-Tamimi", "التميمي"), ("Al-Jubouri", "الجبوري"), ("Al-Obaidi", "العبيدي"), ("Al-Saadi", "الساعدي"),
    ("Al-Dulaimi", "الدليمي"), ("Al-Khafaji", "الخفاجي"), ("Al-Rubaie", "الربيعي"), ("Al-Shammari", "الشمري"),
    ("Al-Zubaidi", "الزبيدي"), ("Al-Hashimi", "الهاشمي"), ("Al-Bayati", "البياتي"), ("Kareem", "كريم"),
    ("Mahmoud", "محمود"), ("Rashid", "رشيد"),
)  # fmt: skip
_COMPANIES = (
    "Al-Rafidain Mobiles", "Babylon Tech", "Dijla Electronics", "Karrada Phone Center", "Al-Noor Computers",
    "Zagros Trading",
)  # fmt: skip
# City: (weight, (district in English, in Arabic)...).
_CITIES = {
    "Baghdad": (8, ("Karrada", "الكرادة"), ("Mansour", "المنصور"), ("Zayouna", "زيونة"), ("Adhamiya", "الأعظمية")),
    "Basra": (3, ("Al-Ashar", "العشار"), ("Al-Jazair", "الجزائر")),
    "Erbil": (3, ("Ankawa", "عنكاوا"), ("Bakhtiyari", "بختياري")),
    "Mosul": (2, ("Al-Zuhour", "الزهور"), ("Al-Muthanna", "المثنى")),
    "Najaf": (2, ("Al-Ameer", "حي الأمير"),),
    "Karbala": (2, ("Al-Abbasiya", "العباسية"),),
    "Sulaymaniyah": (2, ("Salim Street", "شارع سالم"),),
    "Kirkuk": (1, ("Rahimawa", "رحيماوة"),),
}  # fmt: skip
_LANDMARKS = (
    ("the main market", "السوق الرئيسي"), ("the central mosque", "الجامع الكبير"),
    ("Al-Zahraa school", "مدرسة الزهراء"), ("the pharmacy", "الصيدلية"),
)  # fmt: skip
_ADDRESS_LABELS = ("Home", "Work", "Shop")

_RATINGS = (5, 4, 3, 2, 1)
_RATING_CUMULATIVE = (45, 75, 87, 94, 100)  # 45% five stars, 30% four, 12% three, 7% two, 6% one
# Rating: (titles, comments), each (English, Arabic).
_POSITIVE = (
    (("Excellent product", "منتج ممتاز"), ("Great value for money", "سعر مناسب وجودة عالية"),
     ("Original and well packed", "أصلي والتغليف ممتاز"), ("Highly recommended", "أنصح به بشدة")),
    (("Works perfectly, delivered to Baghdad in one day.", "يعمل بشكل ممتاز، ووصل إلى بغداد خلال يوم واحد."),
     ("Exactly as described, warranty card included.", "مطابق للوصف مع بطاقة الضمان."),
     ("Bought it for my brother and he loves it.", "اشتريته لأخي وأعجبه كثيرًا."),
     ("Better than I expected for this price.", "أفضل مما توقعت بهذا السعر.")),
)  # fmt: skip
_MIXED = (
    (("Good, but pricey", "جيد لكن السعر مرتفع"), ("As expected", "كما هو متوقع"), ("Decent", "مقبول")),
    (("Does the job; the box was a bit damaged.", "يؤدي الغرض لكن العلبة كانت متضررة قليلًا."),
     ("Fine overall, the battery could be better.", "جيد بشكل عام والبطارية متوسطة."),
     ("Delivery took longer than promised.", "تأخر التوصيل عن الموعد.")),
)  # fmt: skip
_NEGATIVE = (
    (("Not as described", "ليس كما في الوصف"), ("Stopped working", "توقف عن العمل"), ("Disappointed", "غير راضٍ")),
    (("Stopped charging after two weeks; waiting for the warranty.", "توقف عن الشحن بعد أسبوعين وبانتظار الضمان."),
     ("The colour differs from the picture.", "اللون مختلف عن الصورة."),
     ("Customer service was slow to answer.", "خدمة العملاء بطيئة في الرد.")),
)  # fmt: skip
_REVIEW_TEXTS = {5: _POSITIVE, 4: _POSITIVE, 3: _MIXED, 2: _NEGATIVE, 1: _NEGATIVE}

# Zoho-style numeric ids, distinct per kind.
_ZOHO_ITEM, _ZOHO_CONTACT, _ZOHO_INVOICE, _ZOHO_CATEGORY = 1, 2, 3, 4


def _zoho_id(kind: int, number: int) -> str:
    return f"4602139{kind}{number:011d}"


def _round_iqd(amount: int) -> int:
    """Shelf prices in Iraq end in 250s; nothing is free."""
    return max(250, (amount + 125) // 250 * 250)


def _join(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def _model_ar(model: str) -> str:
    return " ".join(_MODEL_WORDS_AR.get(word, word) for word in model.split())


def _category_id(name: str) -> int:
    return next(number for number, category in enumerate(_CATEGORIES, 1) if category.name == name)


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
        self.catalog: list[_Product] = []
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
            for number, category in enumerate(_CATEGORIES, 1)
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
        combos = [list(product(c.lines, c.options, c.colors)) for c in _CATEGORIES]
        for variants in combos:
            rng.shuffle(variants)
        positions, weights = range(len(_CATEGORIES)), list(accumulate(c.weight for c in _CATEGORIES))
        used = [0] * len(_CATEGORIES)
        for number in ids:
            # Every category gets a product first; later ones are spread by weight.
            index = number - 1 if number <= len(_CATEGORIES) else rng.choices(positions, cum_weights=weights)[0]
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
        line: _Line,
        option: _Option,
        color: str,
        *,
        featured: bool,
        active: bool,
        in_stock: bool,
        zoho: bool,
    ) -> dict:
        rng, category = self.rng, _CATEGORIES[category_index]
        brand_ar, brand_code = _BRANDS[line.brand]
        color_ar, color_code = _COLORS[color]
        model_ar = _model_ar(line.model)
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
            "branch_name": rng.choice(_BRANCHES),
            "image_url": images[0],
            "images": images,
            "specifications": {**option.specs, "color": color, "warranty": category.warranty},
            "is_featured": featured,
            "is_active": active,
            "zoho_last_modified": updated if zoho else None,
            "created_at": created,
            "updated_at": updated,
            **search_columns(
                name=name,
                name_ar=name_ar,
                sku=sku,
                brand=line.brand,
                description=description,
                description_ar=description_ar,
            ),
        }

    def _search_terms(self) -> list[dict]:
        texts = chain.from_iterable((p.name, p.name_ar, p.brand) for p in self.catalog)
        return vocabulary_rows(sorted(vocabulary(texts)))

    def _customers(self) -> Iterator[dict]:
        rng = self.rng
        yield self._customer(
            1, "Ahmed Al-Tamimi", "ahmed.altamimi@example.com", "+9647701234567", None, avatar=True, zoho=True
        )
        for number in range(2, self.size.customers + 1):
            (first, first_ar), (family, family_ar) = rng.choice(_FIRST_NAMES), rng.choice(_FAMILY_NAMES)
            name = f"{first_ar} {family_ar}" if rng.random() < 0.45 else f"{first} {family}"
            email = f"{first}.{family.replace('-', '')}{number}@example.com".lower() if rng.random() < 0.7 else None
            phone = f"+9647{rng.choice('5789')}{rng.randrange(10**8):08d}"
            company = rng.choice(_COMPANIES) if rng.random() < 0.12 else None
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
        cities = list(_CITIES)
        city_weights = [_CITIES[city][0] for city in cities]
        address_id = 0
        for customer_id in range(1, self.size.customers + 1):
            if customer_id == DEMO_CUSTOMER_ID:
                places = [("Home", "Baghdad", _CITIES["Baghdad"][1]), ("Work", "Baghdad", _CITIES["Baghdad"][2])]
            else:
                places = []
                for label in _ADDRESS_LABELS[: rng.randint(1, 3)]:
                    city = rng.choices(cities, city_weights)[0]
                    places.append((label, city, rng.choice(_CITIES[city][1:])))
            for position, (label, city, district) in enumerate(places):
                address_id += 1
                yield self._address(address_id, customer_id, label, city, district, default=position == 0)

    def _address(
        self, address_id: int, customer_id: int, label: str, city: str, district: tuple[str, str], *, default: bool
    ) -> dict:
        rng = self.rng
        street, house = rng.randint(1, 60), rng.randint(1, 120)
        landmark, landmark_ar = rng.choice(_LANDMARKS)
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
            titles, comments = _REVIEW_TEXTS[rating]
            language = 1 if rng.random() < 0.6 else 0  # Arabic more often than English
            yield {
                "id": review_id,
                "product_id": reviewed.id,
                "customer_id": rng.randint(1, self.size.customers),
                "rating": rating,
                "title": rng.choice(titles)[language],
                "comment": rng.choice(comments)[language] if rng.random() < 0.8 else None,
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
        phones, headphones = _category_id("Smartphones"), _category_id("Headphones")
        laptops, watches = _category_id("Laptops"), _category_id("Smart Watches")
        rows = [
            _promotion("phone-week", "Phone Week: 10% off smartphones", "عروض الهواتف",
                       "10% off every smartphone for two weeks.", "percentage", 10,
                       now - 3 * day, now + 11 * day, category_id=phones),
            _promotion("deal-of-the-week", f"25,000 IQD off {on_sale.name}", f"خصم 25,000 دينار على {on_sale.name_ar}",
                       "This week's featured deal.", "fixed", 25_000, now - day, now + 6 * day, product_id=on_sale.id),
            _promotion("headphones-15", "15% off headphones", "خصم 15% على السماعات",
                       "Wireless headphones and earbuds at 15% off.", "percentage", 15,
                       now - 5 * day, now + 20 * day, category_id=headphones),
            _promotion("ramadan-sale", "Ramadan Sale: 20% off everything", "تخفيضات رمضان: خصم 20% على كل المنتجات",
                       "Our Ramadan sale has ended.", "percentage", 20, now - 40 * day, now - 10 * day),
            _promotion("back-to-school", "Back to School: 12% off laptops", "العودة إلى المدارس: خصم 12% على الحواسيب",
                       "Laptops for students, starting next week.", "percentage", 12,
                       now + 7 * day, now + 21 * day, category_id=laptops),
            _promotion("watch-clearance", "Smart watch clearance: 30% off", "تصفية الساعات الذكية: خصم 30%",
                       "Paused by the marketing team.", "percentage", 30, now - 2 * day, now + 12 * day,
                       category_id=watches, is_active=False),
            _promotion("big-basket", "5% off orders over 500,000 IQD", "خصم 5% على الطلبات فوق 500,000 دينار",
                       "Applied at checkout.", "percentage", 5, now - 10 * day, now + 50 * day,
                       applies_to="checkout", min_purchase=500_000),
            _promotion("welcome-10k", "10,000 IQD off orders over 250,000 IQD",
                       "خصم 10,000 دينار على الطلبات فوق 250,000 دينار", "For the first 1,000 orders.", "fixed",
                       10_000, now - 10 * day, now + 30 * day, applies_to="checkout", min_purchase=250_000,
                       max_uses=1000, used_count=10),
            _promotion("launch-voucher", "Launch voucher: 15,000 IQD off", "قسيمة الافتتاح: خصم 15,000 دينار",
                       "All vouchers have been used.", "fixed", 15_000, now - 20 * day, now + 10 * day,
                       applies_to="checkout", min_purchase=100_000, max_uses=5, used_count=5),
        ]  # fmt: skip
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
    with write(engine) as connection:
        if replace:
            _delete_everything(connection)
        filled = []
        for table, rows in builder.tables():
            # Explicit ids would collide with any existing row (Zoho-synced invoices, say).
            if not replace and connection.execute(select(literal(1)).select_from(table).limit(1)).first():
                raise ValueError(f"the database already has {table.name}; pass replace=True (--replace) to wipe it")
            summary[table.name] = insert_rows(connection, table, rows)
            filled.append(table)
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
        prog="python -m common.shop.generator", description="Fill the configured database with generated shop data."
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
