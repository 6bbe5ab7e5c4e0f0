"""The storage contract (rivulet/storage/base.py), checked against every backend directly."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest

from rivulet.storage.base import (
    RecordRow,
    ShardRow,
    Storage,
    StorageError,
    StreamRow,
    WriteTxn,
)
from rivulet.storage.sqlite import SqliteStorage

T = TypeVar("T")

# A backend factory takes a data directory; a second call on the same directory reopens it.
BACKENDS: dict[str, Callable[[Path], Storage]] = {
    "sqlite": lambda path: SqliteStorage(path),
}

TABLE = 1  # items may be written under any table id; the catalog is not consulted


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> Callable[[Path], Storage]:
    return BACKENDS[request.param]


@contextmanager
def opened(backend: Callable[[Path], Storage], data: Path) -> Iterator[Storage]:
    """The backend's store on `data`, open for the block and closed after it (also on failure)."""
    store = backend(data)
    store.open()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def storage(backend: Callable[[Path], Storage], tmp_path: Path) -> Iterator[Storage]:
    with opened(backend, tmp_path / "data") as store:
        yield store


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def key(n: int) -> tuple[int, bytes, bytes]:
    """(hash, pk, sk) of test item n: a few partitions, several items each."""
    return n % 3, b"p%d" % (n % 3), b"s%06d" % n


def put(n: int, value: Any) -> Callable[[WriteTxn], None]:
    def job(txn: WriteTxn) -> None:
        item = orjson.dumps({"n": n, "v": value})
        txn.put_item(TABLE, *key(n), item, len(item), None)

    return job


def read(storage: Storage, n: int) -> Any:
    raw = storage.reader().get_item(TABLE, *key(n))
    return None if raw is None else orjson.loads(raw)["v"]


@asynccontextmanager
async def writer_held(storage: Storage) -> AsyncIterator[asyncio.AbstractEventLoop]:
    """Hold the writer with a blocking job (run_sync, on another thread) for the block, so the
    jobs submitted meanwhile queue up into one group commit; yields the loop to submit them on."""
    loop = asyncio.get_running_loop()
    started, release = threading.Event(), threading.Event()

    def hold(txn: WriteTxn) -> None:
        started.set()
        assert release.wait(10)

    holder = asyncio.ensure_future(asyncio.to_thread(storage.run_sync, hold))
    assert await asyncio.to_thread(started.wait, 10)
    try:
        yield loop
    finally:
        release.set()
        await holder


class Boom(Exception):
    pass


def test_contract_failing_job_rolls_back_only_its_own_changes(storage: Storage) -> None:
    async def scenario() -> list[Any]:
        def failing(txn: WriteTxn) -> None:
            put(2, "from the failing job")(txn)
            txn.delete_item(TABLE, *key(1))  # undone too: the item of the job before survives
            raise Boom("rolled back")

        def after(txn: WriteTxn) -> str:
            put(3, "after")(txn)
            return "ok"

        async with writer_held(storage) as loop:
            futures = [
                storage.submit(put(1, "before"), loop),
                storage.submit(failing, loop),
                storage.submit(after, loop),
            ]
        return await asyncio.gather(*futures, return_exceptions=True)

    before, failed, after = run(scenario())
    assert before is None
    assert isinstance(failed, Boom) and str(failed) == "rolled back"
    assert after == "ok"
    assert [read(storage, n) for n in (1, 2, 3)] == ["before", None, "after"]


def test_contract_undos_run_newest_first_for_exactly_the_rolled_back_job(
    storage: Storage,
) -> None:
    undone: list[str] = []

    def job(name: str, fail: bool) -> Callable[[WriteTxn], str]:
        def run_job(txn: WriteTxn) -> str:
            txn.on_rollback(lambda: undone.append(f"{name}.1"))
            txn.on_rollback(lambda: undone.append(f"{name}.2"))
            if fail:
                raise Boom(name)
            return name

        return run_job

    async def scenario() -> list[Any]:
        async with writer_held(storage) as loop:
            futures = [
                storage.submit(job("a", False), loop),
                storage.submit(job("b", True), loop),
                storage.submit(job("c", False), loop),
            ]
        return await asyncio.gather(*futures, return_exceptions=True)

    a, b, c = run(scenario())
    assert (a, type(b), c) == ("a", Boom, "c")
    # The committed jobs' undos are forgotten: a later failure does not run them.
    with pytest.raises(Boom):
        storage.run_sync(job("d", True))
    assert undone == ["b.2", "b.1", "d.2", "d.1"]


def figures(storage: Storage, index_id: int = 0) -> tuple[int, int]:
    reader = storage.reader()
    return reader.index_stats(TABLE, index_id) if index_id else reader.table_stats(TABLE)


