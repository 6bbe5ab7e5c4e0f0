"""SqliteStorage: the storage contract (storage/base.py) on one SQLite file in WAL mode."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson

from rivulet.storage.base import (
    CheckpointRow,
    LeaseRow,
    RecordRow,
    ShardRow,
    StorageError,
    StoredItem,
    StreamRow,
    TableRow,
    TriggerRow,
)
from rivulet.storage.sqlite import schema as q
from rivulet.storage.sqlite.checkpointer import RESTART_FRAMES, Checkpointer
from rivulet.storage.sqlite.writer import Job, Writer

T = TypeVar("T")

# Both modes run SQLite with synchronous=NORMAL: commits write the WAL without an fsync, and
# checkpoints fsync the WAL before and the database after copying (so the file is never corrupt).
# "full" adds an fsync of the WAL after each group commit, before any of its writes is
# acknowledged, so an acknowledged write survives power loss, as with synchronous=FULL; it runs
# on the writer's sync thread, overlapping the next group (writer.py).
# "normal" has no fsync per commit: survives a crash of the process (kill -9), not of the machine.
DURABILITY = ("full", "normal")


log = logging.getLogger("rivulet.storage")

# Figure changes a transaction makes, applied in order when it commits (SqliteTxn._stats).
_ADD, _SET, _DROP = 0, 1, 2


class SqliteTxn:
    """WriteTxn over the writer's connection; every method runs inside the open transaction.

    It also keeps, for the Writer (writer.Transaction), what its jobs did beside the SQL: their
    in-memory undos and their figure changes. Figures are summed in memory and written once per
    table or index at COMMIT: one statement per group instead of one per item change.
    """

    __slots__ = ("_conn", "_stats", "_undo")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._undo: list[Callable[[], object]] = []
        self._stats: list[tuple[int, int, int, int, int]] = []  # (op, table, index, count, size)

    # The writer's side -------------------------------------------------------------------------
    def mark(self) -> tuple[int, int]:
        return len(self._undo), len(self._stats)

    def rollback_to(self, mark: tuple[int, int]) -> None:
        """A job failed: drop its figure changes, undo its in-memory changes (newest first)."""
        del self._stats[mark[1] :]
        _run_undos(self._undo, mark[0])

    def before_commit(self) -> None:
        """Write the transaction's figures: additions summed, a recount or a drop replacing what
        came before it for the same table or index."""
        if not self._stats:
            return
        figures: dict[tuple[int, int], list[int]] = {}
        for op, table_id, index_id, count, size in self._stats:
            f = figures.get((table_id, index_id))
            if f is None or op != _ADD:
                figures[(table_id, index_id)] = [op, count, size]
            else:
                f[1] += count
                f[2] += size
        self._stats.clear()
        for (table_id, index_id), (op, count, size) in figures.items():
            if op == _DROP:
                self._conn.execute(q.DELETE_STATS, (table_id, index_id))
            elif op == _SET:
                self._conn.execute(q.SET_STATS, (table_id, index_id, count, size))
            elif count or size:
                self._conn.execute(q.ADD_STATS, (table_id, index_id, count, size))

    def committed(self) -> None:
        self._undo.clear()

    def rolled_back(self) -> None:
        """The whole transaction is gone: every job's in-memory changes go too."""
        self._stats.clear()
        _run_undos(self._undo, 0)

    # WriteTxn ------------------------------------------------------------------------------------
    def on_rollback(self, undo: Callable[[], object]) -> None:
        self._undo.append(undo)

    def add_stats(self, table_id: int, index_id: int, count: int, size: int) -> None:
        self._stats.append((_ADD, table_id, index_id, count, size))

    def recount_stats(self, table_id: int, index_id: int) -> None:
        if index_id:
            row = self._conn.execute(q.COUNT_INDEX, (table_id, index_id)).fetchone()
        else:
            row = self._conn.execute(q.COUNT_TABLE, (table_id,)).fetchone()
        self._stats.append((_SET, table_id, index_id, int(row[0]), int(row[1])))

    def get_item(self, table_id: int, hash: int, pk: bytes, sk: bytes) -> tuple[bytes, int] | None:
        row = self._conn.execute(q.GET_ITEM_SIZED, (table_id, hash, pk, sk)).fetchone()
        return None if row is None else (row[0], row[1])

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
        self._conn.execute(q.PUT_ITEM, (table_id, hash, pk, sk, item, size, expires))

    def delete_item(self, table_id: int, hash: int, pk: bytes, sk: bytes) -> None:
        self._conn.execute(q.DELETE_ITEM, (table_id, hash, pk, sk))

    def put_index_entry(
        self, index_id: int, hash: int, pk: bytes, sk: bytes, t_hash: int, t_pk: bytes, t_sk: bytes
    ) -> None:
        self._conn.execute(q.PUT_INDEX_ENTRY, (index_id, hash, pk, sk, t_hash, t_pk, t_sk))

    def delete_index_entry(
        self, index_id: int, hash: int, pk: bytes, sk: bytes, t_hash: int, t_pk: bytes, t_sk: bytes
    ) -> None:
        self._conn.execute(q.DELETE_INDEX_ENTRY, (index_id, hash, pk, sk, t_hash, t_pk, t_sk))

    def iter_table_items(self, table_id: int) -> Iterator[StoredItem]:
        for h, pk, sk, item, size in self._conn.execute(q.ITER_TABLE, (table_id,)).fetchall():
            yield StoredItem(h, pk, sk, item, size)

    def set_item_expiry(
        self, table_id: int, hash: int, pk: bytes, sk: bytes, expires: int | None
    ) -> None:
        self._conn.execute(q.SET_EXPIRY, (expires, table_id, hash, pk, sk))

    def delete_table_data(self, table_id: int, index_ids: Sequence[int]) -> None:
        self._conn.execute(q.DELETE_TABLE_ITEMS, (table_id,))
        self._stats.append((_DROP, table_id, 0, 0, 0))
        for index_id in index_ids:
            self.delete_index_data(table_id, index_id)

    def delete_index_data(self, table_id: int, index_id: int) -> None:
        self._conn.execute(q.DELETE_INDEX_ENTRIES, (index_id,))
        self._stats.append((_DROP, table_id, index_id, 0, 0))

    def insert_table(self, name: str, definition: bytes, created_at: float) -> int:
        cur = self._conn.execute(q.INSERT_TABLE, (name, definition, created_at))
        assert cur.lastrowid is not None
        return cur.lastrowid

    def update_table(self, table_id: int, definition: bytes) -> None:
        self._conn.execute(q.UPDATE_TABLE, (definition, table_id))

    def drop_table(self, table_id: int, deleted_at: float) -> None:
        self._conn.execute(q.DROP_TABLE, (deleted_at, table_id))

    def next_index_id(self) -> int:
        cur = self._conn.execute(q.NEXT_INDEX_ID)
        assert cur.lastrowid is not None
        return cur.lastrowid

    def set_meta(self, key: str, value: Any) -> None:
        self._conn.execute(q.SET_META, (key, orjson.dumps(value)))

    def stream_label_taken(self, table_name: str, label: str) -> bool:
        return self._conn.execute(q.STREAM_LABEL_TAKEN, (table_name, label)).fetchone() is not None

    def insert_stream(
        self,
        table_id: int,
        table_name: str,
        label: str,
        view_type: str,
        key_schema: bytes,
        created_at: float,
    ) -> int:
        cur = self._conn.execute(
            q.INSERT_STREAM, (table_id, table_name, label, view_type, key_schema, created_at)
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def disable_stream(self, stream_id: int, disabled_at: float) -> None:
        self._conn.execute(q.DISABLE_STREAM, (disabled_at, stream_id))

    def delete_stream(self, stream_id: int, shard_keys: Sequence[int]) -> None:
        for shard_key in shard_keys:
            self.delete_shard(shard_key)
        self._conn.execute(q.DELETE_STREAM, (stream_id,))

    def insert_shard(
        self,
        stream_id: int,
        shard_id: str,
        parent_id: str | None,
        bucket: int,
        start_seq: int,
        created_at: float,
    ) -> int:
        cur = self._conn.execute(
            q.INSERT_SHARD, (stream_id, shard_id, parent_id, bucket, start_seq, created_at)
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def close_shard(self, shard_key: int, end_seq: int, closed_at: float) -> None:
        self._conn.execute(q.CLOSE_SHARD, (end_seq, closed_at, shard_key))

    def delete_shard(self, shard_key: int) -> None:
        self._conn.execute(q.DELETE_SHARD_RECORDS, (shard_key,))
        self._conn.execute(q.DELETE_SHARD, (shard_key,))

    def append_record(
        self, shard_key: int, seq: int, created_ms: int, key_id: int, payload: bytes
    ) -> None:
        self._conn.execute(q.APPEND_RECORD, (shard_key, seq, created_ms, key_id, payload))

    def last_record_seq(self, shard_key: int) -> int | None:
        row = self._conn.execute(q.LAST_RECORD, (shard_key,)).fetchone()
        return None if row is None else row[0]

    def oldest_records(self, shard_key: int, limit: int) -> list[tuple[int, int]]:
        return self._conn.execute(q.OLDEST_RECORDS, (shard_key, limit)).fetchall()

    def trim_records(self, shard_key: int, upto_seq: int) -> None:
        self._conn.execute(q.TRIM_RECORDS, (shard_key, upto_seq))
        self._conn.execute(q.SET_TRIMMED, (upto_seq, shard_key))

    def put_trigger(self, row: TriggerRow) -> None:
        self._conn.execute(
            q.PUT_TRIGGER,
            (
                row.uuid,
                row.name,
                row.settings,
                row.origin,
                row.stream_id,
                row.state,
                row.reason,
                row.created_at,
                row.modified_at,
                row.last_result,
            ),
        )

    def delete_trigger(self, uuid: str) -> None:
        for sql in (
            q.DELETE_TRIGGER,
            q.DELETE_TRIGGER_CHECKPOINTS,
            q.DELETE_TRIGGER_LEASES,
            q.DELETE_TRIGGER_FIGURES,
        ):
            self._conn.execute(sql, (uuid,))

    def set_checkpoint(
        self, uuid: str, shard_key: int, seq: int, done: bool, window: bytes | None
    ) -> None:
        self._conn.execute(q.SET_CHECKPOINT, (uuid, shard_key, seq, int(done), window))

    def delete_checkpoint(self, uuid: str, shard_key: int) -> None:
        self._conn.execute(q.DELETE_CHECKPOINT, (uuid, shard_key))

    def take_lease(self, uuid: str, shard_key: int, owner: str, now: float, ttl: float) -> bool:
        row = self._conn.execute(q.GET_LEASE, (uuid, shard_key)).fetchone()
        if row is not None and row[0] != owner and row[1] > now:
            return False
        self._conn.execute(q.SET_LEASE, (uuid, shard_key, owner, now + ttl))
        return True

    def holds_lease(self, uuid: str, shard_key: int, owner: str, now: float) -> bool:
        row = self._conn.execute(q.GET_LEASE, (uuid, shard_key)).fetchone()
        return row is not None and row[0] == owner and row[1] > now

    def release_lease(self, uuid: str, shard_key: int, owner: str) -> None:
        self._conn.execute(q.RELEASE_LEASE, (uuid, shard_key, owner))

    def add_trigger_figures(
        self, uuid: str, counts: dict[str, int], latest: dict[str, Any]
    ) -> None:
        row = self._conn.execute(q.GET_FIGURES, (uuid,)).fetchone()
        figures: dict[str, Any] = {} if row is None else orjson.loads(row[0])
        for name, n in counts.items():
            figures[name] = figures.get(name, 0) + n
        figures.update(latest)
        self._conn.execute(q.SET_FIGURES, (uuid, orjson.dumps(figures)))

    def get_client_token(self, token: str, since_ms: int) -> tuple[bytes, bytes] | None:
        row = self._conn.execute(q.GET_CLIENT_TOKEN, (token, since_ms)).fetchone()
        return None if row is None else (row[0], row[1])

    def put_client_token(
        self, token: str, digest: bytes, outcome: bytes, completed_ms: int, expire_before_ms: int
    ) -> None:
        self._conn.execute(q.EXPIRE_CLIENT_TOKENS, (expire_before_ms,))
        self._conn.execute(q.PUT_CLIENT_TOKEN, (token, digest, outcome, completed_ms))


def _range_sql(
    base: str, col: str, lo: bytes | None, lo_inc: bool, hi: bytes | None, hi_inc: bool
) -> tuple[str, list[bytes]]:
    sql, args = base, []
    if lo is not None:
        sql += f" AND {col}{'>=' if lo_inc else '>'}?"
        args.append(lo)
    if hi is not None:
        sql += f" AND {col}{'<=' if hi_inc else '<'}?"
        args.append(hi)
    return sql, args


# Iterators read in pages, each fetched completely: a statement left open between two `next()`
# calls would pin the thread's connection to an old snapshot, and a read issued after a write
# was acknowledged could miss it. The first page is small because most Queries carry a Limit.
FIRST_PAGE = 64
MAX_PAGE = 4096


def _pages(
    conn: sqlite3.Connection,
    sql: str,
    args: Sequence[Any],
    resume: Callable[[Any], tuple[str, Sequence[Any]]],
) -> Iterator[Any]:
    """Rows of `sql` (which ends with "{after}" followed by ORDER BY); after each full page it
    runs again with "{after}" replaced by the continuation filter built by `resume(last row)`."""
    size = FIRST_PAGE
    first_sql = sql.replace("{after}", "") + f" LIMIT {size}"
    rows = _fetch(conn, first_sql, args)
    while True:
        yield from rows
        if len(rows) < size:
            return
        size = min(size * 2, MAX_PAGE)
        cond, extra = resume(rows[-1])
        rows = _fetch(conn, sql.replace("{after}", cond) + f" LIMIT {size}", [*args, *extra])


def _fetch(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[Any]:
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.Error as exc:
        raise StorageError(str(exc)) from exc


def _run_undos(undos: list[Callable[[], object]], mark: int) -> None:
    """Run the undos registered since `mark`, newest first, and forget them."""
    while len(undos) > mark:
        undo = undos.pop()
        try:
            undo()
        except Exception:
            log.exception("undoing a rolled-back job's in-memory change failed")


def _fetch_one(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> Any:
    try:
        return conn.execute(sql, args).fetchone()
    except sqlite3.Error as exc:
        raise StorageError(str(exc)) from exc


class SqliteReader:
    """Reader over a per-thread connection (WAL lets it run beside the writer)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get_item(self, table_id: int, hash: int, pk: bytes, sk: bytes) -> bytes | None:
        row = _fetch_one(self._conn, q.GET_ITEM, (table_id, hash, pk, sk))
        return None if row is None else row[0]

    def get_items(self, keys: Sequence[tuple[int, int, bytes, bytes]]) -> list[bytes | None]:
        conn = self._conn
        try:
            conn.execute("BEGIN")
            try:
                out: list[bytes | None] = []
                for table_id, h, pk, sk in keys:
                    row = conn.execute(q.GET_ITEM, (table_id, h, pk, sk)).fetchone()
                    out.append(None if row is None else row[0])
                return out
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc

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
        sql, args = _range_sql(q.QUERY, "sk", lo, lo_inclusive, hi, hi_inclusive)
        sql += " {after} ORDER BY sk" if forward else " {after} ORDER BY sk DESC"
        after = " AND sk>?" if forward else " AND sk<?"
        rows = _pages(self._conn, sql, (table_id, hash, pk, *args), lambda r: (after, (r[2],)))
        for h, p, s, item, size in rows:
            yield StoredItem(h, p, s, item, size)

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
        sql, args = _range_sql(
            q.INDEX_JOIN + " WHERE e.index_id=? AND e.hash=? AND e.pk=?",
            "e.sk",
            lo,
            lo_inclusive,
            hi,
            hi_inclusive,
        )
        order = "" if forward else " DESC"
        sql += f" {{after}} ORDER BY e.sk{order}, e.t_hash{order}, e.t_pk{order}, e.t_sk{order}"
        after = f" AND (e.sk, e.t_hash, e.t_pk, e.t_sk){'>' if forward else '<'}(?,?,?,?)"
        rows = _pages(
            self._conn,
            sql,
            (table_id, index_id, hash, pk, *args),
            lambda r: (after, (r[0], r[1], r[2], r[3])),
        )
        for isk, h, p, s, item, size in rows:
            yield isk, StoredItem(h, p, s, item, size)

    def scan(
        self, table_id: int, hash_lo: int, hash_hi: int, after: tuple[int, bytes, bytes] | None
    ) -> Iterator[StoredItem]:
        sql = q.SCAN
        args: list[Any] = [table_id, hash_lo, hash_hi]
        if after is not None:
            sql += q.SCAN_AFTER
            args.extend(after)
        sql += " {after} ORDER BY hash, pk, sk"
        rows = _pages(self._conn, sql, args, lambda r: (q.SCAN_AFTER, r[:3]))
        for h, p, s, item, size in rows:
            yield StoredItem(h, p, s, item, size)

    def scan_index(
        self,
        table_id: int,
        index_id: int,
        hash_lo: int,
        hash_hi: int,
        after: tuple[int, bytes, bytes, int, bytes, bytes] | None,
    ) -> Iterator[tuple[tuple[int, bytes, bytes], StoredItem]]:
        sql = q.SCAN_INDEX
        args: list[Any] = [table_id, index_id, hash_lo, hash_hi]
        if after is not None:
            sql += q.SCAN_INDEX_AFTER
            args.extend(after)
        sql += " {after} ORDER BY e.hash, e.pk, e.sk, e.t_hash, e.t_pk, e.t_sk"
        rows = _pages(self._conn, sql, args, lambda r: (q.SCAN_INDEX_AFTER, r[:6]))
        for eh, ep, es, h, p, s, item, size in rows:
            yield (eh, ep, es), StoredItem(h, p, s, item, size)

    def table_stats(self, table_id: int) -> tuple[int, int]:
        return self.index_stats(table_id, 0)

    def index_stats(self, table_id: int, index_id: int) -> tuple[int, int]:
        row = _fetch_one(self._conn, q.GET_STATS, (table_id, index_id))
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    def expired_items(self, table_id: int, now: int, oldest: int, limit: int) -> list[StoredItem]:
        rows = _fetch(self._conn, q.EXPIRED, (table_id, oldest, now, limit))
        return [StoredItem(h, p, s, item, size) for h, p, s, item, size in rows]

    def live_tables(self) -> list[TableRow]:
        return [TableRow(*row) for row in _fetch(self._conn, q.LIVE_TABLES, ())]

    def get_meta(self, key: str) -> Any:
        row = _fetch_one(self._conn, q.GET_META, (key,))
        return None if row is None else orjson.loads(row[0])

    def streams(self) -> list[StreamRow]:
        return [StreamRow(*row) for row in _fetch(self._conn, q.ALL_STREAMS, ())]

    def shards(self) -> list[ShardRow]:
        return [ShardRow(*row) for row in _fetch(self._conn, q.ALL_SHARDS, ())]

    def shard_state(self, shard_key: int) -> tuple[int | None, int] | None:
        row = _fetch_one(self._conn, q.SHARD_STATE, (shard_key,))
        return None if row is None else (row[0], row[1])

    def read_records(self, shard_key: int, from_seq: int, limit: int) -> list[RecordRow]:
        rows = _fetch(self._conn, q.READ_RECORDS, (shard_key, from_seq, limit))
        return [RecordRow(*row) for row in rows]

    def last_record_seq(self, shard_key: int) -> int | None:
        row = _fetch_one(self._conn, q.LAST_RECORD, (shard_key,))
        return None if row is None else row[0]

    def record_at_time(self, shard_key: int, created_ms: int) -> int | None:
        row = _fetch_one(self._conn, q.RECORD_AT_TIME, (shard_key, created_ms))
        return None if row is None else row[0]

    def triggers(self) -> list[TriggerRow]:
        return [TriggerRow(*row) for row in _fetch(self._conn, q.ALL_TRIGGERS, ())]

    def checkpoints(self, uuid: str) -> list[CheckpointRow]:
        rows = _fetch(self._conn, q.CHECKPOINTS, (uuid,))
        return [CheckpointRow(u, k, seq, bool(done), w) for u, k, seq, done, w in rows]

    def leases(self, uuid: str) -> list[LeaseRow]:
        return [LeaseRow(*row) for row in _fetch(self._conn, q.LEASES, (uuid,))]

    def trigger_figures(self, uuid: str) -> dict[str, Any]:
        row = _fetch_one(self._conn, q.GET_FIGURES, (uuid,))
        return {} if row is None else dict(orjson.loads(row[0]))

    def data_version(self) -> int:
        return int(_fetch_one(self._conn, "PRAGMA data_version", ())[0])


class SqliteStorage:
    """One database file `<data_dir>/rivulet.db`."""

    def __init__(self, data_dir: Path, durability: str = "full") -> None:
        if durability not in DURABILITY:
            raise ValueError(f"unknown durability {durability!r}")
        self.path = Path(data_dir) / "rivulet.db"
        self._fsync_commits = durability == "full"
        self._wal_fd: int | None = None
        self._local = threading.local()
        self._writer: Writer | None = None
        self._checkpointer: Checkpointer | None = None
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def add_commit_listener(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA cache_size=-65536")
        # Deleted items are overwritten, not left in free pages: once an item is gone its values
        # live on only in the (encrypted) stream records. Many builds default to this already.
        conn.execute("PRAGMA secure_delete=ON")
        return conn

    def _writer_connection(self) -> sqlite3.Connection:
        conn = self._connect()
        conn.executescript(q.SCHEMA)
        conn.execute(f"PRAGMA wal_autocheckpoint={RESTART_FRAMES}")
        conn.execute(q.SET_META, ("schema_version", orjson.dumps(q.SCHEMA_VERSION)))
        if self._fsync_commits:
            # The write connection keeps the WAL file in existence until it closes: sync that file.
            self._wal_fd = os.open(f"{self.path}-wal", os.O_RDONLY)
            self._sync_wal()
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)  # the WAL's directory entry, once
            finally:
                os.close(dir_fd)
        return conn

    def _sync_wal(self) -> None:
        assert self._wal_fd is not None
        os.fsync(self._wal_fd)

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create data directory {self.path.parent}: {exc}") from exc
        writer = Writer(
            self._writer_connection,
            SqliteTxn,
            self._listeners,
            self._sync_wal if self._fsync_commits else None,
        )
        writer.start_and_wait()
        self._writer = writer
        checkpointer = Checkpointer(self._connect)
        try:
            checkpointer.start()
        except sqlite3.Error as exc:
            self.close()
            raise StorageError(f"cannot open the database: {exc}") from exc
        self._checkpointer = checkpointer
        self._listeners.append(checkpointer.committed)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._listeners.remove(self._checkpointer.committed)
            self._checkpointer.stop()
            self._checkpointer = None
        if self._writer is not None:
            self._writer.stop()
            self._writer = None
        if self._wal_fd is not None:
            os.close(self._wal_fd)
            self._wal_fd = None
        with self._readers_lock:
            for conn in self._readers:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._readers.clear()
        self._local = threading.local()

    def _live_writer(self) -> Writer:
        writer = self._writer
        if writer is None or not writer.running:
            raise StorageError("storage is not open")
        return writer

    def submit(
        self, job: Callable[[Any], T], loop: asyncio.AbstractEventLoop, long: bool = False
    ) -> asyncio.Future[T]:
        writer = self._live_writer()
        fut: asyncio.Future[T] = loop.create_future()
        writer.submit(Job(job, loop, fut, long))
        return fut

    def run_sync(self, job: Callable[[Any], T]) -> T:
        result: T = self._live_writer().run_sync(job)
        return result

    def get_meta(self, key: str) -> Any:
        return self.reader().get_meta(key)

    def reader(self) -> SqliteReader:
        reader: SqliteReader | None = getattr(self._local, "reader", None)
        if reader is None:
            try:
                conn = self._connect()
            except sqlite3.Error as exc:
                raise StorageError(str(exc)) from exc
            with self._readers_lock:
                self._readers.append(conn)
            reader = SqliteReader(conn)
            self._local.reader = reader
        return reader
