"""What the catalog stores so that search can find a product: folded columns and the typo vocabulary.

Every writer of products (the Zoho sync handler, the data generator) goes through here.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    return [{"variant": variant, "term": term} for term in terms for variant in typo_variants(term)]
