"""The table side of streams against a live server (records.md §7, stream-model.md §1-2):
StreamSpecification on CreateTable / UpdateTable / DescribeTable, enabling, disabling,
re-enabling, validation, DeleteTable, re-creation, unrelated table changes and restarts."""

from __future__ import annotations

import datetime
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import RunningServer, start_server

from streams.stream_helpers import (
    ACCOUNT,
    AWS_SEQUENCE_RE,
    DESCRIPTION_MEMBERS,
    DYNAMODB_TARGET,
    LABEL_RE,
    REGION,
    SHARD_ID_RE,
    VIEW_TYPES,
    S,
    compact,
    create_stream_table,
    create_table,
    delete_table,
    describe_stream,
    disable_stream,
    expect,
    key_schema,
    listed_streams,
    raw_error,
    read_by_shard,
    read_iterator,
    read_stream,
    shard_iterator,
    wait_active,
    wait_stream_status,
)

DEFAULT_SHARDS = 4  # `--stream-shards` default
# streams-api.md §0: the well-formedness regex for stream ARNs.
ARN_RE = re.compile(
    r"arn:aws[a-zA-Z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[a-zA-Z0-9_.-]{3,255}/stream/"
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}"
)
# stream-model.md §1.2: what the Java Kinesis adapter requires.
KINESIS_ARN_RE = re.compile(
    r"arn:aws[^:]*:dynamodb:(?P<region>[-a-z0-9]+):(?P<accountId>[0-9]{12}):"
    r"table/(?P<tableName>[^/]+)/stream/(?P<streamLabel>.+)"
)
INVALID = "One or more parameter values were invalid: "
ENUM_MESSAGE = (
    "1 validation error detected: Value 'Fisk' at 'streamSpecification.streamViewType' failed "
    "to satisfy constraint: Member must satisfy enum value set: "
    "[NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]"
)
NULL_MESSAGE = (
    "1 validation error detected: Value null at 'streamSpecification.streamEnabled' failed to "
    "satisfy constraint: Member must not be null"
)
ALREADY_ENABLED = "Table already has an enabled stream: TableName: {name}"
NOTHING_TO_DISABLE = "Table has no stream to disable: TableName: {name}"
VIEW_REQUIRED = INVALID + "If stream is being enabled then UpdateViewType is required"
VIEW_FORBIDDEN = INVALID + "If stream is being disabled, then UpdateViewType must not be specified"
IOPS = "cannot modify stream status while updating table IOPS"
STREAM_MEMBERS = ("StreamSpecification", "LatestStreamArn", "LatestStreamLabel")


def enable(view: str) -> dict[str, Any]:
    return {"StreamEnabled": True, "StreamViewType": view}


DISABLE = {"StreamEnabled": False}


def stream_members(desc: dict[str, Any]) -> dict[str, Any]:
    return {m: desc[m] for m in STREAM_MEMBERS if m in desc}


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    """(code, message) of a boto3 call that must fail."""
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


def assert_null_stream_enabled(port: int, operation: str, body: dict[str, Any]) -> None:
    """A raw DynamoDB request fails with the null-StreamEnabled ValidationException. Only the
    part of `__type` after '#' is compared: DynamoDB answers constraint errors as
    `com.amazon.coral.validate#...`, and clients ignore the prefix."""
    error_type, message = raw_error(port, DYNAMODB_TARGET + operation, body)
    assert (error_type.rpartition("#")[2], message) == ("ValidationException", NULL_MESSAGE)


def entry(table: str, arn: str) -> dict[str, str]:
    return {"StreamArn": arn, "TableName": table, "StreamLabel": arn.rsplit("/", 1)[1]}


def label_time(label: str) -> float:
    parsed = datetime.datetime.strptime(label, "%Y-%m-%dT%H:%M:%S.%f")
    return parsed.replace(tzinfo=datetime.UTC).timestamp()


