"""Product search: folded, typo-tolerant, every word must match; the same code on both databases.

1. The query is folded like the catalog (common.products.text): case, accents, Arabic
   spelling variants and tashkeel do not matter. At most 8 words count.
2. Typos: one lookup in `search_terms` finds the catalog words within one edit of each
   query word (symmetric delete: words one edit apart share a one-deletion variant). A
   word the catalog knows as it is spelled gets no alternatives.
3. Candidates: every word must be in search_text, spelled as it is or as one of its
   alternatives. PostgreSQL: LIKE '%word%' on product_search, the narrow copy of products
   that search filters, counts and sorts on, served by its pg_trgm GIN index; SQLite: the
   FTS5 trigram table over products. Words shorter than a trigram match the start of a word instead
   (LIKE 'tv%' OR LIKE '% tv%'), which both indexes serve and which keeps "a" from
   matching everything.
4. Relevance, on search_name (each of name, Arabic name, SKU and brand as a field of its
   own, common.products.search_index): a field equal to the whole query (an exact name, Arabic
   name or SKU) first, then a field that starts with it; within those, per word 4 when it is
   a whole word of the names as typed, 3 when part of one, 2 when only an alternative (a typo)
   is, 1 when only the description has it. At equal relevance, products in stock come before
   those out of stock, then best sellers.
5. A broad search (BROAD_MATCHES or more matches: a colour word matches 40,000 products of
   the benchmark catalogue) costs what it matches, most of it the database reading every
   match. Its ranked page of ids and its count are kept for a minute per process
   (BROAD_RESULTS) and its cards are read fresh, so a price, a stock level or a deactivation
   shows at once; a new or re-ranked product reaches those pages within the minute.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import reduce

from sqlalchemy import ColumnElement, Connection, Integer, Row, Table, case, func, or_, select, text, true

from common.cache import Cache
from common.clock import utcnow
from common.db.engine import is_postgresql
from common.db.transactions import read
from common.errors import BadRequest
from common.models import product_search, products, search_terms
from common.products.search_index import FIELD_SEPARATOR
from common.products.text import MIN_TYPO_WORD, fold, index_key, typo_variants, words
from common.shop.catalog import CARD_COLUMNS, cards
from common.shop.pricing import effective_price_sql, load_active_promotions
from common.shop.schemas import SearchPage, SearchQuery

MAX_WORDS = 8
TRIGRAM = 3
# Field scores outweigh any sum of word scores (at most 4 for each of MAX_WORDS words).
EXACT_FIELD, FIELD_PREFIX = 100, 50
WHOLE_WORD, PART_OF_WORD, TYPO, DESCRIPTION_ONLY = 4, 3, 2, 1
BROAD_MATCHES = 5_000
# (database, query as folded, filters, sort, page, active promotions) -> (the page's ids, match count)
BROAD_RESULTS: Cache[tuple, tuple[tuple[int, ...], int]] = Cache(ttl_seconds=60.0, max_entries=512)


@dataclass(frozen=True)
class _Word:
    key: str  # as typed, in the ASCII spelling of the search columns
    alternatives: tuple[str, ...]  # catalog words within one edit, same spelling


def one_edit_apart(a: str, b: str) -> bool:
    """True when one insertion, deletion, substitution or swap of neighbours turns a into b (or a == b)."""
    if len(a) > len(b):
        a, b = b, a
    if len(b) - len(a) > 1:
        return False
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    swapped = a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :]
    return a[i + 1 :] == b[i + 1 :] or swapped


def query_words(q: str | None) -> list[str]:
    """The distinct folded words of a query, at most MAX_WORDS."""
    return list(dict.fromkeys(words(fold(q))))[:MAX_WORDS]


def _with_alternatives(connection: Connection, folded: list[str]) -> list[_Word]:
    variants = {word: typo_variants(word) for word in folded if len(word) >= MIN_TYPO_WORD}
    rows = []
    if variants:
        rows = connection.execute(
            select(search_terms.c.variant, search_terms.c.term).where(
                search_terms.c.variant.in_(sorted(set().union(*variants.values())))
            )
        ).all()
    known = {term for variant, term in rows if variant == term}
    result = []
    for word in folded:
        alternatives = set()
        if word in variants and word not in known:
            alternatives = {term for variant, term in rows if variant in variants[word] and one_edit_apart(word, term)}
        result.append(_Word(index_key(word), tuple(sorted(index_key(term) for term in alternatives))))
    return result


def _contains(column, key: str) -> ColumnElement[bool]:
    if len(key) >= TRIGRAM:
        return column.like(f"%{key}%")
    return or_(column.like(f"{key}%"), column.like(f"% {key}%"))


def _any_of(column, keys) -> ColumnElement[bool]:
    return or_(*(_contains(column, key) for key in keys))


def _source(connection: Connection) -> Table:
    """What search reads: product_search on PostgreSQL, products itself on SQLite."""
    return product_search if is_postgresql(connection) else products


def _matches(connection: Connection, source: Table, found: list[_Word]) -> list[ColumnElement[bool]]:
    """Every word (or one of its alternatives) in search_text: trigram LIKEs, or FTS5 on SQLite."""
    if is_postgresql(connection):
        return [_any_of(source.c.search_text, (w.key, *w.alternatives)) for w in found]
    # A word shorter than a trigram has no alternatives (typos are only looked for in longer words).
    conditions = [_contains(source.c.search_text, w.key) for w in found if len(w.key) < TRIGRAM]
    # Folded keys are letters and digits only, so they need no quoting beyond the phrase quotes.
    phrases = [" OR ".join(f'"{key}"' for key in (w.key, *w.alternatives)) for w in found if len(w.key) >= TRIGRAM]
    if phrases:
        fts = text("SELECT rowid FROM products_fts WHERE products_fts MATCH :fts").columns(rowid=Integer)
        conditions.append(source.c.id.in_(fts.bindparams(fts=" AND ".join(f"({p})" for p in phrases))))
    return conditions


def _relevance(connection: Connection, source: Table, found: list[_Word], phrase: str) -> ColumnElement[int]:
    """The rank of a match, computed for every match of a broad query (40,000 rows for a colour
    word on the benchmark catalogue). Substring positions rather than LIKE: no index serves
    this, and strpos / instr search plain text about twice as fast as LIKE's pattern matcher.
    Every word of search_name has a space before it and after it (common.products.search_index)."""
    position = func.strpos if is_postgresql(connection) else func.instr
    name = source.c.search_name

    def has(fragment: str) -> ColumnElement[bool]:
        return position(name, fragment) > 0

    field = case(
        (
            has(f"{FIELD_SEPARATOR} {phrase} "),
            case((has(f"{FIELD_SEPARATOR} {phrase} {FIELD_SEPARATOR}"), EXACT_FIELD), else_=FIELD_PREFIX),
        ),
        else_=0,
    )
    scores = []
    for word in found:
        # A word shorter than a trigram counts only at the start of a word, as it matches.
        typed = word.key if len(word.key) >= TRIGRAM else f" {word.key}"
        branches = [(has(f" {word.key} "), WHOLE_WORD), (has(typed), PART_OF_WORD)]
        if word.alternatives:
            branches.append((or_(*(has(alternative) for alternative in word.alternatives)), TYPO))
        scores.append(case(*branches, else_=DESCRIPTION_ONLY))
    return reduce(operator.add, scores, field)


def _sort_keys(
    connection: Connection, source: Table, sort: str, found: list[_Word], phrase: str, price: ColumnElement[int]
) -> list[tuple[ColumnElement, bool]]:
    """(expression, descending) pairs, ending in the id so that pages never overlap."""
    if sort == "price_asc":
        return [(price, False), (source.c.id, False)]
    if sort == "price_desc":
        return [(price, True), (source.c.id, False)]
    if sort == "newest":
        return [(source.c.created_at, True), (source.c.id, True)]
    relevance = [(_relevance(connection, source, found, phrase), True)] if found else []
    in_stock = case((source.c.stock_quantity > 0, 1), else_=0)
    return [*relevance, (in_stock, True), (source.c.sales_count, True), (source.c.id, False)]


def _page(
    source: Table, conditions: list[ColumnElement[bool]], keys: list[tuple[ColumnElement, bool]], query: SearchQuery
):
    """The page's card columns, each row with the number of all matches.

    The matches are filtered once into a narrow, materialised set that is both counted and
    sorted: a plain ORDER BY ... LIMIT beside a count tempts PostgreSQL into walking a sort
    index over the whole table. The count comes as a row of its own, left-joined to the
    page, so that a page past the end still says how many matches there are.
    """
    labelled = [(expression.label(f"key_{n}"), descending) for n, (expression, descending) in enumerate(keys)]
    matches = (select(source.c.id, *(label for label, _ in labelled)).where(*conditions).cte("matches")).prefix_with(
        "MATERIALIZED"
    )
    order = [matches.c[label.name].desc() if desc else matches.c[label.name] for label, desc in labelled]
    page = (
        select(matches).order_by(*order).limit(query.page_size).offset((query.page - 1) * query.page_size)
    ).subquery("page")
    total = select(func.count().label("total_count")).select_from(matches).subquery("total")
    return (
        select(total.c.total_count, *CARD_COLUMNS)
        .select_from(total.outerjoin(page.join(products, products.c.id == page.c.id), true()))
        .order_by(*(page.c[label.name].desc() if desc else page.c[label.name] for label, desc in labelled))
    )


def search(query: SearchQuery) -> SearchPage:
    """A page of active products matching the query and filters; BadRequest when there is neither."""
    folded = query_words(query.q)
    has_filter = (
        query.category_id is not None or query.min_price is not None or query.max_price is not None or query.in_stock
    )
    if not folded and not has_filter:
        raise BadRequest("Type something to search for, or choose a filter")
    phrase = index_key(fold(query.q or ""))
    with read() as connection:
        active = load_active_promotions(connection, utcnow())
        key = (
            connection.engine.url.render_as_string(hide_password=True),
            phrase,
            tuple(folded),
            query.category_id,
            query.min_price,
            query.max_price,
            query.in_stock,
            query.sort,
            query.page,
            query.page_size,
            tuple(promotion.id for promotion in active),
        )
        kept = BROAD_RESULTS.lookup(key)
        if kept is not None:
            ids, total = kept
            results = cards(connection, _current_rows(connection, ids), active)
            return _search_page(query, results, total)
        found = _with_alternatives(connection, folded)
        source = _source(connection)
        price = effective_price_sql(connection, source, active)
        conditions = [source.c.is_active, *_matches(connection, source, found)]
        if query.category_id is not None:
            conditions.append(source.c.category_id == query.category_id)
        if query.min_price is not None:
            conditions.append(price >= query.min_price)
        if query.max_price is not None:
            conditions.append(price <= query.max_price)
        if query.in_stock:
            conditions.append(source.c.stock_quantity > 0)
        keys = _sort_keys(connection, source, query.sort, found, phrase, price)
        rows = connection.execute(_page(source, conditions, keys, query)).all()
        total = rows[0].total_count
        rows = [row for row in rows if row.id is not None]
        if total >= BROAD_MATCHES:
            BROAD_RESULTS.keep(key, (tuple(row.id for row in rows), total))
        results = cards(connection, rows, active)
    return _search_page(query, results, total)


def _current_rows(connection: Connection, ids: tuple[int, ...]) -> list[Row]:
    """The card columns of a kept page's products as they are now, in the kept order (a product
    deactivated since is left out)."""
    if not ids:
        return []
    rows = {
        row.id: row
        for row in connection.execute(select(*CARD_COLUMNS).where(products.c.id.in_(ids), products.c.is_active))
    }
    return [rows[product_id] for product_id in ids if product_id in rows]


def _search_page(query: SearchQuery, results: list, total: int) -> SearchPage:
    return SearchPage(
        query=query.q or "",
        results=results,
        total_count=total,
        page=query.page,
        page_size=query.page_size,
        has_more=query.page * query.page_size < total,
    )
