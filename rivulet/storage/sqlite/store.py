"""SqliteStorage: the storage contract (storage/base.py) on one SQLite file in WAL mode."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import orjson

from rivulet.storage.base import StorageError, StoredItem, TableRow
from rivulet.storage.sqlite import schema as q
from rivulet.storage.sqlite.writer import Job, Writer

T = TypeVar("T")

# "full": fsync the WAL at every commit, so an acknowledged write survives power loss.
# "normal": no fsync per commit; survives a crash of the process (kill -9), not of the machine.
SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL"}


class SqliteTxn:
    """WriteTxn over the writer's connection; every method runs inside the open transaction."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get_item(self, table_id: int, hash: int, pk: bytes, sk: bytes) -> bytes | None:
        row = self._conn.execute(q.GET_ITEM, (table_id, hash, pk, sk)).fetchone()
        return None if row is None else row[0]  # type: ignore[no-any-return]

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
        for index_id in index_ids:
            self._conn.execute(q.DELETE_INDEX_ENTRIES, (index_id,))

    def delete_index_data(self, index_id: int) -> None:
        self._conn.execute(q.DELETE_INDEX_ENTRIES, (index_id,))

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


class SqliteReader:
    """Reader over a per-thread connection (WAL lets it run beside the writer)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get_item(self, table_id: int, hash: int, pk: bytes, sk: bytes) -> bytes | None:
        row = self._conn.execute(q.GET_ITEM, (table_id, hash, pk, sk)).fetchone()
        return None if row is None else row[0]  # type: ignore[no-any-return]

    def get_items(self, keys: Sequence[tuple[int, int, bytes, bytes]]) -> list[bytes | None]:
        conn = self._conn
        conn.execute("BEGIN")
        try:
            out: list[bytes | None] = []
            for table_id, h, pk, sk in keys:
                row = conn.execute(q.GET_ITEM, (table_id, h, pk, sk)).fetchone()
                out.append(None if row is None else row[0])
            return out
        finally:
            conn.execute("COMMIT")

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
        sql, args = _range_sql(
            "SELECT hash, pk, sk, item, size FROM items WHERE table_id=? AND hash=? AND pk=?",
            "sk",
            lo,
            lo_inclusive,
            hi,
            hi_inclusive,
        )
        sql += " ORDER BY sk" if forward else " ORDER BY sk DESC"
        for h, p, s, item, size in self._conn.execute(sql, (table_id, hash, pk, *args)):
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
        sql += f" ORDER BY e.sk{order}, e.t_hash{order}, e.t_pk{order}, e.t_sk{order}"
        for isk, h, p, s, item, size in self._conn.execute(
            sql, (table_id, index_id, hash, pk, *args)
        ):
            yield isk, StoredItem(h, p, s, item, size)

    def scan(
        self, table_id: int, hash_lo: int, hash_hi: int, after: tuple[int, bytes, bytes] | None
    ) -> Iterator[StoredItem]:
        sql = "SELECT hash, pk, sk, item, size FROM items WHERE table_id=? AND hash>=? AND hash<?"
        args: list[Any] = [table_id, hash_lo, hash_hi]
        if after is not None:
            sql += " AND (hash, pk, sk) > (?, ?, ?)"
            args.extend(after)
        sql += " ORDER BY hash, pk, sk"
        for h, p, s, item, size in self._conn.execute(sql, args):
            yield StoredItem(h, p, s, item, size)

    def scan_index(
        self,
        table_id: int,
        index_id: int,
        hash_lo: int,
        hash_hi: int,
        after: tuple[int, bytes, bytes, int, bytes, bytes] | None,
    ) -> Iterator[tuple[tuple[int, bytes, bytes], StoredItem]]:
        sql = (
            "SELECT e.hash, e.pk, e.sk, i.hash, i.pk, i.sk, i.item, i.size FROM index_entries e JOIN items i"
            " ON i.table_id=? AND i.hash=e.t_hash AND i.pk=e.t_pk AND i.sk=e.t_sk"
            " WHERE e.index_id=? AND e.hash>=? AND e.hash<?"
        )
        args: list[Any] = [table_id, index_id, hash_lo, hash_hi]
        if after is not None:
            sql += " AND (e.hash, e.pk, e.sk, e.t_hash, e.t_pk, e.t_sk) > (?, ?, ?, ?, ?, ?)"
            args.extend(after)
        sql += " ORDER BY e.hash, e.pk, e.sk, e.t_hash, e.t_pk, e.t_sk"
        for eh, ep, es, h, p, s, item, size in self._conn.execute(sql, args):
            yield (eh, ep, es), StoredItem(h, p, s, item, size)

    def table_stats(self, table_id: int) -> tuple[int, int]:
        count, size = self._conn.execute(q.TABLE_STATS, (table_id,)).fetchone()
        return int(count), int(size)

    def index_stats(self, table_id: int, index_id: int) -> tuple[int, int]:
        count, size = self._conn.execute(q.INDEX_STATS, (table_id, index_id)).fetchone()
        return int(count), int(size)

    def expired_items(self, table_id: int, now: int, oldest: int, limit: int) -> list[StoredItem]:
        rows = self._conn.execute(q.EXPIRED, (table_id, oldest, now, limit)).fetchall()
        return [StoredItem(h, p, s, item, size) for h, p, s, item, size in rows]

    def live_tables(self) -> list[TableRow]:
        return [TableRow(*row) for row in self._conn.execute(q.LIVE_TABLES).fetchall()]

    def get_meta(self, key: str) -> Any:
        row = self._conn.execute(q.GET_META, (key,)).fetchone()
        return None if row is None else orjson.loads(row[0])


class SqliteStorage:
    """One database file `<data_dir>/rivulet.db`."""

    def __init__(self, data_dir: Path, durability: str = "full") -> None:
        if durability not in SYNCHRONOUS:
            raise ValueError(f"unknown durability {durability!r}")
        self.path = Path(data_dir) / "rivulet.db"
        self._synchronous = SYNCHRONOUS[durability]
        self._local = threading.local()
        self._writer: Writer | None = None
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA cache_size=-65536")
        return conn

    def _writer_connection(self) -> sqlite3.Connection:
        conn = self._connect()
        conn.executescript(q.SCHEMA)
        conn.execute(q.SET_META, ("schema_version", orjson.dumps(q.SCHEMA_VERSION)))
        return conn

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create data directory {self.path.parent}: {exc}") from exc
        self._writer = Writer(self._writer_connection, SqliteTxn)
        self._writer.start_and_wait()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.stop()
            self._writer = None
        with self._readers_lock:
            for conn in self._readers:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._readers.clear()
        self._local = threading.local()

    def submit(self, job: Callable[[Any], T], loop: asyncio.AbstractEventLoop) -> asyncio.Future[T]:
        assert self._writer is not None, "storage is not open"
        fut: asyncio.Future[T] = loop.create_future()
        self._writer.submit(Job(job, loop, fut))
        return fut

    def run_sync(self, job: Callable[[Any], T]) -> T:
        assert self._writer is not None, "storage is not open"
        fut: Future[T] = Future()
        self._writer.submit(Job(job, None, fut))
        return fut.result()

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
