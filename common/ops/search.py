"""Payload search: queue items whose payload holds a value anywhere (a line item's SKU, a
customer's phone), newest first. A dead letter keeps its queue item, so dead letters are found too.

PostgreSQL answers from the GIN index on the payload (jsonb_ops keeps every value at any depth):
`payload @? '$.** ? (@ == "value")'`. SQLite walks each payload with json_tree: correct, slower.
A value that reads as a number also matches that number (Zoho sends quantities and some ids as numbers).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from sqlalchemy import Connection, Row, and_, cast, exists, func, or_, select, text
from sqlalchemy.dialects.postgresql import JSONPATH

from common.db.engine import is_postgresql
from common.models import tds_sync_queue

_LARGEST_INTEGER = 2**63 - 1  # what both databases hold as an integer


def _number(value: str) -> int | float | None:
    """The number `value` spells (finite, and an integer within 64 bits), else None."""
    try:
        number = json.loads(value, parse_constant=lambda _name: None)
    except (ValueError, RecursionError):
        return None
    if isinstance(number, bool) or not isinstance(number, int | float):
        return None
    if isinstance(number, float) and not math.isfinite(number):
        return None
    return number if not isinstance(number, int) or abs(number) <= _LARGEST_INTEGER else None


def jsonpath_for(value: str) -> str:
    """The jsonpath matching `value` (and its number) at any depth; the value is a JSON string
    literal, so no character of it can change the path."""
    matches = [f"@ == {json.dumps(value)}"]
    number = _number(value)
    if number is not None:
        matches.append(f"@ == {json.dumps(number)}")
    return f"$.** ? ({' || '.join(matches)})"


def _holds(connection: Connection, value: str):
    if is_postgresql(connection):
        return tds_sync_queue.c.payload.op("@?")(cast(jsonpath_for(value), JSONPATH))
    node = func.json_tree(tds_sync_queue.c.payload).table_valued("type", "atom").alias("node")
    matches = [and_(node.c.type == "text", node.c.atom == value)]
    number = _number(value)
    if number is not None:
        matches.append(and_(node.c.type.in_(("integer", "real")), node.c.atom == number))
    return exists(select(text("1")).select_from(node).where(or_(*matches)))


def search_payloads(connection: Connection, value: str, limit: int) -> Sequence[Row]:
    items = tds_sync_queue.c
    return connection.execute(
        select(items.id, items.entity_type, items.source_entity_id, items.status, items.created_at)
        .where(_holds(connection, value))
        .order_by(items.id.desc())
        .limit(limit)
    ).all()
