"""Crash safety of stream capture: after a `kill -9` under concurrent writes, every acknowledged
write has exactly one record, in per-key order, and nothing else is in the stream."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningServer, start_server

from streams.stream_helpers import (
    by_key,
    canon,
    create_stream_table,
    describe_stream,
    load_item,
    read_by_shard,
    sequence_numbers,
    stop_under_load,
    strictly_increasing,
    update_load_item,
)

TABLE = "stream-crash"
VIEW = "NEW_AND_OLD_IMAGES"
WRITERS = 4


@dataclass
class Op:
    """One write as the client saw it: what it changed from and to, and whether it was acked."""

    kind: str  # INSERT (PutItem of an absent key), MODIFY (UpdateItem), REMOVE (DeleteItem)
    key: str
    old: int | None  # version stored before the write
    new: int | None  # version stored after it (None: deleted)
    acked: bool = False


@dataclass
class Writer:
    """One load thread with its own keys: put a new key, update it, and for every other key
    delete it and put it back, until stopped or the server goes away. Each step changes the
    item, so each acknowledged step must have exactly one record."""

    owner: str
    client: Any
    ops: list[Op] = field(default_factory=list)
    error: BaseException | None = None
    _keys: int = 0

    def _do(self, op: Op, call: Callable[[], Any]) -> None:
        self.ops.append(op)
        call()
        op.acked = True

    def _put(self, key: str, old: int | None, version: int) -> None:
        self._do(
            Op("INSERT", key, old, version),
            lambda: self.client.put_item(TableName=TABLE, Item=load_item(self.owner, key, version)),
        )

    def _update(self, key: str, old: int, version: int) -> None:
        new = load_item(self.owner, key, version)
        self._do(
            Op("MODIFY", key, old, version),
            lambda: update_load_item(self.client, TABLE, new, old),
        )

    def _delete(self, key: str, old: int) -> None:
        self._do(
            Op("REMOVE", key, old, None),
            lambda: self.client.delete_item(
                TableName=TABLE,
                Key={"pk": {"S": key}},
                ConditionExpression="ver = :prev",
                ExpressionAttributeValues={":prev": {"N": str(old)}},
            ),
        )

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                self._keys += 1
                key = f"{self.owner}-{self._keys:06d}"
                self._put(key, None, 1)
                self._update(key, 1, 2)
                if self._keys % 2 == 0:
                    self._delete(key, 2)
                    self._put(key, None, 3)
                    self._update(key, 3, 4)
        except Exception as exc:  # the server was killed under us: the rest is unacknowledged
            self.error = exc

    def acknowledged(self) -> int:
        return sum(op.acked for op in self.ops)


def run_until_killed(server: RunningServer, acks: int, prefix: str) -> list[Writer]:
    """WRITERS threads against the server until `acks` writes are acknowledged, then kill -9."""
    writers = [Writer(f"{prefix}{i}", server.client()) for i in range(WRITERS)]
    stop_under_load(server, writers, acks)
    assert any(w.error is not None for w in writers), "the load ran until the kill"
    return writers


def expected_record(owner: str, op: Op) -> dict[str, Any]:
    """eventName and images the record of `op` carries on a NEW_AND_OLD_IMAGES stream."""
    out: dict[str, Any] = {"eventName": op.kind, "Keys": {"pk": {"S": op.key}}}
    if op.new is not None:
        out["NewImage"] = load_item(owner, op.key, op.new)
    if op.old is not None:
        out["OldImage"] = load_item(owner, op.key, op.old)
    return out


def shape(record: dict[str, Any]) -> dict[str, Any]:
    ddb = record["dynamodb"]
    out: dict[str, Any] = {"eventName": record["eventName"], "Keys": ddb["Keys"]}
    for image in ("NewImage", "OldImage"):
        if image in ddb:
            out[image] = ddb[image]
    return out


def verify_stream(server: RunningServer, arn: str, writers: list[Writer]) -> dict[str, Any]:
    """Every acknowledged write has exactly one record, in the key's order; the one write per
    writer that was in flight at the kill may have one too (then as the key's last record);
    nothing else is in the stream; sequence numbers are strictly increasing per shard and per
    key and event ids are unique; the stored items agree with the last record of each key.
    Returns the records by shard."""
    streams, client = server.streams(), server.client()
    per_shard = read_by_shard(streams, arn)
    for shard_id, records in per_shard.items():
        assert strictly_increasing(sequence_numbers(records)), shard_id
    everything = [r for records in per_shard.values() for r in records]
    assert len({r["eventID"] for r in everything}) == len(everything), "duplicate eventID"
    grouped = by_key(everything)

    seen: set[Any] = set()
    for w in writers:
        by_op_key: dict[str, list[Op]] = {}
        for op in w.ops:
            by_op_key.setdefault(op.key, []).append(op)
        for key, ops in by_op_key.items():
            record_key = (("pk", repr({"S": key})),)
            seen.add(record_key)
            records = grouped.get(record_key, [])
            assert strictly_increasing(sequence_numbers(records)), key
            acked = [op for op in ops if op.acked]
            pending = [op for op in ops if not op.acked]
            assert len(pending) <= 1 and (not pending or pending[0] is ops[-1]), key
            want = [canon(expected_record(w.owner, op)) for op in acked]
            got = [canon(shape(r)) for r in records]
            if pending and len(got) == len(want) + 1:
                want.append(canon(expected_record(w.owner, pending[0])))
            assert got == want, key
            stored = client.get_item(
                TableName=TABLE, Key={"pk": {"S": key}}, ConsistentRead=True
            ).get("Item")
            last_image = records[-1]["dynamodb"].get("NewImage") if records else None
            assert canon(stored) == canon(last_image), key
    assert set(grouped) <= seen, "records of keys nobody wrote"
    return per_shard


@pytest.mark.parametrize("durability", ["full", "normal"])
def test_stream_crash_kill9_keeps_exactly_the_acknowledged_records(
    tmp_path: Path, durability: str
) -> None:
    # Rivulet rule (design.md "The write path", stream-model.md §4): the item write and its
    # stream record commit together, so a kill -9 never loses or duplicates the record of an
    # acknowledged write, never leaves a record without its write, and sequence numbers are
    # never reused after the restart.
    data = tmp_path / "data"
    server = start_server(data, "--durability", durability)
    try:
        client = server.client()
        arn = create_stream_table(client, TABLE, VIEW, (("pk", "S"),))
        first = run_until_killed(server, 1000, "first")
    finally:
        server.stop(signal.SIGKILL)
    assert server.process.returncode == -signal.SIGKILL

    server = start_server(data, "--durability", durability)
    try:
        verify_stream(server, arn, first)
        second = run_until_killed(server, 1000, "again")
    finally:
        server.stop(signal.SIGKILL)

    server = start_server(data, "--durability", durability)
    try:
        client, streams = server.client(), server.streams()
        per_shard = verify_stream(server, arn, first + second)
        assert describe_stream(streams, arn)["StreamStatus"] == "ENABLED"
        # New writes after the restarts: one record each, numbered above everything their shard
        # held before (numbers are never reused).
        for i in range(8):
            client.put_item(TableName=TABLE, Item=load_item("after", f"after-{i}", 1))
        fresh: list[str] = []
        for shard_id, records in read_by_shard(streams, arn).items():
            old = per_shard.get(shard_id, [])
            assert records[: len(old)] == old, shard_id
            assert strictly_increasing(sequence_numbers(records)), shard_id
            fresh.extend(r["dynamodb"]["Keys"]["pk"]["S"] for r in records[len(old) :])
        assert sorted(fresh) == [f"after-{i}" for i in range(8)]
    finally:
        assert server.stop(signal.SIGTERM) == 0
    assert "Traceback" not in server.log()
