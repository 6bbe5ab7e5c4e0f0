"""Database: the catalog of live tables and every operation that opens a storage transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import orjson

from rivulet.core.clock import Clock
from rivulet.core.schema import IndexSchema, TableDefinition
from rivulet.core.table_arns import table_name_of
from rivulet.core.types import Item
from rivulet.engine.catalog import (
    IndexRuntime,
    TableRuntime,
    dump_table,
    load_table,
    sync_definition_indexes,
)
from rivulet.engine.streams import StreamConfig, StreamManager
from rivulet.engine.undo import restore_point
from rivulet.engine.writes import (
    ChangeCapture,
    ClientToken,
    Mutation,
    Outcome,
    write_all_or_nothing,
    write_many,
    write_one,
)
from rivulet.errors import (
    IdempotentParameterMismatchException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from rivulet.storage.base import Storage, WriteTxn

log = logging.getLogger("rivulet.engine")
T = TypeVar("T")


# A ClientRequestToken is valid for 10 minutes after the request that used it completed.
TOKEN_TTL_MS = 600_000
TOKEN_MISMATCH = "The request uses the same client token as a previous, but non-identical request."


# Set once every live table's figures (ItemCount, sizes) are kept in storage.
STATS_COUNTED = "stats_counted"


class Database:
    """Holds storage, the in-memory catalog and the change capture hook.

    The catalog (`tables` and each TableRuntime) is only mutated by storage write jobs, which run
    one at a time, by whole-attribute assignment, so every write job sees the catalog state that
    matches the order of the jobs, and readers on the event loop see a consistent object.
    """

    def __init__(
        self, storage: Storage, clock: Clock, stream_config: StreamConfig | None = None
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.tables: dict[str, TableRuntime] = {}
        self.streams = StreamManager(storage, clock, stream_config or StreamConfig())
        # Every real item change passes through here, inside its write transaction.
        self.capture: ChangeCapture = self.streams.capture
        self._loop: asyncio.AbstractEventLoop | None = None

    # Lifecycle ---------------------------------------------------------------------------------
    def open(self) -> None:
        self.storage.open()
        for row in self.storage.reader().live_tables():
            self.tables[row.name] = load_table(row.table_id, row.created_at, row.definition)
        if self.storage.get_meta(STATS_COUNTED) is None:
            # Data written before the figures were kept (Rivulet 0.1): count it once.
            self.storage.run_sync(self._count_stats)

    def _count_stats(self, txn: WriteTxn) -> None:
        for t in self.tables.values():
            txn.recount_stats(t.table_id, 0)
            for idx in t.indexes:
                txn.recount_stats(t.table_id, idx.index_id)
        txn.set_meta(STATS_COUNTED, True)

    def close(self) -> None:
        self.storage.close()

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    async def run(self, job: Callable[[WriteTxn], T], long: bool = False) -> T:
        """Run a write job; `long` for jobs that visit every item of a table (storage.submit)."""
        loop = self._loop or asyncio.get_running_loop()
        return await self.storage.submit(job, loop, long)

    # Catalog -----------------------------------------------------------------------------------
    def table(self, name: str) -> TableRuntime:
        """The live table, or DynamoDB's not-found error for data-plane operations."""
        t = self.tables.get(table_name_of(name))
        if t is None:
            raise ResourceNotFoundException("Requested resource not found")
        return t

    def described_table(self, name: str) -> TableRuntime:
        """The live table, or the not-found text DescribeTable/DeleteTable/UpdateTable use."""
        plain = table_name_of(name)
        t = self.tables.get(plain)
        if t is None:
            raise ResourceNotFoundException(
                f"Requested resource not found: Table: {plain} not found"
            )
        return t

    async def create_table(self, definition: TableDefinition) -> TableRuntime:
        now = self.clock.now()

        def job(txn: WriteTxn) -> TableRuntime:
            if definition.name in self.tables:
                raise ResourceInUseException(f"Table already exists: {definition.name}")
            indexes = [
                IndexRuntime(schema, txn.next_index_id())
                for schema in (*definition.local_indexes, *definition.global_indexes)
            ]
            t = TableRuntime(
                table_id=0,
                definition=definition,
                created_at=now,
                indexes=indexes,
                tags=dict(definition.tags),
            )
            t.table_id = txn.insert_table(definition.name, dump_table(t), now)
            if definition.stream is not None and definition.stream.enabled:
                assert definition.stream.view_type is not None
                self.streams.enable(txn, t, definition.stream.view_type)
                txn.update_table(t.table_id, dump_table(t))
            self.tables[definition.name] = t
            txn.on_rollback(lambda: self.tables.pop(definition.name, None))
            return t

        return await self.run(job)

    async def delete_table(self, name: str) -> TableRuntime:
        t = self.described_table(name)

        def job(txn: WriteTxn) -> TableRuntime:
            if self.tables.get(t.name) is not t:
                raise ResourceNotFoundException(
                    f"Requested resource not found: Table: {t.name} not found"
                )
            txn.delete_table_data(t.table_id, [i.index_id for i in t.indexes])
            # No REMOVE records: the stream is disabled and stays readable (records.md 3.2).
            self.streams.disable(txn, t)
            txn.drop_table(t.table_id, self.clock.now())
            t.dropped = True
            del self.tables[t.name]

            def undo() -> None:
                t.dropped = False
                self.tables[t.name] = t

            txn.on_rollback(undo)
            return t

        return await self.run(job, long=True)

    async def save_table(
        self,
        t: TableRuntime,
        change: Callable[[WriteTxn, TableRuntime], None],
        long: bool = False,
    ) -> TableRuntime:
        """Apply `change` to a table inside a write job and persist its catalog row; `long` when
        the change visits every item (an index backfill, TTL expiry times)."""

        def job(txn: WriteTxn) -> TableRuntime:
            if t.dropped:
                raise ResourceNotFoundException(
                    f"Requested resource not found: Table: {t.name} not found"
                )
            txn.on_rollback(restore_point(t))
            change(txn, t)
            txn.update_table(t.table_id, dump_table(t))
            return t

        return await self.run(job, long)

    @staticmethod
    def add_index(txn: WriteTxn, t: TableRuntime, schema: IndexSchema) -> None:
        """Create an index and backfill it from every existing item, in the same transaction."""
        idx = IndexRuntime(schema, txn.next_index_id())
        count = size = 0
        for stored in txn.iter_table_items(t.table_id):
            entry = idx.entry_key(orjson.loads(stored.item))
            if entry is not None:
                txn.put_index_entry(idx.index_id, *entry, stored.hash, stored.pk, stored.sk)
                count += 1
                size += stored.size
        # A new index id starts with no figures: the backfill's are all of them.
        txn.add_stats(t.table_id, idx.index_id, count, size)
        t.indexes = [*t.indexes, idx]
        sync_definition_indexes(t)

    @staticmethod
    def drop_index(txn: WriteTxn, t: TableRuntime, name: str) -> None:
        idx = t.index(name)
        if idx is None:
            return
        txn.delete_index_data(t.table_id, idx.index_id)
        t.indexes = [i for i in t.indexes if i is not idx]
        sync_definition_indexes(t)

    @staticmethod
    def set_ttl(txn: WriteTxn, t: TableRuntime, attribute: str | None) -> None:
        """Enable (attribute) or disable (None) TTL and recompute every item's expiry."""
        t.ttl_attribute = attribute
        for stored in txn.iter_table_items(t.table_id):
            expires = None if attribute is None else t.expiry_of(orjson.loads(stored.item))
            txn.set_item_expiry(t.table_id, stored.hash, stored.pk, stored.sk, expires)

    # Items -------------------------------------------------------------------------------------
    def _check_live(self, mutations: Sequence[Mutation]) -> None:
        for m in mutations:
            if m.table.dropped:
                raise ResourceNotFoundException("Requested resource not found")

    async def write(self, m: Mutation) -> Outcome:
        capture = self.capture

        def job(txn: WriteTxn) -> Outcome:
            self._check_live((m,))
            return write_one(txn, m, capture)

        return await self.run(job)

    async def write_batch(self, mutations: Sequence[Mutation]) -> list[Outcome]:
        capture = self.capture

        def job(txn: WriteTxn) -> list[Outcome]:
            self._check_live(mutations)
            return write_many(txn, mutations, capture)

        return await self.run(job)

    async def transact(
        self, mutations: Sequence[Mutation], token: ClientToken | None = None
    ) -> list[Outcome] | bytes:
        """All or nothing. With a token already completed within 10 minutes: its summary (bytes),
        nothing written. The token is checked and stored in the transaction's own job, so a
        retry racing the first attempt, or arriving after a crash, sees exactly what committed."""
        capture = self.capture

        def job(txn: WriteTxn) -> list[Outcome] | bytes:
            now_ms = int(self.clock.now() * 1000)
            if token is not None:
                seen = txn.get_client_token(token.token, now_ms - TOKEN_TTL_MS)
                if seen is not None:
                    if seen[0] != token.digest:
                        raise IdempotentParameterMismatchException(TOKEN_MISMATCH)
                    return seen[1]
            self._check_live(mutations)
            outcomes = write_all_or_nothing(txn, mutations, capture)
            # A cancelled transaction is not remembered: its retry runs again.
            if token is not None and not any(o.failed for o in outcomes):
                txn.put_client_token(
                    token.token,
                    token.digest,
                    token.summary(outcomes),
                    now_ms,
                    now_ms - TOKEN_TTL_MS,
                )
            return outcomes

        return await self.run(job)

    def get_item(self, t: TableRuntime, key: Item) -> bytes | None:
        return self.storage.reader().get_item(t.table_id, *t.storage_key(key))
