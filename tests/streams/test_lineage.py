"""Shard lineage (stream-model.md §3-4), consumed like the KCL: the `rotating` server (2 shards per
stream, rotated every 2 s); several keys are written across rotations, the stream is disabled, then
the shard tree is walked parent-first (DescribeStream paging, ShardFilter CHILD_SHARDS for
children), reading each closed shard until NextShardIterator is absent."""

from __future__ import annotations

import itertools
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import RunningServer

from streams.stream_helpers import (
    ROTATING_SHARDS,
    SEQUENCE_RE,
    SHARD_ID_RE,
    all_shards,
    ancestors,
    create_stream_table,
    describe_pages,
    disable_stream,
    read_shard,
    wait_stream_status,
)

KEYS = [f"key-{i}" for i in range(8)]


@dataclass
class Scenario:
    streams: Any  # a dynamodbstreams client of the module's server
    arn: str
    versions: int  # every key was written with versions 1..versions
    snapshots: list[list[dict[str, Any]]]  # DescribeStream shard lists taken while writing
    shards: list[dict[str, Any]] = field(default_factory=list)  # after disabling
    walk: list[str] = field(default_factory=list)  # shard ids in the order the walk read them
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # per shard id
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # per shard id


def depth(shard_id: str, by_id: dict[str, dict[str, Any]]) -> int:
    parent = by_id[shard_id].get("ParentShardId")
    return 0 if parent is None or parent not in by_id else 1 + depth(parent, by_id)


def write_across_rotations(ddb: Any, streams: Any, table: str, arn: str) -> Scenario:
    """Write a version of every key per round until the tree is two rotations deep, plus one
    more round; snapshot DescribeStream after each round."""
    scenario = Scenario(streams, arn, 0, [])
    deadline = time.monotonic() + 40
    rounds_after = None
    while rounds_after is None or rounds_after > 0:
        assert time.monotonic() < deadline, "the shards never rotated twice"
        scenario.versions += 1
        for key in KEYS:
            ddb.put_item(
                TableName=table, Item={"id": {"S": key}, "v": {"N": str(scenario.versions)}}
            )
        snapshot = all_shards(streams, arn)
        scenario.snapshots.append(snapshot)
        by_id = {s["ShardId"]: s for s in snapshot}
        if rounds_after is None and max(depth(i, by_id) for i in by_id) >= 2:
            rounds_after = 1
        elif rounds_after is not None:
            rounds_after -= 1
        time.sleep(0.25)
    return scenario


def kcl_walk(streams: Any, scenario: Scenario) -> None:
    """Roots from a paged listing, then children via ShardFilter once their parent is done."""
    queue = deque(s for s in all_shards(streams, scenario.arn, limit=2) if "ParentShardId" not in s)
    while queue:
        shard = queue.popleft()
        shard_id = shard["ShardId"]
        parent = shard.get("ParentShardId")
        assert parent is None or parent in scenario.records, "child before its parent"
        read = read_shard(streams, scenario.arn, shard_id, limit=7)
        assert read.ended, f"closed shard {shard_id} never omitted NextShardIterator"
        scenario.records[shard_id] = read.records
        scenario.walk.append(shard_id)
        children = all_shards(
            streams, scenario.arn, shard_filter={"Type": "CHILD_SHARDS", "ShardId": shard_id}
        )
        scenario.children[shard_id] = children
        queue.extend(children)


@pytest.fixture(scope="module")
def scenario(rotating: RunningServer) -> Scenario:
    ddb, streams = rotating.client(), rotating.streams()
    arn = create_stream_table(ddb, "lineage")
    result = write_across_rotations(ddb, streams, "lineage", arn)
    disable_stream(ddb, "lineage")
    result.shards = wait_stream_status(streams, arn, "DISABLED")["Shards"]
    assert len(result.shards) < 100  # one DescribeStream page holds them all
    kcl_walk(streams, result)
    return result


def key_version(record: dict[str, Any]) -> tuple[str, int]:
    image = record["dynamodb"]["NewImage"]
    return image["id"]["S"], int(image["v"]["N"])


def walk_records(scenario: Scenario) -> list[tuple[str, dict[str, Any]]]:
    """(shard id, record) in the order a parent-first consumer processes them."""
    return [(s, r) for s in scenario.walk for r in scenario.records[s]]


def test_lineage_walk_finds_every_shard(scenario: Scenario) -> None:
    # Following CHILD_SHARDS from the roots reaches exactly the shards DescribeStream lists; each
    # filtered answer holds exactly the shards whose ParentShardId is that shard, sorted by id.
    assert sorted(scenario.walk) == [s["ShardId"] for s in scenario.shards]
    for shard_id, children in scenario.children.items():
        assert children == [s for s in scenario.shards if s.get("ParentShardId") == shard_id]
    roots = [s for s in scenario.shards if "ParentShardId" not in s]
    assert len(roots) == ROTATING_SHARDS


def test_lineage_every_write_exactly_once(scenario: Scenario) -> None:
    # Each stream record appears exactly once in the stream; nothing is lost or duplicated.
    seen = Counter(key_version(r) for _, r in walk_records(scenario))
    expected = Counter((k, v) for k in KEYS for v in range(1, scenario.versions + 1))
    assert seen == expected


