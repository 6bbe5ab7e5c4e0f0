"""BatchWriteItem and BatchGetItem against a live server: limits, duplicates, validation order."""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import body, error_of, validation


def key(i: int | str) -> dict[str, Any]:
    return {"id": {"S": str(i)}}


def put(i: int | str, **attributes: Any) -> dict[str, Any]:
    return {"PutRequest": {"Item": {**key(i), **attributes}}}


def delete(i: int | str) -> dict[str, Any]:
    return {"DeleteRequest": {"Key": key(i)}}


def stored_ids(ddb: Any, table: str) -> list[str]:
    items = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(item["id"]["S"] for item in items)


# --- BatchWriteItem -------------------------------------------------------------------------------


def test_batch_write_item_puts_and_deletes(ddb: Any, hash_table: str) -> None:
    # Puts and deletes on distinct keys are applied; nothing is left unprocessed.
    ddb.put_item(TableName=hash_table, Item=key("old"))
    out = ddb.batch_write_item(
        RequestItems={hash_table: [put(1, v={"N": "1.50"}), put(2), delete("old"), delete("none")]}
    )
    assert body(out) == {"UnprocessedItems": {}}
    assert stored_ids(ddb, hash_table) == ["1", "2"]
    got = ddb.get_item(TableName=hash_table, Key=key(1))["Item"]
    assert got == {**key(1), "v": {"N": "1.5"}}


