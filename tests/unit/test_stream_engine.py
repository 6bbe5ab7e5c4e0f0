"""The StreamManager inside an in-process Database: commit wake-ups, rotation, trimming and
restart, driven by a FakeClock instead of waiting (design.md, "Streams")."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest
from engine_helpers import CONFIG, definition, open_db

from rivulet.core.clock import FakeClock
from rivulet.core.stream_ids import SEQ_BASE, shard_ms, wire_seq
from rivulet.core.types import Item
from rivulet.engine.catalog import TableRuntime
from rivulet.engine.database import Database
from rivulet.engine.streams import Shard, Stream, StreamConfig
from rivulet.engine.writes import Mutation, write_one
from rivulet.storage.base import WriteTxn

T = TypeVar("T")

START = 1_764_158_400.0  # 2025-11-26T12:00:00Z
ONE_SHARD = replace(CONFIG, shards=1)
# Long enough for any commit on a loaded machine; only reached if the wake-up is missing.
GENEROUS = 30.0


def with_db(
    data: Path,
    clock: FakeClock,
    scenario: Callable[[Database], Awaitable[T]],
    config: StreamConfig = CONFIG,
) -> T:
    """Run `scenario` on a Database opened on `data`, closed afterwards (also on failure)."""

    async def main() -> T:
        db = await open_db(data, clock, config)
        try:
            return await scenario(db)
        finally:
            db.close()

    return asyncio.run(main())


async def stream_table(db: Database, name: str) -> tuple[TableRuntime, Stream]:
    """Create table `name` with a NEW_AND_OLD_IMAGES stream; the table and that stream."""
    t = await db.create_table(definition(name))
    return t, db.streams.active[t.table_id]


def key(pk: str) -> Item:
    return {"pk": {"S": pk}}


async def put(db: Database, t: TableRuntime, pk: str, value: str) -> None:
    item = {"pk": {"S": pk}, "v": {"S": value}}
    out = await db.write(Mutation(t, key(pk), lambda old: item))
    assert out.changed or out.old == item


async def put_keys(db: Database, t: TableRuntime, count: int, value: str) -> None:
    """Put keys k0 .. k<count - 1>, each with `value`."""
    for n in range(count):
        await put(db, t, f"k{n}", value)


def bucket_of(t: TableRuntime, pk: str, shards: int) -> int:
    return (t.storage_key(key(pk))[0] * shards) >> 32


def keys_in_buckets(t: TableRuntime, buckets: dict[int, int], shards: int) -> list[str]:
    """Partition keys, `buckets[b]` of them hashing to bucket b (and none to other buckets)."""
    wanted = dict(buckets)
    out = []
    n = 0
    while any(wanted.values()):
        pk = f"k{n}"
        b = bucket_of(t, pk, shards)
        if wanted.get(b, 0):
            wanted[b] -= 1
            out.append(pk)
        n += 1
    return out


def records(db: Database, stream: Stream, shard: Shard) -> list[dict[str, Any]]:
    rows = db.storage.reader().read_records(shard.key, 0, 100_000)
    out = [orjson.loads(p) for p in db.streams.open_records(stream, rows)]
    # The stored sequence counter and the record's SequenceNumber agree.
    assert [r["dynamodb"]["SequenceNumber"] for r in out] == [wire_seq(row.seq) for row in rows]
    return out


def record_keys(db: Database, stream: Stream, shard: Shard) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in records(db, stream, shard)]


def seqs(db: Database, shard: Shard) -> list[int]:
    return [r.seq for r in db.storage.reader().read_records(shard.key, 0, 100_000)]


def all_seqs(db: Database, shards: list[Shard]) -> list[int]:
    """The sequence numbers of every record of `shards`, shard after shard."""
    return [seq for shard in shards for seq in seqs(db, shard)]


def shard_of_record(db: Database, stream: Stream, pk: str) -> list[str]:
    return [s.shard_id for s in stream.shards if pk in record_keys(db, stream, s)]


async def rotate_due(db: Database) -> list[Stream]:
    due = db.streams.rotation_due()
    for stream in due:
        await rotate(db, stream)
    return due


async def rotate(db: Database, stream: Stream) -> None:
    def job(txn: WriteTxn) -> None:
        db.streams.rotate(txn, stream)

    await db.run(job)


async def enable(db: Database, t: TableRuntime, view_type: str) -> None:
    # What UpdateTable does (api/update_table.py), without the request parsing.
    def change(txn: WriteTxn, table: TableRuntime) -> None:
        db.streams.enable(txn, table, view_type)

    await db.save_table(t, change)


async def disable(db: Database, t: TableRuntime) -> None:
    await db.save_table(t, db.streams.disable)


async def trim(db: Database, batch: int = 1000) -> bool:
    return await db.run(lambda txn: db.streams.trim(txn, batch))


# (a) Waiters are woken by commits ----------------------------------------------------------


async def started(db: Database, stream_id: int, timeout: float) -> asyncio.Task[bool]:
    version = db.streams.version(stream_id)
    task = asyncio.create_task(db.streams.wait_for_records(stream_id, version, timeout))
    for _ in range(5):
        await asyncio.sleep(0)
    assert stream_id in db.streams._waiters  # registered before the write is submitted
    return task


def test_wait_for_records_is_woken_by_the_commit_of_a_write(tmp_path: Path) -> None:
    async def scenario(db: Database) -> None:
        t = await db.create_table(definition("t"))
        other = await db.create_table(definition("u"))
        sid = db.streams.active[t.table_id].stream_id

        # Nothing written: the waiter times out.
        assert await db.streams.wait_for_records(sid, db.streams.version(sid), 0.2) is False

        # A write to another table's stream does not wake this one.
        waiter = await started(db, sid, 0.5)
        await put(db, other, "a", "1")
        assert await waiter is False

        # A write to this table wakes every waiter of its stream.
        first = await started(db, sid, GENEROUS)
        second = await started(db, sid, GENEROUS)
        await put(db, t, "a", "1")
        assert list(await asyncio.gather(first, second)) == [True, True]

        # A write that changes nothing adds no record and wakes nobody.
        waiter = await started(db, sid, 0.5)
        await put(db, t, "a", "1")
        assert await waiter is False
        assert sum(len(seqs(db, s)) for s in db.streams.streams[sid].shards) == 1

        # A waiter started after a timed-out one is still woken.
        waiter = await started(db, sid, GENEROUS)
        await put(db, t, "a", "2")
        assert await waiter is True

        # A commit after the caller noted the version (between its read and its wait) counts:
        # the wait returns at once instead of sleeping through a record already there.
        version = db.streams.version(sid)
        await put(db, t, "a", "3")
        assert db.streams.version(sid) == version + 1
        assert await db.streams.wait_for_records(sid, version, GENEROUS) is True
        assert sid not in db.streams._waiters

    with_db(tmp_path / "data", FakeClock(START), scenario)


def test_wait_for_records_is_woken_by_a_write_committed_from_another_job_group(
    tmp_path: Path,
) -> None:
    # Several writes queued together (one group commit): one wake-up per stream written.
    async def scenario(db: Database) -> None:
        t = await db.create_table(definition("t"))
        u = await db.create_table(definition("u"))
        st, su = db.streams.active[t.table_id], db.streams.active[u.table_id]
        wt = await started(db, st.stream_id, GENEROUS)
        wu = await started(db, su.stream_id, GENEROUS)
        await asyncio.gather(*(put(db, t if n % 2 else u, f"k{n}", "v") for n in range(20)))
        assert list(await asyncio.gather(wt, wu)) == [True, True]

    with_db(tmp_path / "data", FakeClock(START), scenario)


# (b) Rotation ------------------------------------------------------------------------------


def test_rotation_closes_each_shard_and_opens_one_child_per_shard(tmp_path: Path) -> None:
    clock = FakeClock(START)

    async def scenario(db: Database) -> None:
        t, stream = await stream_table(db, "t")
        parents = list(stream.shards)
        assert [(s.bucket, s.parent_id, s.start, s.end) for s in parents] == [
            (0, None, 1, None),
            (1, None, 2, None),
            (2, None, 3, None),
        ]
        # Two keys in bucket 0, three in bucket 1, none in bucket 2 (it stays empty).
        pks = keys_in_buckets(t, {0: 2, 1: 3}, 3)
        for pk in pks:
            await put(db, t, pk, "before")
        before = {pk: shard_of_record(db, stream, pk) for pk in pks}
        assert before == {pk: [parents[bucket_of(t, pk, 3)].shard_id] for pk in pks}
        used = all_seqs(db, parents)
        assert sorted(used) == list(range(4, 4 + len(pks)))

        clock.advance(59)
        assert db.streams.rotation_due() == []
        clock.advance(1)
        assert await rotate_due(db) == [stream]
        assert db.streams.rotation_due() == []

        children = stream.open
        assert len(children) == 3
        assert stream.shards == [*parents, *children]
        ids = [s.shard_id for s in stream.shards]
        assert sorted(ids) == ids and len(set(ids)) == 6
        assert [shard_ms(c.shard_id) for c in children] == [
            int((START + 60) * 1000) + i for i in range(3)
        ]
        reader = db.storage.reader()
        for parent, child in zip(parents, children, strict=True):
            last = seqs(db, parent)
            expected_end = last[-1] if last else parent.start
            assert parent.end == expected_end
            assert parent.closed_at == START + 60
            assert reader.shard_state(parent.key) == (expected_end, 0)
            assert child.parent_id == parent.shard_id
            assert child.bucket == parent.bucket
            assert child.end is None and child.closed_at is None
            assert child.start > parent.end
            assert child.start > max(used)
        assert parents[2].end == parents[2].start == 3  # the empty shard ends at its start
        starts = [c.start for c in children]
        assert starts == sorted(starts) and len(set(starts)) == 3

        # Each key keeps its bucket: its next record goes to the child of its first shard.
        for pk in pks:
            await put(db, t, pk, "after")
        for pk in pks:
            parent = parents[bucket_of(t, pk, 3)]
            child = children[bucket_of(t, pk, 3)]
            assert shard_of_record(db, stream, pk) == [parent.shard_id, child.shard_id]
            images = [
                r["dynamodb"]["NewImage"]["v"]["S"]
                for s in (parent, child)
                for r in records(db, stream, s)
                if r["dynamodb"]["Keys"]["pk"]["S"] == pk
            ]
            assert images == ["before", "after"]
        # Every record after the rotation is above every number the parents used or reserved.
        after = all_seqs(db, children)
        assert min(after) > max(c.start for c in children)
        # The parents received nothing more.
        assert [seqs(db, p)[-1:] or [p.start] for p in parents] == [[p.end] for p in parents]

        # The next rotation is due a rotation period after the children were created.
        clock.advance(59)
        assert db.streams.rotation_due() == []
        clock.advance(1)
        assert await rotate_due(db) == [stream]
        grandchildren = stream.open
        assert [g.parent_id for g in grandchildren] == [c.shard_id for c in children]
        assert [c.end for c in children] == [(seqs(db, c) or [c.start])[-1] for c in children]
        assert min(g.start for g in grandchildren) > max(after)

    with_db(tmp_path / "data", clock, scenario)


def test_disabled_stream_is_never_rotated(tmp_path: Path) -> None:
    clock = FakeClock(START)

    async def scenario(db: Database) -> None:
        t, stream = await stream_table(db, "t")
        await put(db, t, "a", "1")
        await db.delete_table("t")
        assert stream.status == "DISABLED"
        assert stream.open == []
        assert all(s.end is not None for s in stream.shards)
        clock.advance(3600)
        assert db.streams.rotation_due() == []
        before = list(stream.shards)
        await rotate(db, stream)
        assert stream.shards == before

    with_db(tmp_path / "data", clock, scenario)


# (c) Trimming ------------------------------------------------------------------------------


def test_trimming_removes_old_records_then_old_shards_then_disabled_streams(
    tmp_path: Path,
) -> None:
    clock = FakeClock(START)

    async def scenario(db: Database) -> None:
        t, stream = await stream_table(db, "t")
        gone, disabled = await stream_table(db, "gone")
        pks = keys_in_buckets(t, {0: 2, 1: 2, 2: 2}, 3)
        parents = list(stream.shards)

        for pk in pks:  # at START
            await put(db, t, pk, "old")
        await put(db, gone, "x", "1")
        clock.advance(10)
        await db.delete_table("gone")  # its stream: DISABLED at START + 10
        clock.advance(70)  # START + 80
        for pk in pks:
            await put(db, t, pk, "newer")
        clock.advance(20)  # START + 100: the parents close
        assert await rotate_due(db) == [stream]
        children = list(stream.open)
        clock.advance(100)  # START + 200
        for pk in pks:
            await put(db, t, pk, "newest")

        # Nothing is older than the retention yet.
        assert await trim(db) is False
        assert [s.trimmed for s in stream.shards] == [0] * 6
        assert db.streams.find("gone", disabled.label) is disabled

        old = {p.shard_id: seqs(db, p)[:2] for p in parents}
        kept = {p.shard_id: seqs(db, p)[2:] for p in parents}
        assert all(len(v) == 2 for v in old.values()) and all(len(v) == 2 for v in kept.values())

        clock.advance(150)  # START + 350: cutoff START + 50
        assert await trim(db) is False
        reader = db.storage.reader()
        for p in parents:
            # Only the records written at START are gone; the shard (closed at +100) stays.
            assert seqs(db, p) == kept[p.shard_id]
            assert p.trimmed == old[p.shard_id][-1]
            assert reader.shard_state(p.key) == (p.end, p.trimmed)
            assert [r["dynamodb"]["NewImage"]["v"]["S"] for r in records(db, stream, p)] == [
                "newer",
                "newer",
            ]
        assert [c.trimmed for c in children] == [0, 0, 0]
        assert [len(seqs(db, c)) for c in children] == [2, 2, 2]
        # The stream disabled at START + 10 is past the retention: gone from memory and storage.
        assert disabled.stream_id not in db.streams.streams
        assert db.streams.find("gone", disabled.label) is None
        assert [s.stream_id for s in reader.streams()] == [stream.stream_id]
        assert {s.stream_id for s in reader.shards()} == {stream.stream_id}
        assert all(seqs(db, s) == [] for s in disabled.shards)

        clock.advance(100)  # START + 450: cutoff START + 150, past the parents' close
        assert await trim(db) is False
        assert stream.shards == children
        assert sorted(s.shard_key for s in reader.shards()) == [c.key for c in children]
        assert all(reader.shard_state(p.key) is None for p in parents)
        assert all(seqs(db, p) == [] for p in parents)
        assert [len(seqs(db, c)) for c in children] == [2, 2, 2]
        assert db.streams.find("t", stream.label) is stream

        clock.advance(200)  # START + 650: cutoff START + 350, past every record
        assert await trim(db) is False
        assert [seqs(db, c) for c in children] == [[], [], []]
        assert [c.trimmed for c in children] == [c.last for c in children]
        assert [reader.shard_state(c.key) for c in children] == [(None, c.last) for c in children]
        assert stream.open == children  # open shards are never deleted

    with_db(tmp_path / "data", clock, scenario)


def test_trimming_in_batches_reports_what_remains(tmp_path: Path) -> None:
    clock = FakeClock(START)

    async def scenario(db: Database) -> None:
        t = await db.create_table(definition("t"))
        (shard,) = db.streams.active[t.table_id].open
        await put_keys(db, t, 5, "old")
        clock.advance(200)
        await put(db, t, "new", "new")
        clock.advance(150)  # the five first records are past the retention
        first = seqs(db, shard)
        assert await trim(db, 2) is True
        assert seqs(db, shard) == first[2:]
        assert await trim(db, 2) is True
        assert seqs(db, shard) == first[4:]
        assert await trim(db, 2) is False
        assert seqs(db, shard) == first[5:]
        assert shard.trimmed == first[4]
        assert await trim(db, 2) is False
        assert seqs(db, shard) == first[5:]

    with_db(tmp_path / "data", clock, scenario, ONE_SHARD)


def test_retention_boundary_keeps_what_is_exactly_as_old_as_the_retention(tmp_path: Path) -> None:
    clock = FakeClock(START)

    async def scenario(db: Database) -> None:
        t, stream = await stream_table(db, "t")
        (parent,) = stream.open
        _, disabled = await stream_table(db, "gone")
        await put(db, t, "a", "1")  # at START
        await db.delete_table("gone")  # disabled at START
        clock.advance(60)
        await rotate_due(db)  # the parent closes at START + 60
        clock.advance(240)  # START + 300: the record is exactly as old as the retention
        assert await trim(db) is False
        assert len(seqs(db, parent)) == 1 and parent.trimmed == 0
        assert db.streams.find("gone", disabled.label) is disabled
        clock.advance(1)
        assert await trim(db) is False
        assert seqs(db, parent) == [] and parent.trimmed == parent.end
        assert db.streams.find("gone", disabled.label) is None
        clock.advance(59)  # START + 360: the parent closed exactly a retention ago
        assert await trim(db) is False
        assert parent in stream.shards
        clock.advance(1)
        assert await trim(db) is False
        assert parent not in stream.shards
        assert db.storage.reader().shard_state(parent.key) is None

    with_db(tmp_path / "data", clock, scenario, ONE_SHARD)


# (d) Restart -------------------------------------------------------------------------------


def snapshot(db: Database) -> dict[int, tuple[Any, ...]]:
    return {
        sid: (
            s.table_id,
            s.table_name,
            s.label,
            s.view_type,
            s.key_schema,
            s.created_at,
            s.disabled_at,
            s.status,
            [replace(x) for x in s.shards],
            [x.shard_id for x in s.open],
        )
        for sid, s in db.streams.streams.items()
    }


def every_number(db: Database) -> int:
    """The largest sequence counter any shard or record of any stream ever showed."""
    top = 0
    for s in db.streams.streams.values():
        for shard in s.shards:
            top = max(top, shard.start, shard.end or 0, shard.trimmed, *seqs(db, shard))
    return top


def test_restart_restores_streams_shards_and_counters(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clock = FakeClock(START)
    before: dict[str, Any] = {}

    async def first_life(db: Database) -> None:
        t = await db.create_table(definition("t"))
        u = await db.create_table(definition("u", "KEYS_ONLY"))
        await put_keys(db, t, 6, "1")
        await put(db, u, "x", "1")
        clock.advance(60)
        await rotate_due(db)  # both streams rotate: children reserve starts above every record
        await put(db, t, "k0", "2")
        await db.delete_table("u")
        stream = db.streams.active[t.table_id]
        before["snapshot"] = snapshot(db)
        before["key"] = db.streams.iterator_key
        before["top"] = every_number(db)
        before["counters"] = {sid: s.counter for sid, s in db.streams.streams.items()}
        before["payloads"] = {s.shard_id: records(db, stream, s) for s in stream.shards}
        before["active"] = {tid: s.stream_id for tid, s in db.streams.active.items()}
        assert len(db.streams.streams) == 2 and len(db.streams.active) == 1

    with_db(data, clock, first_life)
    clock.advance(5)

    async def second_life(db: Database) -> None:
        assert db.streams.iterator_key == before["key"]
        assert len(db.streams.iterator_key) == 32
        assert snapshot(db) == before["snapshot"]
        assert {tid: s.stream_id for tid, s in db.streams.active.items()} == before["active"]
        for sid, s in db.streams.streams.items():
            assert s.counter >= before["counters"][sid]
            assert db.streams.find(s.table_name, s.label) is s
        (stream,) = db.streams.active.values()
        assert {s.shard_id: records(db, stream, s) for s in stream.shards} == before["payloads"]
        # New records continue above every number used before the restart.
        t = db.tables["t"]
        await put_keys(db, t, 6, "3")
        new = [seq for seq in all_seqs(db, stream.open) if seq > before["top"]]
        assert len(new) == 6
        older = [seq for seq in all_seqs(db, stream.open) if seq <= before["top"]]
        assert all(seq < min(new) for seq in older)
        # And new shards too.
        clock.advance(60)
        await rotate_due(db)
        assert min(s.start for s in stream.open) > max(new)

    with_db(data, clock, second_life)


def test_restart_after_everything_was_trimmed_resumes_above_every_number(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    clock = FakeClock(START)
    before: dict[str, Any] = {}

    async def first_life(db: Database) -> None:
        t, stream = await stream_table(db, "t")
        await put_keys(db, t, 9, "1")
        clock.advance(400)
        # A second round, so the open shards hold the highest numbers.
        await put_keys(db, t, 9, "2")
        before["top"] = every_number(db)
        clock.advance(400)
        assert await trim(db) is False
        assert all(seqs(db, s) == [] for s in stream.shards)
        assert all(db.storage.reader().last_record_seq(s.key) is None for s in stream.shards)
        before["trimmed"] = [s.trimmed for s in stream.shards]
        before["key"] = db.streams.iterator_key
        assert max(before["trimmed"]) == before["top"]

    with_db(data, clock, first_life)

    async def second_life(db: Database) -> None:
        assert db.streams.iterator_key == before["key"]
        (stream,) = db.streams.active.values()
        assert [s.trimmed for s in stream.shards] == before["trimmed"]
        assert stream.counter >= before["top"]
        t = db.tables["t"]
        await put(db, t, "k0", "3")
        (new,) = all_seqs(db, stream.shards)
        assert new > before["top"]
        assert new + SEQ_BASE > SEQ_BASE + before["top"]

    with_db(data, clock, second_life)


def test_restart_after_the_closed_parents_were_deleted(tmp_path: Path) -> None:
    # The highest numbers before the restart may have lived in shards trimming deleted; the
    # children's reserved starts keep the counter above them.
    data = tmp_path / "data"
    clock = FakeClock(START)
    before: dict[str, Any] = {}

    async def first_life(db: Database) -> None:
        t, stream = await stream_table(db, "t")
        await put_keys(db, t, 9, "1")
        clock.advance(60)
        await rotate_due(db)
        before["top"] = every_number(db)
        clock.advance(400)
        assert await trim(db) is False
        assert stream.shards == stream.open  # the parents are gone, the children are empty
        assert all(seqs(db, s) == [] for s in stream.shards)

    with_db(data, clock, first_life)

    async def second_life(db: Database) -> None:
        (stream,) = db.streams.active.values()
        assert len(stream.shards) == 3
        await put(db, db.tables["t"], "k0", "2")
        (new,) = all_seqs(db, stream.shards)
        assert new > before["top"]

    with_db(data, clock, second_life)


# Identities --------------------------------------------------------------------------------


def test_labels_enabled_in_the_same_millisecond_are_bumped_per_table_name(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clock = FakeClock(START)  # never moves: every stream is enabled in the same millisecond

    async def first_life(db: Database) -> None:
        t, first = await stream_table(db, "t")
        await disable(db, t)
        await enable(db, t, "KEYS_ONLY")
        second = db.streams.active[t.table_id]
        await db.delete_table("t")
        _, third = await stream_table(db, "t")  # a new incarnation of the same name
        other = await db.create_table(definition("u"))
        assert [first.label, second.label, third.label] == [
            "2025-11-26T12:00:00.000",
            "2025-11-26T12:00:00.001",
            "2025-11-26T12:00:00.002",
        ]
        assert [first.status, second.status, third.status] == ["DISABLED", "DISABLED", "ENABLED"]
        # Labels are unique per table name only.
        assert db.streams.active[other.table_id].label == "2025-11-26T12:00:00.000"
        # Shard ids of a stream are strictly increasing even when the clock stands still.
        await rotate(db, third)
        ids = [s.shard_id for s in third.shards]
        assert len(ids) == 6 and sorted(ids) == ids
        assert [shard_ms(i) for i in ids] == [int(START * 1000) + n for n in range(6)]

    with_db(data, clock, first_life)

    async def second_life(db: Database) -> None:
        # The labels in use are known after a restart too.
        t = db.tables["t"]
        await disable(db, t)
        await enable(db, t, "NEW_IMAGE")
        assert db.streams.active[t.table_id].label == "2025-11-26T12:00:00.003"
        assert sorted(s.label for s in db.streams.streams.values() if s.table_name == "t") == [
            "2025-11-26T12:00:00.000",
            "2025-11-26T12:00:00.001",
            "2025-11-26T12:00:00.002",
            "2025-11-26T12:00:00.003",
        ]

    with_db(data, clock, second_life)


# A job that fails after its capture ---------------------------------------------------------


class Boom(Exception):
    pass


def test_a_rolled_back_capture_leaves_no_trace_in_the_shard_end(tmp_path: Path) -> None:
    # A job can fail after a capture (a later item of a BatchWriteItem or TTL batch hitting a
    # storage error): its record is rolled back, so the shard's EndingSequenceNumber must
    # still be the last record that exists (stream-model.md section 1.4).
    clock = FakeClock(START)

    async def scenario(db: Database) -> None:
        t, stream = await stream_table(db, "t")
        (shard,) = stream.open
        await put(db, t, "a", "1")
        item = {"pk": {"S": "b"}, "v": {"S": "1"}}

        def failing(txn: WriteTxn) -> None:
            write_one(txn, Mutation(t, key("b"), lambda old: item), db.capture)
            raise Boom("after the capture")

        with pytest.raises(Boom):
            await db.run(failing)
        committed = seqs(db, shard)
        assert len(committed) == 1
        clock.advance(60)
        await rotate_due(db)
        assert shard.end == committed[-1]
        assert db.storage.reader().shard_state(shard.key) == (committed[-1], 0)

    with_db(tmp_path / "data", clock, scenario, ONE_SHARD)
