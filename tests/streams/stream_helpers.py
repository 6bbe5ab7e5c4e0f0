"""Shared helpers for the DynamoDB Streams tests: stream tables, raw calls, shard readers, waits.

Every exact error text the streams tests expect is built here, so it can be checked against the
implementation in one place. `<v>` is the offending value, `<arn>` a stream ARN. All are sent
with HTTP 400 and `__type` `com.amazonaws.dynamodb.v20120810#<Name>` unless noted.

ValidationException, constraint form (AWS standard; member paths are lower camel case):
  1 validation error detected: Value '<v>' at '<member>' failed to satisfy constraint: <text>
  with <text> one of
    Member must not be null                                   (Value null, missing member)
    Member must have value greater than or equal to 1         (limit 0 / -1, every operation)
    Member must have value less than or equal to 100          (limit 101: ListStreams, DescribeStream)
    Member must have value less than or equal to 1000         (limit 1001: GetRecords)
    Member must have length greater than or equal to <n>     (streamArn 37, exclusiveStartStreamArn
                                                               37, tableName 3, shardId 28,
                                                               exclusiveStartShardId 28,
                                                               sequenceNumber 21, shardIterator 1)
    Member must have length less than or equal to <n>        (streamArn 1024, tableName 255,
                                                               shardId 65, sequenceNumber 40,
                                                               shardIterator 2048)
    Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+          (tableName)
    Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER,
      AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP]                                   (shardIteratorType)
    Member must satisfy enum value set: [CHILD_SHARDS]                       (shardFilter.type)
  Exception: a ShardFilter.ShardId of the wrong length is named `ShardFilter.ShardId` (the spec
  requires the message to contain that text); a missing one is `shardFilter.shardId`:
    1 validation error detected: Value 'qwerty' at 'ShardFilter.ShardId' failed to satisfy
    constraint: Member must have length greater than or equal to 28
    1 validation error detected: Value null at 'shardFilter.shardId' failed to satisfy
    constraint: Member must not be null

ValidationException, non-constraint problems (open-questions Q-E1 "short sentence naming the
member"; the spec has no exact texts, these are the ones in rivulet/api/streams_common.py):
  Invalid StreamArn                                   (well-sized but malformed StreamArn)
  Invalid ExclusiveStartStreamArn                     (well-sized but malformed cookie)
  Invalid ShardIterator                               (garbage, forged or tampered iterator)
  Invalid SequenceNumber                              (not all digits)
  SequenceNumber <n> is not in the range of shard <shardId>
                                                      (Q-S3: below the shard's start or above its
                                                       last/ending number)
  SequenceNumber is required when ShardIteratorType is <type>        (AT_/AFTER_SEQUENCE_NUMBER)
  SequenceNumber must not be specified when ShardIteratorType is <type>
  Timestamp is required when ShardIteratorType is AT_TIMESTAMP
  Timestamp must not be specified when ShardIteratorType is <type>
  Timestamp must not be in the future                 (AT_TIMESTAMP; model: ValidationException)

Other errors (texts from the spec):
  ResourceNotFoundException   Requested resource not found: Stream: <arn> not found
  ResourceNotFoundException   Requested resource not found: Shard does not exist
  TrimmedDataAccessException  The data you are trying to access has been trimmed.
  ExpiredIteratorException    The provided iterator exceeds the maximum age allowed.
                              (not reachable in a test: covered by unit tests of the token module)
  SerializationException      `com.amazon.coral.service#SerializationException`, key `Message`,
                              the Jackson texts the DynamoDB operations use, e.g.
                              STRING_VALUE cannot be converted to Integer
"""

from __future__ import annotations

import http.client
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

STREAMS_TARGET = "DynamoDBStreams_20120810."
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
SERIALIZATION = "com.amazon.coral.service#SerializationException"
REGION = "us-east-1"
ACCOUNT = "000000000000"

LABEL_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}")
SHARD_ID_RE = re.compile(r"shardId-\d{20}-[0-9a-f]{8}")
SEQUENCE_RE = re.compile(r"[1-9]\d{20}")
EVENT_ID_RE = re.compile(r"[0-9a-f]{32}")

# Raw requests carry a SigV4-shaped header: the server only checks that it is present.
AUTH_HEADERS = {
    "Authorization": (
        "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-target, Signature=0123456789abcdef"
    ),
    "X-Amz-Date": "20240101T000000Z",
    "Content-Type": "application/x-amz-json-1.0",
}

