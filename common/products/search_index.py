"""What the catalog stores so that search can find a product: folded columns and the typo vocabulary.

Every writer of products (the Zoho sync handler, the data generator, the tests' fixtures, the
plain-SQL benchmark) asks `product_search` what a product row needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from common.products.text import MIN_TYPO_WORD, fold, index_key, typo_variants, words

# Separates the fields of search_name. Folded keys are letters, digits and single spaces, so
# "| usb c cable 1m |" can only be a whole field: that is how relevance sees an exact name.
FIELD_SEPARATOR = "|"


def search_columns(
    *,
    name: str,
    name_ar: str | None = None,
    sku: str | None = None,
    brand: str | None = None,
    description: str | None = None,
    description_ar: str | None = None,
) -> dict[str, str]:
    """`search_name` (names, SKU, brand) ranks a match; `search_text` (all of it) finds one.

    search_name holds each field apart, with a space before and after every word:
    `| <name> | <Arabic name> | <SKU> | <brand> `, so that relevance can tell a field equal to
    the query, a field that starts with it, and a whole word from part of one.
    """
    fields = [index_key(fold(value)) for value in (name, name_ar, sku, brand)]
    name_part = " ".join(field for field in fields if field)
    rest = fold(" ".join(filter(None, (description, description_ar))))
    return {
        "search_name": "".join(f"{FIELD_SEPARATOR} {field} " for field in fields),
        "search_text": index_key(f"{name_part} {rest}".strip()),
    }


def vocabulary(texts: Iterable[str | None]) -> set[str]:
    """The words of product names worth typo-matching (folded, not yet spelled in ASCII)."""
    return {word for text in texts for word in words(fold(text)) if len(word) >= MIN_TYPO_WORD}


def vocabulary_rows(terms: Iterable[str]) -> list[dict[str, str]]:
    """The search_terms rows that let a query with a typo find each term."""
    return [{"variant": variant, "term": term} for term in terms for variant in typo_variants(term)]


# The product's text fields search reads; the first three are its names, whose words go to the vocabulary.
PRODUCT_TEXT = ("name", "name_ar", "brand", "sku", "description", "description_ar")


@dataclass(frozen=True)
class ProductSearch:
    """What a product row needs so that search finds it."""

    columns: dict[str, str]  # search_name and search_text, stored on the row
    terms: set[str]  # words of its names the typo vocabulary must hold (rows: vocabulary_rows)


def product_search(text: Mapping[str, str | None], indexed: Mapping[str, Any] | None = None) -> ProductSearch:
    """The search columns and vocabulary of a product whose text fields (PRODUCT_TEXT; a missing
    one is None) are `text`. For a product already stored, `indexed` is its stored row: the words
    of its names went into the vocabulary when it was stored, so only new words are returned."""
    fields = {field: text.get(field) for field in PRODUCT_TEXT}
    terms = vocabulary(fields[field] for field in PRODUCT_TEXT[:3])
    if indexed is not None:
        terms -= vocabulary(indexed[field] for field in PRODUCT_TEXT[:3])
    return ProductSearch(search_columns(**fields), terms)
