"""Validating data against pydantic models: a failure becomes ValidationFailed (422) naming each field."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, Field, ValidationError, WithJsonSchema

from common.errors import ValidationFailed

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


JsonDateTime = Annotated[dt.datetime, BeforeValidator(_json_string)]
JsonDate = Annotated[dt.date, BeforeValidator(_json_string)]


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
