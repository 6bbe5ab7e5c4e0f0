"""DescribeStream conformance (streams-api.md §2): the description, shards, paging, ShardFilter,
disabled and deleted streams, and validation. Runs on the shared server (4 shards per stream)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import RunningServer, start_server

from streams.stream_helpers import (
    ACCOUNT,
    DESCRIPTION_MEMBERS,
    GHOST_ARN,
    GHOST_SHARD,
    INVALID_STREAM_ARN,
    MALFORMED_ARNS,
    NOT_NULL,
    NUMBER_NOT_STRING,
    REGION,
    SEQUENCE_RE,
    SHARD_FILTER_SHARD_ID,
    SHARD_FILTER_TYPES,
    SHARD_ID_RE,
    STRING_NOT_INTEGER,
    VIEW_TYPES,
    N,
    all_shards,
    create_stream_table,
    delete_table,
    describe_pages,
    disable_stream,
    error,
    invalid,
    max_length,
    max_value,
    min_length,
    min_value,
    put_ids,
    raw,
    raw_error,
    raw_ok,
    read_shard,
    serialization,
    stream_not_found,
    validation,
    wait_stream_status,
    wait_until,
)


def describe(streams: Any, **request: Any) -> dict[str, Any]:
    """One DescribeStream page."""
    desc: dict[str, Any] = streams.describe_stream(**request)["StreamDescription"]
    return desc


def test_describe_stream_new_stream(
    ddb: Any, streams: Any, server: RunningServer, table_name: str
) -> None:
    # A new stream: exactly the documented members, status ENABLED, the table's key schema,
    # CreationRequestDateTime as epoch seconds, and N open shards without parents, sorted by id,
    # ids shardId-<20-digit creation epoch ms>-<8 hex>, 21-digit starting sequence numbers.
    before = time.time()
    arn = create_stream_table(ddb, table_name, "NEW_IMAGE")
    after = time.time()
    wait_stream_status(streams, arn, "ENABLED")
    body = raw_ok(server.port, "DescribeStream", {"StreamArn": arn})
    assert set(body) == {"StreamDescription"}
    desc = body["StreamDescription"]
    assert set(desc) == DESCRIPTION_MEMBERS
    assert {k: desc[k] for k in ("StreamArn", "StreamLabel", "StreamStatus", "StreamViewType")} == {
        "StreamArn": arn,
        "StreamLabel": arn.rsplit("/", 1)[1],
        "StreamStatus": "ENABLED",
        "StreamViewType": "NEW_IMAGE",
    }
    assert desc["TableName"] == table_name
    assert desc["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    created = desc["CreationRequestDateTime"]
    assert type(created) in (int, float)
    assert before - 0.002 <= created <= after + 0.002
    shards = desc["Shards"]
    assert len(shards) == 4
    ids = [s["ShardId"] for s in shards]
    assert ids == sorted(ids) and len(set(ids)) == 4
    starts = []
    for shard in shards:
        assert set(shard) == {"ShardId", "SequenceNumberRange"}
        assert SHARD_ID_RE.fullmatch(shard["ShardId"])
        created_ms = int(shard["ShardId"].split("-")[1])
        assert math.floor(before * 1000) <= created_ms <= math.ceil(after * 1000) + 4
        assert set(shard["SequenceNumberRange"]) == {"StartingSequenceNumber"}
        start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
        assert SEQUENCE_RE.fullmatch(start)
        starts.append(start)
    assert len(set(starts)) == 4


def test_describe_stream_hash_and_range_key_schema(ddb: Any, streams: Any, table_name: str) -> None:
    # KeySchema is the table's primary key, HASH first.
    arn = create_stream_table(ddb, table_name, "KEYS_ONLY", (("pk", "S"), ("sk", "N")))
    assert describe(streams, StreamArn=arn)["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]


@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_describe_stream_view_type(ddb: Any, streams: Any, table_name: str, view_type: str) -> None:
    # StreamViewType is the one given when the stream was enabled.
    arn = create_stream_table(ddb, table_name, view_type)
    assert describe(streams, StreamArn=arn)["StreamViewType"] == view_type


def test_describe_stream_disabled(ddb: Any, streams: Any, table_name: str) -> None:
    # Disabling closes every open shard: status DISABLED, the same shards, each with an
    # EndingSequenceNumber equal to its last record's number (its starting number when empty).
    arn = create_stream_table(ddb, table_name)
    put_ids(ddb, table_name, "a", "b", "c", "d", "e", "f", v=N("1"))
    open_shards = all_shards(streams, arn)
    disable_stream(ddb, table_name)
    desc = wait_stream_status(streams, arn, "DISABLED")
    assert (desc["StreamViewType"], desc["TableName"]) == ("NEW_AND_OLD_IMAGES", table_name)
    closed = desc["Shards"]
    assert [s["ShardId"] for s in closed] == [s["ShardId"] for s in open_shards]
    for before, shard in zip(open_shards, closed, strict=True):
        span = shard["SequenceNumberRange"]
        assert (
            span["StartingSequenceNumber"]
            == before["SequenceNumberRange"]["StartingSequenceNumber"]
        )
        records = read_shard(streams, arn, shard["ShardId"]).records
        last = (
            records[-1]["dynamodb"]["SequenceNumber"] if records else span["StartingSequenceNumber"]
        )
        assert span["EndingSequenceNumber"] == last
    assert sum(len(read_shard(streams, arn, s["ShardId"]).records) for s in closed) == 6


def test_describe_stream_of_deleted_table(ddb: Any, streams: Any, table_name: str) -> None:
    # The stream of a deleted table still describes (DISABLED, original table name, every shard
    # closed) and its records stay readable to the end of each shard, also after the table is
    # re-created with a new stream. Deleting the table adds no REMOVE records.
    arn = create_stream_table(ddb, table_name)
    put_ids(ddb, table_name, "a", "b", "c", v=N("1"))
    delete_table(ddb, table_name)
    desc = wait_stream_status(streams, arn, "DISABLED")
    assert desc["TableName"] == table_name
    assert all("EndingSequenceNumber" in s["SequenceNumberRange"] for s in desc["Shards"])
    reads = [read_shard(streams, arn, s["ShardId"]) for s in desc["Shards"]]
    assert all(r.ended for r in reads)
    captured = sorted(
        (r["eventName"], r["dynamodb"]["Keys"]["id"]["S"]) for x in reads for r in x.records
    )
    assert captured == [("INSERT", "a"), ("INSERT", "b"), ("INSERT", "c")]
    new = create_stream_table(ddb, table_name)
    assert new != arn
    again = describe(streams, StreamArn=arn)
    assert (again["StreamStatus"], again["TableName"]) == ("DISABLED", table_name)


@pytest.mark.parametrize(("limit", "sizes"), [(1, [1, 1, 1, 1]), (3, [3, 1]), (4, [4]), (100, [4])])
def test_describe_stream_paging(
    ddb: Any, streams: Any, table_name: str, limit: int, sizes: list[int]
) -> None:
    # LastEvaluatedShardId is the page's last ShardId, present only while more shards follow
    # (Q-S9); ExclusiveStartShardId resumes strictly after it.
    arn = create_stream_table(ddb, table_name)
    everything = describe(streams, StreamArn=arn)["Shards"]
    pages = describe_pages(streams, arn, limit)
    for page in pages[:-1]:
        assert page["LastEvaluatedShardId"] == page["Shards"][-1]["ShardId"]
    seen = [s for page in pages for s in page["Shards"]]
    assert ([len(page["Shards"]) for page in pages], seen) == (sizes, everything)


def test_describe_stream_exclusive_start_positions(
    ddb: Any, streams: Any, server: RunningServer, table_name: str
) -> None:
    # After the first shard: the other three; after the last shard, or after a shard that is not
    # in the stream: `Shards: []` without a cookie and without an error (observed on AWS).
    arn = create_stream_table(ddb, table_name)
    everything = describe(streams, StreamArn=arn)["Shards"]
    first, last = everything[0]["ShardId"], everything[-1]["ShardId"]
    assert describe(streams, StreamArn=arn, ExclusiveStartShardId=first)["Shards"] == everything[1:]
    for start in (last, GHOST_SHARD):
        body = raw_ok(
            server.port, "DescribeStream", {"StreamArn": arn, "ExclusiveStartShardId": start}
        )
        desc = body["StreamDescription"]
        assert desc["Shards"] == []
        assert "LastEvaluatedShardId" not in desc


def test_describe_stream_default_limit_is_100(tmp_path: Path) -> None:
    # Without Limit a page holds 100 shards: 60 shards per stream, rotated once or more (each
    # rotation adds 60 children), then disabled so the shard list stops growing.
    own = start_server(tmp_path / "data", "--stream-shards", "60", "--shard-rotation", "1s")
    try:
        ddb, streams = own.client(), own.streams()
        arn = create_stream_table(ddb, "many-shards")
        wait_until(lambda: len(all_shards(streams, arn)) > 100, "a rotation", timeout=30)
        disable_stream(ddb, "many-shards")
        wait_stream_status(streams, arn, "DISABLED")
        total = len(all_shards(streams, arn))
        assert 100 < total <= 200  # precondition: the rest fits on a second page
        desc = describe(streams, StreamArn=arn)
        assert len(desc["Shards"]) == 100
        assert desc["LastEvaluatedShardId"] == desc["Shards"][-1]["ShardId"]
        rest = describe(streams, StreamArn=arn, ExclusiveStartShardId=desc["LastEvaluatedShardId"])
        assert len(rest["Shards"]) == total - 100
        assert "LastEvaluatedShardId" not in rest
    finally:
        own.stop()


def test_describe_stream_child_filter_without_children(
    ddb: Any, streams: Any, table_name: str
) -> None:
    # ShardFilter CHILD_SHARDS returns the normal description with only the children of the
    # given shard: none before any rotation, and none for an unknown well-formed id (Q-S10).
    arn = create_stream_table(ddb, table_name)
    plain = describe(streams, StreamArn=arn)
    for parent in (plain["Shards"][0]["ShardId"], GHOST_SHARD):
        filtered = describe(
            streams, StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": parent}
        )
        assert filtered == {**plain, "Shards": []}


def test_describe_stream_unknown_stream(streams: Any, server: RunningServer) -> None:
    # A well-formed ARN of no stream: ResourceNotFoundException with the observed AWS text;
    # botocore maps it to the modeled exception class.
    assert raw_error(server.port, "DescribeStream", {"StreamArn": GHOST_ARN}) == error(
        "ResourceNotFoundException", stream_not_found(GHOST_ARN)
    )
    with pytest.raises(streams.exceptions.ResourceNotFoundException):
        streams.describe_stream(StreamArn=GHOST_ARN)


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({}, invalid(None, "streamArn", NOT_NULL)),
        (
            {"StreamArn": "arn:aws:dynamodb:x"},
            invalid("arn:aws:dynamodb:x", "streamArn", min_length(37)),
        ),
        (
            {"StreamArn": GHOST_ARN + "x" * (1025 - len(GHOST_ARN))},
            invalid(GHOST_ARN + "x" * (1025 - len(GHOST_ARN)), "streamArn", max_length(1024)),
        ),
        ({"StreamArn": GHOST_ARN, "Limit": 0}, invalid(0, "limit", min_value(1))),
        ({"StreamArn": GHOST_ARN, "Limit": -1}, invalid(-1, "limit", min_value(1))),
        ({"StreamArn": GHOST_ARN, "Limit": 101}, invalid(101, "limit", max_value(100))),
        (
            {"StreamArn": GHOST_ARN, "ExclusiveStartShardId": "shardId-1"},
            invalid("shardId-1", "exclusiveStartShardId", min_length(28)),
        ),
        (
            {"StreamArn": GHOST_ARN, "ExclusiveStartShardId": GHOST_SHARD + "0" * 29},
            invalid(GHOST_SHARD + "0" * 29, "exclusiveStartShardId", max_length(65)),
        ),
        (
            {"StreamArn": GHOST_ARN, "ShardFilter": {"ShardId": GHOST_SHARD}},
            invalid(None, "shardFilter.type", NOT_NULL),
        ),
        (
            {
                "StreamArn": GHOST_ARN,
                "ShardFilter": {"Type": "PARENT_SHARDS", "ShardId": GHOST_SHARD},
            },
            invalid("PARENT_SHARDS", "shardFilter.type", SHARD_FILTER_TYPES),
        ),
        (
            {"StreamArn": GHOST_ARN, "ShardFilter": {"Type": "CHILD_SHARDS"}},
            invalid(None, "shardFilter.shardId", NOT_NULL),
        ),
    ],
)
def test_describe_stream_constraint_violations(
    server: RunningServer, request_body: dict[str, Any], message: str
) -> None:
    # Required members, lengths, Limit 1..100 and the ShardFilter enum are checked before the
    # stream is looked up (the ARN names no stream): ValidationException, AWS standard form.
    assert raw_error(server.port, "DescribeStream", request_body) == validation(message)


@pytest.mark.parametrize(
    ("shard_filter", "message"),
    [
        (
            {"Type": "CHILD_SHARDS", "ShardId": "qwerty"},
            invalid("qwerty", SHARD_FILTER_SHARD_ID, min_length(28)),
        ),
        (
            {"Type": "CHILD_SHARDS", "ShardId": GHOST_SHARD + "0" * 29},
            invalid(GHOST_SHARD + "0" * 29, SHARD_FILTER_SHARD_ID, max_length(65)),
        ),
    ],
)
def test_describe_stream_shard_filter_shard_id(
    server: RunningServer, shard_filter: dict[str, str], message: str
) -> None:
    # A ShardFilter.ShardId of the wrong length is a ValidationException whose message contains
    # `ShardFilter.ShardId` (observed on AWS for "qwerty").
    got = raw_error(
        server.port, "DescribeStream", {"StreamArn": GHOST_ARN, "ShardFilter": shard_filter}
    )
    assert SHARD_FILTER_SHARD_ID in got[1]
    assert got == validation(message)


@pytest.mark.parametrize(
    "arn",
    [
        *MALFORMED_ARNS,
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/bad name/stream/2025-11-26T11:58:02.123",
    ],
)
def test_describe_stream_malformed_arn(server: RunningServer, arn: str) -> None:
    # A well-sized but malformed StreamArn is a ValidationException, not ResourceNotFound
    # (observed on AWS; DynamoDB Local differs).
    assert raw_error(server.port, "DescribeStream", {"StreamArn": arn}) == validation(
        INVALID_STREAM_ARN
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"StreamArn": GHOST_ARN, "Limit": "5"}, serialization(STRING_NOT_INTEGER)),
        ({"StreamArn": 5}, serialization(NUMBER_NOT_STRING)),
        (b"null", serialization()),
    ],
)
def test_describe_stream_wrong_json_types(server: RunningServer, data: Any, expected: Any) -> None:
    # Q-W2: wrong JSON types are a SerializationException, checked first.
    assert raw(server.port, "DescribeStream", data).answer() == (400, expected)
