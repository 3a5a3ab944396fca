"""What Zoho sends, and the one place a webhook body becomes an event on one entity's record.

A body is accepted in any of the three shapes real senders use:
- Zoho's webhook "default payload", the record keyed by its name, exactly as Zoho's API
  returns it: `{"item": {...}}` (API answers' `code` and `message` are ignored);
- the event envelope `{"event_type", "entity_type", "entity_id", "data": {...}, ...}`;
- the bare record `{"item_id": ..., ...}` (custom bodies, and deletion calls that only name the id).

Records keep every field Zoho sends (`extra="allow"`) and read the ones we use the way Zoho
writes them: ids as strings or JSON numbers of any size (kept exactly, as text), amounts as
numbers or numeric strings, `""` (or blanks) for "no value", timestamps with `+0300` offsets
or plain dates. A deletion (`event_type` delete, also from the `?event_type=` query
parameter) needs nothing but the record's id.

The event is stored in one canonical shape, `{"event_type", "<document>": record, ...}`, so the
same content dedupes to one queue item whichever shape or media type it came in, and the
drain reads it back through this same module.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    StrictBool,
    StringConstraints,
    Tag,
    WithJsonSchema,
    create_model,
    model_validator,
)

from common.errors import ValidationFailed
from common.validation import YEARS_PATTERN, validate, within_years

Operation = Literal["create", "update", "delete", "upsert"]
OPERATIONS: tuple[str, ...] = Operation.__args__  # type: ignore[attr-defined]
DEFAULT_OPERATION = "upsert"  # Zoho's default payload says nothing of what happened

# Envelope fields stored with the record: delivery metadata, which says nothing of the record
# (a redelivery, or the reconcile job's copy, differs only there).
DELIVERY_FIELDS = ("event_id", "event_time", "organization_id")
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


_ID_SCHEMA = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": _MAX_ID_DIGITS, "pattern": r"\S"},
                        {"type": "integer", "minimum": 0, "maximum": 10**_MAX_ID_DIGITS - 1}]}  # fmt: skip
ZohoId = Annotated[
    str,
    BeforeValidator(_id_text),
    StringConstraints(min_length=1, max_length=_MAX_ID_DIGITS),
    WithJsonSchema(_ID_SCHEMA),
]


def _optional(annotation: Any, schema: dict[str, Any]) -> Any:
    """An optional known field: its type, or `""` / blanks / null for "no value"."""
    return Annotated[
        annotation | None,
        BeforeValidator(_blank_is_none),
        WithJsonSchema({"anyOf": [schema, _BLANK_SCHEMA, {"type": "null"}]}),
    ]


def _amount_schema(minimum: int, maximum: int, numeric_text: re.Pattern | None) -> dict[str, Any]:
    number = {"type": "number", "minimum": minimum, "maximum": maximum}
    return {"anyOf": [number, {"type": "string", "pattern": numeric_text.pattern}]} if numeric_text else number


def _amount(minimum: int, maximum: int, strings: bool = True) -> Any:
    """A required amount: a number (or, with `strings`, a numeric string), within bounds."""
    numeric_text = _numeric_text(minimum, maximum) if strings else None
    return Annotated[
        Decimal,
        BeforeValidator(_decimal(numeric_text)),
        Field(ge=minimum, le=maximum),
        WithJsonSchema(_amount_schema(minimum, maximum, numeric_text)),
    ]


def _optional_amount(minimum: int, maximum: int, strings: bool = True) -> Any:
    numeric_text = _numeric_text(minimum, maximum) if strings else None
    return _optional(_amount(minimum, maximum, strings), _amount_schema(minimum, maximum, numeric_text))


def _assume_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
    return value


def RequiredText(limit: int) -> Any:  # noqa: N802 - reads as a type in the models below
    return Annotated[str, BeforeValidator(_text_value), StringConstraints(max_length=limit)]


def Text(limit: int) -> Any:  # noqa: N802 - reads as a type in the models below
    return _optional(RequiredText(limit), {"type": "string", "maxLength": limit})


OptionalId = _optional(ZohoId, _ID_SCHEMA)
Amount = _optional_amount(0, 10**15)
Quantity = _optional_amount(-(10**9), 10**9)
Timestamp = Annotated[
    _optional(
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
Date = _optional(
    Annotated[dt.date, BeforeValidator(_text_value), AfterValidator(within_years)],
    {"type": "string", "format": "date", "pattern": YEARS_PATTERN},
)


class ZohoRecord(BaseModel):
    """Fields every Zoho record may carry; the subclasses name their id in `id_field`."""

    model_config = ConfigDict(extra="allow")
    id_field: ClassVar[str]

    # Credit notes call it updated_time.
    last_modified_time: Timestamp = Field(None, validation_alias=AliasChoices("last_modified_time", "updated_time"))


class ZohoLocationStock(BaseModel):
    """Stock of an item at one location (`locations[]`) or warehouse (`warehouses[]`, older accounts)."""

    model_config = ConfigDict(extra="allow")

    stock_on_hand: Quantity = Field(
        None, validation_alias=AliasChoices("location_stock_on_hand", "warehouse_stock_on_hand")
    )
    available_stock: Quantity = Field(
        None, validation_alias=AliasChoices("location_available_stock", "warehouse_available_stock")
    )

    @property
    def stock(self) -> Decimal | None:
        return self.available_stock if self.available_stock is not None else self.stock_on_hand


class ZohoItem(ZohoRecord):
    id_field: ClassVar[str] = "item_id"

    item_id: ZohoId
    name: Text(500) = None
    name_ar: Text(500) = Field(None, validation_alias=AliasChoices("name_ar", "cf_name_ar"))
    sku: Text(128) = None
    description: Text(20_000) = None
    rate: Amount = None
    purchase_rate: Amount = None
    stock_on_hand: Quantity = None
    available_stock: Quantity = None
    status: _optional(Literal["active", "inactive"], {"enum": ["active", "inactive"]}) = None
    unit: Text(64) = None
    brand: Text(255) = None
    category_id: OptionalId = None
    category_name: Text(255) = None
    image_name: Text(500) = None
    created_time: Timestamp = None
    locations: list[ZohoLocationStock] | None = Field(None, max_length=1000)
    warehouses: list[ZohoLocationStock] | None = Field(None, max_length=1000)

    @property
    def stock(self) -> Decimal | None:
        """Available stock (else stock on hand); without a top-level figure, the sum over its locations."""
        for value in (self.available_stock, self.stock_on_hand):
            if value is not None:
                return value
        places = [place.stock for place in (self.locations or self.warehouses or []) if place.stock is not None]
        return sum(places, Decimal(0)) if places else None


class ZohoInvoiceLine(BaseModel):
    model_config = ConfigDict(extra="allow")

    item_id: OptionalId = None
    name: Text(500) = None
    quantity: Amount = Field(1, validate_default=True)
    rate: Amount = Field(0, validate_default=True)
    item_total: Amount = None


class ZohoInvoice(ZohoRecord):
    id_field: ClassVar[str] = "invoice_id"

    invoice_id: ZohoId
    invoice_number: Text(64) = None
    customer_id: OptionalId = None
    date: Date = None
    due_date: Date = None
    total: Amount = None
    balance: Amount = None
    status: Text(32) = None
    currency_code: Text(8) = None
    line_items: list[ZohoInvoiceLine] = Field(default_factory=list, max_length=2000)


class ZohoContactPerson(BaseModel):
    model_config = ConfigDict(extra="allow")

    email: Text(255) = None
    phone: Text(64) = None
    mobile: Text(64) = None
    is_primary_contact: StrictBool | None = None


class ZohoAddress(BaseModel):
    model_config = ConfigDict(extra="allow")

    phone: Text(64) = None


class ZohoContact(ZohoRecord):
    id_field: ClassVar[str] = "contact_id"

    contact_id: ZohoId
    contact_name: RequiredText(255)
    contact_type: Text(32) = None  # "customer" or "vendor"
    company_name: Text(255) = None
    email: Text(255) = None
    phone: Text(64) = None
    mobile: Text(64) = None
    status: Text(32) = None
    contact_persons: list[ZohoContactPerson] | None = Field(None, max_length=500)
    billing_address: ZohoAddress | None = None

    @property
    def is_vendor(self) -> bool:
        return (self.contact_type or "").lower() == "vendor"

    def _primary_person(self) -> ZohoContactPerson | None:
        people = self.contact_persons or []
        return next((person for person in people if person.is_primary_contact), people[0] if people else None)

    @property
    def contact_email(self) -> str | None:
        person = self._primary_person()
        return self.email or (person.email if person else None)

    @property
    def contact_phone(self) -> str | None:
        """Zoho keeps phones on the contact persons and the billing address more often than on the contact."""
        person = self._primary_person()
        candidates = (self.phone, self.mobile, person and person.phone, person and person.mobile,
                      self.billing_address and self.billing_address.phone)  # fmt: skip
        return next((phone for phone in candidates if phone), None)


class ZohoBill(ZohoRecord):
    id_field: ClassVar[str] = "bill_id"

    bill_id: ZohoId
    bill_number: RequiredText(64)
    vendor_id: ZohoId
    vendor_name: Text(255) = None
    date: Date = None
    due_date: Date = None
    total: Amount = None
    balance: Amount = None
    status: Text(32) = None


class ZohoCreditNote(ZohoRecord):
    id_field: ClassVar[str] = "creditnote_id"

    creditnote_id: ZohoId
    creditnote_number: RequiredText(64)
    customer_id: OptionalId = None
    date: Date = None
    total: Amount = None
    balance: Amount = None
    status: Text(32) = None


class ZohoAdjustmentLine(BaseModel):
    model_config = ConfigDict(extra="allow")

    item_id: ZohoId
    quantity_adjusted: _amount(-(10**9), 10**9)


class ZohoStockAdjustment(ZohoRecord):
    id_field: ClassVar[str] = "inventory_adjustment_id"

    inventory_adjustment_id: ZohoId = Field(validation_alias=AliasChoices("inventory_adjustment_id", "adjustment_id"))
    date: Date = None
    reason: Text(500) = None
    line_items: list[ZohoAdjustmentLine] = Field(min_length=1, max_length=5000)

    @model_validator(mode="before")
    @classmethod
    def _single_line(cls, data: Any) -> Any:
        """Older senders put one line's item_id and quantity_adjusted on the adjustment itself."""
        if isinstance(data, dict) and "line_items" not in data and "item_id" in data:
            return {
                **data,
                "line_items": [{"item_id": data["item_id"], "quantity_adjusted": data.get("quantity_adjusted")}],
            }
        return data


class ZohoPriceBookItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    item_id: ZohoId
    pricebook_rate: _amount(0, 10**15) = Field(validation_alias=AliasChoices("pricebook_rate", "rate"))


class ZohoPriceBook(ZohoRecord):
    id_field: ClassVar[str] = "pricebook_id"

    pricebook_id: ZohoId = Field(validation_alias=AliasChoices("pricebook_id", "pricelist_id"))
    name: RequiredText(255)
    currency_code: Text(8) = None
    pricing_scheme: Text(32) = None
    percentage: _optional_amount(-100, 1000, strings=False) = None
    status: Text(32) = None
    pricebook_items: list[ZohoPriceBookItem] | None = Field(
        None, validation_alias=AliasChoices("pricebook_items", "items"), max_length=50_000
    )


# ---- the three shapes of a body, per record type ------------------------------------------


class _EnvelopeFields(BaseModel):
    """What the envelope says about the delivery; `data` is added per record type."""

    model_config = ConfigDict(extra="allow")

    event_id: Text(128) = None
    event_type: Operation | None = None
    event_time: Timestamp = None
    entity_type: RequiredText(64)
    entity_id: ZohoId
    organization_id: Text(64) = None


def _reference_model(record: type[ZohoRecord]) -> type[ZohoRecord]:
    """The record with every field optional but its id: what a deletion needs."""
    fields: dict[str, Any] = {}
    for name, info in record.model_fields.items():
        if name != record.id_field and info.is_required():
            annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
            fields[name] = (annotation | None, Field(None, validation_alias=info.validation_alias))
    return create_model(f"{record.__name__}Reference", __base__=record, **fields)


