"""Search ranks what the shopper typed first: the judged set over the demo catalogue
(tests/search_judgements.py), and the rules behind it, on both databases."""

import pytest
from sqlalchemy import select

from common.db.transactions import read, write
from common.models import products
from demo_data import generator
from tests import shop_fixtures as shop
from tests.search_judgements import JUDGEMENTS

SEARCH = "/api/mobile/search"


@pytest.fixture
def demo(db) -> dict[str, int]:
    """The demo catalogue; product ids by English name."""
    generator.generate(db.engine, generator.DEMO_SIZE, replace=True)
    with read(db.engine) as connection:
        return {name: id_ for id_, name in connection.execute(select(products.c.id, products.c.name))}


def _ranked(client, q: str) -> list[int]:
    response = client.get(SEARCH, query_string={"q": q, "page_size": 100})
    assert response.status_code == 200, response.get_json()
    return [card["id"] for card in response.get_json()["results"]]


def test_the_judged_set_has_the_cases_it_claims():
    kinds = [judgement.kind for judgement in JUDGEMENTS]
    assert len(JUDGEMENTS) >= 40
    assert kinds.count("typo") >= 10
    assert any(not judgement.query.isascii() for judgement in JUDGEMENTS)


def test_the_wanted_product_comes_first_or_within_three_for_a_typo(client, demo):
    misses = []
    for judgement in JUDGEMENTS:
        ranked = _ranked(client, judgement.query)
        wanted = demo[judgement.expected]
        limit = 1 if judgement.kind == "exact" else 3
        if wanted not in ranked[:limit]:
            rank = ranked.index(wanted) + 1 if wanted in ranked else None
            misses.append(f"{judgement.query!r}: {judgement.expected!r} at {rank} of {len(ranked)} (wanted <= {limit})")
    assert not misses, "\n".join(misses)


def test_an_exact_name_ranks_first_among_longer_names_in_stock(client, db):
    """The issue's case: "USB-C cable 1m" ranked 11th of 11 behind other cables, some out of stock."""
    with write(db.engine) as c:
        others = [
            shop.product(c, f"Baseus USB-C cable 1m {colour}", 9_000, brand="Baseus", sales_count=900)
            for colour in ("Black", "White", "Blue")
        ]
        others.append(shop.product(c, "USB-C cable 1m braided", 7_000, sales_count=500, stock_quantity=0))
        others.append(shop.product(c, "USB-C to USB-C cable 1m", 6_000, sales_count=800))
        exact = shop.product(c, "USB-C cable 1m", 5_000, sales_count=0, stock_quantity=0)
    ranked = _ranked(client, "USB-C cable 1m")
    assert ranked[0] == exact
    assert set(ranked[1:]) == set(others)
    # Then a name that starts with the query, before names that only contain its words.
    assert ranked[1] == others[3]


def test_whole_words_before_parts_of_words_and_in_stock_before_out(client, db):
    with write(db.engine) as c:
        part = shop.product(c, "Galaxy Buds2 Pro", 100_000, sales_count=900)
        whole_out = shop.product(c, "Galaxy Buds FE", 90_000, sales_count=10, stock_quantity=0)
        whole_in = shop.product(c, "Galaxy Buds Live", 95_000, sales_count=5)
    assert _ranked(client, "buds") == [whole_in, whole_out, part]


def test_an_exact_arabic_name_after_folding_and_an_exact_sku_rank_first(client, db):
    with write(db.engine) as c:
        longer = shop.product(c, "Screen protector pack", 9_000, name_ar="واقي شاشة زجاجي مقوى", sales_count=900)
        exact = shop.product(c, "Screen protector", 5_000, name_ar="واقي شاشة", sku="UG-TGP-1", stock_quantity=0)
        sku_prefix = shop.product(c, "Protector kit", 5_000, sku="UG-TGP-1-KIT", sales_count=1000)
    assert _ranked(client, "واقى شاشه") == [exact, longer]
    assert _ranked(client, "ug-tgp-1") == [exact, sku_prefix]
