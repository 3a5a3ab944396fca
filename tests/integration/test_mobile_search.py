"""GET /api/mobile/search on both databases (PostgreSQL in a C-locale database): folding, typos, ranking,
filters, sorts and pages."""

import pytest

from common.clock import utcnow
from common.db.transactions import write
from common.models import products
from common.shop import search as search_module
from common.shop.search import one_edit_apart, query_words
from tests import shop_fixtures as shop

SEARCH = "/api/mobile/search"


@pytest.fixture
def catalogue(db) -> dict[str, int]:
    now = utcnow()
    with write(db.engine) as c:
        phones = shop.category(c, "Phones", name_ar="هواتف")
        screens = shop.category(c, "TVs", name_ar="شاشات")
        ids = {"phones": phones, "screens": screens}
        ids["galaxy"] = shop.product(
            c,
            "Samsung Galaxy A55 5G",
            480_000,
            name_ar="هاتف سامسونج جالكسي",
            brand="Samsung",
            sku="SM-A556E",
            description="Bright display and fast charging",
            category_id=phones,
            sales_count=40,
            created_at=now - 9 * shop.DAY,
        )
        ids["iphone"] = shop.product(
            c,
            "Apple iPhone 15 Pro",
            1_450_000,
            name_ar="آيفون 15 برو",
            brand="Apple",
            sku="AP-IP15P",
            category_id=phones,
            sales_count=90,
            created_at=now - 8 * shop.DAY,
        )
        ids["tv"] = shop.product(
            c,
            "Samsung Crystal UHD TV 55",
            650_000,
            name_ar="شاشة سامسونج 55 بوصة",
            brand="Samsung",
            category_id=screens,
            sales_count=10,
            stock_quantity=0,
            created_at=now - 7 * shop.DAY,
        )
        ids["kit"] = shop.product(
            c,
            "Phone accessories kit",
            15_000,
            name_ar="إكسسوارات الهاتف",
            sales_count=5,
            description_ar="كفر وواقي شاشة",
            created_at=now - 6 * shop.DAY,
        )
        ids["charger"] = shop.product(
            c,
            "Anker Nano Charger 20W",
            20_000,
            name_ar="شاحن أنكر",
            brand="Anker",
            description="Charges the Samsung Galaxy and the iPhone quickly",
            sales_count=500,
            created_at=now - 5 * shop.DAY,
        )
        ids["retired"] = shop.product(c, "Samsung Galaxy S10", 100_000, sales_count=1000, is_active=False)
        shop.promotion(c, "percentage", 50, product_id=ids["tv"])  # the TV is 325,000 after promotions
    return ids


def _found(client, **params) -> list[int]:
    response = client.get(SEARCH, query_string=params)
    assert response.status_code == 200, response.get_json()
    return [card["id"] for card in response.get_json()["results"]]


def test_english_is_case_insensitive_and_ranked_name_first(client, catalogue):
    # Both name matches (best seller first), then the charger whose description mentions Samsung.
    assert _found(client, q="SAMSUNG") == [catalogue["galaxy"], catalogue["tv"], catalogue["charger"]]
    assert _found(client, q="iphone") == [catalogue["iphone"], catalogue["charger"]]


def test_every_word_must_match(client, catalogue):
    assert _found(client, q="samsung galaxy") == [catalogue["galaxy"], catalogue["charger"]]
    assert _found(client, q="samsung crystal") == [catalogue["tv"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("شاشه", ["tv", "kit"]),  # ة written as ه; the kit has it in its Arabic description only
        ("الشاشة", []),  # a different word
        ("شَاشَة", ["tv", "kit"]),  # tashkeel in the query
        ("اكسسوارات", ["kit"]),  # إ written as ا
        ("ايفون", ["iphone"]),  # آ written as ا
        ("آيفون ١٥", ["iphone"]),  # Arabic-Indic digits
        ("سامسونج جالكسي", ["galaxy"]),
        ("هاتف", ["galaxy", "kit"]),  # also inside "الهاتف"
    ],
)
def test_arabic_spelling_variants_are_folded(client, catalogue, query, expected):
    assert _found(client, q=query) == [catalogue[key] for key in expected]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("samsnug", ["galaxy", "tv", "charger"]),  # neighbours swapped
        ("samsng galaxy", ["galaxy", "charger"]),  # a letter missing
        ("galaxi", ["galaxy", "charger"]),  # a letter wrong
        ("iphonee", ["iphone", "charger"]),  # a letter too many
        ("سامسوتج", ["galaxy", "tv"]),  # ت for ن
        ("سامسنج", ["galaxy", "tv"]),  # a letter missing
        ("انكير", ["charger"]),  # a letter too many, and أ as ا
    ],
)
def test_one_typo_is_tolerated(client, catalogue, query, expected):
    assert _found(client, q=query) == [catalogue[key] for key in expected]


