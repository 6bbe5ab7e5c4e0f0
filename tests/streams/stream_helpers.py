"""Shared helpers for the DynamoDB Streams tests: stream tables, raw calls, shard readers, record
shapes, waits, and the write load of the kill -9 tests.

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
import itertools
import json
import re
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from conftest import RunningServer

DYNAMODB_TARGET = "DynamoDB_20120810."
STREAMS_TARGET = "DynamoDBStreams_20120810."
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
SERIALIZATION = "com.amazon.coral.service#SerializationException"
REGION = "us-east-1"
ACCOUNT = "000000000000"
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
ROTATING_SHARDS = 2  # --stream-shards of the `rotating` server (conftest.py)

# Formats, for fullmatch. Rivulet emits 21-digit sequence numbers; AWS only promises 21 to 40
# digits (stream-model.md §1.4), which is what the AWS-contract tests check.
LABEL_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}")
SHARD_ID_RE = re.compile(r"shardId-\d{20}-[0-9a-f]{8}")
SEQUENCE_RE = re.compile(r"[1-9]\d{20}")
AWS_SEQUENCE_RE = re.compile(r"[0-9]{21,40}")
EVENT_ID_RE = re.compile(r"[0-9a-f]{32}")

# Well-formed names of nothing: they pass validation and then name no stream or shard.
GHOST_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ghost-table/stream/2020-01-01T00:00:00.000"
GHOST_SHARD = "shardId-00000001577836800000-0badf00d"
# Well-sized stream ARNs that are malformed (Invalid StreamArn / ExclusiveStartStreamArn).
MALFORMED_ARNS = [
    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders/stream/not-a-label",
    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders/stream/2025-11-26T11:58:02",
    f"arn:aws:dynamodb:{REGION}:12345:table/orders/stream/2025-11-26T11:58:02.123",
    f"arn:aws:s3:{REGION}:{ACCOUNT}:table/orders/stream/2025-11-26T11:58:02.123",
    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders/2025-11-26T11:58:02.123",
    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/o/stream/2025-11-26T11:58:02.123",
    "x" * 60,
]

TTL_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
# records.md §1: the members of a record (plus userIdentity on a TTL delete).
RECORD_MEMBERS = {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb"}
# streams-api.md §2: the members of a StreamDescription (plus LastEvaluatedShardId on a page).
DESCRIPTION_MEMBERS = {
    "StreamArn",
    "StreamLabel",
    "StreamStatus",
    "StreamViewType",
    "CreationRequestDateTime",
    "TableName",
    "KeySchema",
    "Shards",
}

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
TIMESTAMP_REQUIRED = "Timestamp is required when ShardIteratorType is AT_TIMESTAMP"
STRING_NOT_INTEGER = "STRING_VALUE cannot be converted to Integer"
NUMBER_NOT_STRING = "NUMBER_VALUE cannot be converted to String"


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


def timestamp_forbidden(iterator_type: str) -> str:
    return f"Timestamp must not be specified when ShardIteratorType is {iterator_type}"


def error(name: str, message: str) -> tuple[str, str]:
    """The expected (`__type`, message) pair of a Streams error."""
    return ERROR_PREFIX + name, message


def validation(message: str) -> tuple[str, str]:
    return error("ValidationException", message)


def serialization(message: str | None = None) -> dict[str, str]:
    """The body of a SerializationException (no `Message` for a body that is not an object)."""
    body = {"__type": SERIALIZATION}
    if message is not None:
        body["Message"] = message
    return body


# --- raw HTTP ----------------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # names in lower case
    data: bytes

    def json(self) -> Any:
        return json.loads(self.data)

    def answer(self) -> tuple[int, Any]:
        """(HTTP status, parsed body)."""
        return self.status, self.json()


def raw(port: int, target: str, body: Any) -> RawResponse:
    """POST one AWS JSON 1.0 request; `target` is a Streams operation name or a full target.
    No botocore: no client-side validation, and the body may be any JSON (or bytes)."""
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


def without_metadata(response: dict[str, Any]) -> dict[str, Any]:
    """A boto3 response without its ResponseMetadata."""
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


# --- tables and streams ------------------------------------------------------------------------


def S(value: str) -> dict[str, str]:  # named after the wire type letter
    return {"S": value}


def N(value: str) -> dict[str, str]:
    return {"N": value}


def key_schema(*keys: tuple[str, str]) -> dict[str, Any]:
    """KeySchema + AttributeDefinitions for (name, type) keys: the first HASH, a second RANGE."""
    kinds = ("HASH", "RANGE")
    return {
        "KeySchema": [{"AttributeName": a, "KeyType": kinds[i]} for i, (a, _) in enumerate(keys)],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t in keys],
    }


def create_table(
    ddb: Any,
    name: str,
    view_type: str | None = None,
    keys: tuple[tuple[str, str], ...] = (("id", "S"),),
    **extra: Any,
) -> dict[str, Any]:
    """Create a PAY_PER_REQUEST table (`extra` adds or overrides CreateTable members) with a
    stream of `view_type` unless None; wait until it is ACTIVE; return the CreateTable
    TableDescription."""
    request: dict[str, Any] = {
        "TableName": name,
        **key_schema(*keys),
        "BillingMode": "PAY_PER_REQUEST",
        **extra,
    }
    if view_type is not None:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view_type}
    desc: dict[str, Any] = ddb.create_table(**request)["TableDescription"]
    wait_active(ddb, name)
    return desc


def create_stream_table(
    ddb: Any,
    name: str,
    view_type: str = "NEW_AND_OLD_IMAGES",
    keys: tuple[tuple[str, str], ...] = (("id", "S"),),
    **extra: Any,
) -> str:
    """`create_table` with a stream; return the stream's ARN."""
    arn: str = create_table(ddb, name, view_type, keys, **extra)["LatestStreamArn"]
    return arn


