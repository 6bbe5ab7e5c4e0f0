"""DynamoDB Streams inside the engine: stream lifecycle, shards, capture, rotation, retention.

Every method that changes state runs inside a write job (jobs run one at a time), like the
table catalog (see Database), so the in-memory view changes in the order of the jobs. Readers
(the Streams API on the event loop) use the in-memory view for streams and shards and storage
readers for records; where a decision must match committed data (the end of a closed shard, the
LATEST position) they ask storage.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

import orjson

from rivulet.core.clock import Clock
from rivulet.core.stream_ids import shard_id, stream_label, wire_seq
from rivulet.core.stream_records import build_record
from rivulet.core.types import Item
from rivulet.engine.catalog import TableRuntime
from rivulet.engine.undo import restore_point
from rivulet.storage.base import RecordRow, Storage, WriteTxn

log = logging.getLogger("rivulet.streams")

HOUR = 3600.0


class Sealer(Protocol):
    """Encrypts stream record payloads at rest (engine/keyring.py)."""

    def seal(self, plaintext: bytes, aad: bytes) -> tuple[int, bytes]: ...

    def unseal(self, key_id: int, blob: bytes, aad: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class StreamConfig:
    shards: int = 4  # open shards per stream; the partition key's hash picks one
    rotation: float = 4 * HOUR  # an open shard older than this is closed and gets a child
    retention: float = 24 * HOUR
    trim_interval: float = 60.0
    # GetRecords at the end of an open shard waits this long for a commit before answering
    # `Records: []`, so a consumer polling without a pause waits on the server (and sees the
    # record the moment it commits) instead of spinning both of them on empty pages.
    read_wait: float = 0.02


@dataclass(slots=True)
class Shard:
    key: int  # storage id
    shard_id: str
    parent_id: str | None
    bucket: int
    start: int
    end: int | None
    created_at: float
    closed_at: float | None
    last: int  # highest sequence counter used by this shard (start when it has no record)
    trimmed: int  # records with seq <= trimmed are gone


@dataclass(slots=True)
class Stream:
    stream_id: int
    table_id: int
    table_name: str
    label: str
    view_type: str
    key_schema: tuple[tuple[str, str], ...]
    created_at: float
    disabled_at: float | None
    shards: list[Shard] = field(default_factory=list)  # sorted by shard id (= creation order)
    open: list[Shard] = field(default_factory=list)  # the open shard of each bucket
    counter: int = 0
    last_ms: int = 0  # record times never go backwards within a stream
    last_shard_ms: int = 0

    @property
    def status(self) -> str:
        # Transitions are immediate: ENABLED once the enabling call returns, DISABLED likewise.
        return "ENABLED" if self.disabled_at is None else "DISABLED"

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.key_schema)

    def shard(self, shard_id: str) -> Shard | None:
        for s in self.shards:
            if s.shard_id == shard_id:
                return s
        return None

    def shard_by_key(self, key: int) -> Shard | None:
        for s in self.shards:
            if s.key == key:
                return s
        return None


def record_aad(stream_id: int, seq: int) -> bytes:
    """Binds a sealed payload to its place: a record copied elsewhere does not decrypt."""
    return b"rivulet-record:%d:%d" % (stream_id, seq)


class StreamManager:
    def __init__(self, storage: Storage, clock: Clock, config: StreamConfig) -> None:
        self.storage = storage
        self.clock = clock
        self.config = config
        self.streams: dict[int, Stream] = {}
        self.by_label: dict[tuple[str, str], Stream] = {}
        self.active: dict[int, Stream] = {}  # table_id -> its enabled stream
        self.sealer: Sealer | None = None
        self.iterator_key = b""
        self._touched: set[int] = set()  # streams written by the group being committed
        self._waiters: dict[int, asyncio.Event] = {}
        # Commits seen per stream (event loop thread): a reader notes it before reading, so a
        # commit landing between its read and its wait is not missed.
        self.commits: dict[int, int] = {}
        self._stream_listeners: list[Callable[[], None]] = []
        self._new_stream = False  # a stream was enabled in the group being committed
        self._loop: asyncio.AbstractEventLoop | None = None

    # Startup -----------------------------------------------------------------------------------
    def open(self, sealer: Sealer, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Load streams and shards, resume every counter above any number ever used."""
        self.sealer = sealer
        self._loop = loop
        self.iterator_key = self._load_iterator_key()
        reader = self.storage.reader()
        for row in reader.streams():
            schema = tuple((name, kind) for name, kind in orjson.loads(row.key_schema))
            stream = Stream(
                row.stream_id,
                row.table_id,
                row.table_name,
                row.label,
                row.view_type,
                schema,
                row.created_at,
                row.disabled_at,
            )
            self._register(stream)
        for srow in reader.shards():
            owner = self.streams.get(srow.stream_id)
            if owner is None:
                continue
            last = max(
                srow.start_seq, reader.last_record_seq(srow.shard_key) or 0, srow.trimmed_seq
            )
            if srow.end_seq is not None:
                last = max(last, srow.end_seq)
            shard = Shard(
                srow.shard_key,
                srow.shard_id,
                srow.parent_id,
                srow.bucket,
                srow.start_seq,
                srow.end_seq,
                srow.created_at,
                srow.closed_at,
                last,
                srow.trimmed_seq,
            )
            owner.shards.append(shard)
            owner.counter = max(owner.counter, last)
        now_ms = self._now_ms()
        for stream in self.streams.values():
            stream.shards.sort(key=lambda s: s.shard_id)
            stream.last_ms = now_ms
            if stream.shards:
                stream.last_shard_ms = int(stream.shards[-1].shard_id.split("-")[1])
            if stream.disabled_at is None:
                by_bucket = {s.bucket: s for s in stream.shards if s.end is None}
                stream.open = [by_bucket[b] for b in sorted(by_bucket)]
                self.active[stream.table_id] = stream
        self.storage.add_commit_listener(self._committed)

    def _load_iterator_key(self) -> bytes:
        # Iterators must stay valid across restarts, so the signing key is stored.
        stored = self.storage.get_meta("iterator_key")
        if stored is not None:
            return base64.b64decode(stored)
        key = os.urandom(32)

        def job(txn: WriteTxn) -> None:
            txn.set_meta("iterator_key", base64.b64encode(key).decode())

        self.storage.run_sync(job)
        return key

    def _register(self, stream: Stream) -> None:
        self.streams[stream.stream_id] = stream
        self.by_label[(stream.table_name, stream.label)] = stream

    def _now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    def _restore_point(self, stream: Stream) -> Callable[[], None]:
        """Undo for a job that changes `stream`: its fields, its shards' fields, and its place
        in the manager's maps. Records appended meanwhile need none: a counter that moved on
        only leaves a gap, and sequence numbers need not be contiguous."""
        parts = [restore_point(stream), *(restore_point(shard) for shard in stream.shards)]
        active = self.active.get(stream.table_id) is stream
        registered = self.streams.get(stream.stream_id) is stream

        def restore() -> None:
            for part in parts:
                part()
            if active:
                self.active[stream.table_id] = stream
            if registered:
                self._register(stream)

        return restore

    # Lifecycle (write jobs) --------------------------------------------------------------------
    def enable(self, txn: WriteTxn, table: TableRuntime, view_type: str) -> Stream:
        """A new stream with fresh ARN and label, open shards, ENABLED at once."""
        ms = self._now_ms()
        label = stream_label(ms)
        while (table.name, label) in self.by_label or txn.stream_label_taken(table.name, label):
            ms += 1  # AWS labels are unique per table name: bump by a millisecond
            label = stream_label(ms)
        key = table.key
        schema: tuple[tuple[str, str], ...] = ((key.hash_name, "HASH"),)
        if key.range_name is not None:
            schema = (*schema, (key.range_name, "RANGE"))
        created = self.clock.now()
        stream_id = txn.insert_stream(
            table.table_id,
            table.name,
            label,
            view_type,
            orjson.dumps([list(k) for k in schema]),
            created,
        )
        stream = Stream(
            stream_id, table.table_id, table.name, label, view_type, schema, created, None
        )
        stream.last_ms = ms
        stream.open = [
            self._new_shard(txn, stream, bucket, None) for bucket in range(self.config.shards)
        ]
        previous = self.active.get(table.table_id)
        restore_extra = restore_point(table, "extra")

        def undo() -> None:
            self.streams.pop(stream_id, None)
            self.by_label.pop((table.name, label), None)
            if previous is None:
                self.active.pop(table.table_id, None)
            else:
                self.active[table.table_id] = previous
            restore_extra()

        txn.on_rollback(undo)
        self._register(stream)
        self.active[table.table_id] = stream
        self._new_stream = True
        table.extra = {**table.extra, "latest_stream": {"label": label, "id": stream_id}}
        return stream

    def disable(self, txn: WriteTxn, table: TableRuntime) -> None:
        """Close every open shard; the stream stays readable as DISABLED for the retention."""
        stream = self.active.get(table.table_id)
        if stream is None:
            return
        txn.on_rollback(self._restore_point(stream))
        del self.active[table.table_id]
        now = self.clock.now()
        for shard in stream.open:
            self._close(txn, shard, now)
        stream.open = []
        stream.disabled_at = now
        txn.disable_stream(stream.stream_id, now)

    def _new_shard(self, txn: WriteTxn, stream: Stream, bucket: int, parent: Shard | None) -> Shard:
        ms = max(self._now_ms(), stream.last_shard_ms + 1)  # shard ids sort in creation order
        stream.last_shard_ms = ms
        stream.counter += 1  # the shard's StartingSequenceNumber is reserved from the counter
        start = stream.counter
        sid = shard_id(ms)
        created = ms / 1000
        parent_id = None if parent is None else parent.shard_id
        key = txn.insert_shard(stream.stream_id, sid, parent_id, bucket, start, created)
        shard = Shard(key, sid, parent_id, bucket, start, None, created, None, start, 0)
        stream.shards = [*stream.shards, shard]
        return shard

    @staticmethod
    def _close(txn: WriteTxn, shard: Shard, now: float) -> None:
        # EndingSequenceNumber: the last record's number, or the start of an empty shard. Asked
        # of storage: `shard.last` may name a record whose job was rolled back.
        end = max(shard.start, shard.trimmed, txn.last_record_seq(shard.key) or 0)
        txn.close_shard(shard.key, end, now)
        shard.last = shard.end = end
        shard.closed_at = now

    def rotate(self, txn: WriteTxn, stream: Stream) -> None:
        """Close each open shard and open one child per shard (same hash bucket)."""
        if stream.disabled_at is not None:
            return
        txn.on_rollback(self._restore_point(stream))
        now = self.clock.now()
        children = []
        for shard in stream.open:
            self._close(txn, shard, now)
            children.append(self._new_shard(txn, stream, shard.bucket, shard))
        stream.open = children

    # Capture (write jobs) ----------------------------------------------------------------------
    def capture(
        self,
        txn: WriteTxn,
        table: TableRuntime,
        hash: int,
        old: Item | None,
        new: Item | None,
        new_size: int,
        service: bool,
    ) -> None:
        """Append the change's record to its shard, in the item's own transaction."""
        stream = self.active.get(table.table_id)
        if stream is None:
            return
        # The partition key's 32-bit hash picks the bucket, so a key stays in one lineage.
        shard = stream.open[(hash * len(stream.open)) >> 32]
        stream.counter += 1
        seq = stream.counter
        ms = max(self._now_ms(), stream.last_ms)
        stream.last_ms = ms
        payload = build_record(
            key_names=stream.key_names,
            view_type=stream.view_type,
            old=old,
            new=new,
            new_size=new_size,
            seq=wire_seq(seq),
            created_s=ms // 1000,
            service=service,
        )
        assert self.sealer is not None
        key_id, blob = self.sealer.seal(payload, record_aad(stream.stream_id, seq))
        txn.append_record(shard.key, seq, ms, key_id, blob)
        shard.last = seq
        self._touched.add(stream.stream_id)

    # Reading -----------------------------------------------------------------------------------
    def find(self, table_name: str, label: str) -> Stream | None:
        return self.by_label.get((table_name, label))

    def open_records(self, stream: Stream, rows: list[RecordRow]) -> list[bytes]:
        assert self.sealer is not None
        unseal = self.sealer.unseal
        sid = stream.stream_id
        return [unseal(r.key_id, r.payload, record_aad(sid, r.seq)) for r in rows]

    # Commit notification -----------------------------------------------------------------------
    def on_new_stream(self, listener: Callable[[], None]) -> None:
        """Call `listener` on the event loop after a commit that enabled a stream (triggers
        waiting for their table start at once)."""
        self._stream_listeners.append(listener)

    def _committed(self) -> None:
        # Writer thread, right after a commit: wake the waiters of the streams just written.
        if self._loop is None:
            return
        # A closed loop (shutdown) has nobody waiting any more.
        with contextlib.suppress(RuntimeError):
            if self._new_stream:
                self._new_stream = False
                for listener in self._stream_listeners:
                    self._loop.call_soon_threadsafe(listener)
            if self._touched:
                touched, self._touched = self._touched, set()
                self._loop.call_soon_threadsafe(self._wake, touched)

    def _wake(self, stream_ids: set[int]) -> None:
        for sid in stream_ids:
            self.commits[sid] = self.commits.get(sid, 0) + 1
            event = self._waiters.pop(sid, None)
            if event is not None:
                event.set()

    def version(self, stream_id: int) -> int:
        """Commits seen for the stream: note it before a read, wait on it after an empty one."""
        return self.commits.get(stream_id, 0)

    async def wait_for_records(self, stream_id: int, version: int, timeout: float) -> bool:
        """Wait until a commit after `version` adds records to the stream (True), or the
        timeout passes (False). A commit between the caller's read and this wait counts."""
        if self.version(stream_id) != version:
            return True
        event = self._waiters.get(stream_id)
        if event is None:
            event = self._waiters[stream_id] = asyncio.Event()
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    # Background maintenance ------------------------------------------------------------------
    def rotation_due(self) -> list[Stream]:
        limit = self.clock.now() - self.config.rotation
        return [
            s for s in self.active.values() if s.open and min(x.created_at for x in s.open) <= limit
        ]

    def trim(self, txn: WriteTxn, batch: int = 1000) -> bool:
        """Trim one batch per shard of records older than the retention; drop shards and
        streams whose whole life is past it. Returns True if more remains to trim."""
        now = self.clock.now()
        cutoff = now - self.config.retention
        cutoff_ms = int(cutoff * 1000)
        more = False
        # Undos are registered only for what changes (storage/base.py, on_rollback).
        for stream in list(self.streams.values()):
            if stream.disabled_at is not None and stream.disabled_at < cutoff:
                txn.delete_stream(stream.stream_id, [s.key for s in stream.shards])
                del self.streams[stream.stream_id]
                del self.by_label[(stream.table_name, stream.label)]
                txn.on_rollback(partial(self._register, stream))
                continue
            kept = []
            for shard in stream.shards:
                if shard.closed_at is not None and shard.closed_at < cutoff:
                    txn.delete_shard(shard.key)
                    continue
                kept.append(shard)
                if shard.trimmed >= shard.last:
                    continue
                rows = txn.oldest_records(shard.key, batch)
                upto = 0
                for seq, created in rows:
                    if created >= cutoff_ms:
                        break
                    upto = seq
                if upto:
                    txn.trim_records(shard.key, upto)
                    txn.on_rollback(restore_point(shard, "trimmed"))
                    shard.trimmed = max(shard.trimmed, upto)
                    more = more or (len(rows) == batch and rows[-1][0] == upto)
            if len(kept) != len(stream.shards):
                txn.on_rollback(restore_point(stream, "shards"))
                stream.shards = kept
        return more


async def run_maintenance(manager: StreamManager, run: Callable[..., object]) -> None:
    """Rotate shards when they reach their age and trim past the retention, forever."""
    config = manager.config
    interval = max(0.05, min(config.trim_interval, config.rotation / 4))
    last_trim = 0.0
    while True:
        try:
            for stream in manager.rotation_due():
                await run(lambda txn, s=stream: manager.rotate(txn, s))  # type: ignore[misc]
            if manager.clock.monotonic() - last_trim >= config.trim_interval:
                last_trim = manager.clock.monotonic()
                while await run(manager.trim):  # type: ignore[misc]
                    pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("stream maintenance failed")
        await asyncio.sleep(interval)