def test_contract_figures_add_up_and_a_failed_job_adds_nothing(
    backend: Callable[[Path], Storage], tmp_path: Path
) -> None:
    def add(count: int, size: int, fail: bool = False) -> Callable[[WriteTxn], None]:
        def job(txn: WriteTxn) -> None:
            txn.add_stats(TABLE, 0, count, size)
            txn.add_stats(TABLE, 7, count, size * 2)
            if fail:
                raise Boom("dropped")

        return job

    with opened(backend, tmp_path / "data") as storage:
        assert figures(storage) == (0, 0)  # nothing written yet

        async def scenario() -> list[Any]:
            async with writer_held(storage) as loop:
                futures = [
                    storage.submit(add(1, 100), loop),
                    storage.submit(add(5, 500, fail=True), loop),
                    storage.submit(add(1, 10), loop),
                ]
            return await asyncio.gather(*futures, return_exceptions=True)

        assert [type(r) for r in run(scenario())] == [type(None), Boom, type(None)]
        assert (figures(storage), figures(storage, 7)) == ((2, 110), (2, 220))
        storage.run_sync(add(-1, -100))
        with pytest.raises(Boom):
            storage.run_sync(add(9, 9, fail=True))
        assert (figures(storage), figures(storage, 7)) == ((1, 10), (1, 20))
    with opened(backend, tmp_path / "data") as storage:
        assert (figures(storage), figures(storage, 7)) == ((1, 10), (1, 20))


def test_contract_recount_and_drop_replace_what_came_before_them(storage: Storage) -> None:
    storage.run_sync(put(1, "a" * 10))
    stored_size = storage.run_sync(lambda txn: txn.get_item(TABLE, *key(1)))[1]
    storage.run_sync(lambda txn: txn.add_stats(TABLE, 0, 40, 4000))  # figures gone wrong

    async def scenario() -> None:
        # In one group: an addition, the recount (of what is stored: one item), an addition
        # after it; then an index's figures, dropped with its data.
        async with writer_held(storage) as loop:
            futures = [
                storage.submit(lambda txn: txn.add_stats(TABLE, 0, 1, 1), loop),
                storage.submit(lambda txn: txn.recount_stats(TABLE, 0), loop),
                storage.submit(lambda txn: txn.add_stats(TABLE, 0, 1, 50), loop),
                storage.submit(lambda txn: txn.add_stats(TABLE, 3, 2, 20), loop),
                storage.submit(lambda txn: txn.delete_index_data(TABLE, 3), loop),
            ]
        await asyncio.gather(*futures)

    run(scenario())
    assert figures(storage) == (2, stored_size + 50)
    assert figures(storage, 3) == (0, 0)
    storage.run_sync(lambda txn: txn.delete_table_data(TABLE, []))
    assert figures(storage) == (0, 0)


def test_contract_jobs_run_in_submission_order_and_see_earlier_jobs(storage: Storage) -> None:
    def increment(txn: WriteTxn) -> int:
        stored = txn.get_item(TABLE, *key(0))
        seen = 0 if stored is None else int(orjson.loads(stored[0])["v"])
        put(0, seen + 1)(txn)
        return seen

    async def scenario() -> list[int]:
        # Half queued behind the blocker (one group), half submitted while groups commit.
        async with writer_held(storage) as loop:
            futures = [storage.submit(increment, loop) for _ in range(150)]
        futures += [storage.submit(increment, loop) for _ in range(150)]
        return list(await asyncio.gather(*futures))

    assert run(scenario()) == list(range(300))
    assert read(storage, 0) == 300


def test_contract_reader_sees_write_once_its_future_resolved(storage: Storage) -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        for version in range(50):
            await storage.submit(put(7, version), loop)
            assert read(storage, 7) == version
            # A reader of another thread (its own connection) sees it as well.
            assert await asyncio.to_thread(read, storage, 7) == version

    run(scenario())


def test_contract_open_iterator_does_not_hide_later_writes(storage: Storage) -> None:
    # An iterator abandoned half-way (a Query that hit its Limit) must not pin the reader to
    # the snapshot it started in.
    for n in range(0, 600, 3):
        storage.run_sync(put(n, "old"))
    reader = storage.reader()
    h, pk, _ = key(0)
    rows = reader.query(TABLE, h, pk, None, True, None, True, True)
    scanned = reader.scan(TABLE, 0, 1 << 32, None)
    assert orjson.loads(next(rows).item)["n"] == 0
    assert orjson.loads(next(scanned).item)["n"] == 0
    storage.run_sync(put(3, "new"))
    storage.run_sync(put(999, "new"))
    assert read(storage, 3) == "new"
    assert read(storage, 999) == "new"
    # The iterators themselves run on, in order, without losing or repeating rows.
    assert [orjson.loads(r.item)["n"] for r in rows] == [*range(3, 600, 3), 999]
    assert sum(1 for _ in scanned) == 200