T = TypeVar("T")

# --- exact messages ----------------------------------------------------------------------------

NOT_NULL = "Member must not be null"
TABLE_NAME_PATTERN = "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
ITERATOR_TYPES = (
    "Member must satisfy enum value set: "
    "[TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP]"
)
SHARD_FILTER_TYPES = "Member must satisfy enum value set: [CHILD_SHARDS]"
SHARD_FILTER_SHARD_ID = "ShardFilter.ShardId"

INVALID_STREAM_ARN = "Invalid StreamArn"
INVALID_START_STREAM_ARN = "Invalid ExclusiveStartStreamArn"
INVALID_ITERATOR = "Invalid ShardIterator"
INVALID_SEQUENCE_NUMBER = "Invalid SequenceNumber"
SHARD_NOT_FOUND = "Requested resource not found: Shard does not exist"
TRIMMED = "The data you are trying to access has been trimmed."
FUTURE_TIMESTAMP = "Timestamp must not be in the future"


def invalid(value: object, member: str, constraint: str) -> str:
    """The AWS single-failure validation message."""
    shown = "null" if value is None else f"'{value}'"
    return (
        f"1 validation error detected: Value {shown} at '{member}' "
        f"failed to satisfy constraint: {constraint}"
    )


def min_value(n: int) -> str:
    return f"Member must have value greater than or equal to {n}"


def max_value(n: int) -> str:
    return f"Member must have value less than or equal to {n}"


def min_length(n: int) -> str:
    return f"Member must have length greater than or equal to {n}"


def max_length(n: int) -> str:
    return f"Member must have length less than or equal to {n}"


def stream_not_found(arn: str) -> str:
    return f"Requested resource not found: Stream: {arn} not found"


def out_of_range(sequence_number: str, shard_id: str) -> str:
    return f"SequenceNumber {sequence_number} is not in the range of shard {shard_id}"


def sequence_required(iterator_type: str) -> str:
    return f"SequenceNumber is required when ShardIteratorType is {iterator_type}"


def sequence_forbidden(iterator_type: str) -> str:
    return f"SequenceNumber must not be specified when ShardIteratorType is {iterator_type}"


TIMESTAMP_REQUIRED = "Timestamp is required when ShardIteratorType is AT_TIMESTAMP"


def timestamp_forbidden(iterator_type: str) -> str:
    return f"Timestamp must not be specified when ShardIteratorType is {iterator_type}"


# --- raw HTTP ----------------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # names in lower case
    data: bytes

    def json(self) -> Any:
        return json.loads(self.data)


def raw(port: int, target: str, body: Any) -> RawResponse:
    """POST one AWS JSON 1.0 request; `target` is a Streams operation name or a full target."""
    if "." not in target:
        target = STREAMS_TARGET + target
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/", body=data, headers={**AUTH_HEADERS, "X-Amz-Target": target})
        response = conn.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return RawResponse(response.status, headers, response.read())
    finally:
        conn.close()


def raw_ok(port: int, target: str, body: Any) -> Any:
    """The parsed body of a request that must succeed."""
    response = raw(port, target, body)
    assert response.status == 200, response.data
    return response.json()


def raw_error(port: int, target: str, body: Any) -> tuple[str, str]:
    """(`__type`, message) of a request that must fail with HTTP 400 and a `{__type, message}`."""
    response = raw(port, target, body)
    assert response.status == 400, response.data
    parsed = response.json()
    assert set(parsed) == {"__type", "message"}, parsed
    return parsed["__type"], parsed["message"]


def error(name: str, message: str) -> tuple[str, str]:
    """The expected (`__type`, message) pair of a Streams error."""
    return ERROR_PREFIX + name, message


def validation(message: str) -> tuple[str, str]:
    return error("ValidationException", message)


# --- tables and streams ------------------------------------------------------------------------


def create_stream_table(
    ddb: Any,
    name: str,
    view_type: str = "NEW_AND_OLD_IMAGES",
    keys: tuple[tuple[str, str], ...] = (("id", "S"),),
) -> str:
    """Create a table (first key HASH, optional second RANGE) with a stream; return its ARN."""
    kinds = ("HASH", "RANGE")
    response = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": a, "KeyType": kinds[i]} for i, (a, _) in enumerate(keys)],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in keys],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
    )
    arn: str = response["TableDescription"]["LatestStreamArn"]
    return arn