@dataclass(frozen=True)
class BodyModels:
    """The pydantic models of one record type in each shape, for upserts and for deletions."""

    document: str
    record: type[ZohoRecord]

    @cached_property
    def reference(self) -> type[ZohoRecord]:
        return _reference_model(self.record)

    # The JSON schemas say what _shape decides, so that each body matches exactly one shape.
    def native(self, record: type[ZohoRecord]) -> type[BaseModel]:
        return create_model(
            f"{record.__name__}Document",
            __config__=ConfigDict(extra="allow"),
            event_type=(Operation | None, None),
            **{self.document: (record, ...)},
        )

    def envelope(self, record: type[ZohoRecord]) -> type[BaseModel]:
        return _with_schema(
            create_model(f"{record.__name__}Envelope", __base__=_EnvelopeFields, data=(record, ...)),
            {"not": {"required": [self.document]}},
        )

    def bare(self, record: type[ZohoRecord]) -> type[BaseModel]:
        return _with_schema(
            create_model(f"{record.__name__}Record", __base__=record),
            {"not": {"anyOf": [{"required": [self.document]}, {"required": ["data"]}]}},
        )

    @cached_property
    def shapes(self) -> dict[tuple[str, bool], type[BaseModel]]:
        """(shape, deleting) -> model."""
        models: dict[tuple[str, bool], type[BaseModel]] = {}
        for deleting, record in ((False, self.record), (True, self.reference)):
            models[("native", deleting)] = self.native(record)
            models[("envelope", deleting)] = self.envelope(record)
            models[("record", deleting)] = self.bare(record)
        return models

    def documentation(self, name: str) -> type[RootModel]:
        """One schema for the route's body: any of the three shapes (deletions need only the id)."""
        union = Annotated[
            Union[
                Annotated[self.shapes[("native", False)], Tag("native")],
                Annotated[self.shapes[("envelope", False)], Tag("envelope")],
                Annotated[self.shapes[("record", False)], Tag("record")],
            ],
            Discriminator(lambda body: _shape(self.document, body)),
        ]
        return create_model(name, __base__=RootModel[union])