def test_contract_iterators_page_through_large_ranges_in_order(storage: Storage) -> None:
    def fill(txn: WriteTxn) -> None:
        for n in range(0, 15000, 3):
            put(n, n)(txn)
            txn.put_index_entry(5, 0, b"g", b"%06d" % (n // 6), *key(n))

    storage.run_sync(fill)
    reader = storage.reader()
    h, pk, _ = key(0)
    expected = list(range(0, 15000, 3))
    forward = [
        orjson.loads(r.item)["n"] for r in reader.query(TABLE, h, pk, *[None, True] * 2, True)
    ]
    backward = [
        orjson.loads(r.item)["n"] for r in reader.query(TABLE, h, pk, *[None, True] * 2, False)
    ]
    assert forward == expected
    assert backward == expected[::-1]
    bounded = reader.query(TABLE, h, pk, b"s000300", False, b"s009000", True, True)
    assert [orjson.loads(r.item)["n"] for r in bounded] == list(range(303, 9001, 3))
    # Index sort keys n//6 collide for neighbours; ties are ordered by the base key.
    index = [
        orjson.loads(r.item)["n"]
        for _, r in reader.query_index(TABLE, 5, 0, b"g", None, True, None, True, True)
    ]
    assert index == expected
    index_back = [
        orjson.loads(r.item)["n"]
        for _, r in reader.query_index(TABLE, 5, 0, b"g", None, True, None, True, False)
    ]
    assert index_back == expected[::-1]
    scanned = [orjson.loads(r.item)["n"] for r in reader.scan(TABLE, 0, 1 << 32, None)]
    assert scanned == expected
    after = reader.scan(TABLE, 0, 1 << 32, key(6000))
    assert [orjson.loads(r.item)["n"] for r in after] == list(range(6003, 15000, 3))
    entries = [entry for entry, _ in reader.scan_index(TABLE, 5, 0, 1 << 32, None)]
    assert entries == sorted(entries) and len(entries) == len(expected)


def test_contract_table_and_index_ids_never_reused_after_drop_and_reopen(
    backend: Callable[[Path], Storage], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with opened(backend, data) as store:

        def create(txn: WriteTxn) -> tuple[int, int]:
            return txn.insert_table("t", b"{}", 1.0), txn.next_index_id()

        first_table, first_index = store.run_sync(create)
        store.run_sync(lambda txn: txn.drop_table(first_table, 2.0))
        second_table, second_index = store.run_sync(create)
        store.run_sync(lambda txn: txn.drop_table(second_table, 3.0))

    # The highest ids belong to dropped tables: a reopened store must still not hand them out.
    with opened(backend, data) as store:
        assert store.reader().live_tables() == []
        third_table, third_index = store.run_sync(create)
        assert first_table < second_table < third_table
        assert first_index < second_index < third_index
        assert [row.table_id for row in store.reader().live_tables()] == [third_table]


def test_contract_close_commits_every_queued_job(
    backend: Callable[[Path], Storage], tmp_path: Path
) -> None:
    store = backend(tmp_path / "data")
    store.open()

    async def scenario() -> list[Any]:
        loop = asyncio.get_running_loop()
        futures = [store.submit(put(n, n), loop) for n in range(500)]
        store.close()
        return list(await asyncio.gather(*futures))

    assert run(scenario()) == [None] * 500
    with opened(backend, tmp_path / "data") as store:
        assert [read(store, n) for n in range(500)] == list(range(500))


def test_contract_submit_after_close_raises_storage_error(storage: Storage) -> None:
    storage.close()
    with pytest.raises(StorageError):
        storage.run_sync(put(1, 1))

    async def scenario() -> None:
        storage.submit(put(1, 1), asyncio.get_running_loop())

    with pytest.raises(StorageError):
        run(scenario())


def test_contract_driver_error_in_job_is_storage_error_and_writer_goes_on(
    storage: Storage,
) -> None:
    def bad_binding(txn: WriteTxn) -> None:
        put(1, "rolled back")(txn)
        txn.put_item(TABLE, *key(2), object(), 1, None)  # type: ignore[arg-type]

    with pytest.raises(StorageError):
        storage.run_sync(bad_binding)
    assert read(storage, 1) is None
    storage.run_sync(put(1, "later"))
    assert read(storage, 1) == "later"


def test_contract_job_errors_pass_through_unchanged(storage: Storage) -> None:
    error = Boom("mine")

    def job(txn: WriteTxn) -> None:
        raise error

    with pytest.raises(Boom) as raised:
        storage.run_sync(job)
    assert raised.value is error


def test_contract_driver_error_in_reader_is_storage_error(storage: Storage) -> None:
    reader = storage.reader()
    unbindable: Any = object()
    with pytest.raises(StorageError):
        reader.get_item(TABLE, 0, unbindable, b"s")
    with pytest.raises(StorageError):
        list(reader.query(TABLE, 0, unbindable, None, True, None, True, True))
    with pytest.raises(StorageError):
        reader.get_items([(TABLE, 0, b"p", b"s"), (TABLE, 0, unbindable, b"s")])
    assert read(storage, 1) is None  # and the reader still works


def test_contract_sqlite_unreadable_database_file_is_storage_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "rivulet.db").write_bytes(b"this is not a database file" * 100)
    store = SqliteStorage(data)
    with pytest.raises(StorageError):
        store.open()
    store.close()


def test_contract_data_dir_that_is_a_file_is_storage_error(
    backend: Callable[[Path], Storage], tmp_path: Path
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    store = backend(blocked / "data")
    with pytest.raises(StorageError):
        store.open()
    store.close()


# Streams --------------------------------------------------------------------------------------

KEY_SCHEMA = orjson.dumps([["pk", "HASH"], ["sk", "RANGE"]])
LABEL = "2025-11-26T12:00:00.000"


def shard_name(n: int) -> str:
    return f"shardId-{1_764_158_400_000 + n:020d}-{n:08x}"


def sealed(seq: int) -> bytes:
    # Payloads are opaque bytes (sealed records): NULs and high bytes must survive.
    return b"\x00sealed\xff" + seq.to_bytes(4, "big")


def record_row(seq: int, created_ms: int | None = None, key_id: int = 1) -> RecordRow:
    return RecordRow(seq, seq * 1000 if created_ms is None else created_ms, key_id, sealed(seq))


def append(shard_key: int, *rows: RecordRow) -> Callable[[WriteTxn], None]:
    def job(txn: WriteTxn) -> None:
        for r in rows:
            txn.append_record(shard_key, r.seq, r.created_ms, r.key_id, r.payload)

    return job


def make_stream(
    storage: Storage, shards: int = 2, name: str = "t", label: str = LABEL
) -> tuple[int, list[int]]:
    """A stream with `shards` open shards (bucket i starts at i + 1); (stream_id, shard keys)."""

    def job(txn: WriteTxn) -> tuple[int, list[int]]:
        sid = txn.insert_stream(TABLE, name, label, "NEW_AND_OLD_IMAGES", KEY_SCHEMA, 100.5)
        keys = [txn.insert_shard(sid, shard_name(i), None, i, i + 1, 100.25) for i in range(shards)]
        return sid, keys

    return storage.run_sync(job)


def seqs(storage: Storage, shard_key: int, from_seq: int = 0, limit: int = 1000) -> list[int]:
    return [r.seq for r in storage.reader().read_records(shard_key, from_seq, limit)]


def test_contract_streams_and_shards_round_trip_and_survive_reopen(
    backend: Callable[[Path], Storage], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with opened(backend, data) as store:

        def job(txn: WriteTxn) -> tuple[int, int, list[int]]:
            first = txn.insert_stream(7, "Orders", LABEL, "KEYS_ONLY", KEY_SCHEMA, 10.5)
            second = txn.insert_stream(8, "Other", LABEL, "NEW_IMAGE", b'[["id","HASH"]]', 20.0)
            keys = [
                txn.insert_shard(first, shard_name(1), None, 0, 1, 10.5),
                txn.insert_shard(first, shard_name(2), None, 1, 2, 10.5),
                txn.insert_shard(second, shard_name(3), None, 0, 1, 20.0),
                txn.insert_shard(first, shard_name(4), shard_name(1), 0, 3, 30.125),
            ]
            txn.close_shard(keys[0], 1, 30.125)
            txn.disable_stream(second, 40.75)
            return first, second, keys

        first, second, keys = store.run_sync(job)
        assert first < second
        assert keys == sorted(keys) and len(set(keys)) == 4
        expected_streams = [
            StreamRow(first, 7, "Orders", LABEL, "KEYS_ONLY", KEY_SCHEMA, 10.5, None),
            StreamRow(second, 8, "Other", LABEL, "NEW_IMAGE", b'[["id","HASH"]]', 20.0, 40.75),
        ]
        expected_shards = [
            ShardRow(keys[0], first, shard_name(1), None, 0, 1, 1, 10.5, 30.125, 0),
            ShardRow(keys[1], first, shard_name(2), None, 1, 2, None, 10.5, None, 0),
            ShardRow(keys[2], second, shard_name(3), None, 0, 1, None, 20.0, None, 0),
            ShardRow(keys[3], first, shard_name(4), shard_name(1), 0, 3, None, 30.125, None, 0),
        ]
        reader = store.reader()
        assert sorted(reader.streams(), key=lambda s: s.stream_id) == expected_streams
        assert sorted(reader.shards(), key=lambda s: s.shard_key) == expected_shards

    with opened(backend, data) as store:
        reader = store.reader()
        assert sorted(reader.streams(), key=lambda s: s.stream_id) == expected_streams
        assert sorted(reader.shards(), key=lambda s: s.shard_key) == expected_shards


def test_contract_stream_and_shard_ids_never_reused_after_delete_and_reopen(
    backend: Callable[[Path], Storage], tmp_path: Path
) -> None:
    # Iterators carry (stream_id, shard_key): a reused id would make an old iterator read
    # another shard.
    data = tmp_path / "data"
    with opened(backend, data) as store:
        first, first_shards = make_stream(store, 2)
        store.run_sync(lambda txn: txn.delete_stream(first, first_shards))
        second, second_shards = make_stream(store, 2)
        store.run_sync(lambda txn: txn.delete_stream(second, second_shards))
        assert store.reader().streams() == [] and store.reader().shards() == []
    with opened(backend, data) as store:
        third, third_shards = make_stream(store, 2)
        assert first < second < third
        assert max(first_shards) < min(second_shards)
        assert max(second_shards) < min(third_shards)


def test_contract_stream_label_taken(storage: Storage) -> None:
    def taken(name: str, label: str) -> bool:
        return storage.run_sync(lambda txn: txn.stream_label_taken(name, label))

    assert not taken("t", LABEL)
    sid, shards = make_stream(storage, 1, "t", LABEL)
    assert taken("t", LABEL)
    assert not taken("t", "2025-11-26T12:00:00.001")
    assert not taken("u", LABEL)
    # A disabled stream keeps its label (it stays readable under its ARN).
    storage.run_sync(lambda txn: txn.disable_stream(sid, 200.0))
    assert taken("t", LABEL)
    # Seen by a later statement of the same job that inserted it.
    both = storage.run_sync(
        lambda txn: (
            txn.insert_stream(TABLE, "v", LABEL, "KEYS_ONLY", KEY_SCHEMA, 1.0) > 0,
            txn.stream_label_taken("v", LABEL),
        )
    )
    assert both == (True, True)
    storage.run_sync(lambda txn: txn.delete_stream(sid, shards))
    assert not taken("t", LABEL)


def test_contract_records_read_in_sequence_order_from_a_position_with_a_limit(
    storage: Storage,
) -> None:
    _, (a, b) = make_stream(storage, 2)
    # Appended out of order and interleaved with another shard: reads are by sequence number.
    storage.run_sync(append(a, record_row(8), record_row(2), record_row(5)))
    storage.run_sync(append(b, record_row(4), record_row(6, key_id=3)))
    storage.run_sync(append(a, record_row(3), record_row(9, created_ms=5, key_id=2)))
    reader = storage.reader()
    assert reader.read_records(a, 0, 100) == [
        record_row(2),
        record_row(3),
        record_row(5),
        record_row(8),
        record_row(9, created_ms=5, key_id=2),
    ]
    assert reader.read_records(b, 0, 100) == [record_row(4), record_row(6, key_id=3)]
    assert seqs(storage, a, 5) == [5, 8, 9]  # from_seq is inclusive
    assert seqs(storage, a, 4) == [5, 8, 9]
    assert seqs(storage, a, 6) == [8, 9]
    assert seqs(storage, a, 9) == [9]
    assert seqs(storage, a, 10) == []
    assert seqs(storage, a, 0, 1) == [2]
    assert seqs(storage, a, 0, 2) == [2, 3]
    assert seqs(storage, a, 3, 3) == [3, 5, 8]
    assert seqs(storage, a, 0, 5) == [2, 3, 5, 8, 9]
    assert seqs(storage, b, 5, 1) == [6]
    assert seqs(storage, 999_999) == []


def test_contract_large_batches_of_records_keep_their_order(storage: Storage) -> None:
    _, (a,) = make_stream(storage, 1)
    storage.run_sync(append(a, *[record_row(n) for n in range(1, 3001)]))
    assert seqs(storage, a, 0, 5000) == list(range(1, 3001))
    assert seqs(storage, a, 1500, 1000) == list(range(1500, 2500))


def test_contract_failing_job_leaves_neither_item_nor_record(storage: Storage) -> None:
    _, (a,) = make_stream(storage, 1)

    def change(n: int, fail: bool) -> Callable[[WriteTxn], str]:
        def job(txn: WriteTxn) -> str:
            put(n, f"v{n}")(txn)
            txn.append_record(a, n, n * 1000, 1, sealed(n))
            if fail:
                raise Boom("after the record")
            return "ok"

        return job

    async def scenario() -> list[Any]:
        # One group commit: the failing job sits between two that succeed.
        async with writer_held(storage) as loop:
            futures = [storage.submit(change(n, n == 2), loop) for n in (1, 2, 3)]
        return await asyncio.gather(*futures, return_exceptions=True)

    one, two, three = run(scenario())
    assert (one, three) == ("ok", "ok")
    assert isinstance(two, Boom)
    assert seqs(storage, a) == [1, 3]
    assert [read(storage, n) for n in (1, 2, 3)] == ["v1", None, "v3"]

    # Alone, too.
    with pytest.raises(Boom):
        storage.run_sync(change(4, True))
    assert seqs(storage, a) == [1, 3]
    assert read(storage, 4) is None
    assert storage.reader().last_record_seq(a) == 3


def test_contract_failing_job_undoes_its_stream_catalog_changes(storage: Storage) -> None:
    sid, (a,) = make_stream(storage, 1)
    before_streams, before_shards = storage.reader().streams(), storage.reader().shards()

    def job(txn: WriteTxn) -> None:
        txn.close_shard(a, 1, 50.0)
        txn.insert_shard(sid, shard_name(9), shard_name(0), 0, 2, 50.0)
        txn.disable_stream(sid, 50.0)
        txn.insert_stream(TABLE, "x", LABEL, "KEYS_ONLY", KEY_SCHEMA, 50.0)
        txn.set_meta("iterator_key", "rolled back")
        raise Boom("undo all")

    with pytest.raises(Boom):
        storage.run_sync(job)
    assert storage.reader().streams() == before_streams
    assert storage.reader().shards() == before_shards
    assert storage.get_meta("iterator_key") is None


def test_contract_close_shard_and_shard_state(storage: Storage) -> None:
    _, (a, b) = make_stream(storage, 2)
    reader = storage.reader()
    assert reader.shard_state(a) == (None, 0)
    assert reader.shard_state(b) == (None, 0)
    assert reader.shard_state(999_999) is None
    storage.run_sync(append(a, record_row(3), record_row(4)))
    storage.run_sync(lambda txn: txn.close_shard(a, 4, 60.5))
    assert reader.shard_state(a) == (4, 0)
    assert reader.shard_state(b) == (None, 0)
    # An empty shard closes at its start.
    storage.run_sync(lambda txn: txn.close_shard(b, 2, 61.0))
    assert reader.shard_state(b) == (2, 0)
    rows = {r.shard_key: r for r in reader.shards()}
    assert (rows[a].end_seq, rows[a].closed_at) == (4, 60.5)
    assert (rows[b].end_seq, rows[b].closed_at) == (2, 61.0)
    storage.run_sync(lambda txn: txn.trim_records(a, 3))
    assert reader.shard_state(a) == (4, 3)
    storage.run_sync(lambda txn: txn.delete_shard(a))
    assert reader.shard_state(a) is None
    assert reader.shard_state(b) == (2, 0)


def test_contract_close_and_last_record_commit_together(storage: Storage) -> None:
    # A reader that sees a shard closed sees every one of its records (the close commits in
    # the same job as the last record here).
    _, (a,) = make_stream(storage, 1)

    def last_and_close(txn: WriteTxn) -> None:
        txn.append_record(a, 2, 2000, 1, sealed(2))
        txn.close_shard(a, 2, 2.5)

    storage.run_sync(last_and_close)
    reader = storage.reader()
    state = reader.shard_state(a)
    assert state == (2, 0)
    assert seqs(storage, a) == [2]


def test_contract_oldest_records_and_trim(storage: Storage) -> None:
    _, (a, b) = make_stream(storage, 2)
    storage.run_sync(append(a, *[record_row(n, created_ms=n * 10) for n in range(1, 7)]))
    storage.run_sync(append(b, record_row(7), record_row(8)))

    def oldest(shard_key: int, limit: int) -> list[tuple[int, int]]:
        return storage.run_sync(
            lambda txn: [(seq, ms) for seq, ms in txn.oldest_records(shard_key, limit)]
        )

    assert oldest(a, 3) == [(1, 10), (2, 20), (3, 30)]
    assert oldest(a, 100) == [(n, n * 10) for n in range(1, 7)]
    storage.run_sync(lambda txn: txn.trim_records(a, 3))
    assert seqs(storage, a) == [4, 5, 6]
    assert storage.reader().shard_state(a) == (None, 3)
    assert oldest(a, 2) == [(4, 40), (5, 50)]
    # The trim point never moves back.
    storage.run_sync(lambda txn: txn.trim_records(a, 2))
    assert storage.reader().shard_state(a) == (None, 3)
    assert seqs(storage, a) == [4, 5, 6]
    # Other shards are untouched.
    assert seqs(storage, b) == [7, 8]
    assert storage.reader().shard_state(b) == (None, 0)
    # Trimming past the last record empties the shard and remembers the point.
    storage.run_sync(lambda txn: txn.trim_records(a, 10))
    assert seqs(storage, a) == []
    assert oldest(a, 10) == []
    assert storage.reader().shard_state(a) == (None, 10)
    assert storage.reader().last_record_seq(a) is None
    trimmed = {r.shard_key: r.trimmed_seq for r in storage.reader().shards()}
    assert trimmed == {a: 10, b: 0}
    # Records appended after a trim are read normally.
    storage.run_sync(append(a, record_row(11)))
    assert seqs(storage, a) == [11]


def test_contract_trim_point_survives_reopen(
    backend: Callable[[Path], Storage], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with opened(backend, data) as store:
        _, (a,) = make_stream(store, 1)
        store.run_sync(append(a, *[record_row(n) for n in range(1, 5)]))
        store.run_sync(lambda txn: txn.trim_records(a, 4))
    with opened(backend, data) as store:
        assert store.reader().shard_state(a) == (None, 4)
        assert store.reader().last_record_seq(a) is None
        assert [r.trimmed_seq for r in store.reader().shards()] == [4]


def test_contract_delete_shard_removes_it_and_its_records_only(storage: Storage) -> None:
    sid, (a, b) = make_stream(storage, 2)
    storage.run_sync(append(a, record_row(1), record_row(2)))
    storage.run_sync(append(b, record_row(3)))
    storage.run_sync(lambda txn: txn.delete_shard(a))
    assert [r.shard_key for r in storage.reader().shards()] == [b]
    assert seqs(storage, a) == []
    assert storage.reader().last_record_seq(a) is None
    assert seqs(storage, b) == [3]
    assert [s.stream_id for s in storage.reader().streams()] == [sid]


def test_contract_delete_stream_removes_it_its_shards_and_records(storage: Storage) -> None:
    gone, gone_shards = make_stream(storage, 2, "t", LABEL)
    kept, kept_shards = make_stream(storage, 2, "u", LABEL)
    for n, shard_key in enumerate([*gone_shards, *kept_shards], 1):
        storage.run_sync(append(shard_key, record_row(n), record_row(n + 10)))
    storage.run_sync(lambda txn: txn.delete_stream(gone, gone_shards))
    reader = storage.reader()
    assert [s.stream_id for s in reader.streams()] == [kept]
    assert sorted(r.shard_key for r in reader.shards()) == kept_shards
    assert [seqs(storage, k) for k in gone_shards] == [[], []]
    assert [seqs(storage, k) for k in kept_shards] == [[3, 13], [4, 14]]
    assert [reader.shard_state(k) for k in gone_shards] == [None, None]


def test_contract_last_record_seq(storage: Storage) -> None:
    _, (a, b) = make_stream(storage, 2)
    reader = storage.reader()
    assert reader.last_record_seq(a) is None
    storage.run_sync(append(a, record_row(5), record_row(3)))
    assert reader.last_record_seq(a) == 5
    assert reader.last_record_seq(b) is None
    storage.run_sync(append(b, record_row(9)))
    storage.run_sync(append(a, record_row(7)))
    assert (reader.last_record_seq(a), reader.last_record_seq(b)) == (7, 9)
    storage.run_sync(lambda txn: txn.trim_records(a, 5))
    assert reader.last_record_seq(a) == 7


def test_contract_record_at_time(storage: Storage) -> None:
    _, (a, b) = make_stream(storage, 2)
    storage.run_sync(
        append(
            a,
            record_row(1, created_ms=1000),
            record_row(2, created_ms=2000),
            record_row(3, created_ms=2000),
            record_row(4, created_ms=3000),
        )
    )
    storage.run_sync(append(b, record_row(5, created_ms=2500)))
    reader = storage.reader()
    assert reader.record_at_time(a, 0) == 1
    assert reader.record_at_time(a, 1000) == 1  # at or after
    assert reader.record_at_time(a, 1001) == 2
    assert reader.record_at_time(a, 2000) == 2  # the first of equal times
    assert reader.record_at_time(a, 2001) == 4
    assert reader.record_at_time(a, 3000) == 4
    assert reader.record_at_time(a, 3001) is None
    assert reader.record_at_time(b, 0) == 5
    assert reader.record_at_time(b, 2501) is None
    storage.run_sync(lambda txn: txn.trim_records(a, 2))
    assert reader.record_at_time(a, 0) == 3


def test_contract_commit_listeners_run_after_the_commit(storage: Storage) -> None:
    _, (a,) = make_stream(storage, 1)
    seen: list[int | None] = []  # the last committed record a reader saw, in each call
    called = threading.Semaphore(0)

    def listener() -> None:
        # A separate connection sees only committed data: the job's record must be there.
        seen.append(storage.reader().last_record_seq(a))
        called.release()

    storage.add_commit_listener(listener)
    for n in range(1, 4):

        def job(txn: WriteTxn, n: int = n) -> None:
            txn.append_record(a, n, n, 1, sealed(n))

        storage.run_sync(job)
        assert called.acquire(timeout=10)
        assert seen[-1] == n

    async def submitted() -> None:
        loop = asyncio.get_running_loop()
        for n in range(4, 7):

            def job(txn: WriteTxn, n: int = n) -> None:
                txn.append_record(a, n, n, 1, sealed(n))

            await storage.submit(job, loop)
            assert await asyncio.to_thread(called.acquire, True, 10)
            assert seen[-1] == n

    run(submitted())


def test_contract_failing_commit_listener_does_not_fail_the_write(storage: Storage) -> None:
    calls: list[str] = []

    def broken() -> None:
        calls.append("broken")
        raise RuntimeError("listener bug")

    def working() -> None:
        calls.append("working")

    storage.add_commit_listener(broken)
    storage.add_commit_listener(working)
    storage.run_sync(put(1, "committed"))
    assert read(storage, 1) == "committed"
    storage.run_sync(put(2, "next"))
    assert read(storage, 2) == "next"
    assert calls[:2] == ["broken", "working"]
    assert calls.count("working") >= 2


def test_contract_meta_values(backend: Callable[[Path], Storage], tmp_path: Path) -> None:
    data = tmp_path / "data"
    values: dict[str, Any] = {
        "text": "aXRlcmF0b3Iga2V5",
        "number": 12345678901234,
        "list": [{"id": 1, "wrapped": "x"}, {"id": 2, "wrapped": "y"}],
        "object": {"a": [1, 2.5, None, True], "b": "é\u0000"},
    }
    with opened(backend, data) as store:
        assert store.get_meta("text") is None

        def write_all(txn: WriteTxn) -> None:
            for k, v in values.items():
                txn.set_meta(k, v)

        store.run_sync(write_all)
        assert {k: store.get_meta(k) for k in values} == values
        store.run_sync(lambda txn: txn.set_meta("text", "replaced"))
        assert store.get_meta("text") == "replaced"

        def failing(txn: WriteTxn) -> None:
            txn.set_meta("number", 0)
            txn.set_meta("new", "never")
            raise Boom("rolled back")

        with pytest.raises(Boom):
            store.run_sync(failing)
        assert store.get_meta("number") == values["number"]
        assert store.get_meta("new") is None
    with opened(backend, data) as store:
        assert {k: store.get_meta(k) for k in values} == {**values, "text": "replaced"}


def test_contract_client_tokens(backend: Callable[[Path], Storage], tmp_path: Path) -> None:
    data = tmp_path / "data"
    with opened(backend, data) as store:
        store.run_sync(lambda txn: txn.put_client_token("a", b"da", b"oa", 1_000, 0))
        store.run_sync(lambda txn: txn.put_client_token("b", b"db", b"ob", 2_000, 0))
        assert store.run_sync(lambda txn: txn.get_client_token("a", 1_000)) == (b"da", b"oa")
        assert store.run_sync(lambda txn: txn.get_client_token("a", 1_001)) is None  # too old
        assert store.run_sync(lambda txn: txn.get_client_token("c", 0)) is None

        def failing(txn: WriteTxn) -> None:
            txn.put_client_token("c", b"dc", b"oc", 3_000, 0)
            raise Boom("rolled back")

        with pytest.raises(Boom):
            store.run_sync(failing)
        assert store.run_sync(lambda txn: txn.get_client_token("c", 0)) is None
        # A reused token replaces its old use; tokens completed before the bound are forgotten.
        store.run_sync(lambda txn: txn.put_client_token("b", b"db2", b"ob2", 5_000, 1_500))
        assert store.run_sync(lambda txn: txn.get_client_token("a", 0)) is None
        assert store.run_sync(lambda txn: txn.get_client_token("b", 0)) == (b"db2", b"ob2")
    with opened(backend, data) as store:
        assert store.run_sync(lambda txn: txn.get_client_token("b", 5_000)) == (b"db2", b"ob2")
