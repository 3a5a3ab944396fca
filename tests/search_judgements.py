"""A judged set of searches over the demo catalogue (demo_data.generator, DEMO_SIZE, seed 7):
each query with the product a shopper typing it wants, by its English name.

`exact` cases (a whole name, Arabic name or SKU, or brand and model) must find that product
first; `typo` cases (a letter missing, added, changed or swapped) within the first three.
Used by tests/integration/test_search_relevance.py and bench/relevance.py (mean reciprocal rank).
"""

from __future__ import annotations

from typing import Literal, NamedTuple


class Judgement(NamedTuple):
    query: str
    expected: str  # the product's English name in the demo catalogue
    kind: Literal["exact", "typo"]


JUDGEMENTS: tuple[Judgement, ...] = (
    # English names, as written and in other cases
    Judgement("Apple iPhone 14 512GB Green", "Apple iPhone 14 512GB Green", "exact"),
    Judgement("apple iphone 14 512gb green", "Apple iPhone 14 512GB Green", "exact"),
    Judgement("Samsung Galaxy S24 256GB Green", "Samsung Galaxy S24 256GB Green", "exact"),
    Judgement("Samsung Galaxy S24 Ultra 256GB Black", "Samsung Galaxy S24 Ultra 256GB Black", "exact"),
    Judgement("Sony WF-1000XM5 Black", "Sony WF-1000XM5 Black", "exact"),
    Judgement("JBL Flip 6 Red", "JBL Flip 6 Red", "exact"),
    Judgement("Baseus USB-C Hub 6-in-1 Black", "Baseus USB-C Hub 6-in-1 Black", "exact"),
    Judgement("Logitech G29 Racing Wheel White", "Logitech G29 Racing Wheel White", "exact"),
    Judgement("Dell XPS 13 16GB 1TB SSD Black", "Dell XPS 13 16GB 1TB SSD Black", "exact"),
    Judgement("Baseus Crystal Shine USB-C to USB-C 1m Black", "Baseus Crystal Shine USB-C to USB-C 1m Black", "exact"),
    Judgement("MICROSOFT XBOX SERIES S BLACK", "Microsoft Xbox Series S Black", "exact"),
    # Names that are part of longer names: the exact one first, in stock or not
    Judgement("Samsung Galaxy S24 256GB Black", "Samsung Galaxy S24 256GB Black", "exact"),
    Judgement("Samsung Galaxy Watch6 41mm", "Samsung Galaxy Watch6 41mm Silver", "exact"),
    Judgement("Samsung Galaxy Buds", "Samsung Galaxy Buds FE White", "exact"),
    Judgement("Xiaomi Pad 6", "Xiaomi Pad 6 128GB Gray", "exact"),
    # At equal relevance, in stock first
    Judgement("Anker 737 10000mAh", "Anker 737 10000mAh Black", "exact"),
    Judgement("Apple AirPods 2", "Apple AirPods 2 Blue", "exact"),
    Judgement("Samsung Clear Case", "Samsung Clear Case White", "exact"),
    Judgement("Samsung Galaxy S24 256GB", "Samsung Galaxy S24 256GB Green", "exact"),
    # SKUs
    Judgement("AP-I14-512G-GN-000001", "Apple iPhone 14 512GB Green", "exact"),
    Judgement("ap-i15pm-512g-gn-000052", "Apple iPhone 15 Pro Max 512GB Green", "exact"),
    Judgement("SM-GA555G-512G-WH-000044", "Samsung Galaxy A55 5G 512GB White", "exact"),
    Judgement("LO-G502H-STD-BK-000011", "Logitech G502 HERO Black", "exact"),
    # Brand and model
    Judgement("JBL Go 3", "JBL Go 3 Red", "exact"),
    Judgement("Canon EOS R50", "Canon EOS R50 Black", "exact"),
    Judgement("Sony ZV-E10", "Sony ZV-E10 Black", "exact"),
    Judgement("Apple AirPods Max", "Apple AirPods Max Black", "exact"),
    Judgement("Kingston NV2", "Kingston NV2 NVMe SSD 128GB Black", "exact"),
    Judgement("Huawei Band 9", "Huawei Band 9 41mm Silver", "exact"),
    Judgement("LG OLED evo C3 55", 'LG OLED evo C3 55" Black', "exact"),
    Judgement("Xiaomi Robot Vacuum", "Xiaomi Robot Vacuum S10 Black", "exact"),
    Judgement("Philips Airfryer", "Philips Airfryer XL White", "exact"),
    # Arabic names, as written and with the spelling variants shoppers type
    Judgement("هاتف آبل آيفون 14 سعة 512 جيجابايت أخضر", "Apple iPhone 14 512GB Green", "exact"),
    Judgement("هاتف ابل ايفون 14 سعة 512 جيجابايت اخضر", "Apple iPhone 14 512GB Green", "exact"),
    Judgement("سماعة لاسلكية سوني WF-1000XM5 أبيض", "Sony WF-1000XM5 White", "exact"),
    Judgement("سماعه لاسلكيه سوني WF-1000XM5 ابيض", "Sony WF-1000XM5 White", "exact"),
    Judgement("آيفون 15 برو ماكس", "Apple iPhone 15 Pro Max 512GB Green", "exact"),
    Judgement("سامسونج جالكسي S24 الترا", "Samsung Galaxy S24 Ultra 256GB Black", "exact"),
    Judgement("مكنسة روبوت شاومي", "Xiaomi Robot Vacuum S10 Black", "exact"),
    Judgement("قلايه هوائيه", "Philips Airfryer XL White", "exact"),
    Judgement("خلاط فيليبس", "Philips Blender 5000 Black", "exact"),
    Judgement("ماوس ألعاب لوجيتك", "Logitech G502 HERO Black", "exact"),
    Judgement("كاميرا كانون", "Canon EOS R50 Black", "exact"),
    Judgement("هاتف سامسونج جالكسي S24 سعة 256 جيجابايت أسود", "Samsung Galaxy S24 256GB Black", "exact"),
    Judgement("هاتف سامسونج جالكسى S24 سعه 256 جيجابايت اسود", "Samsung Galaxy S24 256GB Black", "exact"),
    # One typo
    Judgement("iphnoe 14 512gb green", "Apple iPhone 14 512GB Green", "typo"),
    Judgement("samsng galaxy s24 ultra", "Samsung Galaxy S24 Ultra 256GB Black", "typo"),
    Judgement("xaiomi robot vacuum", "Xiaomi Robot Vacuum S10 Black", "typo"),
    Judgement("logitec g502", "Logitech G502 HERO Black", "typo"),
    Judgement("kingstn nv2", "Kingston NV2 NVMe SSD 128GB Black", "typo"),
    Judgement("airfryr", "Philips Airfryer XL White", "typo"),
    Judgement("blendr 5000", "Philips Blender 5000 Black", "typo"),
    Judgement("airpod max", "Apple AirPods Max Black", "typo"),
    Judgement("xbox seires s black", "Microsoft Xbox Series S Black", "typo"),
    Judgement("مكنسه روبت", "Xiaomi Robot Vacuum S10 Black", "typo"),
    Judgement("كانوم EOS R50", "Canon EOS R50 Black", "typo"),
    Judgement("samsung galaxy s24 256gb blak", "Samsung Galaxy S24 256GB Black", "typo"),
    Judgement("galaxi buds", "Samsung Galaxy Buds FE White", "typo"),
    Judgement("anker 737 10000mha", "Anker 737 10000mAh Black", "typo"),
)
