"""The types of the Zoho record fields, written the way Zoho writes them: ids as strings or JSON
numbers of any size (kept exactly, as text), amounts as numbers or numeric strings, `""` (or
blanks) for "no value", timestamps with `+0300` offsets or plain dates; each with the JSON
schema the API document shows."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from common.validation import YEARS_PATTERN, within_years

_MAX_ID_DIGITS = 64
_BLANK_SCHEMA = {"type": "string", "pattern": r"^\s*$"}


def _is_blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


def _blank_is_none(value: Any) -> Any:
    return None if _is_blank(value) else value


def _id_text(value: Any) -> Any:
    """Zoho's ids are digit strings, often sent as JSON numbers (some above 2^53): both become text."""
    if isinstance(value, bool):
        raise ValueError("must be a string or a non-negative integer")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("must be a string or a non-negative integer")
        return str(value)
    if isinstance(value, float):  # only an integer written with a fraction or exponent gets here
        if not value.is_integer() or value < 0:
            raise ValueError("must be a string or a non-negative integer")
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    raise ValueError("must be a string or a non-negative integer")


def _numeric_text(minimum: int, maximum: int) -> re.Pattern:
    """Numeric strings within the bounds by their digit count, so that the JSON schema can say it too."""
    digits = len(str(maximum)) - 1  # maximum is a power of ten: fewer digits stay below it
    sign = "[-+]?" if minimum < 0 else "[+]?"
    return re.compile(rf"^{sign}[0-9]{{1,{digits}}}(\.[0-9]*)?$")


def _decimal(numeric_text: re.Pattern | None) -> Any:
    def parse(value: Any) -> Any:
        """A number, or a numeric string as Zoho sometimes sends amounts; floats go through their text."""
        if isinstance(value, bool):
            raise ValueError("must be a number")
        if isinstance(value, (int, float)):
            return Decimal(str(value))
        if numeric_text is not None and isinstance(value, str) and numeric_text.match(value):
            return Decimal(value)
        raise ValueError("must be a number" + (" or a numeric string" if numeric_text else ""))

    return parse


def _text_value(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


_ID_SCHEMA = {
    "anyOf": [
        {"type": "string", "minLength": 1, "maxLength": _MAX_ID_DIGITS, "pattern": r"\S"},
        {"type": "integer", "minimum": 0, "maximum": 10**_MAX_ID_DIGITS - 1},
    ]
}
ZohoId = Annotated[
    str,
    BeforeValidator(_id_text),
    StringConstraints(min_length=1, max_length=_MAX_ID_DIGITS),
    WithJsonSchema(_ID_SCHEMA),
]


def optional(annotation: Any, schema: dict[str, Any]) -> Any:
    """An optional known field: its type, or `""` / blanks / null for "no value"."""
    return Annotated[
        annotation | None,
        BeforeValidator(_blank_is_none),
        WithJsonSchema({"anyOf": [schema, _BLANK_SCHEMA, {"type": "null"}]}),
    ]


def _amount_schema(minimum: int, maximum: int, numeric_text: re.Pattern | None) -> dict[str, Any]:
    number = {"type": "number", "minimum": minimum, "maximum": maximum}
    return {"anyOf": [number, {"type": "string", "pattern": numeric_text.pattern}]} if numeric_text else number


def amount(minimum: int, maximum: int, strings: bool = True) -> Any:
    """A required amount: a number (or, with `strings`, a numeric string), within bounds."""
    numeric_text = _numeric_text(minimum, maximum) if strings else None
    return Annotated[
        Decimal,
        BeforeValidator(_decimal(numeric_text)),
        Field(ge=minimum, le=maximum),
        WithJsonSchema(_amount_schema(minimum, maximum, numeric_text)),
    ]


def optional_amount(minimum: int, maximum: int, strings: bool = True) -> Any:
    numeric_text = _numeric_text(minimum, maximum) if strings else None
    return optional(amount(minimum, maximum, strings), _amount_schema(minimum, maximum, numeric_text))


def _assume_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value


def RequiredText(limit: int) -> Any:  # noqa: N802 - reads as a type in the models below
    return Annotated[str, BeforeValidator(_text_value), StringConstraints(max_length=limit)]


def Text(limit: int) -> Any:  # noqa: N802 - reads as a type in the models below
    return optional(RequiredText(limit), {"type": "string", "maxLength": limit})


OptionalId = optional(ZohoId, _ID_SCHEMA)
Amount = optional_amount(0, 10**15)
Quantity = optional_amount(-(10**9), 10**9)
Timestamp = Annotated[
    optional(
        Annotated[dt.datetime, BeforeValidator(_text_value), AfterValidator(within_years)],
        {
            "anyOf": [
                {"type": "string", "format": "date-time", "pattern": YEARS_PATTERN},
                {"type": "string", "format": "date", "pattern": YEARS_PATTERN},
            ]
        },
    ),
    AfterValidator(_assume_utc),
]
Date = optional(
    Annotated[dt.date, BeforeValidator(_text_value), AfterValidator(within_years)],
    {"type": "string", "format": "date", "pattern": YEARS_PATTERN},
)
