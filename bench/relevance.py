"""Search relevance on the demo catalogue: the rank of the wanted product for each judged query
(tests/search_judgements.py) and the mean reciprocal rank, beside the same figures for a
baseline ranking (best sellers first among the matches) measured in the same run.

    bench/run.sh relevance [--database-url URL]   # default: a fresh SQLite file

Builds the demo catalogue (demo_data.generator, DEMO_SIZE) into the database, then calls the
search service (common.shop.search) for each query, at page size 100.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


def _rank(ids: list[int], wanted: int) -> int | None:
    return ids.index(wanted) + 1 if wanted in ids else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a database to fill with the demo catalogue (its data is replaced)")
    args = parser.parse_args(argv)
    folder = tempfile.TemporaryDirectory()
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{Path(folder.name) / 'relevance.sqlite3'}"

    from sqlalchemy import select

    from common import migrate
    from common.db.engine import get_engine
    from common.db.transactions import read
    from common.models import products
    from common.shop.schemas import SearchQuery
    from common.shop.search import search
    from demo_data import generator
    from tests.search_judgements import JUDGEMENTS

    engine = get_engine()
    migrate.upgrade(engine)
    generator.generate(engine, generator.DEMO_SIZE, replace=True)
    with read(engine) as connection:
        by_name = {name: id_ for id_, name in connection.execute(select(products.c.id, products.c.name))}

    rows, reciprocal, baseline_reciprocal = [], [], []
    for judgement in JUDGEMENTS:
        wanted = by_name[judgement.expected]
        ranked = [card.id for card in search(SearchQuery(q=judgement.query, page_size=100)).results]
        # The baseline: the same matches, best sellers first (no relevance at all).
        with read(engine) as connection:
            chosen = select(products.c.id, products.c.sales_count).where(products.c.id.in_(ranked))
            sales = dict(connection.execute(chosen).all())
        baseline = sorted(ranked, key=lambda id_: (-sales[id_], id_))
        rank, base = _rank(ranked, wanted), _rank(baseline, wanted)
        reciprocal.append(1 / rank if rank else 0.0)
        baseline_reciprocal.append(1 / base if base else 0.0)
        limit = 1 if judgement.kind == "exact" else 3
        verdict = "ok" if rank and rank <= limit else "MISS"
        rows.append(
            f"| {judgement.query} | {judgement.kind} | {rank or '-'} | {base or '-'} | {len(ranked)} | {verdict} |"
        )

    print(f"database: {engine.url.render_as_string(hide_password=True)}; {len(JUDGEMENTS)} judged queries")
    print("| query | kind | rank | baseline rank | matches | verdict |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    mrr, baseline_mrr = sum(reciprocal) / len(reciprocal), sum(baseline_reciprocal) / len(baseline_reciprocal)
    misses = sum(row.endswith("MISS |") for row in rows)
    print(f"mean reciprocal rank: {mrr:.3f} (baseline, best sellers first: {baseline_mrr:.3f}); misses: {misses}")
    engine.dispose()
    folder.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