def test_two_typos_are_not(client, catalogue):
    assert _found(client, q="smasnug") == []
    assert _found(client, q="samsnxg") == []  # shares a one-deletion variant with "samsung", two edits away


def test_sku_and_description_match(client, catalogue):
    assert _found(client, q="SM-A556E") == [catalogue["galaxy"]]
    assert _found(client, q="a556e") == [catalogue["galaxy"]]
    assert _found(client, q="fast charging") == [catalogue["galaxy"]]
    assert _found(client, q="كفر") == [catalogue["kit"]]


def test_short_words_match_the_start_of_a_word(client, catalogue):
    assert _found(client, q="tv") == [catalogue["tv"]]
    assert _found(client, q="5g") == [catalogue["galaxy"]]
    # Words starting with g ("galaxy" in the galaxy's name, in the charger's description), not "samsung".
    assert _found(client, q="g") == [catalogue["galaxy"], catalogue["charger"]]


def test_no_match_is_an_empty_page(client, catalogue):
    response = client.get(SEARCH, query_string={"q": "playstation"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=30"
    assert response.get_json() == {
        "query": "playstation",
        "results": [],
        "total_count": 0,
        "page": 1,
        "page_size": 20,
        "has_more": False,
    }


def test_results_are_cards_with_promotion_prices(client, catalogue):
    body = client.get(SEARCH, query_string={"q": "crystal"}).get_json()
    assert body["results"] == [
        {
            "id": catalogue["tv"],
            "name": "Samsung Crystal UHD TV 55",
            "name_ar": "شاشة سامسونج 55 بوصة",
            "price": 325_000,
            "original_price": 650_000,
            "discount": 50,
            "image": None,
            "in_stock": False,
            "rating": None,
            "review_count": 0,
        }
    ]


def test_filters_use_prices_after_promotions(client, catalogue):
    assert _found(client, q="samsung", category_id=catalogue["screens"]) == [catalogue["tv"]]
    assert _found(client, q="samsung", in_stock="true") == [catalogue["galaxy"], catalogue["charger"]]
    assert _found(client, q="samsung", in_stock="false") == [catalogue["galaxy"], catalogue["tv"], catalogue["charger"]]
    # The TV lists at 650,000 but sells at 325,000.
    assert _found(client, q="samsung", max_price=400_000) == [catalogue["tv"], catalogue["charger"]]
    assert _found(client, q="samsung", min_price=400_000) == [catalogue["galaxy"]]
    assert _found(client, q="samsung", min_price=325_000, max_price=325_000) == [catalogue["tv"]]
    assert _found(client, q="samsung", min_price=10, max_price=5) == []  # an empty range finds nothing


def test_filters_alone_make_a_search(client, catalogue):
    assert _found(client, category_id=catalogue["phones"]) == [catalogue["iphone"], catalogue["galaxy"]]
    assert _found(client, q="  ", min_price=1_000_000) == [catalogue["iphone"]]


def test_sorts_by_price_after_promotions_and_by_age(client, catalogue):
    everything = {"category_id": catalogue["phones"]}
    cheapest_first = [catalogue["charger"], catalogue["tv"], catalogue["galaxy"]]
    assert _found(client, q="samsung", sort="price_asc") == cheapest_first
    assert _found(client, q="samsung", sort="price_desc") == cheapest_first[::-1]
    assert _found(client, q="samsung", sort="newest") == [catalogue["charger"], catalogue["tv"], catalogue["galaxy"]]
    assert _found(client, **everything, sort="newest") == [catalogue["iphone"], catalogue["galaxy"]]


def test_pages(client, catalogue):
    first = client.get(SEARCH, query_string={"q": "samsung", "page_size": 2}).get_json()
    assert [card["id"] for card in first["results"]] == [catalogue["galaxy"], catalogue["tv"]]
    assert (first["total_count"], first["page"], first["page_size"], first["has_more"]) == (3, 1, 2, True)
    second = client.get(SEARCH, query_string={"q": "samsung", "page_size": 2, "page": 2}).get_json()
    assert [card["id"] for card in second["results"]] == [catalogue["charger"]]
    assert (second["total_count"], second["has_more"]) == (3, False)
    beyond = client.get(SEARCH, query_string={"q": "samsung", "page_size": 2, "page": 5}).get_json()
    assert (beyond["results"], beyond["total_count"], beyond["has_more"]) == ([], 3, False)


def test_inactive_products_are_never_found(client, catalogue):
    assert catalogue["retired"] not in _found(client, q="galaxy s10")
    assert _found(client, q="s10") == []


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}, {"q": "!!! ؟"}, {"q": "", "in_stock": "false"}])
def test_a_blank_query_without_filters_is_400(client, db, params):
    response = client.get(SEARCH, query_string=params)
    assert response.status_code == 400
    assert response.get_json()["code"] == "bad_request"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x" * 201}, "q"),
        ({"q": "tv", "page_size": 101}, "page_size"),
        ({"q": "tv", "page_size": 0}, "page_size"),
        ({"q": "tv", "page": 0}, "page"),
        ({"q": "tv", "page": "two"}, "page"),
        ({"q": "tv", "sort": "cheapest"}, "sort"),
        ({"q": "tv", "min_price": -1}, "min_price"),
        ({"q": "tv", "category_id": "phones"}, "category_id"),
    ],
)
def test_bad_parameters_are_422(client, db, params, field):
    response = client.get(SEARCH, query_string=params)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == field