def check_arn(table: str, arn: str, label: str) -> None:
    """stream-model.md §1.1-1.2 and streams-api.md §0: label and ARN formats."""
    assert LABEL_RE.fullmatch(label), label
    assert arn == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}/stream/{label}"
    assert ARN_RE.fullmatch(arn), arn
    match = KINESIS_ARN_RE.fullmatch(arn)
    assert match is not None
    assert match.groupdict() == {
        "region": REGION,
        "accountId": ACCOUNT,
        "tableName": table,
        "streamLabel": label,
    }


def check_open_stream(
    streams: Any, arn: str, table: str, view: str, keys: list[dict[str, str]]
) -> dict[str, Any]:
    """An ENABLED stream as DescribeStream shows it: every member, DEFAULT_SHARDS open root
    shards sorted by id."""
    desc = describe_stream(streams, arn)
    assert set(desc) == DESCRIPTION_MEMBERS
    assert desc["StreamArn"] == arn
    assert desc["StreamLabel"] == arn.rsplit("/", 1)[1]
    assert desc["StreamStatus"] == "ENABLED"
    assert desc["StreamViewType"] == view
    assert desc["TableName"] == table
    assert desc["KeySchema"] == keys
    assert isinstance(desc["CreationRequestDateTime"], datetime.datetime)
    shards = desc["Shards"]
    assert len(shards) == DEFAULT_SHARDS
    assert [s["ShardId"] for s in shards] == sorted(s["ShardId"] for s in shards)
    for shard in shards:
        assert set(shard) == {"ShardId", "SequenceNumberRange"}, shard
        assert SHARD_ID_RE.fullmatch(shard["ShardId"])
        assert set(shard["SequenceNumberRange"]) == {"StartingSequenceNumber"}
        assert AWS_SEQUENCE_RE.fullmatch(shard["SequenceNumberRange"]["StartingSequenceNumber"])
    return desc


def wait_disabled(streams: Any, arn: str) -> dict[str, Any]:
    """The stream once DISABLED (it may pass through DISABLING)."""
    return wait_stream_status(streams, arn, "DISABLED", via=("DISABLING",))


def check_closed(streams: Any, desc: dict[str, Any]) -> None:
    """Every shard of a disabled stream is closed: EndingSequenceNumber is its last record's
    number (its starting number when it has none), and the read that returns its last records
    already omits NextShardIterator."""
    arn = desc["StreamArn"]
    for shard in desc["Shards"]:
        numbers = shard["SequenceNumberRange"]
        assert "EndingSequenceNumber" in numbers, shard
        page = streams.get_records(ShardIterator=shard_iterator(streams, arn, shard["ShardId"]))
        assert "NextShardIterator" not in page, shard
        last = (
            page["Records"][-1]["dynamodb"]["SequenceNumber"]
            if page["Records"]
            else numbers["StartingSequenceNumber"]
        )
        assert numbers["EndingSequenceNumber"] == last, shard


def hash_keys(name: str = "id") -> list[dict[str, str]]:
    return [{"AttributeName": name, "KeyType": "HASH"}]


# ---- CreateTable ----------------------------------------------------------------------------