def put_ids(ddb: Any, table: str, *ids: str, **attributes: Any) -> None:
    """One PutItem per id: the item `{"id": {"S": id}, **attributes}`."""
    for item_id in ids:
        ddb.put_item(TableName=table, Item={"id": S(item_id), **attributes})


def latest_stream_arn(ddb: Any, table: str) -> str:
    arn: str = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    return arn


def wait_active(ddb: Any, table: str) -> dict[str, Any]:
    """Wait until the table and all its GSIs are ACTIVE (CreateTable and UpdateTable pass through
    CREATING / UPDATING, and the next UpdateTable needs ACTIVE); return that description."""

    def probe() -> dict[str, Any] | None:
        desc: dict[str, Any] = ddb.describe_table(TableName=table)["Table"]
        indexes = desc.get("GlobalSecondaryIndexes", [])
        statuses = {desc["TableStatus"]} | {g["IndexStatus"] for g in indexes}
        return desc if statuses == {"ACTIVE"} else None

    return wait_until(probe, f"table {table} to be ACTIVE")


def delete_table(ddb: Any, table: str) -> None:
    """DeleteTable once the table is ACTIVE, then wait until DescribeTable no longer finds it
    (so a table of the same name can be created)."""
    wait_active(ddb, table)
    ddb.delete_table(TableName=table)

    def gone() -> bool:
        try:
            ddb.describe_table(TableName=table)
        except ddb.exceptions.ResourceNotFoundException:
            return True
        return False

    wait_until(gone, f"table {table} to be deleted")


def disable_stream(ddb: Any, table: str) -> None:
    """Disable the table's stream (closing every open shard) and wait for the table."""
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    wait_active(ddb, table)


def enable_stream(ddb: Any, table: str, view_type: str = "NEW_AND_OLD_IMAGES") -> str:
    """Enable a new stream on an existing table and wait for the table; return the new ARN."""
    response = ddb.update_table(
        TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type}
    )
    arn: str = response["TableDescription"]["LatestStreamArn"]
    wait_active(ddb, table)
    return arn


# --- waiting -----------------------------------------------------------------------------------


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


