"""Stream capture against a live server: which writes produce records (records.md §3), the images
per view type (§2), SizeBytes (§4), the record envelope (§1, §6) and TTL deletes (§5)."""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import RunningServer

from streams.stream_helpers import (
    AWS_SEQUENCE_RE,
    EVENT_ID_RE,
    RECORD_MEMBERS,
    REGION,
    TTL_IDENTITY,
    VIEW_TYPES,
    N,
    S,
    by_key,
    compact,
    create_stream_table,
    describe_stream,
    expect,
    item_key,
    lineage_order,
    raw_ok,
    read_by_shard,
    read_stream,
    sequence_numbers,
    strictly_increasing,
    wait_until,
)


def records_of(streams: Any, arn: str) -> list[dict[str, Any]]:
    return [compact(r) for r in read_stream(streams, arn)]


def key_records(streams: Any, arn: str) -> dict[Any, Any]:
    """Compact records grouped by key (dictionary keys as item_key(...) builds them)."""
    return {k: [compact(r) for r in v] for k, v in by_key(read_stream(streams, arn)).items()}


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
    assert EVENT_ID_RE.fullmatch(record["eventID"]), record["eventID"]
    ddb = record["dynamodb"]
    images = {n for n in ("NewImage", "OldImage") if n in ddb}
    members = {"ApproximateCreationDateTime", "Keys", "SequenceNumber", "SizeBytes"}
    assert set(ddb) == members | {"StreamViewType"} | images, ddb
    assert ddb["StreamViewType"] == view
    assert AWS_SEQUENCE_RE.fullmatch(ddb["SequenceNumber"]), ddb["SequenceNumber"]
    created = ddb["ApproximateCreationDateTime"]
    assert isinstance(created, datetime.datetime)
    assert created.microsecond == 0, created
    assert int(not_before) <= created.timestamp() <= not_after, (created, not_before, not_after)