def test_at_most_eight_words_count(client, catalogue):
    words = "samsung galaxy a55 5g bright display fast charging"
    assert _found(client, q=words) == [catalogue["galaxy"]]
    assert _found(client, q=f"{words} unknownword") == [catalogue["galaxy"]]
    assert query_words("a b a c") == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("samsung", "samsung", True),
        ("samsnug", "samsung", True),  # swap
        ("samsng", "samsung", True),  # deletion
        ("samsungs", "samsung", True),  # insertion
        ("samsong", "samsung", True),  # substitution
        ("smasnug", "samsung", False),  # two swaps
        ("xamsunx", "samsung", False),  # two substitutions
        ("samsnxg", "samsung", False),  # both become "samsng" by one deletion, yet they are two edits apart
        ("abcd", "bcda", False),
        ("abc", "abcde", False),
    ],
)
def test_one_edit_apart(a, b, expected):
    assert one_edit_apart(a, b) is expected
    assert one_edit_apart(b, a) is expected


def test_search_follows_later_changes_to_products(client, db, catalogue):
    """On PostgreSQL search reads product_search, which a trigger keeps in step with products."""
    from sqlalchemy import update

    from common.models import products
    from common.products.search_index import search_columns

    with write(db.engine) as connection:
        connection.execute(
            update(products)
            .where(products.c.id == catalogue["iphone"])
            .values(price=2_000_000, sales_count=5000, **search_columns(name="Apple iPhone 16 Pro Max", brand="Apple"))
        )
        connection.execute(update(products).where(products.c.id == catalogue["galaxy"]).values(is_active=False))
    assert _found(client, q="iphone 16") == [catalogue["iphone"]]
    assert _found(client, q="iphone 15") == []
    assert _found(client, q="samsung") == [catalogue["tv"], catalogue["charger"]]
    assert _found(client, q="apple", min_price=1_900_000) == [catalogue["iphone"]]
    assert _found(client, category_id=catalogue["phones"])[0] == catalogue["iphone"]  # now the best seller


# --- Broad searches: their ranked ids and count kept for a minute, their cards read fresh ---------


@pytest.fixture
def broad(monkeypatch):
    """BROAD_MATCHES lowered so that the test catalogue's Samsung search (3 matches) is broad."""
    monkeypatch.setattr(search_module, "BROAD_MATCHES", 3)


def _answer(client, **params) -> dict:
    response = client.get(SEARCH, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_broad_search_keeps_its_ranking_and_shows_current_cards(client, db, catalogue, broad):
    first = _answer(client, q="samsung")
    assert [card["id"] for card in first["results"]] == [catalogue["galaxy"], catalogue["tv"], catalogue["charger"]]
    with write(db.engine) as c:
        c.execute(products.update().where(products.c.id == catalogue["galaxy"]).values(price=470_000))
        c.execute(products.update().where(products.c.id == catalogue["tv"]).values(is_active=False))
        shop.product(c, "Samsung Galaxy Buds", 90_000, sales_count=10_000)  # would rank first
    again = _answer(client, q="samsung")
    # The kept ranking: no new product yet, the deactivated one gone, the current price shown.
    assert [card["id"] for card in again["results"]] == [catalogue["galaxy"], catalogue["charger"]]
    assert again["results"][0]["price"] == 470_000 and again["total_count"] == 3
    search_module.BROAD_RESULTS.ttl_seconds = 0.0  # the minute has passed
    try:
        fresh = _answer(client, q="samsung")
    finally:
        search_module.BROAD_RESULTS.ttl_seconds = 60.0
    assert fresh["total_count"] == 3 and fresh["results"][0]["name"] == "Samsung Galaxy Buds"


def test_a_narrow_search_is_always_ranked_afresh(client, db, catalogue):
    assert _found(client, q="samsung") == [catalogue["galaxy"], catalogue["tv"], catalogue["charger"]]
    with write(db.engine) as c:
        buds = shop.product(c, "Samsung Galaxy Buds", 90_000, sales_count=10_000)
    assert _found(client, q="samsung")[0] == buds