def test_batch_write_item_across_tables(ddb: Any, hash_table: str, table_name: str) -> None:
    # One batch may write to several tables; ConsumedCapacity has one entry per table.
    other = table_name + "-b"
    ddb.create_table(
        TableName=other,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    out = ddb.batch_write_item(
        RequestItems={hash_table: [put(1), put(2)], other: [put(3, x={"S": "v" * 1500})]},
        ReturnConsumedCapacity="TOTAL",
    )
    assert sorted(out["ConsumedCapacity"], key=lambda c: c["TableName"]) == sorted(
        [
            {"TableName": hash_table, "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0},
            {"TableName": other, "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0},
        ],
        key=lambda c: c["TableName"],
    )
    assert stored_ids(ddb, other) == ["3"]


def test_batch_write_item_resource_batch_writer(ddb_resource: Any, hash_table: str) -> None:
    # boto3's batch_writer chunks into 25-request batches and de-duplicates on overwrite.
    table = ddb_resource.Table(hash_table)
    with table.batch_writer(overwrite_by_pkeys=["id"]) as writer:
        for i in range(60):
            writer.put_item(Item={"id": f"k{i:02d}", "n": i})
        writer.put_item(Item={"id": "k00", "n": 100})
        writer.delete_item(Key={"id": "k59"})
    items = table.scan(ConsistentRead=True)["Items"]
    assert len(items) == 59
    assert table.get_item(Key={"id": "k00"})["Item"]["n"] == 100


def test_batch_write_item_25_request_limit(ddb: Any, hash_table: str) -> None:
    # At most 25 requests per table (a shape constraint) and 25 in the whole call.
    assert body(ddb.batch_write_item(RequestItems={hash_table: [put(i) for i in range(25)]})) == {
        "UnprocessedItems": {}
    }
    code, message = error_of(
        lambda: ddb.batch_write_item(RequestItems={hash_table: [put(i) for i in range(26)]})
    )
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value '{")
    assert message.endswith(
        "' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: "
        "[Member must have length less than or equal to 25, Member must have length greater "
        "than or equal to 1]"
    )
    other = hash_table + "-x"
    across = lambda: ddb.batch_write_item(  # noqa: E731
        RequestItems={hash_table: [put(i) for i in range(13)], other: [put(i) for i in range(13)]}
    )
    assert error_of(across) == validation("Too many items requested for the BatchWriteItem call")


def test_batch_write_item_duplicate_keys(ddb: Any, hash_table: str) -> None:
    # Two requests on one key in one table are rejected, whatever their kinds; nothing is written.
    for requests in ([put(1), put(1)], [put(1), delete(1)], [delete(1), delete(1)]):
        call = lambda r=requests: ddb.batch_write_item(RequestItems={hash_table: r})  # noqa: E731
        assert error_of(call) == validation("Provided list of item keys contains duplicates")
    assert stored_ids(ddb, hash_table) == []


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            {},
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes",
        ),
        (
            {"PutRequest": {"Item": {"x": {"S": "1"}}}},
            "The provided key element does not match the schema",
        ),
        (
            {"PutRequest": {"Item": {"id": {"N": "1"}}}},
            "The provided key element does not match the schema",
        ),
        (
            {"DeleteRequest": {"Key": {"id": {"N": "1"}}}},
            "The provided key element does not match the schema",
        ),
        (
            {"PutRequest": {"Item": {"id": {"S": ""}}}},
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            "cannot contain an empty string value. Key: id",
        ),
        (
            {"PutRequest": {"Item": {"id": {"S": "1"}, "x": {"S": "v" * 409600}}}},
            "Item size has exceeded the maximum allowed size",
        ),
        (
            {"PutRequest": {"Item": {"id": {"S": "1"}, "n": {"N": "1e200"}}}},
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
    ],
)
def test_batch_write_item_request_errors(
    ddb: Any, hash_table: str, request_: dict[str, Any], message: str
) -> None:
    # Invalid requests fail the whole batch with DynamoDB's texts; a put lacking the key reads as
    # a key mismatch.
    call = lambda: ddb.batch_write_item(RequestItems={hash_table: [put("ok"), request_]})  # noqa: E731
    assert error_of(call) == validation(message)
    assert stored_ids(ddb, hash_table) == []


def test_batch_write_item_validates_values_before_tables(ddb: Any) -> None:
    # Attribute values and item sizes are checked before the tables are looked up.
    bad = lambda: ddb.batch_write_item(  # noqa: E731
        RequestItems={"no-such-table": [put(1, s={"SS": []})]}
    )
    assert error_of(bad) == validation(
        "One or more parameter values were invalid: An string set  may not be empty"
    )
    missing = lambda: ddb.batch_write_item(RequestItems={"no-such-table": [put(1)]})  # noqa: E731
    assert error_of(missing) == ("ResourceNotFoundException", "Requested resource not found")


# --- BatchGetItem ---------------------------------------------------------------------------------


@pytest.fixture
def filled(ddb: Any, hash_table: str) -> str:
    ddb.batch_write_item(
        RequestItems={
            hash_table: [put(i, n={"N": str(i)}, m={"M": {"a": {"S": "x"}}}) for i in range(5)]
        }
    )
    return hash_table


def test_batch_get_item_returns_found_items(ddb: Any, filled: str) -> None:
    # Found items come back under their table; missing keys are simply absent.
    out = ddb.batch_get_item(RequestItems={filled: {"Keys": [key(1), key(3), key(99)]}})
    assert out["UnprocessedKeys"] == {}
    assert sorted(out["Responses"][filled], key=lambda item: item["id"]["S"]) == [
        {**key(1), "n": {"N": "1"}, "m": {"M": {"a": {"S": "x"}}}},
        {**key(3), "n": {"N": "3"}, "m": {"M": {"a": {"S": "x"}}}},
    ]


def test_batch_get_item_projection_and_capacity(ddb: Any, filled: str) -> None:
    # Per-table projections (expression or AttributesToGet) and consumed capacity per table.
    out = ddb.batch_get_item(
        RequestItems={
            filled: {
                "Keys": [key(1), key(2)],
                "ProjectionExpression": "#n, m.a",
                "ExpressionAttributeNames": {"#n": "n"},
                "ConsistentRead": True,
            }
        },
        ReturnConsumedCapacity="TOTAL",
    )
    assert sorted(out["Responses"][filled], key=lambda item: item["n"]["N"]) == [
        {"n": {"N": "1"}, "m": {"M": {"a": {"S": "x"}}}},
        {"n": {"N": "2"}, "m": {"M": {"a": {"S": "x"}}}},
    ]
    assert out["ConsumedCapacity"] == [
        {"TableName": filled, "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0}
    ]
    legacy = ddb.batch_get_item(
        RequestItems={filled: {"Keys": [key(4)], "AttributesToGet": ["id"]}}
    )
    assert legacy["Responses"] == {filled: [key(4)]}


def test_batch_get_item_resource_api(ddb_resource: Any, filled: str) -> None:
    # The resource API's batch_get_item deserialises the responses.
    out = ddb_resource.batch_get_item(RequestItems={filled: {"Keys": [{"id": "0"}]}})
    assert out["Responses"][filled] == [{"id": "0", "n": 0, "m": {"a": "x"}}]


def test_batch_get_item_100_key_limit(ddb: Any, filled: str) -> None:
    # At most 100 keys per table (a shape constraint) and 100 in the whole call.
    out = ddb.batch_get_item(RequestItems={filled: {"Keys": [key(i) for i in range(100)]}})
    assert len(out["Responses"][filled]) == 5
    code, message = error_of(
        lambda: ddb.batch_get_item(RequestItems={filled: {"Keys": [key(i) for i in range(101)]}})
    )
    assert code == "ValidationException"
    assert message.startswith('1 validation error detected: Value \'[{"id":{"S":"0"}}, ')
    assert message.endswith(
        f"' at 'requestItems.{filled}.member.keys' failed to satisfy constraint: "
        "Member must have length less than or equal to 100"
    )
    across = lambda: ddb.batch_get_item(  # noqa: E731
        RequestItems={
            filled: {"Keys": [key(i) for i in range(60)]},
            filled + "-x": {"Keys": [{"pk": {"S": str(i)}} for i in range(41)]},
        }
    )
    assert error_of(across) == validation("Too many items requested for the BatchGetItem call")


def test_batch_get_item_duplicate_keys(ddb: Any, filled: str) -> None:
    # The same key twice in one table is rejected (numbers compare by value).
    dup = lambda: ddb.batch_get_item(RequestItems={filled: {"Keys": [key(1), key(1)]}})  # noqa: E731
    assert error_of(dup) == validation("Provided list of item keys contains duplicates")
    numbers = lambda: ddb.batch_get_item(  # noqa: E731
        RequestItems={"no-such-table": {"Keys": [{"k": {"N": "1"}}, {"k": {"N": "1.0"}}]}}
    )
    assert error_of(numbers) == validation("Provided list of item keys contains duplicates")


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            {"Keys": [{"id": {"N": "1"}}]},
            validation("The provided key element does not match the schema"),
        ),
        (
            {"Keys": [{"id": {"S": "1"}}], "ProjectionExpression": "id", "AttributesToGet": ["id"]},
            validation(
                "Can not use both expression and non-expression parameters in the same request: "
                "Non-expression parameters: {AttributesToGet} Expression parameters: "
                "{ProjectionExpression}"
            ),
        ),
        (
            {"Keys": [{"id": {"S": "1"}}], "ProjectionExpression": "#x"},
            validation(
                "Invalid ProjectionExpression: An expression attribute name used in the document "
                "path is not defined; attribute name: #x"
            ),
        ),
    ],
)
def test_batch_get_item_errors(
    ddb: Any, filled: str, request_: dict[str, Any], expected: tuple[str, str]
) -> None:
    # Per-table requests are validated with DynamoDB's texts.
    assert error_of(lambda: ddb.batch_get_item(RequestItems={filled: request_})) == expected


def test_batch_get_item_unknown_table(ddb: Any) -> None:
    # A missing table fails the whole call.
    call = lambda: ddb.batch_get_item(RequestItems={"no-such-table": {"Keys": [key(1)]}})  # noqa: E731
    assert error_of(call) == ("ResourceNotFoundException", "Requested resource not found")
