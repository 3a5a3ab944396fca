"""A signed-in request's one transaction (common.db.transactions.request_transaction): the reads and writes
inside it join it, an error rolls all of it back, and a write inside a read-only one is refused."""

import pytest
from sqlalchemy import func, select

from common.db.transactions import read, request_transaction, write
from common.models import customers
from tests import shop_fixtures as shop


class _Refused(Exception):
    pass


def _customers(db) -> int:
    with db.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(customers)).scalar_one()


def test_reads_and_writes_inside_join_it_and_an_error_rolls_all_of_it_back(db):
    with pytest.raises(_Refused), request_transaction(writes=True) as request:
        with write() as inner:
            assert inner is request
            shop.customer(inner, "Written inside")
        with read() as again:
            assert again is request
            assert again.execute(select(func.count()).select_from(customers)).scalar_one() == 1
        raise _Refused
    assert _customers(db) == 0
    with request_transaction(writes=True), write() as inner:
        shop.customer(inner, "Committed with the request")
    assert _customers(db) == 1


def test_a_write_inside_a_read_only_request_transaction_is_refused(db):
    with request_transaction(writes=False), pytest.raises(RuntimeError, match="read-only"), write():
        pass