def _with_schema(model: type[BaseModel], extra: dict[str, Any]) -> type[BaseModel]:
    model.model_config["json_schema_extra"] = extra
    model.model_rebuild(force=True)
    return model


def _shape(document: str, body: Any) -> str:
    if not isinstance(body, dict) or document in body:
        return "native"
    return "envelope" if "data" in body else "record"


@dataclass(frozen=True)
class ZohoEvent:
    """A validated webhook: what happened to which record, and the canonical body to store."""

    operation: str
    record: ZohoRecord
    source_id: str
    event_time: dt.datetime | None
    event_id: str | None
    stored: dict[str, Any]

    @property
    def deleting(self) -> bool:
        return self.operation == "delete"

    @property
    def modified_at(self) -> dt.datetime | None:
        """The version stamp used to skip stale updates: Zoho's last_modified_time, else the event time."""
        return self.record.last_modified_time or self.event_time


def parse_event(models: BodyModels, payload: Any, operation: str | None = None) -> ZohoEvent:
    """Validate a body of any shape (ValidationFailed naming each field) as an event; `operation` overrides its event_type."""
    if not isinstance(payload, dict):
        raise ValidationFailed(errors=[{"field": "body", "message": "must be a JSON object"}])
    shape = _shape(models.document, payload)
    if shape == "record" and models.record.id_field not in payload and not _has_alias_id(models.record, payload):
        raise ValidationFailed(
            errors=[
                {
                    "field": models.document,
                    "message": f'Field required: Zoho\'s default payload is {{"{models.document}": {{...}}}}',
                }
            ]
        )
    operation = operation or (payload.get("event_type") if shape != "record" else None) or DEFAULT_OPERATION
    if operation not in OPERATIONS:
        raise ValidationFailed(errors=[{"field": "event_type", "message": f"must be one of {', '.join(OPERATIONS)}"}])
    deleting = operation == "delete"
    body = validate(models.shapes[(shape, deleting)], payload)
    if shape == "native":
        record = getattr(body, models.document)
        raw_record = payload[models.document]
    elif shape == "envelope":
        record = body.data
        raw_record = payload["data"]
    else:
        record, raw_record = body, payload
    envelope = {key: payload[key] for key in DELIVERY_FIELDS if shape == "envelope" and payload.get(key) is not None}
    return ZohoEvent(
        operation=operation,
        record=record,
        source_id=getattr(record, models.record.id_field),
        event_time=body.event_time if shape == "envelope" else None,
        event_id=body.event_id if shape == "envelope" else None,
        stored={"event_type": operation, models.document: raw_record, **envelope},
    )


def _has_alias_id(record: type[ZohoRecord], data: dict) -> bool:
    alias = record.model_fields[record.id_field].validation_alias
    return isinstance(alias, AliasChoices) and any(choice in data for choice in alias.choices)
