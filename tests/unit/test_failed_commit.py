"""A write group whose COMMIT fails (a full disk) takes its jobs' in-memory changes with it:
after the failure, the catalog and the stream state are exactly what a restart loads from the
database file. Also for a job that fails after changing them (storage/base.py, on_rollback).

The full disk is the one part simulated: the writer's connection answers the next COMMIT with
SQLite's SQLITE_FULL error ("database or disk is full") instead of committing. Everything else
is the real engine on a real SQLite file, driven by a FakeClock."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import CONFIG, definition, open_db

from rivulet.api.table_specs import parse_create_table
from rivulet.core.clock import FakeClock
from rivulet.core.sizes import item_size
from rivulet.engine.catalog import TableRuntime, dump_table
from rivulet.engine.database import Database
from rivulet.engine.writes import Mutation
from rivulet.errors import ValidationException
from rivulet.storage.base import StorageError, WriteTxn

START = 1_764_158_400.0  # 2025-11-26T12:00:00Z


class DiskFullOnCommit(sqlite3.Connection):
    """A connection whose next COMMIT, once armed, fails as SQLite fails it on a full disk."""

    armed = False

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT" and DiskFullOnCommit.armed:
            DiskFullOnCommit.armed = False
            raise sqlite3.OperationalError("database or disk is full")
        return super().execute(sql, *args)


@pytest.fixture(autouse=True)
def disk_full_on_commit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        return real(*args, factory=DiskFullOnCommit, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    yield
    DiskFullOnCommit.armed = False


def memory(db: Database) -> dict[str, Any]:
    """The engine's in-memory catalog and stream state, as a restart would load it."""
    streams = db.streams
    reader = db.storage.reader()
    return {
        "tables": {name: (t.table_id, dump_table(t), t.dropped) for name, t in db.tables.items()},
        # Stored, not in memory: they must have rolled back with the writes.
        "figures": {
            name: [reader.table_stats(t.table_id)]
            + [reader.index_stats(t.table_id, i.index_id) for i in t.indexes]
            for name, t in db.tables.items()
        },
        "streams": {
            sid: (s.table_id, s.label, s.disabled_at, [replace(x) for x in s.shards])
            for sid, s in streams.streams.items()
        },
        "open": {sid: [x.shard_id for x in s.open] for sid, s in streams.streams.items()},
        "labels": sorted(streams.by_label),
        "active": {tid: s.stream_id for tid, s in streams.active.items()},
    }


def scenario_then_restart(
    tmp_path: Path, clock: FakeClock, scenario: Callable[[Database], Awaitable[None]]
) -> None:
    """Run `scenario`, then check the memory it left equals what a restart loads."""

    async def main() -> None:
        data = tmp_path / "data"
        db = await open_db(data, clock, CONFIG)
        try:
            await scenario(db)
            left = memory(db)
        finally:
            db.close()
        db = await open_db(data, clock, CONFIG)
        try:
            assert memory(db) == left
        finally:
            db.close()

    asyncio.run(main())


async def failing_commit(call: Awaitable[Any]) -> None:
    DiskFullOnCommit.armed = True
    with pytest.raises(StorageError, match="database or disk is full"):
        await call
    assert not DiskFullOnCommit.armed


