"""WAL checkpoints (rivulet/storage/sqlite/checkpointer.py): commits reach the database file in the
background, off the write path, and the log stays bounded by the writer's own checkpoint even
when the background one is held off."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rivulet.storage.base import WriteTxn
from rivulet.storage.sqlite import SqliteStorage
from rivulet.storage.sqlite import checkpointer as checkpointer_module
from rivulet.storage.sqlite import store as store_module

TABLE = 1
PAGE = 4096


def put_many(start: int, count: int, size: int) -> Callable[[WriteTxn], None]:
    def job(txn: WriteTxn) -> None:
        for n in range(start, start + count):
            item = b"%06d" % n + b"x" * (size - 6)
            txn.put_item(TABLE, n * 7919 % 1000, b"p", b"s%06d" % n, item, len(item), None)

    return job


def items_in_database_file(data_dir: Path, scratch: Path) -> list[tuple[bytes, bytes]]:
    """The items of the main database file alone, as a reader would see it without the log."""
    copy = scratch / "copy.db"
    shutil.copyfile(data_dir / "rivulet.db", copy)
    conn = sqlite3.connect(copy)
    try:
        rows = conn.execute("SELECT sk, substr(item, 1, 6) FROM items ORDER BY sk").fetchall()
    except sqlite3.OperationalError:  # not even the schema has been copied back yet
        return []
    finally:
        conn.close()
    return rows


def test_checkpoint_copies_commits_into_the_database_file_in_the_background(
    tmp_path: Path,
) -> None:
    data_dir, scratch = tmp_path / "data", tmp_path / "scratch"
    scratch.mkdir()
    store = SqliteStorage(data_dir, "full")
    store.open()
    try:
        store.run_sync(put_many(0, 5, 200))
        # Far below the writer's own checkpoint threshold: only the background one copies them.
        expected = [(b"s%06d" % n, b"%06d" % n) for n in range(5)]
        deadline = time.monotonic() + 10
        while items_in_database_file(data_dir, scratch) != expected:
            assert time.monotonic() < deadline, "the commits never reached the database file"
            time.sleep(0.05)
        # The log was not consumed by a restart: the write path never checkpointed.
        assert (data_dir / "rivulet.db-wal").stat().st_size > 0
    finally:
        store.close()


def test_log_stays_bounded_by_the_writers_checkpoint_when_the_background_one_lags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    restart_frames = 200
    monkeypatch.setattr(store_module, "RESTART_FRAMES", restart_frames)
    monkeypatch.setattr(checkpointer_module, "DELAY", 3600.0)  # the background never runs
    data_dir = tmp_path / "data"
    store = SqliteStorage(data_dir, "normal")
    store.open()
    wal = data_dir / "rivulet.db-wal"
    try:
        largest = 0
        for group in range(100):  # ~10 pages each: 1,000 pages, five times the bound
            store.run_sync(put_many(group * 5, 5, 7000))
            largest = max(largest, wal.stat().st_size)
        assert largest < 2 * restart_frames * (PAGE + 24)
        found = store.reader().get_item(TABLE, 499 * 7919 % 1000, b"p", b"s000499")
        assert found is not None and found[:6] == b"000499"
    finally:
        store.close()


def test_checkpointer_stops_when_the_stop_arrives_just_before_it_clears_its_wake_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The interleaving that once hung a graceful shutdown: the thread has woken and waited its
    # delay; stop() sets both events; only then does the thread clear its wake-up.
    monkeypatch.setattr(checkpointer_module, "DELAY", 0.0)
    ckpt = checkpointer_module.Checkpointer(
        lambda: sqlite3.connect(tmp_path / "db", check_same_thread=False)
    )

    class StopArrivesBeforeClear(threading.Event):
        def clear(self) -> None:
            ckpt._stopped.set()  # what stop() does, in its order
            self.set()
            super().clear()

    ckpt._wake = StopArrivesBeforeClear()
    ckpt.start()
    thread = ckpt._thread
    assert thread is not None
    ckpt.committed()
    thread.join(timeout=10)
    assert not thread.is_alive()
