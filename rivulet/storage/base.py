"""The storage contract every backend implements.

Contract (every backend passes the same suite in tests/storage):
- `write(job)` runs `job(txn)` inside one write transaction. Everything the job does (item
  writes, index entries, catalog rows and, later, the stream record of the change) commits
  together or not at all. The returned future resolves only after the commit is durable at the
  configured durability level; if the job raises, its changes are rolled back and the future
  carries the exception, while other jobs of the same group commit are unaffected.
- Jobs run one at a time, in submission order; a job sees the effects of every job submitted
  before it.
- Readers (`reader()`) see only committed data; a read issued after a write's future resolved
  sees that write.
- Storage raises only `StorageError` (and whatever a job itself raises); driver exceptions never
  escape upward.
- A job that changes in-memory state beside storage (the catalog, stream shards) registers how
  to undo it with `txn.on_rollback`. The undo runs, newest first, when the job's changes are
  rolled back: the job raises, or its group's COMMIT fails (a full disk). A failed COMMIT rolls
  back jobs that already returned, so their in-memory effects must go too.

Streams (design.md, "Streams"):
- A stream record is appended by the same job that changes the item, so both commit together or
  not at all; a rolled-back job leaves no record.
- Sequence numbers are chosen by the engine (one counter per stream, allocated on the single
  writer, so within a shard sequence order is commit order) and never reused: after a restart
  the engine resumes above the largest number found in `records` and in `shards` (start, end and
  trimmed marks), which trimming never lowers.
- A shard's end (`close_shard`) commits in the same job as, or after, its last record: a reader
  that sees a shard closed sees all of its records.
- Listeners added with `add_commit_listener` run after every commit (once it is durable), on a
  storage thread or the thread of `run_sync`, never inside a job, so waiters are woken by
  commits, not by polling. They must be quick and thread-safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class StorageError(Exception):
    """A backend fault (disk full, corrupt file, driver error). Logged and sent as InternalServerError."""


@dataclass(frozen=True, slots=True)
class TableRow:
    """A row of the catalog: one incarnation of a table."""

    table_id: int
    name: str
    definition: bytes  # orjson of the engine's table description
    created_at: float


@dataclass(frozen=True, slots=True)
class StoredItem:
    """Where an item lives: its partition hash and encoded keys, plus the orjson item bytes."""

    hash: int
    pk: bytes
    sk: bytes
    item: bytes
    size: int  # DynamoDB item size in bytes (not the length of the JSON)


@dataclass(frozen=True, slots=True)
class StreamRow:
    stream_id: int
    table_id: int
    table_name: str
    label: str
    view_type: str
    key_schema: bytes  # orjson [[name, "HASH"|"RANGE"], ...]
    created_at: float
    disabled_at: float | None


@dataclass(frozen=True, slots=True)
class ShardRow:
    shard_key: int  # storage id of the shard (records refer to it)
    stream_id: int
    shard_id: str
    parent_id: str | None
    bucket: int
    start_seq: int
    end_seq: int | None
    created_at: float
    closed_at: float | None
    trimmed_seq: int  # every record with seq <= trimmed_seq has been trimmed


@dataclass(frozen=True, slots=True)
class RecordRow:
    seq: int
    created_ms: int
    key_id: int  # the data key that sealed the payload
    payload: bytes


@dataclass(frozen=True, slots=True)
class TriggerRow:
    uuid: str
    name: str
    settings: bytes  # orjson of the trigger's snake_case settings
    origin: str  # "config" (declared in a --config file) or "api"
    stream_id: int | None  # the bound stream; None until the table has one
    state: str  # "Enabled" | "Disabled"
    reason: str  # StateTransitionReason
    created_at: float  # LATEST means "after this": a stream created later is read from its start
    modified_at: float
    last_result: str  # LastProcessingResult


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    uuid: str
    shard_key: int
    seq: int  # last record processed, skipped or discarded; 0 before the first
    done: bool  # the (closed) shard is fully processed: its children may start
    window: bytes | None  # tumbling-window state (orjson), None when not windowing


@dataclass(frozen=True, slots=True)
class LeaseRow:
    uuid: str
    shard_key: int
    owner: str
    expires: float


class WriteTxn(Protocol):
    """Operations available to a job inside a write transaction."""

    def on_rollback(self, undo: Callable[[], object]) -> None:
        """Call `undo` if this job's changes are rolled back (see the contract above)."""

    # Items -----------------------------------------------------------------------------------
    def get_item(self, table_id: int, hash: int, pk: bytes, sk: bytes) -> tuple[bytes, int] | None:
        """(item bytes, size) of the stored item, or None. Sees earlier writes of the same
        transaction."""

    def put_item(
        self,
        table_id: int,
        hash: int,
        pk: bytes,
        sk: bytes,
        item: bytes,
        size: int,
        expires: int | None,
    ) -> None:
        """Insert or replace the item at this key."""

    def delete_item(self, table_id: int, hash: int, pk: bytes, sk: bytes) -> None:
        """Remove the item at this key (no-op if absent)."""

    def put_index_entry(
        self, index_id: int, hash: int, pk: bytes, sk: bytes, t_hash: int, t_pk: bytes, t_sk: bytes
    ) -> None:
        """Record that the base item (t_hash, t_pk, t_sk) appears in the index under (hash, pk, sk)."""

    def delete_index_entry(
        self, index_id: int, hash: int, pk: bytes, sk: bytes, t_hash: int, t_pk: bytes, t_sk: bytes
    ) -> None:
        """Remove one index entry (no-op if absent)."""

    def iter_table_items(self, table_id: int) -> Iterator[StoredItem]:
        """Every item of a table, for backfills inside the transaction (GSI creation, TTL enable)."""

    def set_item_expiry(
        self, table_id: int, hash: int, pk: bytes, sk: bytes, expires: int | None
    ) -> None:
        """Set the TTL expiry (epoch seconds) of an existing item."""

    def delete_table_data(self, table_id: int, index_ids: Sequence[int]) -> None:
        """Drop every item and index entry of a table, and their figures."""

    def delete_index_data(self, table_id: int, index_id: int) -> None:
        """Drop every entry of one index, and its figures."""

    # Figures (ItemCount and size) ------------------------------------------------------------
    # Kept by the jobs that change items, so reading them costs nothing: `add_stats` for every
    # change (a backfill adds what it filled), `recount_stats` for data written before the
    # figures existed.
    def add_stats(self, table_id: int, index_id: int, count: int, size: int) -> None:
        """Add to the figures of a table (index_id 0) or of one of its indexes; they change with
        the transaction (a rolled-back job's additions are dropped)."""

    def recount_stats(self, table_id: int, index_id: int) -> None:
        """Set the figures of a table (index_id 0) or index by counting what is stored now."""

    # Catalog ---------------------------------------------------------------------------------
    def insert_table(self, name: str, definition: bytes, created_at: float) -> int:
        """Add a live table; returns its table_id (never reused)."""

    def update_table(self, table_id: int, definition: bytes) -> None:
        """Replace a live table's definition."""

    def drop_table(self, table_id: int, deleted_at: float) -> None:
        """Mark a table deleted; its id is never reused."""

    def next_index_id(self) -> int:
        """A fresh index id, never reused."""

    def set_meta(self, key: str, value: Any) -> None:
        """Store a small JSON value under key (keys, counters), committed with the transaction."""

    # Streams ---------------------------------------------------------------------------------
    def stream_label_taken(self, table_name: str, label: str) -> bool: ...

    def insert_stream(
        self,
        table_id: int,
        table_name: str,
        label: str,
        view_type: str,
        key_schema: bytes,
        created_at: float,
    ) -> int:
        """Add an enabled stream; returns its stream_id (never reused)."""

    def disable_stream(self, stream_id: int, disabled_at: float) -> None: ...

    def delete_stream(self, stream_id: int, shard_keys: Sequence[int]) -> None:
        """Remove a stream past its retention with its shards and their records."""

    def insert_shard(
        self,
        stream_id: int,
        shard_id: str,
        parent_id: str | None,
        bucket: int,
        start_seq: int,
        created_at: float,
    ) -> int:
        """Add an open shard; returns its shard_key (never reused)."""

    def close_shard(self, shard_key: int, end_seq: int, closed_at: float) -> None: ...

    def delete_shard(self, shard_key: int) -> None:
        """Remove a shard and whatever records it still has."""

    def append_record(
        self, shard_key: int, seq: int, created_ms: int, key_id: int, payload: bytes
    ) -> None: ...

    def last_record_seq(self, shard_key: int) -> int | None:
        """The shard's highest record number, this transaction's own appends included."""

    def oldest_records(self, shard_key: int, limit: int) -> list[tuple[int, int]]:
        """(seq, created_ms) of the shard's oldest records, in sequence order."""

    def trim_records(self, shard_key: int, upto_seq: int) -> None:
        """Delete the shard's records with seq <= upto_seq and remember the trim point."""

    # Triggers --------------------------------------------------------------------------------
    def put_trigger(self, row: TriggerRow) -> None:
        """Insert or replace a trigger (by uuid; names are unique)."""

    def delete_trigger(self, uuid: str) -> None:
        """Remove a trigger with its checkpoints, leases and figures."""

    def set_checkpoint(
        self, uuid: str, shard_key: int, seq: int, done: bool, window: bytes | None
    ) -> None: ...

    def delete_checkpoint(self, uuid: str, shard_key: int) -> None: ...

    def take_lease(self, uuid: str, shard_key: int, owner: str, now: float, ttl: float) -> bool:
        """Take or renew the shard's lease for `owner` until now + ttl. False while another
        owner holds an unexpired lease: two runtimes never process one shard at once."""

    def holds_lease(self, uuid: str, shard_key: int, owner: str, now: float) -> bool:
        """Checked in the job that commits a checkpoint, so an owner whose lease was taken over
        cannot move the new owner's checkpoint."""

    def release_lease(self, uuid: str, shard_key: int, owner: str) -> None: ...

    def add_trigger_figures(
        self, uuid: str, counts: dict[str, int], latest: dict[str, Any]
    ) -> None:
        """Add `counts` to the trigger's cumulative counters and overwrite the `latest` values."""

    # Idempotency -----------------------------------------------------------------------------
    def get_client_token(self, token: str, since_ms: int) -> tuple[bytes, bytes] | None:
        """(digest, outcome) of a ClientRequestToken completed at or after `since_ms`."""

    def put_client_token(
        self, token: str, digest: bytes, outcome: bytes, completed_ms: int, expire_before_ms: int
    ) -> None:
        """Remember a token with the transaction it completed (replacing an expired use) and
        forget every token completed before `expire_before_ms`."""