def test_lineage_per_key_order(scenario: Scenario) -> None:
    # Parent-first processing yields every key's changes in write order: INSERT of version 1,
    # then MODIFY with OldImage = the previous version.
    per_key: dict[str, list[tuple[str, int, int | None]]] = {k: [] for k in KEYS}
    for _, record in walk_records(scenario):
        key, version = key_version(record)
        old = record["dynamodb"].get("OldImage")
        per_key[key].append(
            (record["eventName"], version, None if old is None else int(old["v"]["N"]))
        )
    for key in KEYS:
        expected = [("INSERT", 1, None)] + [
            ("MODIFY", v, v - 1) for v in range(2, scenario.versions + 1)
        ]
        assert per_key[key] == expected, key


def test_lineage_key_stays_in_one_lineage(scenario: Scenario) -> None:
    # All records of a key are in one lineage: each shard holding the key's later records
    # descends from the shard holding its earlier ones. Writes crossed at least one rotation.
    crossed = 0
    for key in KEYS:
        chain: list[str] = []
        for shard_id, record in walk_records(scenario):
            if key_version(record)[0] == key and (not chain or chain[-1] != shard_id):
                chain.append(shard_id)
        for earlier, later in itertools.pairwise(chain):
            assert earlier in ancestors(scenario.shards, later), (key, chain)
        crossed += len(chain) > 1
    assert crossed == len(KEYS)


def test_lineage_sequence_numbers(scenario: Scenario) -> None:
    # Sequence numbers are 21 digits and strictly increasing as integers within a shard, above
    # the shard's StartingSequenceNumber; a closed shard's EndingSequenceNumber is its last
    # record's number (its starting number when it never got a record).
    for shard in scenario.shards:
        span = shard["SequenceNumberRange"]
        start, end = span["StartingSequenceNumber"], span["EndingSequenceNumber"]
        assert SEQUENCE_RE.fullmatch(start) and SEQUENCE_RE.fullmatch(end)
        numbers = [r["dynamodb"]["SequenceNumber"] for r in scenario.records[shard["ShardId"]]]
        assert all(SEQUENCE_RE.fullmatch(n) for n in numbers)
        values = [int(n) for n in numbers]
        assert values == sorted(set(values))
        assert all(v > int(start) for v in values)
        assert end == (numbers[-1] if numbers else start)


def test_lineage_child_starts_after_parent_ends(scenario: Scenario) -> None:
    # A child's StartingSequenceNumber is greater than its parent's EndingSequenceNumber, and
    # its ShardId sorts after the parent's.
    by_id = {s["ShardId"]: s for s in scenario.shards}
    children = [s for s in scenario.shards if "ParentShardId" in s]
    assert children
    for child in children:
        parent = by_id[child["ParentShardId"]]
        assert int(child["SequenceNumberRange"]["StartingSequenceNumber"]) > int(
            parent["SequenceNumberRange"]["EndingSequenceNumber"]
        )
        assert child["ShardId"] > parent["ShardId"]


def test_lineage_snapshots_while_enabled(scenario: Scenario) -> None:
    # While ENABLED: shards sorted by id (well-formed ids), always exactly N open shards, and a
    # parent is closed no later than its child is visible.
    assert len(scenario.snapshots) >= 2
    for snapshot in scenario.snapshots:
        ids = [s["ShardId"] for s in snapshot]
        assert ids == sorted(ids)
        assert all(SHARD_ID_RE.fullmatch(i) for i in ids)
        open_shards = [
            s for s in snapshot if "EndingSequenceNumber" not in s["SequenceNumberRange"]
        ]
        assert len(open_shards) == ROTATING_SHARDS
        parents = {s["ParentShardId"] for s in snapshot if "ParentShardId" in s}
        for shard in snapshot:
            if shard["ShardId"] in parents:
                assert "EndingSequenceNumber" in shard["SequenceNumberRange"]


@pytest.mark.parametrize("limit", [1, 2, 3, 5])
def test_lineage_describe_paging(scenario: Scenario, limit: int) -> None:
    # Paging with any Limit (ExclusiveStartShardId = the previous LastEvaluatedShardId, present
    # only while more shards follow) lists the same shards as one page.
    pages = describe_pages(scenario.streams, scenario.arn, limit)
    for page in pages[:-1]:
        assert page["LastEvaluatedShardId"] == page["Shards"][-1]["ShardId"]
        assert len(page["Shards"]) == limit
    assert [s for page in pages for s in page["Shards"]] == scenario.shards


def test_lineage_child_filter_with_paging(scenario: Scenario) -> None:
    # Q-S10: ExclusiveStartShardId and Limit apply after the CHILD_SHARDS filter; the filtered
    # answer is otherwise the normal description; a leaf shard has no children.
    streams, arn = scenario.streams, scenario.arn
    plain = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    parent = next(
        s
        for s in scenario.shards
        if s["ShardId"] in scenario.children and scenario.children[s["ShardId"]]
    )
    (child,) = scenario.children[parent["ShardId"]]
    child_filter = {"Type": "CHILD_SHARDS", "ShardId": parent["ShardId"]}
    one = streams.describe_stream(StreamArn=arn, ShardFilter=child_filter, Limit=1)
    assert one["StreamDescription"] == {**plain, "Shards": [child]}
    after = streams.describe_stream(
        StreamArn=arn, ShardFilter=child_filter, ExclusiveStartShardId=child["ShardId"]
    )
    assert after["StreamDescription"] == {**plain, "Shards": []}
    leaf = next(s for s in scenario.shards if not scenario.children[s["ShardId"]])
    leaf_filter = {"Type": "CHILD_SHARDS", "ShardId": leaf["ShardId"]}
    got = streams.describe_stream(StreamArn=arn, ShardFilter=leaf_filter)
    assert got["StreamDescription"] == {**plain, "Shards": []}
