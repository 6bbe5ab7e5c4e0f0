"""GetRecords conformance (streams-api.md §4, records.md): the exact record shape per view type,
SizeBytes, Limit and the 1 MB cap, iterator re-use, the end of a closed shard, TTL identity,
iterator validation, and trimming (a server with a 2 s retention). Most tests use a one-shard
server so all of a table's records are in one shard.

Iterator expiry (15 minutes) cannot be waited for here; it is covered by the unit tests of the
iterator token module. Only forged, tampered and garbage iterators are tested."""

from __future__ import annotations

import base64
import datetime
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import RunningServer, start_server

from streams.stream_helpers import (
    EVENT_ID_RE,
    INVALID_ITERATOR,
    NOT_NULL,
    RECORD_MEMBERS,
    SEQUENCE_RE,
    SHARD_NOT_FOUND,
    STRING_NOT_INTEGER,
    TRIMMED,
    TTL_IDENTITY,
    VIEW_TYPES,
    all_shards,
    create_stream_table,
    disable_stream,
    error,
    ids_of,
    invalid,
    max_length,
    max_value,
    min_length,
    min_value,
    put_ids,
    raw,
    raw_error,
    raw_ok,
    read_iterator,
    serialization,
    shard_iterator,
    single_shard,
    stream_not_found,
    validation,
    wait_stream_status,
    wait_until,
)


def start(streams: Any, arn: str, kind: str = "TRIM_HORIZON", **more: Any) -> str:
    """An iterator on the stream's only shard."""
    return shard_iterator(streams, arn, single_shard(streams, arn)["ShardId"], kind, **more)


def raw_records(srv: RunningServer, iterator: str, limit: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ShardIterator": iterator}
    if limit is not None:
        body["Limit"] = limit
    got: dict[str, Any] = raw_ok(srv.port, "GetRecords", body)
    return got


# --- record shape ------------------------------------------------------------------------------

KEYS = {"pk": {"S": "order#1001"}}
NEW = {"pk": {"S": "order#1001"}, "status": {"S": "NEW"}, "total": {"N": "25"}}
PAID = {"pk": {"S": "order#1001"}, "status": {"S": "PAID"}, "total": {"N": "25"}}
# (eventName, NewImage, OldImage) of put NEW / update to PAID / delete.
CHANGES = [("INSERT", NEW, None), ("MODIFY", PAID, NEW), ("REMOVE", None, PAID)]
# SizeBytes = Keys (12) + NewImage (NEW 28, PAID 29) + OldImage, when included.
SIZES = {
    "KEYS_ONLY": [12, 12, 12],
    "NEW_IMAGE": [40, 41, 12],
    "OLD_IMAGE": [12, 40, 41],
    "NEW_AND_OLD_IMAGES": [40, 69, 41],
}


@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_get_records_record_shape(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str, view_type: str
) -> None:
    # records.md §1-2, §4, §6: exactly eventID (32 hex), eventName, eventVersion "1.1",
    # eventSource "aws:dynamodb", awsRegion and dynamodb {ApproximateCreationDateTime (integer
    # epoch seconds, rounded down), Keys, NewImage/OldImage per view type (whole items, absent
    # when not applicable), SequenceNumber (21 digits, increasing), SizeBytes, StreamViewType};
    # no userIdentity (not a TTL delete) and no eventSourceARN.
    arn = create_stream_table(ddb1, table_name, view_type, (("pk", "S"),))
    before = time.time()
    ddb1.put_item(TableName=table_name, Item=NEW)
    ddb1.update_item(
        TableName=table_name,
        Key=KEYS,
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "PAID"}},
    )
    ddb1.delete_item(TableName=table_name, Key=KEYS)
    body = raw_records(one_shard, start(streams1, arn))
    after = time.time()
    assert set(body) == {"Records", "NextShardIterator"}
    records = body["Records"]
    assert len(records) == 3
    expected = []
    for (name, new, old), size in zip(CHANGES, SIZES[view_type], strict=True):
        stream_record: dict[str, Any] = {"Keys": KEYS}
        if new is not None and view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
            stream_record["NewImage"] = new
        if old is not None and view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
            stream_record["OldImage"] = old
        stream_record.update(SizeBytes=size, StreamViewType=view_type)
        expected.append(
            {
                "eventName": name,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": stream_record,
            }
        )
    volatile = []
    for record in records:
        assert set(record) == RECORD_MEMBERS
        dynamodb = dict(record["dynamodb"])
        volatile.append(
            (
                record["eventID"],
                dynamodb.pop("SequenceNumber"),
                dynamodb.pop("ApproximateCreationDateTime"),
            )
        )
        record["dynamodb"] = dynamodb
        del record["eventID"]
    assert records == expected
    event_ids = [v[0] for v in volatile]
    assert all(EVENT_ID_RE.fullmatch(e) for e in event_ids) and len(set(event_ids)) == 3
    numbers = [v[1] for v in volatile]
    assert all(SEQUENCE_RE.fullmatch(n) for n in numbers)
    assert [int(n) for n in numbers] == sorted({int(n) for n in numbers})
    for _, _, created in volatile:
        assert type(created) is int
        assert int(before) <= created <= after