class Reader(Protocol):
    """Read access to committed data. Point reads and `get_items` are one snapshot; Query/Scan
    iterators read in pages, each page a snapshot (DynamoDB gives no more than that either)."""

    def get_item(self, table_id: int, hash: int, pk: bytes, sk: bytes) -> bytes | None: ...

    def get_items(self, keys: Sequence[tuple[int, int, bytes, bytes]]) -> list[bytes | None]:
        """Several items, each (table_id, hash, pk, sk), read in one snapshot (TransactGetItems)."""

    def query(
        self,
        table_id: int,
        hash: int,
        pk: bytes,
        lo: bytes | None,
        lo_inclusive: bool,
        hi: bytes | None,
        hi_inclusive: bool,
        forward: bool,
    ) -> Iterator[StoredItem]:
        """Items of one partition with lo <(=) sk <(=) hi, in sort-key order (descending if not forward)."""

    def query_index(
        self,
        table_id: int,
        index_id: int,
        hash: int,
        pk: bytes,
        lo: bytes | None,
        lo_inclusive: bool,
        hi: bytes | None,
        hi_inclusive: bool,
        forward: bool,
    ) -> Iterator[tuple[bytes, StoredItem]]:
        """(index sort key, base item) pairs of one index partition, in index sort-key order."""

    def scan(
        self, table_id: int, hash_lo: int, hash_hi: int, after: tuple[int, bytes, bytes] | None
    ) -> Iterator[StoredItem]:
        """Items with hash in [hash_lo, hash_hi), in (hash, pk, sk) order, strictly after `after`."""

    def scan_index(
        self,
        table_id: int,
        index_id: int,
        hash_lo: int,
        hash_hi: int,
        after: tuple[int, bytes, bytes, int, bytes, bytes] | None,
    ) -> Iterator[tuple[tuple[int, bytes, bytes], StoredItem]]:
        """Index entries with hash in range, in entry order, strictly after `after`, with their base items."""

    def table_stats(self, table_id: int) -> tuple[int, int]:
        """(item count, total item bytes), as committed; without counting."""

    def index_stats(self, table_id: int, index_id: int) -> tuple[int, int]:
        """(entry count, total bytes of the base items indexed), as committed; without counting."""

    def expired_items(self, table_id: int, now: int, oldest: int, limit: int) -> list[StoredItem]:
        """Items whose expiry is in [oldest, now), oldest first."""

    def live_tables(self) -> list[TableRow]: ...

    def streams(self) -> list[StreamRow]:
        """Every stream within retention, enabled or not."""

    def shards(self) -> list[ShardRow]:
        """Every shard of every stream."""

    def shard_state(self, shard_key: int) -> tuple[int | None, int] | None:
        """The committed (end_seq, trimmed_seq) of a shard, or None if it is gone."""

    def read_records(self, shard_key: int, from_seq: int, limit: int) -> list[RecordRow]:
        """Up to `limit` records of the shard with seq >= from_seq, in sequence order."""

    def last_record_seq(self, shard_key: int) -> int | None: ...

    def record_at_time(self, shard_key: int, created_ms: int) -> int | None:
        """The sequence number of the shard's first record created at or after created_ms."""

    def triggers(self) -> list[TriggerRow]: ...

    def checkpoints(self, uuid: str) -> list[CheckpointRow]: ...

    def leases(self, uuid: str) -> list[LeaseRow]: ...

    def trigger_figures(self, uuid: str) -> dict[str, Any]:
        """The counters and latest values of add_trigger_figures ({} before the first)."""

    def data_version(self) -> int:
        """Changes whenever another connection or process commits: a cheap change signal for
        trigger workers running beside the server."""


class Storage(Protocol):
    def open(self) -> None:
        """Create or migrate the schema and start the writer."""

    def close(self) -> None:
        """Finish queued jobs, commit, stop the writer and close every connection."""

    def submit(
        self, job: Callable[[WriteTxn], T], loop: asyncio.AbstractEventLoop, long: bool = False
    ) -> asyncio.Future[T]:
        """Queue a write job; the future resolves on `loop` after the group it ran in commits.

        `long`: the job may run for a long time (it visits every item of a table); it is run
        where it does not hold up the event loop."""

    def run_sync(self, job: Callable[[WriteTxn], T]) -> T:
        """Run a write job and wait for its commit from a non-async context (startup, CLI)."""

    def reader(self) -> Reader:
        """A reader for the calling thread."""

    def get_meta(self, key: str) -> Any:
        """A small JSON value stored under key (catalog counters, keys), or None."""

    def add_commit_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after every successful commit (see the module docstring)."""
