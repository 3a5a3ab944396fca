"""demo_data/catalogue.json holds together: what a product line or a category names is defined in it.

The generator draws lines and colours at random, so a dangling name would fail only the data sets
that happen to draw it; these checks read the whole file instead.
"""

from __future__ import annotations

import json
from pathlib import Path

from demo_data import catalogue

CATALOGUE_JSON = Path(catalogue.__file__).with_name("catalogue.json")


def test_every_brand_and_colour_a_category_names_is_defined():
    loaded = catalogue.load()
    brands = {line.brand for category in loaded.categories for line in category.lines}
    colours = {colour for category in loaded.categories for colour in category.colors}
    assert brands - set(loaded.brands) == set()
    assert colours - set(loaded.colors) == set()


def test_each_category_can_give_a_description_and_has_a_unique_name():
    loaded = catalogue.load()
    assert [c.name for c in loaded.categories if len(c.features) < 2 or not c.lines or not c.colors] == []
    names = [category.name for category in loaded.categories]
    assert len(names) == len(set(names))  # categories are found by name (category_id)


def test_the_file_is_read_as_written():
    """The loader keeps the file's order and values (generation draws from them in order)."""
    raw = json.loads(CATALOGUE_JSON.read_text(encoding="utf-8"))
    loaded = catalogue.load()
    first = raw["categories"][0]
    assert [c.name for c in loaded.categories] == [c["name"] for c in raw["categories"]]
    assert loaded.categories[0].lines[0].base_price == first["lines"][0]["base_price"]
    assert loaded.categories[0].features[0] == tuple(first["features"][0])
    assert list(loaded.cities) == list(raw["cities"])
    assert loaded.cities["Baghdad"].districts[0] == tuple(raw["cities"]["Baghdad"]["districts"][0])
    without_options = [c for c, data in zip(loaded.categories, raw["categories"], strict=True) if "options" not in data]
    assert without_options and all(category.options == catalogue.STANDARD for category in without_options)