def plain_table(name: str) -> Any:
    return parse_create_table(
        {
            "TableName": name,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
    )


async def put(db: Database, t: TableRuntime, pk: str) -> None:
    item = {"pk": {"S": pk}}
    await db.write(Mutation(t, {"pk": {"S": pk}}, lambda old: item))


def record_count(db: Database, t: TableRuntime) -> int:
    stream = db.streams.active[t.table_id]
    reader = db.storage.reader()
    return sum(len(reader.read_records(s.key, 0, 1000)) for s in stream.shards)


def test_create_table_whose_commit_fails_leaves_no_table_and_no_stream(tmp_path: Path) -> None:
    async def scenario(db: Database) -> None:
        before = memory(db)
        await failing_commit(db.create_table(definition("t")))
        assert memory(db) == before
        # The name is free: the same CreateTable succeeds, with a working stream.
        t = await db.create_table(definition("t"))
        await put(db, t, "a")
        assert record_count(db, t) == 1

    scenario_then_restart(tmp_path, FakeClock(START), scenario)


def test_writes_whose_commit_fails_leave_the_figures_as_they_were(tmp_path: Path) -> None:
    async def scenario(db: Database) -> None:
        # No stream: a rolled-back record leaves its shard's counter moved on, which a restart
        # does not reproduce (harmless, see StreamManager._close), and this is about figures.
        t = await db.create_table(plain_table("t"))
        await put(db, t, "a")
        before = memory(db)
        DiskFullOnCommit.armed = True
        removal = Mutation(t, {"pk": {"S": "a"}}, lambda old: None)
        results = await asyncio.gather(
            put(db, t, "b"), put(db, t, "c"), db.write_batch([removal]), return_exceptions=True
        )
        assert [type(r) for r in results] == [StorageError] * 3
        assert memory(db) == before
        assert db.storage.reader().table_stats(t.table_id) == (1, item_size({"pk": {"S": "a"}}))

    scenario_then_restart(tmp_path, FakeClock(START), scenario)


def test_tables_created_in_one_failed_group_are_all_gone(tmp_path: Path) -> None:
    async def scenario(db: Database) -> None:
        before = memory(db)
        DiskFullOnCommit.armed = True
        # Submitted together, the three jobs run in one group and share its failed COMMIT.
        results = await asyncio.gather(
            db.create_table(definition("a")),
            db.create_table(plain_table("b")),
            db.create_table(definition("c")),
            return_exceptions=True,
        )
        assert [type(r) for r in results] == [StorageError] * 3
        assert memory(db) == before

    scenario_then_restart(tmp_path, FakeClock(START), scenario)


def test_delete_table_whose_commit_fails_keeps_the_table_and_its_stream(tmp_path: Path) -> None:
    async def scenario(db: Database) -> None:
        t = await db.create_table(definition("t"))
        await put(db, t, "a")
        before = memory(db)
        await failing_commit(db.delete_table("t"))
        assert memory(db) == before
        assert db.table("t") is t and not t.dropped
        await put(db, t, "b")  # still written, still captured
        assert record_count(db, t) == 2

    scenario_then_restart(tmp_path, FakeClock(START), scenario)


def test_update_table_whose_commit_fails_changes_nothing(tmp_path: Path) -> None:
    async def scenario(db: Database) -> None:
        plain = await db.create_table(plain_table("plain"))
        streamed = await db.create_table(definition("streamed"))
        before = memory(db)

        def enable(txn: WriteTxn, t: TableRuntime) -> None:
            db.streams.enable(txn, t, "KEYS_ONLY")

        def retag(txn: WriteTxn, t: TableRuntime) -> None:
            t.tags = {"env": "prod"}
            t.ttl_attribute = "expires"

        await failing_commit(db.save_table(plain, enable))
        await failing_commit(db.save_table(streamed, db.streams.disable))
        await failing_commit(db.save_table(streamed, retag))
        assert memory(db) == before
        assert plain.table_id not in db.streams.active
        assert (streamed.tags, streamed.ttl_attribute) == ({}, None)
        await put(db, streamed, "a")
        assert record_count(db, streamed) == 1

    scenario_then_restart(tmp_path, FakeClock(START), scenario)


def test_a_job_that_fails_after_changing_the_table_leaves_it_as_it_was(tmp_path: Path) -> None:
    async def scenario(db: Database) -> None:
        t = await db.create_table(plain_table("t"))
        before = memory(db)

        def half_done(txn: WriteTxn, table: TableRuntime) -> None:
            db.streams.enable(txn, table, "NEW_IMAGE")
            table.tags = {"half": "done"}
            raise ValidationException("refused after the change")

        with pytest.raises(ValidationException):
            await db.save_table(t, half_done)
        assert memory(db) == before

    scenario_then_restart(tmp_path, FakeClock(START), scenario)


def test_rotation_whose_commit_fails_keeps_the_open_shards(tmp_path: Path) -> None:
    clock = FakeClock(START)

    async def scenario(db: Database) -> None:
        t = await db.create_table(definition("t"))
        stream = db.streams.active[t.table_id]
        await put(db, t, "a")
        clock.advance(CONFIG.rotation)
        before = memory(db)
        await failing_commit(db.run(lambda txn: db.streams.rotate(txn, stream)))
        assert memory(db) == before
        assert all(s.end is None for s in stream.shards)
        # Records still go to the open shards, and the rotation succeeds the next time.
        await put(db, t, "b")
        await db.run(lambda txn: db.streams.rotate(txn, stream))
        assert len(stream.shards) == 2 * CONFIG.shards
        assert record_count(db, t) == 2

    scenario_then_restart(tmp_path, clock, scenario)


def test_trim_whose_commit_fails_keeps_streams_shards_and_trim_marks(tmp_path: Path) -> None:
    clock = FakeClock(START)

    async def scenario(db: Database) -> None:
        gone = await db.create_table(definition("gone"))
        kept = await db.create_table(definition("kept"))
        await put(db, gone, "a")
        await put(db, kept, "a")
        await db.delete_table("gone")  # its stream is DISABLED, then past the retention
        clock.advance(CONFIG.retention + 1)
        await put(db, kept, "b")
        before = memory(db)
        await failing_commit(db.run(db.streams.trim))
        assert memory(db) == before
        # The next trim does it all: the old stream goes, the old record of `kept` too.
        await db.run(db.streams.trim)
        assert [s.table_name for s in db.streams.streams.values()] == ["kept"]
        assert record_count(db, kept) == 1

    scenario_then_restart(tmp_path, clock, scenario)