def wait_stream_status(
    streams: Any, arn: str, status: str, via: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Poll DescribeStream until the stream has `status`; return that description. With `via`,
    each other status seen on the way must be one of those."""

    def probe() -> dict[str, Any] | None:
        desc: dict[str, Any] = streams.describe_stream(StreamArn=arn)["StreamDescription"]
        if via is not None:
            assert desc["StreamStatus"] in (status, *via), desc
        return desc if desc["StreamStatus"] == status else None

    return wait_until(probe, f"stream {arn} to be {status}")


# --- listing and describing --------------------------------------------------------------------


def list_stream_pages(streams: Any, **request: Any) -> list[dict[str, Any]]:
    """Every ListStreams page (without ResponseMetadata), following LastEvaluatedStreamArn."""
    out: list[dict[str, Any]] = []
    for _ in range(1000):
        page = without_metadata(streams.list_streams(**request))
        out.append(page)
        if "LastEvaluatedStreamArn" not in page:
            return out
        request["ExclusiveStartStreamArn"] = page["LastEvaluatedStreamArn"]
    raise AssertionError("ListStreams paging never ended")


def listed_streams(streams: Any, **request: Any) -> list[dict[str, str]]:
    """Every ListStreams entry, all pages joined."""
    return [s for page in list_stream_pages(streams, **request) for s in page["Streams"]]


def describe_pages(
    streams: Any, arn: str, limit: int | None = None, shard_filter: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every DescribeStream page (the StreamDescriptions), paged with ExclusiveStartShardId like
    the KCL."""
    request: dict[str, Any] = {"StreamArn": arn}
    if limit is not None:
        request["Limit"] = limit
    if shard_filter is not None:
        request["ShardFilter"] = shard_filter
    pages: list[dict[str, Any]] = []
    for _ in range(10_000):
        desc = streams.describe_stream(**request)["StreamDescription"]
        pages.append(desc)
        if "LastEvaluatedShardId" not in desc:
            return pages
        request["ExclusiveStartShardId"] = desc["LastEvaluatedShardId"]
    raise AssertionError("DescribeStream paging never ended")


def describe_stream(
    streams: Any, arn: str, limit: int | None = None, shard_filter: dict[str, str] | None = None
) -> dict[str, Any]:
    """The StreamDescription with the shards of every page."""
    pages = describe_pages(streams, arn, limit, shard_filter)
    return {**pages[-1], "Shards": [s for page in pages for s in page["Shards"]]}


def all_shards(
    streams: Any, arn: str, limit: int | None = None, shard_filter: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every shard of a stream (all DescribeStream pages)."""
    shards: list[dict[str, Any]] = describe_stream(streams, arn, limit, shard_filter)["Shards"]
    return shards


def single_shard(streams: Any, arn: str) -> dict[str, Any]:
    """The only shard of a stream (on a one-shard server)."""
    shards = all_shards(streams, arn)
    assert len(shards) == 1
    return shards[0]


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


def ancestors(shards: list[dict[str, Any]], shard_id: str) -> set[str]:
    """The ids of a shard's parent, its parent's parent, ... as far as `shards` reach."""
    parent_of = {s["ShardId"]: s.get("ParentShardId") for s in shards}
    found: set[str] = set()
    while (parent := parent_of.get(shard_id)) is not None:
        found.add(parent)
        shard_id = parent
    return found


# --- reading records ---------------------------------------------------------------------------


@dataclass
class ShardRead:
    records: list[dict[str, Any]]
    ended: bool  # True when a response omitted NextShardIterator (closed shard read to its end)


def shard_iterator(
    streams: Any, arn: str, shard_id: str, kind: str = "TRIM_HORIZON", **more: Any
) -> str:
    """One GetShardIterator call through boto3."""
    it: str = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType=kind, **more
    )["ShardIterator"]
    return it


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


def read_shard(streams: Any, arn: str, shard_id: str, limit: int | None = None) -> ShardRead:
    """Every available record of one shard, from TRIM_HORIZON."""
    return read_iterator(streams, shard_iterator(streams, arn, shard_id), limit)


def read_by_shard(streams: Any, arn: str) -> dict[str, list[dict[str, Any]]]:
    """Every shard's available records, shards in lineage order."""
    shards = lineage_order(all_shards(streams, arn))
    return {s["ShardId"]: read_shard(streams, arn, s["ShardId"]).records for s in shards}


def read_stream(streams: Any, arn: str) -> list[dict[str, Any]]:
    """All available records of a stream, shard after shard in lineage order (parents first, so
    each key's records are in the order of its changes)."""
    return [r for records in read_by_shard(streams, arn).values() for r in records]


# --- record shapes -----------------------------------------------------------------------------


def ids_of(records: list[dict[str, Any]]) -> list[str]:
    """The `id` (S) key of each record."""
    return [r["dynamodb"]["Keys"]["id"]["S"] for r in records]


def key_of(record: dict[str, Any]) -> tuple[Any, ...]:
    """A hashable form of a record's Keys."""
    keys = record["dynamodb"]["Keys"]
    return tuple(sorted((name, repr(value)) for name, value in keys.items()))


def item_key(item: dict[str, Any], names: tuple[str, ...] = ("id",)) -> tuple[Any, ...]:
    """`key_of` for an item whose key attributes are `names`."""
    return tuple(sorted((name, repr(item[name])) for name in names))


def by_key(records: list[Any]) -> dict[tuple[Any, ...], list[Any]]:
    """Records grouped by `key_of`, each group in the given order."""
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for record in records:
        grouped.setdefault(key_of(record), []).append(record)
    return grouped


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


def sequence_numbers(records: list[Any]) -> list[int]:
    return [int(r["dynamodb"]["SequenceNumber"]) for r in records]


def strictly_increasing(values: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(values))


# --- write load for the kill -9 tests (also used by tests/reliability/test_crash.py) ----------


def load_item(owner: str, key: str, version: int) -> dict[str, Any]:
    """The item a load write of `version` to `key` stores: derived from both, so it can be
    checked after a crash."""
    return {
        "pk": {"S": key},
        "owner": {"S": owner},
        "ver": {"N": str(version)},
        "payload": {"S": f"{key}@{version}-" + "x" * (version % 7 * 40)},
        "doc": {"M": {"v": {"N": str(version)}, "tags": {"SS": [key, f"v{version}"]}}},
    }


def update_load_item(client: Any, table: str, item: dict[str, Any], previous: int) -> None:
    """UpdateItem the stored version `previous` of item["pk"] to `item` (conditional on it)."""
    client.update_item(
        TableName=table,
        Key={"pk": item["pk"]},
        UpdateExpression="SET ver = :v, payload = :p, doc = :d",
        ConditionExpression="ver = :prev",
        ExpressionAttributeValues={
            ":v": item["ver"],
            ":p": item["payload"],
            ":d": item["doc"],
            ":prev": {"N": str(previous)},
        },
    )


class LoadWriter(Protocol):
    """A load thread's body: `run` writes until `stop` is set or a request fails (then `error`)."""

    error: BaseException | None

    def run(self, stop: threading.Event) -> None: ...

    def acknowledged(self) -> int: ...


def stop_under_load(
    server: RunningServer, writers: Sequence[LoadWriter], acks: int, sig: int = signal.SIGKILL
) -> float:
    """Run every writer in its own thread until together they have `acks` acknowledged writes,
    then send the server `sig` (kill -9 by default) and wait for it to exit; return the seconds
    it took to exit once every writer thread has ended. Fails if a writer fails before."""

    def enough() -> bool:
        failed = [w.error for w in writers if w.error is not None]
        assert not failed, f"a writer failed before the signal: {failed}"
        return sum(w.acknowledged() for w in writers) >= acks

    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in writers]
    for t in threads:
        t.start()
    try:
        wait_until(enough, f"{acks} acknowledged writes", timeout=60, interval=0.01)
        started = time.monotonic()
        server.process.send_signal(sig)
        server.process.wait(timeout=20)
        exited_in = time.monotonic() - started
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return exited_in
