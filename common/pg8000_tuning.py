"""pg8000's connection, sending each statement in one round trip; every reach into the driver's
internals is here, for the one version it was written for.

pg8000 (pure Python, deploys anywhere) is the service's PostgreSQL driver. Its legacy DB-API
connection, which SQLAlchemy uses, costs round trips that do not change what runs:
- a statement with parameters takes three (Parse; Describe; Bind and Execute), where the
  extended protocol allows Parse, Bind, Describe, Execute and Sync in one message train;
- the BEGIN it issues before a transaction's first statement takes one of its own, where it
  can travel in front of that statement;
- COMMIT and ROLLBACK go through the extended protocol, three round trips each, where the
  simple protocol takes one.
Every round trip is a send and a receive on each side: a webhook's transaction (BEGIN,
INSERT, COMMIT) took five and takes two. `TunedConnection` overrides those steps and nothing else; what the
server receives and answers per statement is the same, errors included.

Three more costs are removed here, because the DB-API gives no way to reach them:
- pg8000 rewrites a statement's %s placeholders to $n by scanning its text in Python on
  every execution (about half a millisecond for a long statement); for positional
  placeholders the rewrite depends on the text alone, so `install()` makes pg8000 remember it;
- a request bounds each socket read by its remaining time (`set_io_timeout`);
- timestamps are read by `datetime.fromisoformat` instead of strptime (a card reads several).

The overrides use pg8000's message helpers and socket, which are not its public API: they
apply only to the version they were written against (`WRITTEN_FOR`, the one requirements.txt
pins). Any other version gets
pg8000's own connection and a warning (the service works, with more round trips), and
tests/integration/test_pg8000_tuning.py fails until the overrides are checked against it.
"""

from __future__ import annotations

import contextlib
import select
from datetime import datetime
from functools import lru_cache

import pg8000
import pg8000.legacy
from pg8000 import converters, core
from pg8000.converters import TIMESTAMP, TIMESTAMPTZ

from common.logs import get_logger

WRITTEN_FOR = "1.31.6"
ACTIVE = pg8000.__version__ == WRITTEN_FOR

_log = get_logger("db")
_BEGIN = "begin transaction"  # the statement pg8000's cursor sends to open a transaction


def _fast_timestamp(slow):
    """PostgreSQL's timestamp text by datetime.fromisoformat (C), pg8000's own parser (strptime,
    some twenty times slower) for what it does not read: infinity, years past 9999, BC."""

    def parse(text: str):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return slow(text)

    return parse


class TunedConnection(pg8000.legacy.Connection):
    """pg8000.legacy.Connection with one round trip per statement (see the module's doc)."""

    _begin_pending = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for oid, slow in ((TIMESTAMPTZ, converters.timestamptz_in), (TIMESTAMP, converters.timestamp_in)):
            self.register_in_adapter(oid, _fast_timestamp(slow))

    def execute_simple(self, statement):
        if statement == _BEGIN and not self._in_transaction:
            # Sent in front of the transaction's first statement; until then nothing is open.
            self._begin_pending = True
            self._transaction_status = core.IN_TRANSACTION
            return core.Context(statement)
        began = self._queue_begin()
        self.send_QUERY(statement)
        return self._exchange(began, core.Context(statement))

    def execute_unnamed(self, statement, vals=(), oids=(), stream=None):
        if stream is not None:  # COPY: pg8000's own exchange
            self._send_begin_now()
            return super().execute_unnamed(statement, vals=vals, oids=oids, stream=stream)
        began = self._queue_begin()
        encoding = self._client_encoding
        parse = bytearray(core.NULL_BYTE + statement.encode(encoding) + core.NULL_BYTE)
        parse.extend(core.H_pack(len(oids)))
        for oid in oids:
            parse.extend(core.i_pack(0 if oid == -1 else oid))
        self._send_message(core.PARSE, parse)
        params = core.make_params(self.py_types, vals)
        bind = bytearray(core.NULL_BYTE + core.NULL_BYTE + core.H_pack(0) + core.H_pack(len(params)))
        for value in params:  # text format, as pg8000 sends them
            if value is None:
                bind.extend(core.i_pack(-1))
            else:
                encoded = value.encode(encoding)
                bind.extend(core.i_pack(len(encoded)))
                bind.extend(encoded)
        bind.extend(core.H_pack(0))  # every result column as text, as pg8000 asks
        self._send_message(core.BIND, bind)
        self._send_message(core.DESCRIBE, core.PORTAL + core.NULL_BYTE)
        core._write(self._sock, core.EXECUTE_MSG)
        core._write(self._sock, core.SYNC_MSG)
        return self._exchange(began, core.Context(statement))

    def commit(self):
        if self._begin_pending:  # nothing was sent: nothing to end
            self._forget_begin()
            return
        self.execute_simple("commit")

    def rollback(self):
        if self._begin_pending:
            self._forget_begin()
            return
        if self._in_transaction:
            self.execute_simple("rollback")

    def _queue_begin(self) -> bool:
        """Write the pending BEGIN (unflushed), so it travels with what follows."""
        if not self._begin_pending:
            return False
        self._begin_pending = False
        self.send_QUERY(_BEGIN)
        return True

    def _send_begin_now(self) -> None:
        if self._queue_begin():
            self._exchange(False, core.Context(_BEGIN))

    def _forget_begin(self) -> None:
        self._begin_pending = False
        self._transaction_status = core.IDLE

    def _exchange(self, began: bool, context):
        """Flush what was written and read the answers: the BEGIN's first, if it went along."""
        core._flush(self._sock)
        if began:
            try:
                self.handle_messages(core.Context(_BEGIN))
            except Exception:
                # Read the statement's answer too, so the connection stays in step.
                with contextlib.suppress(Exception):
                    self.handle_messages(context)
                raise
        self.handle_messages(context)
        return context


@lru_cache(maxsize=1)
def install() -> None:
    """Make pg8000 remember its placeholder rewrites (once per process; see the module's doc)."""
    if not ACTIVE:
        _log.warning(
            "pg8000 %s is installed; its round-trip tuning was written for %s and is off",
            pg8000.__version__,
            WRITTEN_FOR,
        )
        return
    scan = pg8000.legacy.convert_paramstyle

    @lru_cache(maxsize=2048)
    def rewrite(style: str, statement: str) -> str:
        return scan(style, statement, ())[0]

    def convert_paramstyle(style, statement, args):
        if style in ("format", "numeric", "qmark"):
            return rewrite(style, statement), args
        return scan(style, statement, args)

    pg8000.legacy.convert_paramstyle = convert_paramstyle


def set_io_timeout(connection, seconds: float) -> None:
    """Bound each read on this connection's socket (pg8000 takes one timeout, at connect)."""
    sock = getattr(connection, "_usock", None)
    if sock is not None:
        sock.settimeout(seconds)


def closed_by_server(connection) -> bool:
    """Whether the server closed (or spoke on) this idle connection: its socket is readable.
    Between transactions the server sends nothing unasked but a farewell."""
    sock = getattr(connection, "_usock", None)
    if sock is None or sock.fileno() < 0:
        return True
    poller = select.poll()  # not select(): the process may hold more than 1,024 descriptors
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def ping(connection) -> None:
    """One round trip to the server, as SQLAlchemy's pre-ping sends it."""
    cursor = connection.cursor()
    try:
        cursor.execute("SELECT 1")
        cursor.fetchall()
    finally:
        cursor.close()


def connection_class() -> type[pg8000.legacy.Connection]:
    """The connection class for the installed pg8000 (see the module's doc)."""
    return TunedConnection if ACTIVE else pg8000.legacy.Connection
