"""The shapes of a webhook body, and the one place a body becomes an event on one entity's record.

A body is accepted in any of the three shapes real senders use:
- Zoho's webhook "default payload", the record keyed by its name, exactly as Zoho's API
  returns it: `{"item": {...}}` (API answers' `code` and `message` are ignored);
- the event envelope `{"event_type", "entity_type", "entity_id", "data": {...}, ...}`;
- the bare record `{"item_id": ..., ...}` (custom bodies, and deletion calls that only name the id).

The record itself is one of common.sync.payloads.records. A deletion (`event_type` delete, also
from the `?event_type=` query parameter) needs nothing but the record's id.

The event is stored in one canonical shape, `{"event_type", "<document>": record, ...}`, so the
same content dedupes to one queue item whichever shape or media type it came in, and the
drain reads it back through this same module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    Tag,
    create_model,
)

from common.errors import ValidationFailed
from common.sync.payloads.fields import RequiredText, Text, Timestamp, ZohoId
from common.sync.payloads.records import ZohoRecord
from common.validation import validate

Operation = Literal["create", "update", "delete", "upsert"]
OPERATIONS: tuple[str, ...] = Operation.__args__  # type: ignore[attr-defined]
DEFAULT_OPERATION = "upsert"  # Zoho's default payload says nothing of what happened

# Envelope fields stored with the record: delivery metadata, which says nothing of the record
# (a redelivery, or the reconcile job's copy, differs only there).
DELIVERY_FIELDS = ("event_id", "event_time", "organization_id")


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
        native, envelope, record = (self.shapes[(shape, False)] for shape in ("native", "envelope", "record"))
        union = Annotated[
            Annotated[native, Tag("native")] | Annotated[envelope, Tag("envelope")] | Annotated[record, Tag("record")],
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
    """Validate a body of any shape (ValidationFailed naming each field) as an event; `operation`
    overrides its event_type."""
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