@pytest.mark.parametrize("view", VIEW_TYPES)
def test_lifecycle_create_table_with_stream(
    ddb: Any, streams: Any, table_name: str, view: str
) -> None:
    # DynamoDB rule (records.md §7.2, stream-model.md §1, §2.2): the CreateTable response already
    # holds StreamSpecification, LatestStreamArn and LatestStreamLabel (label = creation time,
    # ISO-8601 with milliseconds and no zone; ARN = table ARN + /stream/<label>); DescribeTable
    # repeats them; ListStreams lists exactly that stream; it is ENABLED as soon as the call
    # returns, with its shards open.
    before = time.time()
    desc = ddb.create_table(
        TableName=table_name,
        **key_schema(("id", "S"), ("sk", "N")),
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification=enable(view),
    )["TableDescription"]
    after = time.time()
    keys = [
        {"AttributeName": "id", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert "LatestStreamArn" in desc, desc
    described = check_open_stream(streams, desc["LatestStreamArn"], table_name, view, keys)
    assert desc["TableStatus"] == "CREATING"
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": view}
    arn, label = desc["LatestStreamArn"], desc["LatestStreamLabel"]
    check_arn(table_name, arn, label)
    assert before - 1 <= label_time(label) <= after + 1
    created = described["CreationRequestDateTime"].timestamp()
    assert before - 1 <= created <= after + 1

    assert stream_members(wait_active(ddb, table_name)) == stream_members(desc)
    assert listed_streams(streams, TableName=table_name) == [entry(table_name, arn)]
    assert entry(table_name, arn) in listed_streams(streams)


def test_lifecycle_create_table_without_stream(ddb: Any, streams: Any, table_name: str) -> None:
    # DynamoDB rule (records.md §7.2): {StreamEnabled: false} is accepted and, like no
    # specification at all, leaves StreamSpecification and LatestStream* out; ListStreams of
    # such a table is empty.
    disabled, absent = table_name + "-off", table_name + "-none"
    desc = create_table(ddb, disabled, None, StreamSpecification=DISABLE)
    assert stream_members(desc) == {}
    assert stream_members(create_table(ddb, absent, None)) == {}
    for name in (disabled, absent):
        assert stream_members(ddb.describe_table(TableName=name)["Table"]) == {}
        assert listed_streams(streams, TableName=name) == []


# ---- UpdateTable ----------------------------------------------------------------------------


def test_lifecycle_enable_with_update_table(ddb: Any, streams: Any, table_name: str) -> None:
    # DynamoDB rule (records.md §7.2, Q-M3): UpdateTable enabling a stream answers UPDATING with
    # the requested spec and the new stream's ARN/label; the stream is ENABLED when the call
    # returns and captures every write committed after it (and nothing from before).
    create_table(ddb, table_name)
    ddb.put_item(TableName=table_name, Item={"id": S("before")})
    before = time.time()
    desc = ddb.update_table(TableName=table_name, StreamSpecification=enable("NEW_IMAGE"))[
        "TableDescription"
    ]
    after = time.time()
    check_open_stream(streams, desc["LatestStreamArn"], table_name, "NEW_IMAGE", hash_keys())
    assert desc["TableStatus"] == "UPDATING"
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    arn, label = desc["LatestStreamArn"], desc["LatestStreamLabel"]
    check_arn(table_name, arn, label)
    assert before - 1 <= label_time(label) <= after + 1
    assert stream_members(wait_active(ddb, table_name)) == stream_members(desc)
    assert listed_streams(streams, TableName=table_name) == [entry(table_name, arn)]

    after_item = {"id": S("after"), "v": S("1")}  # keys 2 + 5 = 7, item 7 + 2 = 9
    ddb.put_item(TableName=table_name, Item=after_item)
    assert [compact(r) for r in read_stream(streams, arn)] == [
        expect("NEW_IMAGE", "INSERT", {"id": S("after")}, after_item, sizes=(7, 9, 0))
    ]


def test_lifecycle_disable_stream(ddb: Any, streams: Any, table_name: str) -> None:
    # DynamoDB rule (records.md §7.2, stream-model.md §2.2): disabling omits StreamSpecification
    # (never {StreamEnabled: false}) while LatestStreamArn/Label stay; the stream becomes
    # DISABLED with every shard closed, stays listed, its records stay readable, and writes made
    # afterwards produce nothing.
    view = "NEW_AND_OLD_IMAGES"
    arn = create_stream_table(ddb, table_name, view)
    for i in range(8):
        ddb.put_item(TableName=table_name, Item={"id": S(f"k{i}")})
    ddb.update_item(
        TableName=table_name,
        Key={"id": S("k0")},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": S("x")},
    )
    records = read_stream(streams, arn)
    assert len(records) == 9
    latest = {"LatestStreamArn": arn, "LatestStreamLabel": arn.rsplit("/", 1)[1]}

    desc = ddb.update_table(TableName=table_name, StreamSpecification=DISABLE)["TableDescription"]
    assert desc["TableStatus"] == "UPDATING"
    assert stream_members(desc) == latest
    assert stream_members(wait_active(ddb, table_name)) == latest
    for i in range(8, 12):
        ddb.put_item(TableName=table_name, Item={"id": S(f"k{i}")})
    ddb.delete_item(TableName=table_name, Key={"id": S("k0")})

    described = wait_disabled(streams, arn)
    assert described["StreamViewType"] == view
    assert described["TableName"] == table_name
    assert len(described["Shards"]) == DEFAULT_SHARDS
    check_closed(streams, described)
    assert read_stream(streams, arn) == records
    assert listed_streams(streams, TableName=table_name) == [entry(table_name, arn)]


def test_lifecycle_reenable_creates_new_streams(ddb: Any, streams: Any, table_name: str) -> None:
    # DynamoDB rule (stream-model.md §2.2, streams-api.md §1.3): re-enabling creates a new stream
    # (new ARN and label, LatestStream* switch in the same response); the old one stays DISABLED
    # and readable; ListStreams(TableName) lists them all, newest first (two cycles: 2 DISABLED
    # + 1 ENABLED).
    first = create_stream_table(ddb, table_name, "KEYS_ONLY")
    ddb.put_item(TableName=table_name, Item={"id": S("a"), "v": S("1")})
    arns = [first]
    for view, name in (("NEW_AND_OLD_IMAGES", "b"), ("NEW_IMAGE", "c")):
        disable_stream(ddb, table_name)
        ddb.put_item(TableName=table_name, Item={"id": S("gap")})  # no stream: not captured
        desc = ddb.update_table(TableName=table_name, StreamSpecification=enable(view))[
            "TableDescription"
        ]
        new = desc["LatestStreamArn"]
        assert new not in arns
        check_arn(table_name, new, desc["LatestStreamLabel"])
        assert desc["LatestStreamLabel"] > arns[-1].rsplit("/", 1)[1]
        assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": view}
        check_open_stream(streams, new, table_name, view, hash_keys())
        assert stream_members(wait_active(ddb, table_name)) == stream_members(desc)
        ddb.put_item(TableName=table_name, Item={"id": S(name), "v": S("1")})
        arns.append(new)

    assert listed_streams(streams, TableName=table_name) == [
        entry(table_name, a) for a in reversed(arns)
    ]
    for old in arns[:2]:
        wait_disabled(streams, old)
    assert describe_stream(streams, arns[2])["StreamStatus"] == "ENABLED"

    def item(name: str) -> dict[str, Any]:
        return {"id": S(name), "v": S("1")}  # keys 2 + 1 = 3, item 3 + 2 = 5

    def keys(name: str) -> dict[str, Any]:
        return {"id": S(name)}

    gap = {"id": S("gap")}  # 2 + 3 = 5
    assert [compact(r) for r in read_stream(streams, arns[0])] == [
        expect("KEYS_ONLY", "INSERT", keys("a"), item("a"), sizes=(3, 5, 0))
    ]
    assert [compact(r) for r in read_stream(streams, arns[1])] == [
        expect("NEW_AND_OLD_IMAGES", "INSERT", keys("b"), item("b"), sizes=(3, 5, 0))
    ]
    # The "gap" writes happened while no stream was enabled: none of the streams has them.
    assert [compact(r) for r in read_stream(streams, arns[2])] == [
        expect("NEW_IMAGE", "INSERT", keys("c"), item("c"), sizes=(3, 5, 0))
    ]
    ddb.delete_item(TableName=table_name, Key=gap)
    assert [compact(r) for r in read_stream(streams, arns[2])][-1] == expect(
        "NEW_IMAGE", "REMOVE", gap, old=gap, sizes=(5, 0, 5)
    )


# ---- validation -----------------------------------------------------------------------------

UPDATE_ERRORS = [
    ("enabled", enable("KEYS_ONLY"), ALREADY_ENABLED),
    ("enabled", enable("NEW_AND_OLD_IMAGES"), ALREADY_ENABLED),
    ("none", DISABLE, NOTHING_TO_DISABLE),
    ("disabled", DISABLE, NOTHING_TO_DISABLE),
    ("none", {"StreamEnabled": True}, VIEW_REQUIRED),
    ("enabled", {"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"}, VIEW_FORBIDDEN),
    ("none", {"StreamEnabled": True, "StreamViewType": "Fisk"}, ENUM_MESSAGE),
]


def prepare(ddb: Any, table_name: str, state: str) -> None:
    """A table with no stream ever, an enabled KEYS_ONLY stream, or a disabled one."""
    create_table(ddb, table_name, None if state == "none" else "KEYS_ONLY")
    if state == "disabled":
        disable_stream(ddb, table_name)


@pytest.mark.parametrize(("state", "spec", "message"), UPDATE_ERRORS)
def test_lifecycle_update_table_stream_errors(
    ddb: Any, streams: Any, table_name: str, state: str, spec: dict[str, Any], message: str
) -> None:
    # DynamoDB rule (records.md §7.3, Q-E3): each invalid stream change is a ValidationException
    # with AWS's text, and changes neither the table nor its streams.
    prepare(ddb, table_name, state)
    before = ddb.describe_table(TableName=table_name)["Table"]
    listed = listed_streams(streams, TableName=table_name)
    call = lambda: ddb.update_table(TableName=table_name, StreamSpecification=spec)  # noqa: E731
    assert error_of(call) == ("ValidationException", message.format(name=table_name))
    assert ddb.describe_table(TableName=table_name)["Table"] == before
    assert listed_streams(streams, TableName=table_name) == listed


@pytest.mark.parametrize("state", ["none", "enabled"])
@pytest.mark.parametrize("spec", [{}, {"StreamViewType": "KEYS_ONLY"}])
def test_lifecycle_update_table_missing_stream_enabled(
    ddb: Any,
    streams: Any,
    server: RunningServer,
    table_name: str,
    state: str,
    spec: dict[str, Any],
) -> None:
    # DynamoDB rule (records.md §7.3): a StreamSpecification without StreamEnabled is rejected
    # as a null member (botocore refuses it client-side, so this goes over raw HTTP).
    prepare(ddb, table_name, state)
    before = ddb.describe_table(TableName=table_name)["Table"]
    body = {"TableName": table_name, "StreamSpecification": spec}
    assert_null_stream_enabled(server.port, "UpdateTable", body)
    assert ddb.describe_table(TableName=table_name)["Table"] == before
    assert len(listed_streams(streams, TableName=table_name)) == (state == "enabled")


CREATE_ERRORS = [
    ({"StreamEnabled": True}, VIEW_REQUIRED),
    ({"StreamEnabled": False, "StreamViewType": "NEW_IMAGE"}, VIEW_FORBIDDEN),
    ({"StreamEnabled": True, "StreamViewType": "Fisk"}, ENUM_MESSAGE),
]


@pytest.mark.parametrize(("spec", "message"), CREATE_ERRORS)
def test_lifecycle_create_table_stream_errors(
    ddb: Any, streams: Any, table_name: str, spec: dict[str, Any], message: str
) -> None:
    # DynamoDB rule (records.md §7.3, Q-R4): CreateTable rejects the same combinations with the
    # same texts, and creates neither the table nor a stream.
    call = lambda: ddb.create_table(  # noqa: E731
        TableName=table_name,
        **key_schema(("id", "S")),
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification=spec,
    )
    assert error_of(call) == ("ValidationException", message)
    assert error_of(lambda: ddb.describe_table(TableName=table_name))[0] == (
        "ResourceNotFoundException"
    )
    assert listed_streams(streams, TableName=table_name) == []


@pytest.mark.parametrize("spec", [{}, {"StreamViewType": "KEYS_ONLY"}])
def test_lifecycle_create_table_missing_stream_enabled(
    ddb: Any, streams: Any, server: RunningServer, table_name: str, spec: dict[str, Any]
) -> None:
    # DynamoDB rule (records.md §7.3): CreateTable with a StreamSpecification lacking
    # StreamEnabled fails as a null member and creates nothing (raw HTTP: botocore refuses it).
    body = {
        "TableName": table_name,
        **key_schema(("id", "S")),
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": spec,
    }
    assert_null_stream_enabled(server.port, "CreateTable", body)
    assert error_of(lambda: ddb.describe_table(TableName=table_name))[0] == (
        "ResourceNotFoundException"
    )
    assert listed_streams(streams, TableName=table_name) == []


@pytest.mark.parametrize("state", ["none", "enabled"])
def test_lifecycle_stream_change_with_throughput_change(
    ddb: Any, streams: Any, table_name: str, state: str
) -> None:
    # DynamoDB rule (records.md §7.3): a stream change cannot travel with a ProvisionedThroughput
    # change in one UpdateTable; nothing changes.
    create_table(
        ddb,
        table_name,
        None if state == "none" else "KEYS_ONLY",
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )
    before = ddb.describe_table(TableName=table_name)["Table"]
    listed = listed_streams(streams, TableName=table_name)
    spec = enable("NEW_IMAGE") if state == "none" else DISABLE
    call = lambda: ddb.update_table(  # noqa: E731
        TableName=table_name,
        ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
        StreamSpecification=spec,
    )
    assert error_of(call) == ("ValidationException", IOPS)
    assert ddb.describe_table(TableName=table_name)["Table"] == before
    assert listed_streams(streams, TableName=table_name) == listed


def test_lifecycle_stream_change_with_billing_mode_switch(
    ddb: Any, streams: Any, table_name: str
) -> None:
    # DynamoDB rule (records.md §7.3): a BillingMode=PAY_PER_REQUEST switch is the one change
    # that may be combined with a stream change.
    create_table(
        ddb,
        table_name,
        None,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )
    desc = ddb.update_table(
        TableName=table_name,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification=enable("OLD_IMAGE"),
    )["TableDescription"]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"}
    arn = desc["LatestStreamArn"]
    check_open_stream(streams, arn, table_name, "OLD_IMAGE", hash_keys())
    table = wait_active(ddb, table_name)
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert stream_members(table) == stream_members(desc)
    assert listed_streams(streams, TableName=table_name) == [entry(table_name, arn)]


# ---- DeleteTable and re-creation ------------------------------------------------------------


def test_lifecycle_delete_table_disables_stream(ddb: Any, streams: Any, table_name: str) -> None:
    # DynamoDB rule (stream-model.md §2.2, records.md §3.2): DeleteTable writes no REMOVE records;
    # the stream becomes DISABLED with its shards closed, is still listed, and DescribeStream
    # keeps answering with the table name; its records stay readable.
    view = "NEW_IMAGE"
    arn = create_stream_table(ddb, table_name, view)
    for i in range(5):
        ddb.put_item(TableName=table_name, Item={"id": S(f"k{i}")})
    records = read_stream(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT"] * 5
    delete_table(ddb, table_name)

    described = wait_disabled(streams, arn)
    assert described["TableName"] == table_name
    assert described["StreamViewType"] == view
    assert described["KeySchema"] == hash_keys()
    check_closed(streams, described)
    assert read_stream(streams, arn) == records
    assert listed_streams(streams, TableName=table_name) == [entry(table_name, arn)]
    assert entry(table_name, arn) in listed_streams(streams)


def test_lifecycle_recreate_table_same_name(ddb: Any, streams: Any, table_name: str) -> None:
    # DynamoDB rule (stream-model.md §2.2): re-creating a table with the same name leaves the
    # old incarnation's stream alone (DISABLED, still described with the table name, readable);
    # the new table gets a new stream; both are listed, newest first. A re-creation without a
    # stream shows no stream members, yet the old streams stay listed.
    first = create_stream_table(ddb, table_name, "NEW_IMAGE")
    ddb.put_item(TableName=table_name, Item={"id": S("a")})
    delete_table(ddb, table_name)
    desc = create_table(ddb, table_name, "OLD_IMAGE")
    second = desc["LatestStreamArn"]
    assert second != first
    check_arn(table_name, second, desc["LatestStreamLabel"])

    old = wait_disabled(streams, first)
    assert (old["TableName"], old["StreamViewType"]) == (table_name, "NEW_IMAGE")
    check_open_stream(streams, second, table_name, "OLD_IMAGE", hash_keys())
    assert listed_streams(streams, TableName=table_name) == [
        entry(table_name, second),
        entry(table_name, first),
    ]
    ddb.put_item(TableName=table_name, Item={"id": S("b")})
    a, b = {"id": S("a")}, {"id": S("b")}  # 2 + 1 = 3
    assert [compact(r) for r in read_stream(streams, first)] == [
        expect("NEW_IMAGE", "INSERT", a, a, sizes=(3, 3, 0))
    ]
    assert [compact(r) for r in read_stream(streams, second)] == [
        expect("OLD_IMAGE", "INSERT", b, b, sizes=(3, 3, 0))
    ]

    delete_table(ddb, table_name)
    create_table(ddb, table_name)
    assert stream_members(ddb.describe_table(TableName=table_name)["Table"]) == {}
    assert listed_streams(streams, TableName=table_name) == [
        entry(table_name, second),
        entry(table_name, first),
    ]
    for arn in (first, second):
        assert wait_disabled(streams, arn)["TableName"] == table_name


def test_lifecycle_table_changes_keep_stream(ddb: Any, streams: Any, table_name: str) -> None:
    # DynamoDB rule (stream-model.md §2.2, records.md §3.2): tags, GSI creation and deletion, TTL,
    # billing and throughput changes leave the stream, its ARN and its shards alone; index
    # maintenance writes no records of its own.
    view = "NEW_AND_OLD_IMAGES"
    desc = create_table(ddb, table_name, view)
    arn, table_arn = desc["LatestStreamArn"], desc["TableArn"]
    members = stream_members(desc)
    shards = check_open_stream(streams, arn, table_name, view, hash_keys())["Shards"]
    one = {"id": S("one"), "g": S("x")}  # keys 2 + 3 = 5, item 5 + 2 = 7
    two = {"id": S("two"), "g": S("y")}  # 7
    ddb.put_item(TableName=table_name, Item=one)

    gsi = {
        "IndexName": "by-g",
        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    changes: list[tuple[str, Any]] = [
        ("tag", lambda: ddb.tag_resource(ResourceArn=table_arn, Tags=[{"Key": "k", "Value": "v"}])),
        ("untag", lambda: ddb.untag_resource(ResourceArn=table_arn, TagKeys=["k"])),
        (
            "create gsi",
            lambda: ddb.update_table(
                TableName=table_name,
                AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                GlobalSecondaryIndexUpdates=[{"Create": gsi}],
            ),
        ),
        ("write", lambda: ddb.put_item(TableName=table_name, Item=two)),
        (
            "delete gsi",
            lambda: ddb.update_table(
                TableName=table_name,
                GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-g"}}],
            ),
        ),
        (
            "ttl",
            lambda: ddb.update_time_to_live(
                TableName=table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
            ),
        ),
        (
            "provisioned",
            lambda: ddb.update_table(
                TableName=table_name,
                BillingMode="PROVISIONED",
                ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            ),
        ),
        (
            "throughput",
            lambda: ddb.update_table(
                TableName=table_name,
                ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 2},
            ),
        ),
    ]
    for what, change in changes:
        change()
        table = wait_active(ddb, table_name)
        assert stream_members(table) == members, what
        assert listed_streams(streams, TableName=table_name) == [entry(table_name, arn)], what
        described = describe_stream(streams, arn)
        assert (described["StreamStatus"], described["Shards"]) == ("ENABLED", shards), what

    assert sorted(
        (compact(r) for r in read_stream(streams, arn)), key=lambda r: r["Keys"]["id"]["S"]
    ) == [
        expect(view, "INSERT", {"id": S("one")}, one, sizes=(5, 7, 0)),
        expect(view, "INSERT", {"id": S("two")}, two, sizes=(5, 7, 0)),
    ]


# ---- restart --------------------------------------------------------------------------------


def test_lifecycle_stream_survives_restart(tmp_path: Path) -> None:
    # Rivulet rule (design.md "Streams", stream-model.md §1.6): streams, shards, records and
    # iterators are durable: after a restart on the same data directory the same ARNs, shards
    # and records are served, iterators issued before the restart still read, and new records
    # get higher sequence numbers.
    data = tmp_path / "data"
    server = start_server(data)
    try:
        ddb, streams = server.client(), server.streams()
        live, off = "restart-live", "restart-off"
        arn = create_stream_table(ddb, live, "NEW_AND_OLD_IMAGES")
        off_arn = create_stream_table(ddb, off, "KEYS_ONLY")
        for i in range(10):
            ddb.put_item(TableName=live, Item={"id": S(f"k{i}"), "v": S("1")})
        ddb.put_item(TableName=off, Item={"id": S("x")})
        disable_stream(ddb, off)
        off_desc = wait_disabled(streams, off_arn)

        desc = describe_stream(streams, arn)
        per_shard = read_by_shard(streams, arn)
        assert sum(len(r) for r in per_shard.values()) == 10
        home = next(s for s, records in per_shard.items() if len(records) >= 2)
        trim = {s: shard_iterator(streams, arn, s) for s in per_shard}
        latest = shard_iterator(streams, arn, home, "LATEST")
        first_number = per_shard[home][0]["dynamodb"]["SequenceNumber"]
        after_first = shard_iterator(
            streams, arn, home, "AFTER_SEQUENCE_NUMBER", SequenceNumber=first_number
        )
        listed = listed_streams(streams)
        table = ddb.describe_table(TableName=live)["Table"]
    finally:
        assert server.stop(signal.SIGTERM) == 0

    server = start_server(data)
    try:
        ddb, streams = server.client(), server.streams()
        assert listed_streams(streams) == listed
        assert stream_members(ddb.describe_table(TableName=live)["Table"]) == stream_members(table)
        assert describe_stream(streams, arn) == desc
        assert describe_stream(streams, off_arn) == off_desc
        assert read_by_shard(streams, arn) == per_shard
        for shard_id, iterator in trim.items():
            assert read_iterator(streams, iterator).records == per_shard[shard_id]
        assert read_iterator(streams, after_first).records == per_shard[home][1:]

        # A new change of a key of `home` lands there, after everything the shard held.
        key = per_shard[home][0]["dynamodb"]["Keys"]
        ddb.update_item(
            TableName=live,
            Key=key,
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": S("2")},
        )
        new = read_iterator(streams, latest).records
        assert [(r["eventName"], r["dynamodb"]["Keys"]) for r in new] == [("MODIFY", key)]
        previous = max(int(r["dynamodb"]["SequenceNumber"]) for r in per_shard[home])
        assert int(new[0]["dynamodb"]["SequenceNumber"]) > previous
        assert read_by_shard(streams, arn)[home] == [*per_shard[home], *new]
    finally:
        assert server.stop(signal.SIGTERM) == 0
    assert "Traceback" not in server.log()