def latest_stream_arn(ddb: Any, table: str) -> str:
    arn: str = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    return arn


def wait_table_active(ddb: Any, table: str) -> None:
    """UpdateTable leaves the table UPDATING for a moment; the next UpdateTable needs ACTIVE."""

    def probe() -> bool:
        return bool(ddb.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE")

    wait_until(probe, f"table {table} to be ACTIVE")


def disable_stream(ddb: Any, table: str) -> None:
    """Disable the table's stream (closing every open shard) and wait for the table."""
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    wait_table_active(ddb, table)


def enable_stream(ddb: Any, table: str, view_type: str = "NEW_AND_OLD_IMAGES") -> str:
    """Enable a new stream on an existing table and wait for the table; return the new ARN."""
    response = ddb.update_table(
        TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type}
    )
    arn: str = response["TableDescription"]["LatestStreamArn"]
    wait_table_active(ddb, table)
    return arn


def wait_until(
    probe: Callable[[], T | None], what: str, timeout: float = 20.0, interval: float = 0.1
) -> T:
    """Call `probe` until it returns something other than None (or False); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None and result is not False:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def wait_stream_status(streams: Any, arn: str, status: str) -> dict[str, Any]:
    """Poll DescribeStream until the stream has `status`; return that description."""

    def probe() -> dict[str, Any] | None:
        desc: dict[str, Any] = streams.describe_stream(StreamArn=arn)["StreamDescription"]
        return desc if desc["StreamStatus"] == status else None

    return wait_until(probe, f"stream {arn} to be {status}")


def all_shards(
    streams: Any, arn: str, limit: int | None = None, shard_filter: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every shard of a stream, paging DescribeStream with ExclusiveStartShardId like the KCL."""
    shards: list[dict[str, Any]] = []
    request: dict[str, Any] = {"StreamArn": arn}
    if limit is not None:
        request["Limit"] = limit
    if shard_filter is not None:
        request["ShardFilter"] = shard_filter
    for _ in range(10_000):
        desc = streams.describe_stream(**request)["StreamDescription"]
        shards.extend(desc["Shards"])
        if "LastEvaluatedShardId" not in desc:
            return shards
        request["ExclusiveStartShardId"] = desc["LastEvaluatedShardId"]
    raise AssertionError("DescribeStream paging never ended")


@dataclass
class ShardRead:
    records: list[dict[str, Any]]
    ended: bool  # True when a response omitted NextShardIterator (closed shard read to its end)


def read_iterator(streams: Any, iterator: str, limit: int | None = None) -> ShardRead:
    """Follow an iterator: until NextShardIterator is absent, or an open shard returns `[]`."""
    records: list[dict[str, Any]] = []
    for _ in range(100_000):
        request: dict[str, Any] = {"ShardIterator": iterator}
        if limit is not None:
            request["Limit"] = limit
        response = streams.get_records(**request)
        records.extend(response["Records"])
        if "NextShardIterator" not in response:
            return ShardRead(records, True)
        if not response["Records"]:
            return ShardRead(records, False)
        iterator = response["NextShardIterator"]
    raise AssertionError("GetRecords never reached the end of the shard")


def shard_iterator(
    streams: Any, arn: str, shard_id: str, kind: str = "TRIM_HORIZON", **more: Any
) -> str:
    """One GetShardIterator call through boto3."""
    it: str = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType=kind, **more
    )["ShardIterator"]
    return it


def read_shard(streams: Any, arn: str, shard_id: str, limit: int | None = None) -> ShardRead:
    """Every available record of one shard, from TRIM_HORIZON."""
    return read_iterator(streams, shard_iterator(streams, arn, shard_id), limit)


def lineage_order(shards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The shards with every parent before its children (ties in ShardId order)."""
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


def read_stream(streams: Any, arn: str) -> list[dict[str, Any]]:
    """All available records of a stream, shard by shard in lineage order (parents first)."""
    records: list[dict[str, Any]] = []
    for shard in lineage_order(all_shards(streams, arn)):
        records.extend(read_shard(streams, arn, shard["ShardId"]).records)
    return records


def summary(record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(eventName, Keys) of a record: enough to compare what a stream captured."""
    return record["eventName"], record["dynamodb"]["Keys"]
