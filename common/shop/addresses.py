"""A customer's delivery addresses: list, add, change, delete; exactly one default while any exist.

The default moves in one transaction (the old one cleared before the new one is set, so the
partial unique index never sees two); the first address is the default whatever was asked,
and deleting the default makes the oldest remaining one the default. Orders keep a copy of
the address they were placed with, so deleting one never changes an order.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select, update

from common.clock import utcnow
from common.db.transactions import read, write
from common.errors import NotFound
from common.models import customer_addresses as addresses
from common.shop.schemas import Address, AddressChange, AddressCreate, AddressList


def customer_addresses(connection: Connection, customer_id: int) -> list[Address]:
    """The customer's addresses, the default first."""
    rows = connection.execute(
        select(addresses)
        .where(addresses.c.customer_id == customer_id)
        .order_by(addresses.c.is_default.desc(), addresses.c.id)
    ).all()
    return [Address.model_validate(row) for row in rows]


def _lock_customer_addresses(connection: Connection, customer_id: int) -> list[int]:
    """The customer's address ids, oldest first, locked: changes of one customer take turns."""
    return list(
        connection.scalars(
            select(addresses.c.id)
            .where(addresses.c.customer_id == customer_id)
            .order_by(addresses.c.id)
            .with_for_update()
        )
    )


def _make_default(connection: Connection, customer_id: int, address_id: int, now: datetime) -> None:
    connection.execute(
        update(addresses)
        .where(addresses.c.customer_id == customer_id, addresses.c.is_default, addresses.c.id != address_id)
        .values(is_default=False, updated_at=now)
    )
    connection.execute(update(addresses).where(addresses.c.id == address_id).values(is_default=True, updated_at=now))


def _one(connection: Connection, customer_id: int, address_id: int) -> Address:
    row = connection.execute(
        select(addresses).where(addresses.c.id == address_id, addresses.c.customer_id == customer_id)
    ).first()
    if row is None:
        raise NotFound("Address not found")
    return Address.model_validate(row)


def list_addresses(customer_id: int) -> AddressList:
    with read() as connection:
        return AddressList(addresses=customer_addresses(connection, customer_id))


def add_address(customer_id: int, new: AddressCreate) -> Address:
    with write() as connection:
        now = utcnow()
        existing = _lock_customer_addresses(connection, customer_id)
        address_id = connection.execute(
            addresses.insert()
            .values(
                customer_id=customer_id,
                label=new.label,
                address=new.address,
                city=new.city,
                phone=new.phone,
                is_default=False,
                created_at=now,
                updated_at=now,
            )
            .returning(addresses.c.id)
        ).scalar_one()
        if new.is_default or not existing:
            _make_default(connection, customer_id, address_id, now)
        return _one(connection, customer_id, address_id)


def change_address(customer_id: int, address_id: int, change: AddressChange) -> Address:
    with write() as connection:
        now = utcnow()
        if address_id not in _lock_customer_addresses(connection, customer_id):
            raise NotFound("Address not found")
        # A null label, address or city leaves it as it is; a null phone removes it.
        values = {
            field: value
            for field, value in change.model_dump(exclude_unset=True, exclude={"is_default"}).items()
            if value is not None or field == "phone"
        }
        if values:
            connection.execute(update(addresses).where(addresses.c.id == address_id).values(**values, updated_at=now))
        if change.is_default:
            _make_default(connection, customer_id, address_id, now)
        return _one(connection, customer_id, address_id)


def delete_address(customer_id: int, address_id: int) -> None:
    with write() as connection:
        now = utcnow()
        if address_id not in _lock_customer_addresses(connection, customer_id):
            raise NotFound("Address not found")
        was_default = _one(connection, customer_id, address_id).is_default
        connection.execute(addresses.delete().where(addresses.c.id == address_id))
        if was_default:
            oldest = connection.execute(
                select(func.min(addresses.c.id)).where(addresses.c.customer_id == customer_id)
            ).scalar()
            if oldest is not None:
                _make_default(connection, customer_id, oldest, now)
