"""Validating data against pydantic models: a failure becomes ValidationFailed naming each field."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, ValidationError, WithJsonSchema

from common.errors import InvalidJson, ValidationFailed

Model = TypeVar("Model", bound=BaseModel)

MAX_ID = 2**63 - 1  # the largest key a BIGINT column holds
_ID_TEXT = re.compile(r"^[0-9]{1,19}$")


def id_from_text(text: str) -> int | None:
    """A row id written in ASCII digits (1..MAX_ID), as in a URL path; None for anything else."""
    if not _ID_TEXT.match(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


# Fields of JSON bodies take exactly what their JSON Schema admits, no looser: the OpenAPI
# document promises it, and a fuzzer holds the service to it (no "3" for an integer, no
# number for a date, no true for a number).


def json_integer_value(value: Any) -> int:
    """JSON's idea of an integer: 3 and 3.0, but not true, "3" or 3.5."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a whole number")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("must be a whole number")
    return int(value)


def _json_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a number")
    return Decimal(str(value))


def _json_string(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def json_integer(minimum: int, maximum: int, **schema: Any) -> Any:
    return Annotated[
        int,
        BeforeValidator(json_integer_value),
        Field(ge=minimum, le=maximum),
        WithJsonSchema({"type": "integer", "minimum": minimum, "maximum": maximum, **schema}),
    ]


def json_number(minimum: int, maximum: int) -> Any:
    """A decimal amount; floats go through their text, so 1250.1 stays 1250.1."""
    return Annotated[
        Decimal,
        BeforeValidator(_json_number),
        Field(ge=minimum, le=maximum),
        WithJsonSchema({"type": "number", "minimum": minimum, "maximum": maximum}),
    ]


# Dates both databases store and Python can move to UTC: year 1 at +14:00 is before
# datetime.min in UTC and year 9999 at -14:00 after datetime.max, so the ends are cut well
# inside; no Zoho document is dated outside this range.
MIN_YEAR, MAX_YEAR = 1900, 9000
YEARS_PATTERN = "^(19[0-9]{2}|[2-8][0-9]{3}|9000)-"  # the same range, for the JSON Schema


def within_years(value: dt.date) -> dt.date:
    """A date or datetime inside MIN_YEAR..MAX_YEAR (ValueError otherwise)."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"must be a date between the years {MIN_YEAR} and {MAX_YEAR}")
    return value


JsonDateTime = Annotated[dt.datetime, BeforeValidator(_json_string), AfterValidator(within_years)]
JsonDate = Annotated[dt.date, BeforeValidator(_json_string), AfterValidator(within_years)]


# --- JSON bodies ---------------------------------------------------------------------------

# Deeper documents are refused at intake: pydantic stops serialising at 255 levels and Python's
# json at about 1,000, so a deeper body could be queued but never applied, dead-lettered or shown.
MAX_JSON_DEPTH = 64


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored (NUL, or a lone surrogate: neither survives PostgreSQL
    text or UTF-8), or None when it can."""
    if "\x00" in text:
        return "must not contain NUL characters"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode (no lone surrogates)"
    return None


def json_value_problem(value: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a decoded JSON value cannot go through the queue, the drain and the admin views,
    or None when it can: nesting deeper than `max_depth`, a non-finite number (1e400 decodes
    to infinity, which neither database's JSON holds), or a string `text_problem` refuses."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return f"strings {problem}"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "numbers must be finite"
        elif isinstance(item, (dict, list)):
            if depth > max_depth:
                return f"must not nest deeper than {max_depth} levels"
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
            if isinstance(item, dict):
                pending.extend((key, depth) for key in item)
    return None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


class _NotFinite(ValueError):
    pass


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NotFinite(text)
    return number


# In JSON text that json.loads accepted from strict UTF-8, a NUL or a lone surrogate can only
# be written as one of these escapes, and no value nests deeper than it has brackets.
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def decode_json(data: bytes | str) -> Any:
    """A request body's JSON (UTF-8 only), or InvalidJson (400) for anything that is not
    JSON or that `json_value_problem` refuses. The one decoder every body goes through."""
    try:
        # Strict UTF-8: json.loads would decode bytes with "surrogatepass", letting the
        # encoded surrogate ED A0 80 through as text no database can store.
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except _NotFinite:
        raise InvalidJson("Request body is not acceptable JSON: numbers must be finite") from None
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidJson() from exc
    # The walk over every value costs more than decoding; the text shows when it cannot find anything.
    if _UNSTORABLE_ESCAPE.search(text) is None and text.count("{") + text.count("[") <= MAX_JSON_DEPTH:
        return value
    problem = json_value_problem(value)
    if problem:
        raise InvalidJson(f"Request body is not acceptable JSON: {problem}")
    return value


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "body", "message": error["msg"]}
        for error in exc.errors(include_url=False, include_input=False)
    ]


def validate(model: type[Model], data: Any) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(errors=field_errors(exc)) from None
