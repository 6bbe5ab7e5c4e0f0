"""The SQLite writer's commit pipeline (rivulet/storage/sqlite/writer.py): with durability full a
write is answered only after an fsync of the WAL that followed its commit; the next group commits
while that fsync is in flight; a failed fsync fails its writes; durability normal never fsyncs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from rivulet.storage.base import StorageError, WriteTxn
from rivulet.storage.sqlite import SqliteStorage

TABLE = 1


def put(n: int) -> Callable[[WriteTxn], int]:
    def job(txn: WriteTxn) -> int:
        item = orjson.dumps({"n": n})
        txn.put_item(TABLE, 0, b"p", b"s%03d" % n, item, len(item), None)
        return n

    return job


def committed(store: SqliteStorage, n: int) -> bool:
    """Whether item n is visible to a new connection of another thread (i.e. committed)."""
    found: list[bool] = []
    thread = threading.Thread(
        target=lambda: found.append(
            store.reader().get_item(TABLE, 0, b"p", b"s%03d" % n) is not None
        )
    )
    thread.start()
    thread.join()
    return found[0]


class Syncs:
    """Stands in for the WAL fsync: counts calls, can hold them, can fail, and records what had
    committed and what had been answered when each call came."""

    def __init__(self, real: Callable[[], None]) -> None:
        self.real = real
        self.calls = 0
        self.gate: threading.Event | None = None
        self.entered = threading.Semaphore(0)
        self.fail: OSError | None = None
        self.probe: Callable[[], Any] = lambda: None
        self.probes: list[Any] = []

    def __call__(self) -> None:
        self.calls += 1
        self.probes.append(self.probe())
        self.entered.release()
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.fail is not None:
            raise self.fail
        self.real()


def open_store(path: Path, durability: str) -> tuple[SqliteStorage, Syncs]:
    store = SqliteStorage(path, durability)
    syncs = Syncs(store._sync_wal)
    store._sync_wal = syncs  # type: ignore[method-assign]
    store.open()
    return store, syncs


@pytest.fixture
def full(tmp_path: Path) -> Iterator[tuple[SqliteStorage, Syncs]]:
    store, syncs = open_store(tmp_path / "data", "full")
    yield store, syncs
    store.close()


def test_writer_answers_only_after_an_fsync_that_followed_the_commit(
    full: tuple[SqliteStorage, Syncs],
) -> None:
    store, syncs = full

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        before = syncs.calls
        future = store.submit(put(1), loop)
        syncs.probe = lambda: (committed(store, 1), future.done())
        assert await future == 1
        # The fsync saw the write committed and not yet answered.
        assert syncs.calls == before + 1
        assert syncs.probes[-1] == (True, False)

    asyncio.run(scenario())


def test_writer_commits_the_next_group_while_an_fsync_is_in_flight(
    full: tuple[SqliteStorage, Syncs],
) -> None:
    store, syncs = full

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        syncs.gate = threading.Event()
        first = store.submit(put(1), loop)
        assert await asyncio.to_thread(syncs.entered.acquire, True, 10)  # fsync 1 is held
        second = store.submit(put(2), loop)
        for _ in range(200):  # the second group commits meanwhile
            if await asyncio.to_thread(committed, store, 2):
                break
            await asyncio.sleep(0.01)
        assert await asyncio.to_thread(committed, store, 2)
        assert not first.done() and not second.done()  # nothing answered before its fsync
        syncs.gate.set()
        assert await asyncio.gather(first, second) == [1, 2]
        # One more fsync covered the second group (possibly together with later ones).
        assert syncs.calls >= 2

    asyncio.run(scenario())


def test_writer_failed_fsync_fails_the_writes_and_the_writer_goes_on(
    full: tuple[SqliteStorage, Syncs],
) -> None:
    store, syncs = full

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        syncs.fail = OSError(5, "Input/output error")
        with pytest.raises(StorageError, match=r"^fsync failed: \[Errno 5\] Input/output error$"):
            await store.submit(put(1), loop)
        with pytest.raises(StorageError, match="fsync failed"):
            store.run_sync(put(2))
        syncs.fail = None
        assert await store.submit(put(3), loop) == 3
        assert store.run_sync(put(4)) == 4

    asyncio.run(scenario())


def test_writer_run_sync_is_durable_before_it_returns(full: tuple[SqliteStorage, Syncs]) -> None:
    store, syncs = full
    before = syncs.calls
    syncs.probe = lambda: committed(store, 7)
    assert store.run_sync(put(7)) == 7
    assert syncs.calls == before + 1
    assert syncs.probes[-1] is True


def test_writer_durability_normal_never_fsyncs(tmp_path: Path) -> None:
    store, syncs = open_store(tmp_path / "data", "normal")
    try:

        async def scenario() -> list[int]:
            loop = asyncio.get_running_loop()
            return list(await asyncio.gather(*(store.submit(put(n), loop) for n in range(20))))

        assert asyncio.run(scenario()) == list(range(20))
        assert store.run_sync(put(20)) == 20
        assert syncs.calls == 0
    finally:
        store.close()


def test_writer_stop_commits_queued_jobs_and_answers_them(tmp_path: Path) -> None:
    store, syncs = open_store(tmp_path / "data", "full")

    async def scenario() -> list[Any]:
        loop = asyncio.get_running_loop()
        futures = [store.submit(put(n), loop) for n in range(5)]
        store.close()  # before the loop ran any of them
        return list(await asyncio.gather(*futures, return_exceptions=True))

    assert asyncio.run(scenario()) == [0, 1, 2, 3, 4]
    assert syncs.calls >= 2  # at open, and for the group committed while stopping
    reopened = SqliteStorage(tmp_path / "data")
    reopened.open()
    try:
        assert all(committed(reopened, n) for n in range(5))
    finally:
        reopened.close()


def test_writer_long_job_runs_off_the_loop_in_submission_order(
    full: tuple[SqliteStorage, Syncs],
) -> None:
    store, _ = full

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        gate, ran_on = threading.Event(), []

        def backfill(txn: WriteTxn) -> bool:
            ran_on.append(threading.get_ident())
            saw_first = txn.get_item(TABLE, 0, b"p", b"s001") is not None
            assert gate.wait(10)
            put(2)(txn)
            return saw_first

        def after(txn: WriteTxn) -> bool:
            return txn.get_item(TABLE, 0, b"p", b"s002") is not None

        first = store.submit(put(1), loop)
        long = store.submit(backfill, loop, long=True)
        last = store.submit(after, loop)
        for _ in range(5):  # the loop keeps turning while the long job holds the writer
            await asyncio.sleep(0.01)
        assert await first == 1
        assert not long.done() and not last.done()
        gate.set()
        assert await asyncio.gather(long, last) == [True, True]
        assert ran_on != [threading.get_ident()]

    asyncio.run(scenario())
