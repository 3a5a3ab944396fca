"""The Zoho records this service keeps, as Zoho's API and webhooks send them. Records keep every
field Zoho sends (`extra="allow"`) and read the ones used here with the types of
common.sync.payloads.fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)

from common.sync.payloads.fields import (
    Amount,
    Date,
    OptionalId,
    Quantity,
    RequiredText,
    Text,
    Timestamp,
    ZohoId,
    amount,
    optional,
    optional_amount,
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
    status: optional(Literal["active", "inactive"], {"enum": ["active", "inactive"]}) = None
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
        candidates = (
            self.phone,
            self.mobile,
            person and person.phone,
            person and person.mobile,
            self.billing_address and self.billing_address.phone,
        )
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
    quantity_adjusted: amount(-(10**9), 10**9)


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
    pricebook_rate: amount(0, 10**15) = Field(validation_alias=AliasChoices("pricebook_rate", "rate"))


class ZohoPriceBook(ZohoRecord):
    id_field: ClassVar[str] = "pricebook_id"

    pricebook_id: ZohoId = Field(validation_alias=AliasChoices("pricebook_id", "pricelist_id"))
    name: RequiredText(255)
    currency_code: Text(8) = None
    pricing_scheme: Text(32) = None
    percentage: optional_amount(-100, 1000, strings=False) = None
    status: Text(32) = None
    pricebook_items: list[ZohoPriceBookItem] | None = Field(
        None, validation_alias=AliasChoices("pricebook_items", "items"), max_length=50_000
    )


class ZohoSalesOrder(ZohoRecord):
    """A sales order: one the service pushed carries the order's number as `reference_number`.
    Its `status` (draft, confirmed/open, closed, void, onhold) and `shipped_status` (pending,
    partially_shipped, shipped, fulfilled) move the order (common.sync.sales_orders)."""

    id_field: ClassVar[str] = "salesorder_id"

    salesorder_id: ZohoId
    salesorder_number: Text(64) = None
    reference_number: Text(64) = None
    customer_id: OptionalId = None
    status: Text(32) = None
    order_status: Text(32) = None
    shipped_status: Text(32) = None
    total: Amount = None
