"""The storage contract (rivulet/storage/base.py), checked against every backend directly."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest

from rivulet.storage.base import Storage, StorageError, WriteTxn
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


@pytest.fixture
def storage(backend: Callable[[Path], Storage], tmp_path: Path) -> Iterator[Storage]:
    store = backend(tmp_path / "data")
    store.open()
    yield store
    store.close()


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


def blocker() -> tuple[Callable[[WriteTxn], None], threading.Event, threading.Event]:
    """A job that holds the writer until released, so the jobs queued meanwhile share a group."""
    started, release = threading.Event(), threading.Event()

    def job(txn: WriteTxn) -> None:
        started.set()
        assert release.wait(10)

    return job, started, release


class Boom(Exception):
    pass


def test_contract_failing_job_rolls_back_only_its_own_changes(storage: Storage) -> None:
    async def scenario() -> list[Any]:
        loop = asyncio.get_running_loop()
        hold, started, release = blocker()
        first = storage.submit(hold, loop)
        assert await asyncio.to_thread(started.wait, 10)

        def failing(txn: WriteTxn) -> None:
            put(2, "from the failing job")(txn)
            txn.delete_item(TABLE, *key(1))  # undone too: the item of the job before survives
            raise Boom("rolled back")

        def after(txn: WriteTxn) -> str:
            put(3, "after")(txn)
            return "ok"

        futures = [
            storage.submit(put(1, "before"), loop),
            storage.submit(failing, loop),
            storage.submit(after, loop),
        ]
        release.set()
        await first
        return await asyncio.gather(*futures, return_exceptions=True)

    before, failed, after = run(scenario())
    assert before is None
    assert isinstance(failed, Boom) and str(failed) == "rolled back"
    assert after == "ok"
    assert [read(storage, n) for n in (1, 2, 3)] == ["before", None, "after"]


def test_contract_jobs_run_in_submission_order_and_see_earlier_jobs(storage: Storage) -> None:
    def increment(txn: WriteTxn) -> int:
        raw = txn.get_item(TABLE, *key(0))
        seen = 0 if raw is None else int(orjson.loads(raw)["v"])
        put(0, seen + 1)(txn)
        return seen

    async def scenario() -> list[int]:
        loop = asyncio.get_running_loop()
        hold, started, release = blocker()
        first = storage.submit(hold, loop)
        assert await asyncio.to_thread(started.wait, 10)
        # Half queued behind the blocker (one group), half submitted while groups commit.
        futures = [storage.submit(increment, loop) for _ in range(150)]
        release.set()
        await first
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
    store = backend(data)
    store.open()
    try:

        def create(txn: WriteTxn) -> tuple[int, int]:
            return txn.insert_table("t", b"{}", 1.0), txn.next_index_id()

        first_table, first_index = store.run_sync(create)
        store.run_sync(lambda txn: txn.drop_table(first_table, 2.0))
        second_table, second_index = store.run_sync(create)
        store.run_sync(lambda txn: txn.drop_table(second_table, 3.0))
    finally:
        store.close()

    # The highest ids belong to dropped tables: a reopened store must still not hand them out.
    store = backend(data)
    store.open()
    try:
        assert store.reader().live_tables() == []
        third_table, third_index = store.run_sync(create)
        assert first_table < second_table < third_table
        assert first_index < second_index < third_index
        assert [row.table_id for row in store.reader().live_tables()] == [third_table]
    finally:
        store.close()


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
    store = backend(tmp_path / "data")
    store.open()
    try:
        assert [read(store, n) for n in range(500)] == list(range(500))
    finally:
        store.close()


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