def raw_read_stream(port: int, arn: str) -> list[dict[str, Any]]:
    """The whole stream as wire JSON (shards in lineage order), read with raw HTTP calls."""
    shards: list[dict[str, Any]] = []
    body: dict[str, Any] = {"StreamArn": arn}
    while True:
        desc = raw_ok(port, "DescribeStream", body)["StreamDescription"]
        shards.extend(desc["Shards"])
        if "LastEvaluatedShardId" not in desc:
            break
        body["ExclusiveStartShardId"] = desc["LastEvaluatedShardId"]
    records: list[dict[str, Any]] = []
    for shard in lineage_order(shards):
        iterator: str | None = raw_ok(
            port,
            "GetShardIterator",
            {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"},
        )["ShardIterator"]
        while iterator is not None:
            page = raw_ok(port, "GetRecords", {"ShardIterator": iterator})
            records.extend(page["Records"])
            iterator = page.get("NextShardIterator")
            if not page["Records"]:
                break
    return records


# ---- PutItem / DeleteItem -------------------------------------------------------------------


@pytest.mark.parametrize("view", VIEW_TYPES)
def test_capture_put_and_delete_item(ddb: Any, streams: Any, table_name: str, view: str) -> None:
    # DynamoDB rule (records.md §3.2, §2): PutItem of a new key -> INSERT, of an identical item ->
    # nothing, of different content -> MODIFY with whole old/new items (missing attributes
    # disappear); DeleteItem -> REMOVE, of a missing item -> nothing; key-only items give
    # key-only images, and a key-only overwrite of a key-only item gives nothing. Images are
    # included per view type; ReturnValues has no influence.
    arn = create_stream_table(ddb, table_name, view)
    keys = {"id": S("k1")}  # 2 + 2 = 4 bytes
    a = {"id": S("k1"), "a": S("x"), "b": N("5")}  # 4 + (1 + 1) + (1 + 2) = 9
    b = {"id": S("k1"), "c": S("yy")}  # 4 + (1 + 2) = 7
    put = lambda item, **kw: ddb.put_item(TableName=table_name, Item=item, **kw)  # noqa: E731
    delete = lambda **kw: ddb.delete_item(TableName=table_name, Key=keys, **kw)  # noqa: E731

    put(a)
    put(a)  # identical: no record
    put(b, ReturnValues="ALL_OLD")
    delete()
    delete()  # missing: no record
    put(keys)
    put(keys)  # key-only over key-only: no record
    put(a)
    delete(ReturnValues="ALL_OLD")

    assert records_of(streams, arn) == [
        expect(view, "INSERT", keys, a, sizes=(4, 9, 0)),
        expect(view, "MODIFY", keys, b, a, sizes=(4, 7, 9)),
        expect(view, "REMOVE", keys, old=b, sizes=(4, 0, 7)),
        expect(view, "INSERT", keys, keys, sizes=(4, 4, 0)),
        expect(view, "MODIFY", keys, a, keys, sizes=(4, 9, 4)),
        expect(view, "REMOVE", keys, old=a, sizes=(4, 0, 9)),
    ]


@pytest.mark.parametrize("view", VIEW_TYPES)
def test_capture_update_item_paths(ddb: Any, streams: Any, table_name: str, view: str) -> None:
    # DynamoDB rule (records.md §3.2): UpdateItem creating an item -> INSERT; changing values ->
    # MODIFY with whole items; SET of the same value, ADD of 0, REMOVE of an absent attribute,
    # an update without actions on an existing item and a legacy AttributeUpdates DELETE of an
    # absent attribute change nothing -> no record; REMOVE on a missing item creates nothing ->
    # no record; an update without actions on a missing key creates a key-only item -> INSERT.
    arn = create_stream_table(ddb, table_name, view)
    ku, kv, kw = {"id": S("u")}, {"id": S("v")}, {"id": S("w")}  # 2 + 1 = 3 bytes each

    def update(key: dict[str, Any], expression: str | None = None, **values: Any) -> None:
        kwargs: dict[str, Any] = {"TableName": table_name, "Key": key}
        if expression is not None:
            kwargs["UpdateExpression"] = expression
        if values:
            kwargs["ExpressionAttributeValues"] = values
        ddb.update_item(**kwargs)

    update(ku, "SET a = :a", **{":a": S("1")})
    update(ku, "SET a = :a", **{":a": S("1")})  # same value: nothing
    update(ku, "SET n = :n", **{":n": N("5")})
    update(ku, "ADD n :z", **{":z": N("0")})  # ADD 0: nothing
    update(ku, "REMOVE zz")  # absent attribute: nothing
    update(ku)  # no actions on an existing item: nothing
    ddb.update_item(
        TableName=table_name, Key=ku, AttributeUpdates={"zz": {"Action": "DELETE"}}
    )  # legacy DELETE of an absent attribute: nothing
    update(ku, "SET a = :a REMOVE n", **{":a": S("2")})
    update(kv, "REMOVE a")  # missing item: nothing, and nothing created
    assert "Item" not in ddb.get_item(TableName=table_name, Key=kv, ConsistentRead=True)
    update(kw)  # no actions on a missing key: a key-only item appears
    for key in (ku, kv, kw):  # one real change per key after the no-ops
        update(key, "SET s = :s", **{":s": S("end")})

    u1 = {**ku, "a": S("1")}  # 3 + 2 = 5
    u2 = {**u1, "n": N("5")}  # 5 + 1 + 2 = 8
    u3 = {**ku, "a": S("2")}  # 5
    u4 = {**u3, "s": S("end")}  # 5 + 4 = 9
    v1 = {**kv, "s": S("end")}  # 3 + 4 = 7
    w1 = {**kw, "s": S("end")}  # 7
    assert key_records(streams, arn) == {
        item_key(ku): [
            expect(view, "INSERT", ku, u1, sizes=(3, 5, 0)),
            expect(view, "MODIFY", ku, u2, u1, sizes=(3, 8, 5)),
            expect(view, "MODIFY", ku, u3, u2, sizes=(3, 5, 8)),
            expect(view, "MODIFY", ku, u4, u3, sizes=(3, 9, 5)),
        ],
        item_key(kv): [expect(view, "INSERT", kv, v1, sizes=(3, 7, 0))],
        item_key(kw): [
            expect(view, "INSERT", kw, kw, sizes=(3, 3, 0)),
            expect(view, "MODIFY", kw, w1, kw, sizes=(3, 7, 3)),
        ],
    }


@pytest.mark.parametrize("view", VIEW_TYPES)
def test_capture_key_only_images(ddb: Any, streams: Any, table_name: str, view: str) -> None:
    # DynamoDB rule (records.md §2): an item holding only its key attributes has an image made of
    # just the keys, never a missing image: removing every other attribute -> MODIFY whose
    # NewImage is the keys; adding one back -> MODIFY whose OldImage is the keys.
    arn = create_stream_table(ddb, table_name, view, (("id", "S"), ("sk", "N")))
    keys = {"id": S("p"), "sk": N("7")}  # (2 + 1) + (2 + 2) = 7
    full = {**keys, "x": S("abc"), "y": {"BOOL": True}}  # 7 + 4 + 2 = 13
    ddb.put_item(TableName=table_name, Item=full)
    ddb.update_item(TableName=table_name, Key=keys, UpdateExpression="REMOVE x, y")
    ddb.update_item(
        TableName=table_name,
        Key=keys,
        UpdateExpression="SET x = :x, y = :y",
        ExpressionAttributeValues={":x": S("abc"), ":y": {"BOOL": True}},
    )
    assert records_of(streams, arn) == [
        expect(view, "INSERT", keys, full, sizes=(7, 13, 0)),
        expect(view, "MODIFY", keys, keys, full, sizes=(7, 7, 13)),
        expect(view, "MODIFY", keys, full, keys, sizes=(7, 13, 7)),
    ]


def test_capture_failed_conditions_write_nothing(ddb: Any, streams: Any, table_name: str) -> None:
    # DynamoDB rule (records.md §3.2, Q-R6): a write whose ConditionExpression or legacy Expected
    # fails changes nothing and produces no record, whatever the operation.
    view = "NEW_AND_OLD_IMAGES"
    arn = create_stream_table(ddb, table_name, view)
    k, missing = {"id": S("c")}, {"id": S("m")}  # 3 bytes each
    item = {**k, "a": S("1")}  # 5
    ddb.put_item(TableName=table_name, Item=item)
    failing: list[dict[str, Any]] = [
        {
            "op": ddb.put_item,
            "Item": {**k, "a": S("2")},
            "ConditionExpression": "attribute_not_exists(id)",
        },
        {
            "op": ddb.update_item,
            "Key": k,
            "UpdateExpression": "SET a = :new",
            "ConditionExpression": "a = :wrong",
            "ExpressionAttributeValues": {":new": S("2"), ":wrong": S("9")},
        },
        {"op": ddb.delete_item, "Key": k, "ConditionExpression": "attribute_not_exists(a)"},
        {"op": ddb.put_item, "Item": {**k, "a": S("3")}, "Expected": {"a": {"Value": S("9")}}},
        {
            "op": ddb.update_item,
            "Key": missing,
            "UpdateExpression": "SET a = :a",
            "ConditionExpression": "attribute_exists(id)",
            "ExpressionAttributeValues": {":a": S("1")},
        },
        {
            "op": ddb.put_item,
            "Item": {**missing, "a": S("1")},
            "Expected": {"id": {"ComparisonOperator": "NOT_NULL"}},
        },
    ]
    for request in failing:
        op = request.pop("op")
        with pytest.raises(ClientError) as info:
            op(TableName=table_name, **request)
        assert info.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    for key in (k, missing):
        ddb.put_item(TableName=table_name, Item={**key, "s": S("end")})  # 3 + 4 = 7

    assert key_records(streams, arn) == {
        item_key(k): [
            expect(view, "INSERT", k, item, sizes=(3, 5, 0)),
            expect(view, "MODIFY", k, {**k, "s": S("end")}, item, sizes=(3, 7, 5)),
        ],
        item_key(missing): [
            expect(view, "INSERT", missing, {**missing, "s": S("end")}, sizes=(3, 7, 0)),
        ],
    }


def test_capture_equal_values_write_nothing(ddb: Any, streams: Any, table_name: str) -> None:
    # DynamoDB rule (records.md §3.1, Q-R7): equality is value equality of the whole item: a map
    # with its keys in another order, a number in another form ("1.0", "1E0") and a set in another
    # order are the same stored item, so such writes produce no record.
    view = "NEW_AND_OLD_IMAGES"
    arn = create_stream_table(ddb, table_name, view)
    k = {"id": S("e")}  # 3
    item = {
        **k,
        "m": {"M": {"a": N("1"), "b": S("x")}},  # 1 + 3 + (1 + 2 + 1) + (1 + 1 + 1) = 11
        "n": N("1"),  # 1 + 2 = 3
        "ss": {"SS": ["a", "b"]},  # 2 + 2 = 4
    }  # 3 + 11 + 3 + 4 = 21
    ddb.put_item(TableName=table_name, Item=item)
    reordered = {"M": {"b": S("x"), "a": N("1.0")}}
    ddb.update_item(
        TableName=table_name,
        Key=k,
        UpdateExpression="SET m = :m, n = :n",
        ExpressionAttributeValues={":m": reordered, ":n": N("1.0")},
    )
    ddb.update_item(
        TableName=table_name,
        Key=k,
        UpdateExpression="SET n = :n ADD ss :s",
        ExpressionAttributeValues={":n": N("1E0"), ":s": {"SS": ["a"]}},
    )
    ddb.put_item(
        TableName=table_name,
        Item={"ss": {"SS": ["b", "a"]}, "n": N("10E-1"), "m": reordered, **k},
    )
    ddb.update_item(
        TableName=table_name,
        Key=k,
        UpdateExpression="SET z = :z",
        ExpressionAttributeValues={":z": N("2")},
    )
    after = {**item, "z": N("2")}  # 21 + 1 + 2 = 24
    assert records_of(streams, arn) == [
        expect(view, "INSERT", k, item, sizes=(3, 21, 0)),
        expect(view, "MODIFY", k, after, item, sizes=(3, 24, 21)),
    ]


def test_capture_batch_write_item_per_item(ddb: Any, streams: Any, table_name: str) -> None:
    # DynamoDB rule (records.md §3.2): BatchWriteItem applies the single-item rules per request:
    # one record per changed item; an identical overwrite and a delete of a missing item give
    # nothing.
    view = "NEW_AND_OLD_IMAGES"
    arn = create_stream_table(ddb, table_name, view)

    def key(name: str) -> dict[str, Any]:
        return {"id": S(name)}  # 2 + 2 = 4

    def item(name: str, v: str) -> dict[str, Any]:
        return {**key(name), "v": S(v)}  # 4 + 2 = 6

    def end(name: str) -> dict[str, Any]:
        return {**key(name), "s": S("end")}  # 4 + 4 = 8

    for name in ("e1", "e2", "e3"):
        ddb.put_item(TableName=table_name, Item=item(name, "1"))
    response = ddb.batch_write_item(
        RequestItems={
            table_name: [
                {"PutRequest": {"Item": item("n1", "1")}},
                {"PutRequest": {"Item": item("e1", "1")}},
                {"PutRequest": {"Item": item("e2", "2")}},
                {"DeleteRequest": {"Key": key("e3")}},
                {"DeleteRequest": {"Key": key("m1")}},
            ]
        }
    )
    assert response["UnprocessedItems"] == {}
    names = ("n1", "e1", "e2", "e3", "m1")
    for name in names:
        ddb.put_item(TableName=table_name, Item=end(name))

    def modify_to_end(name: str, old: dict[str, Any]) -> dict[str, Any]:
        return expect(view, "MODIFY", key(name), end(name), old, sizes=(4, 8, 6))

    def insert(name: str, new: dict[str, Any], size: int) -> dict[str, Any]:
        return expect(view, "INSERT", key(name), new, sizes=(4, size, 0))

    assert key_records(streams, arn) == {
        item_key(key("n1")): [
            insert("n1", item("n1", "1"), 6),
            modify_to_end("n1", item("n1", "1")),
        ],
        item_key(key("e1")): [
            insert("e1", item("e1", "1"), 6),
            modify_to_end("e1", item("e1", "1")),
        ],
        item_key(key("e2")): [
            insert("e2", item("e2", "1"), 6),
            expect(view, "MODIFY", key("e2"), item("e2", "2"), item("e2", "1"), sizes=(4, 6, 6)),
            modify_to_end("e2", item("e2", "2")),
        ],
        item_key(key("e3")): [
            insert("e3", item("e3", "1"), 6),
            expect(view, "REMOVE", key("e3"), old=item("e3", "1"), sizes=(4, 0, 6)),
            insert("e3", end("e3"), 8),
        ],
        item_key(key("m1")): [insert("m1", end("m1"), 8)],
    }


def test_capture_transact_write_items(ddb: Any, streams: Any, table_name: str) -> None:
    # DynamoDB rule (records.md §3.2, Q-R6): TransactWriteItems gives one record per changed item;
    # a ConditionCheck and an update to the same value change nothing -> no record; a cancelled
    # transaction produces no record at all.
    view = "NEW_AND_OLD_IMAGES"
    arn = create_stream_table(ddb, table_name, view, (("pk", "S"), ("sk", "S")))

    def key(sk: str) -> dict[str, Any]:
        return {"pk": S("p"), "sk": S(sk)}  # (2 + 1) + (2 + 1) = 6

    def item(sk: str, v: str) -> dict[str, Any]:
        return {**key(sk), "v": S(v)}  # 6 + 2 = 8

    def end(sk: str) -> dict[str, Any]:
        return {**key(sk), "s": S("end")}  # 6 + 4 = 10

    def put(sk: str) -> dict[str, Any]:
        return {"Put": {"TableName": table_name, "Item": item(sk, "1")}}

    def set_v(sk: str, v: str) -> dict[str, Any]:
        update = {"UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": S(v)}}
        return {"Update": {"TableName": table_name, "Key": key(sk), **update}}

    def delete(sk: str) -> dict[str, Any]:
        return {"Delete": {"TableName": table_name, "Key": key(sk)}}

    def check(sk: str, condition: str) -> dict[str, Any]:
        body = {"TableName": table_name, "Key": key(sk), "ConditionExpression": condition}
        return {"ConditionCheck": body}

    for sk in "abcd":
        ddb.put_item(TableName=table_name, Item=item(sk, "1"))
    ddb.transact_write_items(
        TransactItems=[
            put("n"),
            set_v("a", "2"),
            delete("b"),
            check("c", "attribute_exists(v)"),
            set_v("d", "1"),
        ]
    )
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(
            TransactItems=[
                put("x"),
                set_v("a", "3"),
                delete("n"),
                check("c", "attribute_not_exists(v)"),
            ]
        )
    assert info.value.response["Error"]["Code"] == "TransactionCanceledException"
    for sk in "abcdnx":
        ddb.put_item(TableName=table_name, Item=end(sk))

    def ins(sk: str, new: dict[str, Any], size: int) -> dict[str, Any]:
        return expect(view, "INSERT", key(sk), new, sizes=(6, size, 0))

    def mod(sk: str, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
        sizes = (6, 10 if "s" in new else 8, 10 if "s" in old else 8)
        return expect(view, "MODIFY", key(sk), new, old, sizes=sizes)

    got = key_records(streams, arn)
    assert got == {
        item_key(key("a"), ("pk", "sk")): [
            ins("a", item("a", "1"), 8),
            mod("a", item("a", "2"), item("a", "1")),
            mod("a", end("a"), item("a", "2")),
        ],
        item_key(key("b"), ("pk", "sk")): [
            ins("b", item("b", "1"), 8),
            expect(view, "REMOVE", key("b"), old=item("b", "1"), sizes=(6, 0, 8)),
            ins("b", end("b"), 10),
        ],
        item_key(key("c"), ("pk", "sk")): [
            ins("c", item("c", "1"), 8),
            mod("c", end("c"), item("c", "1")),
        ],
        item_key(key("d"), ("pk", "sk")): [
            ins("d", item("d", "1"), 8),
            mod("d", end("d"), item("d", "1")),
        ],
        item_key(key("n"), ("pk", "sk")): [
            ins("n", item("n", "1"), 8),
            mod("n", end("n"), item("n", "1")),
        ],
        item_key(key("x"), ("pk", "sk")): [ins("x", end("x"), 10)],
    }


# ---- images and SizeBytes -------------------------------------------------------------------


def test_capture_all_attribute_types_round_trip(ddb: Any, streams: Any, table_name: str) -> None:
    # DynamoDB rule (records.md §1, §4): images carry every attribute type unchanged (B and BS as
    # bytes through boto3), equal to what GetItem returns; SizeBytes follows the item-size rules.
    view = "NEW_AND_OLD_IMAGES"
    arn = create_stream_table(ddb, table_name, view, (("id", "B"),))
    keys = {"id": {"B": b"\x00k"}}  # 2 + 2 = 4
    item = {
        **keys,
        "s": S("h\u00e9llo"),  # 1 + 6 = 7
        "n": N("12.5"),  # 1 + (ceil(3 / 2) + 1) = 4
        "b": {"B": b"\x00\x01\xff"},  # 1 + 3 = 4
        "t": {"BOOL": True},  # 1 + 1 = 2
        "z": {"NULL": True},  # 1 + 1 = 2
        "l": {"L": [S("a"), N("1")]},  # 1 + 3 + (1 + 1) + (2 + 1) = 9
        "m": {"M": {"k": S("v"), "n": N("10")}},  # 1 + 3 + (1 + 1 + 1) + (1 + 2 + 1) = 11
        "ss": {"SS": ["x", "yy"]},  # 2 + 1 + 2 = 5
        "ns": {"NS": ["1", "23"]},  # 2 + 2 + 2 = 6
        "bs": {"BS": [b"\x01", b"\x02\x03"]},  # 2 + 1 + 2 = 5
    }  # 4 + 7 + 4 + 4 + 2 + 2 + 9 + 11 + 5 + 6 + 5 = 59
    ddb.put_item(TableName=table_name, Item=item)
    stored = ddb.get_item(TableName=table_name, Key=keys, ConsistentRead=True)["Item"]
    ddb.delete_item(TableName=table_name, Key=keys)

    records = read_stream(streams, arn)
    assert [compact(r) for r in records] == [
        expect(view, "INSERT", keys, item, sizes=(4, 59, 0)),
        expect(view, "REMOVE", keys, old=item, sizes=(4, 0, 59)),
    ]
    assert records[0]["dynamodb"]["NewImage"] == stored
    assert records[1]["dynamodb"]["OldImage"] == stored
    assert records[0]["dynamodb"]["Keys"] == {"id": {"B": b"\x00k"}}


def test_capture_size_bytes_documented_samples(ddb: Any, streams: Any, table_name: str) -> None:
    # DynamoDB rule (records.md §4): SizeBytes = size(Keys) + size(included images); the nine
    # values checked against AWS, reproduced with the same items and view types.
    forum = table_name + "-forum"
    arn = create_stream_table(ddb, forum, "KEYS_ONLY", (("ForumName", "S"), ("Subject", "S")))
    ddb.put_item(
        TableName=forum, Item={"ForumName": S("DynamoDB"), "Subject": S("DynamoDB Thread 3")}
    )
    assert [r["dynamodb"]["SizeBytes"] for r in read_stream(streams, arn)] == [41]

    ids = table_name + "-ids"
    arn = create_stream_table(ddb, ids, "NEW_AND_OLD_IMAGES", (("Id", "N"),))
    ddb.put_item(TableName=ids, Item={"Message": S("New item!"), "Id": N("101")})
    ddb.put_item(TableName=ids, Item={"Message": S("This item has changed"), "Id": N("101")})
    ddb.delete_item(TableName=ids, Key={"Id": N("101")})
    got = [(r["eventName"], r["dynamodb"]["SizeBytes"]) for r in read_stream(streams, arn)]
    assert got == [("INSERT", 26), ("MODIFY", 59), ("REMOVE", 38)]

    binary = table_name + "-bin"
    arn = create_stream_table(ddb, binary, "NEW_IMAGE", (("my_partition_key", "S"),))
    pk = {"my_partition_key": S("hello world")}
    ddb.put_item(TableName=binary, Item={**pk, "binary_key": {"B": b"foobar"}})
    ddb.delete_item(TableName=binary, Key=pk)
    ddb.put_item(TableName=binary, Item=pk)
    got = [(r["eventName"], r["dynamodb"]["SizeBytes"]) for r in read_stream(streams, arn)]
    assert got == [("INSERT", 70), ("REMOVE", 27), ("INSERT", 54)]

    plain = table_name + "-plain"
    arn = create_stream_table(ddb, plain, "NEW_AND_OLD_IMAGES")
    k = {"id": S("id_value")}
    ddb.put_item(TableName=plain, Item={**k, "id2": S("id2_value")})
    ddb.delete_item(TableName=plain, Key=k)
    ddb.put_item(TableName=plain, Item=k)
    ddb.update_item(
        TableName=plain,
        Key=k,
        UpdateExpression="SET id2 = :v",
        ExpressionAttributeValues={":v": S("id2_new_value")},
    )
    got = [(r["eventName"], r["dynamodb"]["SizeBytes"]) for r in read_stream(streams, arn)]
    assert got == [("INSERT", 32), ("REMOVE", 32), ("INSERT", 20), ("MODIFY", 46)]


# ---- envelope and order ---------------------------------------------------------------------


@pytest.mark.parametrize("view", VIEW_TYPES)
def test_capture_record_envelope(
    ddb: Any, streams: Any, server: RunningServer, table_name: str, view: str
) -> None:
    # DynamoDB rule (records.md §1, §6): every record has eventVersion "1.1", eventSource
    # "aws:dynamodb", the region, a 32-hex eventID that is unique and identical on every re-read,
    # the view type, a whole-second ApproximateCreationDateTime (an integer on the wire), no
    # userIdentity for user writes and no eventSourceARN; B stays base64 on the wire.
    arn = create_stream_table(ddb, table_name, view)
    before = time.time()
    for i in range(6):
        ddb.put_item(TableName=table_name, Item={"id": S(f"k{i}"), "b": {"B": b"\x01\x02"}})
        ddb.update_item(
            TableName=table_name,
            Key={"id": S(f"k{i}")},
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": N(str(i))},
        )
        ddb.delete_item(TableName=table_name, Key={"id": S(f"k{i}")})
    after = time.time()

    first = read_stream(streams, arn)
    assert len(first) == 18
    for record in first:
        check_envelope(record, view, not_before=before, not_after=after)
    assert len({r["eventID"] for r in first}) == 18
    assert read_stream(streams, arn) == first  # re-read: same ids, numbers, everything

    raw = raw_read_stream(server.port, arn)
    assert [r["eventID"] for r in raw] == [r["eventID"] for r in first]
    for record in raw:
        assert set(record) == RECORD_MEMBERS
        assert record["awsRegion"] == REGION
        assert EVENT_ID_RE.fullmatch(record["eventID"])
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        assert type(created) is int, created  # an integer literal, epoch seconds
        assert int(before) <= created <= after
        assert type(record["dynamodb"]["SizeBytes"]) is int
        assert type(record["dynamodb"]["SequenceNumber"]) is str
        for image in ("NewImage", "OldImage"):
            if image in record["dynamodb"]:
                assert record["dynamodb"][image]["b"] == {"B": "AQI="}


def test_capture_per_key_order(ddb: Any, streams: Any, table_name: str) -> None:
    # DynamoDB rule (stream-model.md §3.2, §4): each key's records are in the order of its
    # modifications, all in one shard lineage, with strictly increasing sequence numbers; within
    # a shard, sequence numbers strictly increase and lie at or above its StartingSequenceNumber.
    view = "NEW_AND_OLD_IMAGES"
    arn = create_stream_table(ddb, table_name, view)
    keys = [f"key-{i:02d}" for i in range(24)]
    versions = 5
    for v in range(1, versions + 1):
        for k in keys:
            ddb.put_item(TableName=table_name, Item={"id": S(k), "v": N(str(v))})

    shards = {s["ShardId"]: s for s in describe_stream(streams, arn)["Shards"]}
    per_shard = read_by_shard(streams, arn)
    shard_of: dict[str, set[str]] = {}
    for shard_id, records in per_shard.items():
        numbers = sequence_numbers(records)
        assert strictly_increasing(numbers), shard_id
        start = int(shards[shard_id]["SequenceNumberRange"]["StartingSequenceNumber"])
        assert all(n >= start for n in numbers)
        for r in records:
            shard_of.setdefault(r["dynamodb"]["Keys"]["id"]["S"], set()).add(shard_id)
    assert all(len(s) == 1 for s in shard_of.values()), shard_of

    grouped = by_key([r for records in per_shard.values() for r in records])
    assert len(grouped) == len(keys)
    for k in keys:
        records = grouped[item_key({"id": S(k)})]
        assert strictly_increasing(sequence_numbers(records)), k
        got = [(r["eventName"], r["dynamodb"]["NewImage"]["v"]["N"]) for r in records]
        assert got == [("INSERT", "1")] + [("MODIFY", str(v)) for v in range(2, versions + 1)]
        olds = [r["dynamodb"].get("OldImage", {}).get("v", {}).get("N") for r in records]
        assert olds == [None] + [str(v) for v in range(1, versions)]
        # Keys 2 + 6 = 8, item 8 + 1 + 2 = 11: INSERT 8 + 11, MODIFY 8 + 11 + 11.
        assert [r["dynamodb"]["SizeBytes"] for r in records] == [19] + [30] * (versions - 1)


# ---- TTL ------------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["NEW_AND_OLD_IMAGES", "KEYS_ONLY", "NEW_IMAGE"])
def test_capture_ttl_delete_has_service_identity(
    ddb: Any, streams: Any, server: RunningServer, table_name: str, view: str
) -> None:
    # DynamoDB rule (records.md §5, §3.2): an item deleted by TTL yields a REMOVE (with OldImage
    # when the view includes it) carrying userIdentity {"PrincipalId": "dynamodb.amazonaws.com",
    # "Type": "Service"} with exactly that capitalisation on the wire; a user delete has none.
    # (The shared server sweeps expired items every 0.2 s.)
    arn = create_stream_table(ddb, table_name, view)
    ddb.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    now = int(time.time())
    expires = str(now - 3600 - now % 10 - 1)  # ten digits, last one 9: size 10 / 2 + 1 = 6
    gone_keys = {"id": S("gone")}  # 2 + 4 = 6
    gone = {**gone_keys, "expires": N(expires), "p": S("x")}  # 6 + (7 + 6) + (1 + 1) = 21
    user_keys = {"id": S("user")}  # 6
    user = {**user_keys, "p": S("x")}  # 8
    ddb.put_item(TableName=table_name, Item=user)
    ddb.delete_item(TableName=table_name, Key=user_keys)
    ddb.put_item(TableName=table_name, Item=gone)

    def swept() -> bool:
        return "Item" not in ddb.get_item(TableName=table_name, Key=gone_keys, ConsistentRead=True)

    wait_until(swept, "the TTL sweep to delete the expired item", timeout=10)

    assert key_records(streams, arn) == {
        item_key(user_keys): [
            expect(view, "INSERT", user_keys, user, sizes=(6, 8, 0)),
            expect(view, "REMOVE", user_keys, old=user, sizes=(6, 0, 8)),
        ],
        item_key(gone_keys): [
            expect(view, "INSERT", gone_keys, gone, sizes=(6, 21, 0)),
            expect(view, "REMOVE", gone_keys, old=gone, sizes=(6, 0, 21), identity=TTL_IDENTITY),
        ],
    }
    raw = raw_read_stream(server.port, arn)
    identities = [
        (r["dynamodb"]["Keys"]["id"]["S"], r["eventName"], r.get("userIdentity")) for r in raw
    ]
    assert sorted(identities, key=lambda t: (t[0], t[1] != "INSERT")) == [
        ("gone", "INSERT", None),
        ("gone", "REMOVE", TTL_IDENTITY),
        ("user", "INSERT", None),
        ("user", "REMOVE", None),
    ]
    ttl_remove = next(r for r in raw if r.get("userIdentity") is not None)
    assert list(ttl_remove["userIdentity"]) in (["PrincipalId", "Type"], ["Type", "PrincipalId"])
    assert set(ttl_remove) == RECORD_MEMBERS | {"userIdentity"}
