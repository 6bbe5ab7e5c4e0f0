"""Helpers for the stream capture, lifecycle and crash tests: stream-enabled tables, whole-stream
reads in lineage order, compact record shapes, expected records per view type, raw HTTP calls."""

from __future__ import annotations

import datetime
import http.client
import itertools
import re
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "000000000000"
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
INVALID = "One or more parameter values were invalid: "
TTL_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}

LABEL_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}$")
# streams-api.md §0: the well-formedness regex for stream ARNs.
ARN_RE = re.compile(
    r"^arn:aws[a-zA-Z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[a-zA-Z0-9_.-]{3,255}/stream/"
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}$"
)
# stream-model.md §1.2: what the Java Kinesis adapter requires.
KINESIS_ARN_RE = re.compile(
    r"arn:aws[^:]*:dynamodb:(?P<region>[-a-z0-9]+):(?P<accountId>[0-9]{12}):"
    r"table/(?P<tableName>[^/]+)/stream/(?P<streamLabel>.+)"
)
EVENT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
SEQUENCE_RE = re.compile(r"^[0-9]{21,40}$")
SHARD_ID_RE = re.compile(r"^shardId-[0-9]{20}-[0-9a-f]{8}$")

RECORD_MEMBERS = {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb"}
DYNAMODB_MEMBERS = {"ApproximateCreationDateTime", "Keys", "SequenceNumber", "SizeBytes"}

RAW_HEADERS = {
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Date": "20240101T000000Z",
    "Authorization": (
        "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=abc123"
    ),
}
DYNAMODB_TARGET = "DynamoDB_20120810."
STREAMS_TARGET = "DynamoDBStreams_20120810."


# ---- tables ---------------------------------------------------------------------------------


def key_schema(hash_: tuple[str, str], range_: tuple[str, str] | None = None) -> dict[str, Any]:
    """KeySchema + AttributeDefinitions for a table keyed by (name, type) pairs."""
    keys = [{"AttributeName": hash_[0], "KeyType": "HASH"}]
    attrs = [{"AttributeName": hash_[0], "AttributeType": hash_[1]}]
    if range_ is not None:
        keys.append({"AttributeName": range_[0], "KeyType": "RANGE"})
        attrs.append({"AttributeName": range_[0], "AttributeType": range_[1]})
    return {"KeySchema": keys, "AttributeDefinitions": attrs}


def create_stream_table(
    ddb: Any,
    name: str,
    view: str | None,
    hash_: tuple[str, str] = ("id", "S"),
    range_: tuple[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Create a PAY_PER_REQUEST table (with a stream of `view` unless None); returns the
    CreateTable TableDescription."""
    request: dict[str, Any] = {
        "TableName": name,
        **key_schema(hash_, range_),
        "BillingMode": "PAY_PER_REQUEST",
        **extra,
    }
    if view is not None:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    desc: dict[str, Any] = ddb.create_table(**request)["TableDescription"]
    wait_active(ddb, name)
    return desc


def wait_active(ddb: Any, name: str, timeout: float = 10.0) -> dict[str, Any]:
    """Wait until the table and all its GSIs are ACTIVE (the server may show transitional
    statuses briefly); returns the final description."""
    deadline = time.monotonic() + timeout
    while True:
        table: dict[str, Any] = ddb.describe_table(TableName=name)["Table"]
        statuses = {table["TableStatus"]} | {
            g["IndexStatus"] for g in table.get("GlobalSecondaryIndexes", [])
        }
        if statuses == {"ACTIVE"} or time.monotonic() > deadline:
            assert statuses == {"ACTIVE"}, table
            return table
        time.sleep(0.05)


def latest_stream_arn(ddb: Any, name: str) -> str:
    arn: str = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    return arn


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


# ---- reading streams ------------------------------------------------------------------------


def describe_stream(streams: Any, arn: str) -> dict[str, Any]:
    """The StreamDescription with every shard (all DescribeStream pages joined)."""
    kwargs: dict[str, Any] = {"StreamArn": arn}
    shards: list[dict[str, Any]] = []
    while True:
        desc: dict[str, Any] = streams.describe_stream(**kwargs)["StreamDescription"]
        shards.extend(desc["Shards"])
        if "LastEvaluatedShardId" not in desc:
            desc["Shards"] = shards
            return desc
        kwargs["ExclusiveStartShardId"] = desc["LastEvaluatedShardId"]


def lineage_order(shards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shards with every parent before its children (ties by ShardId)."""
    by_id = {s["ShardId"]: s for s in shards}
    done: set[str] = set()
    ordered: list[dict[str, Any]] = []

    def visit(shard: dict[str, Any]) -> None:
        if shard["ShardId"] in done:
            return
        parent = shard.get("ParentShardId")
        if parent in by_id:
            visit(by_id[parent])
        done.add(shard["ShardId"])
        ordered.append(shard)

    for shard in sorted(shards, key=lambda s: s["ShardId"]):
        visit(shard)
    return ordered


def read_shard(streams: Any, arn: str, shard_id: str, iterator: str | None = None) -> list[Any]:
    """Every record of a shard from TRIM_HORIZON (or from `iterator`) until the end of a closed
    shard or, on an open shard, until a page comes back empty."""
    if iterator is None:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
    records: list[Any] = []
    while iterator is not None:
        page = streams.get_records(ShardIterator=iterator)
        records.extend(page["Records"])
        iterator = page.get("NextShardIterator")
        if not page["Records"]:
            break
    return records


def read_by_shard(streams: Any, arn: str) -> dict[str, list[Any]]:
    """Records of every shard, shards in lineage order."""
    shards = lineage_order(describe_stream(streams, arn)["Shards"])
    return {s["ShardId"]: read_shard(streams, arn, s["ShardId"]) for s in shards}


def read_stream(streams: Any, arn: str) -> list[Any]:
    """The whole stream, shard after shard in lineage order (so per-key order is kept)."""
    return [r for records in read_by_shard(streams, arn).values() for r in records]


def key_of(record: dict[str, Any]) -> tuple[Any, ...]:
    """A hashable form of a record's Keys."""
    keys = record["dynamodb"]["Keys"]
    return tuple(sorted((name, repr(value)) for name, value in keys.items()))


def item_key(item: dict[str, Any], names: tuple[str, ...] = ("id",)) -> tuple[Any, ...]:
    return tuple(sorted((name, repr(item[name])) for name in names))


def by_key(records: list[Any]) -> dict[tuple[Any, ...], list[Any]]:
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for record in records:
        grouped.setdefault(key_of(record), []).append(record)
    return grouped


# ---- record shapes --------------------------------------------------------------------------


def canon(value: Any) -> Any:
    """An attribute value (or map of them) with set members sorted: set order is not defined."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for kind, payload in value.items():
            if kind in ("SS", "NS", "BS"):
                out[kind] = sorted(payload)
            elif kind == "M":
                out[kind] = {k: canon(v) for k, v in payload.items()}
            elif kind == "L":
                out[kind] = [canon(v) for v in payload]
            elif isinstance(payload, dict):
                out[kind] = canon(payload)
            else:
                out[kind] = payload
        return out
    return value


def image_map(item: dict[str, Any]) -> dict[str, Any]:
    return {name: canon(value) for name, value in item.items()}


def compact(record: dict[str, Any]) -> dict[str, Any]:
    """The parts of a record a test predicts exactly: eventName, Keys, images, SizeBytes (and the
    userIdentity when there is one)."""
    ddb = record["dynamodb"]
    out: dict[str, Any] = {"eventName": record["eventName"], "Keys": image_map(ddb["Keys"])}
    for image in ("NewImage", "OldImage"):
        if image in ddb:
            out[image] = image_map(ddb[image])
    out["SizeBytes"] = ddb["SizeBytes"]
    if "userIdentity" in record:
        out["userIdentity"] = record["userIdentity"]
    return out


def expect(
    view: str,
    event: str,
    keys: dict[str, Any],
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    *,
    sizes: tuple[int, int, int],
    identity: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The compact record a change produces on a stream of `view` (records.md §2): `sizes` are
    the item sizes of (keys, new item, old item); SizeBytes adds the images that are included."""
    key_size, new_size, old_size = sizes
    out: dict[str, Any] = {"eventName": event, "Keys": image_map(keys)}
    size = key_size
    if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and event != "REMOVE":
        assert new is not None
        out["NewImage"] = image_map(new)
        size += new_size
    if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and event != "INSERT":
        assert old is not None
        out["OldImage"] = image_map(old)
        size += old_size
    out["SizeBytes"] = size
    if identity is not None:
        out["userIdentity"] = identity
    return out


def check_envelope(
    record: dict[str, Any], view: str, *, not_before: float, not_after: float
) -> None:
    """The members every GetRecords record has (records.md §1) through boto3: exact member set,
    constants, a 32-hex eventID, a 21-40 digit sequence number, a whole-second creation time
    between the two instants, no userIdentity and no eventSourceARN on a user write."""
    assert set(record) == RECORD_MEMBERS, record
    assert record["eventVersion"] == "1.1"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == REGION
    assert EVENT_ID_RE.match(record["eventID"]), record["eventID"]
    ddb = record["dynamodb"]
    images = {n for n in ("NewImage", "OldImage") if n in ddb}
    assert set(ddb) == DYNAMODB_MEMBERS | {"StreamViewType"} | images, ddb
    assert ddb["StreamViewType"] == view
    assert SEQUENCE_RE.match(ddb["SequenceNumber"]), ddb["SequenceNumber"]
    created = ddb["ApproximateCreationDateTime"]
    assert isinstance(created, datetime.datetime)
    assert created.microsecond == 0, created
    assert int(not_before) <= created.timestamp() <= not_after, (created, not_before, not_after)


def sequence_numbers(records: list[Any]) -> list[int]:
    return [int(r["dynamodb"]["SequenceNumber"]) for r in records]


def strictly_increasing(values: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(values))


# ---- raw HTTP -------------------------------------------------------------------------------


def raw_post(port: int, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST one AWS JSON 1.0 request without botocore (no client-side validation, no parsing of
    the response beyond JSON)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST", "/", body=orjson.dumps(body), headers={**RAW_HEADERS, "X-Amz-Target": target}
        )
        response = conn.getresponse()
        raw = response.read()
        parsed: dict[str, Any] = orjson.loads(raw) if raw else {}
        return response.status, parsed
    finally:
        conn.close()


def raw_ok(port: int, target: str, body: dict[str, Any]) -> dict[str, Any]:
    status, parsed = raw_post(port, target, body)
    assert status == 200, parsed
    return parsed


def raw_error(port: int, target: str, body: dict[str, Any]) -> tuple[int, str, str]:
    """(HTTP status, error code, message) of a request that must fail. The code is the part of
    `__type` after '#': the prefix differs by error family (DynamoDB itself answers constraint
    errors as `com.amazon.coral.validate#...`) and clients ignore it."""
    status, parsed = raw_post(port, target, body)
    assert status != 200, parsed
    message = parsed.get("message", parsed.get("Message"))
    return status, parsed.get("__type", "").rpartition("#")[2], message


def raw_read_stream(port: int, arn: str) -> list[dict[str, Any]]:
    """The whole stream as wire JSON (shards in lineage order), read with raw HTTP calls."""
    shards: list[dict[str, Any]] = []
    body: dict[str, Any] = {"StreamArn": arn}
    while True:
        desc = raw_ok(port, STREAMS_TARGET + "DescribeStream", body)["StreamDescription"]
        shards.extend(desc["Shards"])
        if "LastEvaluatedShardId" not in desc:
            break
        body["ExclusiveStartShardId"] = desc["LastEvaluatedShardId"]
    records: list[dict[str, Any]] = []
    for shard in lineage_order(shards):
        iterator: str | None = raw_ok(
            port,
            STREAMS_TARGET + "GetShardIterator",
            {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"},
        )["ShardIterator"]
        while iterator is not None:
            page = raw_ok(port, STREAMS_TARGET + "GetRecords", {"ShardIterator": iterator})
            records.extend(page["Records"])
            iterator = page.get("NextShardIterator")
            if not page["Records"]:
                break
    return records