def test_get_records_boto3_types(ddb1: Any, streams1: Any, table_name: str) -> None:
    # Through boto3, ApproximateCreationDateTime is an aware datetime on a whole second and a
    # B value arrives as bytes (sent as base64 on the wire).
    arn = create_stream_table(ddb1, table_name, "NEW_IMAGE")
    ddb1.put_item(TableName=table_name, Item={"id": {"S": "a"}, "blob": {"B": b"\x00\xffraw"}})
    (record,) = read_iterator(streams1, start(streams1, arn)).records
    created = record["dynamodb"]["ApproximateCreationDateTime"]
    assert isinstance(created, datetime.datetime)
    assert created.utcoffset() == datetime.timedelta(0)
    assert created.microsecond == 0
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": b"\x00\xffraw"}


def test_get_records_binary_is_base64_on_the_wire(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # B and BS values are standard base64 strings in the JSON.
    arn = create_stream_table(ddb1, table_name, "NEW_IMAGE")
    ddb1.put_item(
        TableName=table_name,
        Item={"id": {"S": "a"}, "b": {"B": b"foobar"}, "bs": {"BS": [b"\xfb\xff"]}},
    )
    (record,) = raw_records(one_shard, start(streams1, arn))["Records"]
    image = record["dynamodb"]["NewImage"]
    assert image["b"] == {"B": "Zm9vYmFy"}
    assert image["bs"] == {"BS": [base64.b64encode(b"\xfb\xff").decode()]}


def sizes(streams: Any, arn: str) -> list[tuple[str, int]]:
    return [
        (r["eventName"], r["dynamodb"]["SizeBytes"])
        for r in read_iterator(streams, start(streams, arn)).records
    ]


def test_get_records_size_bytes_forum_keys_only(ddb1: Any, streams1: Any, table_name: str) -> None:
    # records.md §4 sample: KEYS_ONLY, Keys {ForumName: "DynamoDB", Subject: "DynamoDB Thread 3"}
    # is 9+8 + 7+17 = 41 bytes.
    arn = create_stream_table(ddb1, table_name, "KEYS_ONLY", (("ForumName", "S"), ("Subject", "S")))
    ddb1.put_item(
        TableName=table_name,
        Item={
            "ForumName": {"S": "DynamoDB"},
            "Subject": {"S": "DynamoDB Thread 3"},
            "Message": {"S": "not part of a KEYS_ONLY record"},
        },
    )
    assert sizes(streams1, arn) == [("INSERT", 41)]


def test_get_records_size_bytes_numeric_key(ddb1: Any, streams1: Any, table_name: str) -> None:
    # records.md §4 samples: Keys {Id: N 101} is 5 bytes; INSERT 5+21 = 26, MODIFY 5+33+21 = 59,
    # REMOVE 5+33 = 38 (NEW_AND_OLD_IMAGES).
    arn = create_stream_table(ddb1, table_name, "NEW_AND_OLD_IMAGES", (("Id", "N"),))
    key = {"Id": {"N": "101"}}
    ddb1.put_item(TableName=table_name, Item={**key, "Message": {"S": "New item!"}})
    ddb1.put_item(TableName=table_name, Item={**key, "Message": {"S": "This item has changed"}})
    ddb1.delete_item(TableName=table_name, Key=key)
    assert sizes(streams1, arn) == [("INSERT", 26), ("MODIFY", 59), ("REMOVE", 38)]


def test_get_records_size_bytes_string_keys(ddb1: Any, streams1: Any, table_name: str) -> None:
    # records.md §4 samples: Keys {id: "id_value"} is 10; key-only INSERT 20; MODIFY to
    # {id, id2: "id2_new_value"} 10+26+10 = 46; REMOVE 10+26 = 36; INSERT {id, id2: "id2_value"}
    # 10+22 = 32.
    arn = create_stream_table(ddb1, table_name)
    key = {"id": {"S": "id_value"}}
    ddb1.put_item(TableName=table_name, Item=key)
    ddb1.update_item(
        TableName=table_name,
        Key=key,
        UpdateExpression="SET id2 = :v",
        ExpressionAttributeValues={":v": {"S": "id2_new_value"}},
    )
    ddb1.delete_item(TableName=table_name, Key=key)
    ddb1.put_item(TableName=table_name, Item={**key, "id2": {"S": "id2_value"}})
    assert sizes(streams1, arn) == [("INSERT", 20), ("MODIFY", 46), ("REMOVE", 36), ("INSERT", 32)]


def test_get_records_size_bytes_binary(ddb1: Any, streams1: Any, table_name: str) -> None:
    # records.md §4 samples: Keys {my_partition_key: "hello world"} is 27; key-only INSERT 54;
    # adding binary_key B "foobar" (10 + 6 raw bytes) is a MODIFY of 27 + 43 = 70 (NEW_IMAGE).
    arn = create_stream_table(ddb1, table_name, "NEW_IMAGE", (("my_partition_key", "S"),))
    key = {"my_partition_key": {"S": "hello world"}}
    ddb1.put_item(TableName=table_name, Item=key)
    ddb1.put_item(TableName=table_name, Item={**key, "binary_key": {"B": b"foobar"}})
    assert sizes(streams1, arn) == [("INSERT", 54), ("MODIFY", 70)]


def test_get_records_size_bytes_nested_types(ddb1: Any, streams1: Any, table_name: str) -> None:
    # records.md §4 item-size rules: M = 3 + sum(name + value + 1), L = 3 + sum(value + 1),
    # BOOL/NULL 1, sets sum their elements, N ceil(digits/2)+1. Item below: id 2+1, m 1+(3+4),
    # l 1+(3+3+2), ss 2+3, nul 3+1, b 1+1, ns 2+(2+2), bs 2+2 = 41; Keys 3; NEW_IMAGE INSERT 44.
    arn = create_stream_table(ddb1, table_name, "NEW_IMAGE")
    ddb1.put_item(
        TableName=table_name,
        Item={
            "id": {"S": "k"},
            "m": {"M": {"a": {"S": "xy"}}},
            "l": {"L": [{"N": "1"}, {"BOOL": True}]},
            "ss": {"SS": ["a", "bc"]},
            "nul": {"NULL": True},
            "b": {"BOOL": False},
            "ns": {"NS": ["1", "22"]},
            "bs": {"BS": [b"ab"]},
        },
    )
    assert sizes(streams1, arn) == [("INSERT", 44)]


def test_get_records_event_ids_are_stable(ddb1: Any, streams1: Any, table_name: str) -> None:
    # eventID is stored with the record: every re-read shows the same values.
    arn = create_stream_table(ddb1, table_name)
    put_ids(ddb1, table_name, "a", "b", "c")
    first = read_iterator(streams1, start(streams1, arn)).records
    second = read_iterator(streams1, start(streams1, arn)).records
    assert [r["eventID"] for r in first] == [r["eventID"] for r in second]
    assert first == second


def test_get_records_ttl_delete_identity(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # records.md §5: a TTL deletion is a REMOVE carrying userIdentity {"PrincipalId":
    # "dynamodb.amazonaws.com", "Type": "Service"} (capitalised in GetRecords); a user's delete
    # has no userIdentity.
    arn = create_stream_table(ddb1, table_name)
    ddb1.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    # The user's delete comes first: the sweep may remove "old" at any moment after its put.
    put_ids(ddb1, table_name, "mine")
    ddb1.delete_item(TableName=table_name, Key={"id": {"S": "mine"}})
    expired = {"id": {"S": "old"}, "exp": {"N": str(int(time.time()) - 60)}}
    ddb1.put_item(TableName=table_name, Item=expired)

    def removed() -> list[dict[str, Any]] | None:
        records = raw_records(one_shard, start(streams1, arn))["Records"]
        return records if len(records) == 4 else None

    records = wait_until(removed, "the TTL delete record")
    assert [(r["eventName"], r["dynamodb"]["Keys"]["id"]["S"]) for r in records] == [
        ("INSERT", "mine"),
        ("REMOVE", "mine"),
        ("INSERT", "old"),
        ("REMOVE", "old"),
    ]
    assert "userIdentity" not in records[1]
    ttl = records[3]
    assert set(ttl) == RECORD_MEMBERS | {"userIdentity"}
    assert ttl["userIdentity"] == TTL_IDENTITY
    assert ttl["dynamodb"]["OldImage"] == expired


# --- paging, limits, iterators -----------------------------------------------------------------


def test_get_records_limit_pages(ddb1: Any, streams1: Any, table_name: str) -> None:
    # Limit caps the records per call; NextShardIterator continues right after the last one, and
    # on an open shard the chain goes on with `[]` once everything is read.
    arn = create_stream_table(ddb1, table_name)
    put_ids(ddb1, table_name, "a", "b", "c", "d", "e")
    iterator = start(streams1, arn)
    pages = []
    for _ in range(4):
        response = streams1.get_records(ShardIterator=iterator, Limit=2)
        pages.append(ids_of(response["Records"]))
        iterator = response["NextShardIterator"]
    assert pages == [["a", "b"], ["c", "d"], ["e"], []]
    assert ids_of(
        streams1.get_records(ShardIterator=start(streams1, arn), Limit=1000)["Records"]
    ) == [
        "a",
        "b",
        "c",
        "d",
        "e",
    ]


def test_get_records_empty_open_shard(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # An open shard without records: `Records: []` (present) and a NextShardIterator, every time.
    arn = create_stream_table(ddb1, table_name)
    iterator = start(streams1, arn)
    for _ in range(3):
        body = raw_records(one_shard, iterator)
        assert set(body) == {"Records", "NextShardIterator"}
        assert body["Records"] == []
        assert isinstance(body["NextShardIterator"], str) and body["NextShardIterator"]
        iterator = body["NextShardIterator"]


@pytest.fixture(scope="module")
def waiting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One shard per stream; GetRecords at the end of an open shard waits up to 3 s."""
    srv = start_server(
        tmp_path_factory.mktemp("waiting") / "data",
        "--stream-shards",
        "1",
        "--get-records-wait",
        "3s",
    )
    yield srv
    srv.stop()


def test_get_records_at_the_end_waits_for_a_commit(waiting: RunningServer, table_name: str) -> None:
    # A read parked at the end of an open shard answers with the record the moment its write
    # commits, well before the wait runs out.
    ddb, streams = waiting.client(), waiting.streams()
    arn = create_stream_table(ddb, table_name, "NEW_IMAGE")
    iterator = start(streams, arn)
    with ThreadPoolExecutor(1) as pool:
        asked = time.monotonic()
        pending = pool.submit(streams.get_records, ShardIterator=iterator)
        time.sleep(0.5)  # the read is parked in the server by now
        assert not pending.done()
        ddb.put_item(TableName=table_name, Item={"id": {"S": "woken"}, "n": {"N": "1"}})
        page = pending.result(timeout=10)
        answered = time.monotonic() - asked
    assert [r["dynamodb"]["NewImage"] for r in page["Records"]] == [
        {"id": {"S": "woken"}, "n": {"N": "1"}}
    ]
    assert [r["eventName"] for r in page["Records"]] == ["INSERT"]
    assert answered < 3.0, "the read waited out its time instead of being woken by the commit"
    # Caught up: the next read waits the whole time, then answers an empty page that goes on.
    asked = time.monotonic()
    page = streams.get_records(ShardIterator=page["NextShardIterator"])
    assert time.monotonic() - asked >= 3.0
    assert page["Records"] == [] and page["NextShardIterator"]


def test_get_records_closed_shard_does_not_wait(waiting: RunningServer, table_name: str) -> None:
    # The end of a closed shard is final: the finishing page comes at once, without the wait.
    ddb, streams = waiting.client(), waiting.streams()
    arn = create_stream_table(ddb, table_name, "KEYS_ONLY")
    iterator = start(streams, arn)
    disable_stream(ddb, table_name)
    asked = time.monotonic()
    page = streams.get_records(ShardIterator=iterator)
    assert time.monotonic() - asked < 3.0
    assert page["Records"] == [] and "NextShardIterator" not in page


def test_get_records_iterator_reuse(ddb1: Any, streams1: Any, table_name: str) -> None:
    # Iterators are positions, not one-shot tokens: re-using one repeats the same read, and an
    # iterator at the end of an open shard returns later writes.
    arn = create_stream_table(ddb1, table_name)
    put_ids(ddb1, table_name, "a", "b", "c")
    iterator = start(streams1, arn)
    first = streams1.get_records(ShardIterator=iterator, Limit=2)
    again = streams1.get_records(ShardIterator=iterator, Limit=2)
    assert first["Records"] == again["Records"]
    assert ids_of(first["Records"]) == ["a", "b"]
    following = first["NextShardIterator"]
    assert ids_of(streams1.get_records(ShardIterator=following)["Records"]) == ["c"]
    assert ids_of(streams1.get_records(ShardIterator=following)["Records"]) == ["c"]
    end = streams1.get_records(ShardIterator=following)["NextShardIterator"]
    assert streams1.get_records(ShardIterator=end)["Records"] == []
    put_ids(ddb1, table_name, "d")
    assert ids_of(streams1.get_records(ShardIterator=end)["Records"]) == ["d"]


def test_get_records_one_megabyte_cap(ddb1: Any, streams1: Any, table_name: str) -> None:
    # At most 1 MB per call: five ~300 KB records arrive three, then two, in order.
    arn = create_stream_table(ddb1, table_name, "NEW_IMAGE")
    for i in range(5):
        ddb1.put_item(
            TableName=table_name, Item={"id": {"S": f"k{i}"}, "pad": {"S": "x" * 300_000}}
        )
    first = streams1.get_records(ShardIterator=start(streams1, arn))
    assert ids_of(first["Records"]) == ["k0", "k1", "k2"]
    rest = streams1.get_records(ShardIterator=first["NextShardIterator"])
    assert ids_of(rest["Records"]) == ["k3", "k4"]


def test_get_records_concurrent_readers_not_throttled(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # Q-S11: reader throttling (LimitExceededException) is off by default: eight simultaneous
    # readers of one shard all get the records.
    arn = create_stream_table(ddb1, table_name)
    put_ids(ddb1, table_name, "a", "b")
    iterator = start(streams1, arn)
    with ThreadPoolExecutor(max_workers=8) as pool:
        bodies = list(
            pool.map(
                lambda _: raw(one_shard.port, "GetRecords", {"ShardIterator": iterator}), range(8)
            )
        )
    assert [(b.status, ids_of(b.json()["Records"])) for b in bodies] == [(200, ["a", "b"])] * 8


# --- closed shards -----------------------------------------------------------------------------


def test_get_records_closed_shard_end(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # Q-S6: the response that returns a closed shard's last records already omits
    # NextShardIterator (the key is absent, not null); pages before it carry one.
    arn = create_stream_table(ddb1, table_name)
    put_ids(ddb1, table_name, "a", "b", "c")
    open_end = streams1.get_records(ShardIterator=start(streams1, arn))["NextShardIterator"]
    early = start(
        streams1,
        arn,
        "AFTER_SEQUENCE_NUMBER",
        SequenceNumber=all_shards(streams1, arn)[0]["SequenceNumberRange"][
            "StartingSequenceNumber"
        ],
    )
    disable_stream(ddb1, table_name)
    wait_stream_status(streams1, arn, "DISABLED")
    iterator = start(streams1, arn)
    pages = []
    for _ in range(3):
        body = raw_records(one_shard, iterator, limit=1)
        pages.append((ids_of(body["Records"]), "NextShardIterator" in body))
        iterator = body.get("NextShardIterator", "")
    assert pages == [(["a"], True), (["b"], True), (["c"], False)]
    whole = raw_records(one_shard, start(streams1, arn))
    assert (ids_of(whole["Records"]), set(whole)) == (["a", "b", "c"], {"Records"})
    # Iterators issued while the shard was open end the same way once it is closed.
    at_end = raw_records(one_shard, open_end)
    assert at_end == {"Records": []}
    from_early = raw_records(one_shard, early)
    assert (ids_of(from_early["Records"]), set(from_early)) == (["a", "b", "c"], {"Records"})


def test_get_records_closed_empty_shard(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # A closed shard that never had a record: `Records: []` and no NextShardIterator, from
    # TRIM_HORIZON and from LATEST.
    arn = create_stream_table(ddb1, table_name)
    disable_stream(ddb1, table_name)
    wait_stream_status(streams1, arn, "DISABLED")
    for kind in ("TRIM_HORIZON", "LATEST"):
        assert raw_records(one_shard, start(streams1, arn, kind)) == {"Records": []}


# --- validation --------------------------------------------------------------------------------


def test_get_records_limit_validation(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # Limit must be 1..1000: 0, -1 and 1001 are ValidationException (Q-E2: never
    # LimitExceededException, which botocore would retry).
    arn = create_stream_table(ddb1, table_name)
    iterator = start(streams1, arn)
    for limit, message in [
        (0, invalid(0, "limit", min_value(1))),
        (-1, invalid(-1, "limit", min_value(1))),
        (1001, invalid(1001, "limit", max_value(1000))),
    ]:
        got = raw_error(one_shard.port, "GetRecords", {"ShardIterator": iterator, "Limit": limit})
        assert got == validation(message)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, invalid(None, "shardIterator", NOT_NULL)),
        ({"ShardIterator": ""}, invalid("", "shardIterator", min_length(1))),
        ({"ShardIterator": "x" * 2049}, invalid("x" * 2049, "shardIterator", max_length(2048))),
    ],
)
def test_get_records_iterator_constraints(
    one_shard: RunningServer, body: dict[str, Any], message: str
) -> None:
    # ShardIterator is required, 1..2048 characters.
    assert raw_error(one_shard.port, "GetRecords", body) == validation(message)


def tamper(iterator: str) -> str:
    """Change one character in the middle of the token part (still base64 alphabet)."""
    head, token = iterator.rsplit("|", 1)
    middle = len(token) // 2
    replacement = "A" if token[middle] != "A" else "B"
    return f"{head}|{token[:middle]}{replacement}{token[middle + 1 :]}"


def test_get_records_bad_iterators(
    ddb1: Any, streams1: Any, one_shard: RunningServer, table_name: str
) -> None:
    # Garbage, forged and tampered iterators are ValidationException (observed on AWS for
    # garbage; the token is signed so forgeries are caught too).
    arn = create_stream_table(ddb1, table_name)
    other = create_stream_table(ddb1, table_name + "-2")
    put_ids(ddb1, table_name, "a")
    shard_id = single_shard(streams1, arn)["ShardId"]
    real = start(streams1, arn)
    token = real.rsplit("|", 1)[1]
    forged_token = base64.b64encode(f"{shard_id}|TH|{int(time.time() * 1000)}".encode()).decode()
    bad = [
        "garbage",
        "x" * 100,
        f"{arn}|1|!!!not base64!!!",
        f"{arn}|1|",
        f"|1|{token}",
        f"{arn}|1|{forged_token}",
        f"{arn}|1|{token[:-8]}",
        tamper(real),
        f"{other}|1|{token}",
    ]
    for iterator in bad:
        got = raw_error(one_shard.port, "GetRecords", {"ShardIterator": iterator})
        assert got == validation(INVALID_ITERATOR), iterator
    # The genuine iterator still works.
    assert ids_of(streams1.get_records(ShardIterator=real)["Records"]) == ["a"]


def test_get_records_wrong_json_types(one_shard: RunningServer) -> None:
    # Q-W2: a member of the wrong JSON type is a SerializationException.
    response = raw(one_shard.port, "GetRecords", {"ShardIterator": "x", "Limit": "10"})
    assert response.answer() == (400, serialization(STRING_NOT_INTEGER))


# --- retention ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trimming(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server that trims records older than 2 s, every 0.5 s."""
    srv = start_server(
        tmp_path_factory.mktemp("trimming") / "data",
        "--stream-shards",
        "1",
        "--stream-retention",
        "2s",
        "--trim-interval",
        "0.5s",
    )
    yield srv
    srv.stop()


def test_get_records_trimmed(trimming: RunningServer, table_name: str) -> None:
    # stream-model.md §5: after retention, TRIM_HORIZON moves to the oldest untrimmed record;
    # GetShardIterator for a trimmed number (AT_ or AFTER_) and GetRecords with an iterator
    # issued before the trim are TrimmedDataAccessException. The shard keeps its
    # StartingSequenceNumber.
    ddb, streams = trimming.client(), trimming.streams()
    arn = create_stream_table(ddb, table_name)
    put_ids(ddb, table_name, "a", "b", "c")
    shard = all_shards(streams, arn)[0]
    records = read_iterator(streams, start(streams, arn)).records
    first = records[0]["dynamodb"]["SequenceNumber"]
    at_first = start(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=first)
    after_first = streams.get_records(ShardIterator=at_first, Limit=1)["NextShardIterator"]

    def trimmed() -> bool:
        try:
            return not streams.get_records(ShardIterator=start(streams, arn))["Records"]
        except streams.exceptions.TrimmedDataAccessException:
            return False  # a trim ran between the iterator and the read: ask again

    wait_until(trimmed, "the records to be trimmed", timeout=30)
    put_ids(ddb, table_name, "d")
    # Everything below must run within the 2 s retention of "d".
    assert ids_of(read_iterator(streams, start(streams, arn)).records) == ["d"]
    for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        body = {
            "StreamArn": arn,
            "ShardId": shard["ShardId"],
            "ShardIteratorType": kind,
            "SequenceNumber": first,
        }
        got = raw_error(trimming.port, "GetShardIterator", body)
        assert got == error("TrimmedDataAccessException", TRIMMED), kind
    for iterator in (at_first, after_first):
        got = raw_error(trimming.port, "GetRecords", {"ShardIterator": iterator})
        assert got == error("TrimmedDataAccessException", TRIMMED)
    with pytest.raises(streams.exceptions.TrimmedDataAccessException):
        streams.get_records(ShardIterator=at_first)
    assert all_shards(streams, arn)[0]["SequenceNumberRange"] == shard["SequenceNumberRange"]


def test_get_records_disabled_stream_ages_out(trimming: RunningServer, table_name: str) -> None:
    # stream-model.md §5: once a disabled stream's data is past retention, the stream is gone:
    # DescribeStream and GetShardIterator say "Stream: <arn> not found", ListStreams no longer
    # lists it, and an old iterator gets "Shard does not exist".
    ddb, streams = trimming.client(), trimming.streams()
    arn = create_stream_table(ddb, table_name)
    put_ids(ddb, table_name, "a")
    shard_id = all_shards(streams, arn)[0]["ShardId"]
    iterator = start(streams, arn)
    disable_stream(ddb, table_name)

    def gone() -> bool:
        return raw(trimming.port, "DescribeStream", {"StreamArn": arn}).status == 400

    wait_until(gone, "the disabled stream to age out", timeout=30)
    not_found = error("ResourceNotFoundException", stream_not_found(arn))
    assert raw_error(trimming.port, "DescribeStream", {"StreamArn": arn}) == not_found
    request = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"}
    assert raw_error(trimming.port, "GetShardIterator", request) == not_found
    assert raw_ok(trimming.port, "ListStreams", {"TableName": table_name}) == {"Streams": []}
    assert raw_error(trimming.port, "GetRecords", {"ShardIterator": iterator}) == error(
        "ResourceNotFoundException", SHARD_NOT_FOUND
    )
