"""GetItem against a live server: keys, projections (expression and legacy), consumed capacity."""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import body, error_of, validation

DOC = {
    "id": {"S": "doc"},
    "l": {
        "L": [
            {"N": "0"},
            {"M": {"x": {"S": "1"}, "y": {"S": "2"}}},
            {"N": "2"},
            {"N": "3"},
        ]
    },
    "m": {"M": {"a": {"S": "1"}, "b": {"M": {"c": {"S": "2"}, "d": {"S": "3"}}}}},
    "s": {"S": "plain"},
}
KEY = {"id": {"S": "doc"}}


@pytest.fixture
def doc_table(ddb: Any, hash_table: str) -> str:
    ddb.put_item(TableName=hash_table, Item=DOC)
    return hash_table


def test_get_item_returns_whole_item(ddb: Any, doc_table: str) -> None:
    # Without a projection GetItem returns every attribute.
    assert body(ddb.get_item(TableName=doc_table, Key=KEY)) == {"Item": DOC}
    assert body(ddb.get_item(TableName=doc_table, Key=KEY, ConsistentRead=True)) == {"Item": DOC}


def test_get_item_missing_item_has_no_item_member(ddb: Any, hash_table: str) -> None:
    # A key that matches nothing returns an empty response (no "Item").
    assert body(ddb.get_item(TableName=hash_table, Key={"id": {"S": "none"}})) == {}


def test_get_item_range_table(ddb: Any, range_table: str) -> None:
    # Composite keys need both parts; the sort key distinguishes items.
    for sk in ("a", "b"):
        ddb.put_item(
            TableName=range_table, Item={"pk": {"S": "p"}, "sk": {"S": sk}, "v": {"S": sk}}
        )
    got = ddb.get_item(TableName=range_table, Key={"pk": {"S": "p"}, "sk": {"S": "b"}})
    assert got["Item"] == {"pk": {"S": "p"}, "sk": {"S": "b"}, "v": {"S": "b"}}
    missing_sk = lambda: ddb.get_item(TableName=range_table, Key={"pk": {"S": "p"}})  # noqa: E731
    assert error_of(missing_sk) == validation("The provided key element does not match the schema")


def test_get_item_projection_nested_paths(ddb: Any, doc_table: str) -> None:
    # Nested projections keep only the selected map keys and list elements, in list order;
    # paths that do not exist are skipped.
    got = ddb.get_item(
        TableName=doc_table, Key=KEY, ProjectionExpression="l[3], l[1].y, m.b.c, nope, m.zz"
    )
    assert body(got) == {
        "Item": {
            "l": {"L": [{"M": {"y": {"S": "2"}}}, {"N": "3"}]},
            "m": {"M": {"b": {"M": {"c": {"S": "2"}}}}},
        }
    }


def test_get_item_projection_with_names(ddb: Any, doc_table: str) -> None:
    # ExpressionAttributeNames substitute path elements, including reserved words.
    got = ddb.get_item(
        TableName=doc_table,
        Key=KEY,
        ProjectionExpression="#m.#b, #s",
        ExpressionAttributeNames={"#m": "m", "#b": "b", "#s": "s"},
    )
    assert got["Item"] == {
        "m": {"M": {"b": {"M": {"c": {"S": "2"}, "d": {"S": "3"}}}}},
        "s": {"S": "plain"},
    }


def test_get_item_projection_of_nothing(ddb: Any, doc_table: str) -> None:
    # A projection that selects nothing still returns an (empty) Item for an existing item.
    got = ddb.get_item(TableName=doc_table, Key=KEY, ProjectionExpression="nope")
    assert body(got) == {"Item": {}}


def test_get_item_resource_projection(ddb_resource: Any, doc_table: str) -> None:
    # The resource API passes projections through unchanged.
    table = ddb_resource.Table(doc_table)
    got = table.get_item(
        Key={"id": "doc"}, ProjectionExpression="m.a, #s", ExpressionAttributeNames={"#s": "s"}
    )
    assert got["Item"] == {"m": {"a": "1"}, "s": "plain"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"ProjectionExpression": "m, m.a"},
            "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
            "or rewrite one of these paths; path one: [m], path two: [m, a]",
        ),
        (
            {"ProjectionExpression": "m.a, m[0]"},
            "Invalid ProjectionExpression: Two document paths conflict with each other; must remove "
            "or rewrite one of these paths; path one: [m, a], path two: [m, [0]]",
        ),
        (
            {"ProjectionExpression": "m.a, m.a"},
            "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
            "or rewrite one of these paths; path one: [m, a], path two: [m, a]",
        ),
        (
            {"ProjectionExpression": "name"},
            "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: name",
        ),
        (
            {"ProjectionExpression": "#n"},
            "Invalid ProjectionExpression: An expression attribute name used in the document path "
            "is not defined; attribute name: #n",
        ),
        (
            {"ProjectionExpression": "a,"},
            'Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ","',
        ),
        (
            {"ProjectionExpression": ""},
            "Invalid ProjectionExpression: The expression can not be empty;",
        ),
        (
            {"ProjectionExpression": "id", "ExpressionAttributeNames": {"#n": "x"}},
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}",
        ),
        (
            {"ExpressionAttributeNames": {"#n": "x"}},
            "ExpressionAttributeNames can only be specified when using expressions",
        ),
        (
            {"ProjectionExpression": "id", "AttributesToGet": ["id"]},
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributesToGet} Expression parameters: "
            "{ProjectionExpression}",
        ),
        (
            {"AttributesToGet": ["a", "b", "a"]},
            "One or more parameter values were invalid: Duplicate value in attribute name: a",
        ),
    ],
)
def test_get_item_projection_errors(
    ddb: Any, doc_table: str, kwargs: dict[str, Any], message: str
) -> None:
    # Projections are validated before the read with DynamoDB's texts.
    assert error_of(lambda: ddb.get_item(TableName=doc_table, Key=KEY, **kwargs)) == validation(
        message
    )


def test_get_item_attributes_to_get(ddb: Any, doc_table: str) -> None:
    # Legacy AttributesToGet selects top-level attributes; missing ones are skipped.
    got = ddb.get_item(TableName=doc_table, Key=KEY, AttributesToGet=["s", "id", "nope"])
    assert body(got) == {"Item": {"s": {"S": "plain"}, "id": {"S": "doc"}}}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ({"id": {"N": "1"}}, "The provided key element does not match the schema"),
        ({"other": {"S": "x"}}, "The provided key element does not match the schema"),
        (
            {"id": {"S": "x"}, "extra": {"S": "y"}},
            "The provided key element does not match the schema",
        ),
        (
            {"id": {"S": ""}},
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            "cannot contain an empty string value. Key: id",
        ),
        (
            {"id": {"S": "x" * 2049}},
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum "
            "size limit of2048 bytes",
        ),
    ],
)
def test_get_item_key_errors(ddb: Any, hash_table: str, key: dict[str, Any], message: str) -> None:
    # The Key must be exactly the table's key attributes, with the schema's types.
    assert error_of(lambda: ddb.get_item(TableName=hash_table, Key=key)) == validation(message)


def test_get_item_unknown_table(ddb: Any) -> None:
    # A missing table is ResourceNotFoundException.
    call = lambda: ddb.get_item(TableName="no-such-table", Key={"id": {"S": "a"}})  # noqa: E731
    assert error_of(call) == ("ResourceNotFoundException", "Requested resource not found")


def test_get_item_consumed_capacity(ddb: Any, hash_table: str) -> None:
    # One read unit per started 4 KB; eventually consistent reads cost half; a miss costs the
    # minimum. INDEXES adds the per-table breakdown.
    ddb.put_item(TableName=hash_table, Item={"id": {"S": "big"}, "x": {"S": "v" * 5000}})
    key = {"id": {"S": "big"}}
    eventual = ddb.get_item(TableName=hash_table, Key=key, ReturnConsumedCapacity="TOTAL")
    assert eventual["ConsumedCapacity"] == {
        "TableName": hash_table,
        "CapacityUnits": 1.0,
        "ReadCapacityUnits": 1.0,
    }
    strong = ddb.get_item(
        TableName=hash_table,
        Key=key,
        ReturnConsumedCapacity="INDEXES",
        ConsistentRead=True,
        ProjectionExpression="id",
    )
    assert body(strong) == {
        "Item": {"id": {"S": "big"}},
        "ConsumedCapacity": {
            "TableName": hash_table,
            "CapacityUnits": 2.0,
            "ReadCapacityUnits": 2.0,
            "Table": {"CapacityUnits": 2.0, "ReadCapacityUnits": 2.0},
        },
    }
    miss = ddb.get_item(
        TableName=hash_table, Key={"id": {"S": "no"}}, ReturnConsumedCapacity="TOTAL"
    )
    assert body(miss) == {
        "ConsumedCapacity": {
            "TableName": hash_table,
            "CapacityUnits": 0.5,
            "ReadCapacityUnits": 0.5,
        }
    }


def test_get_item_binary_and_number_keys(ddb: Any, table_name: str) -> None:
    # Binary hash keys and number range keys compare by value (1.0 finds 1).
    ddb.create_table(
        TableName=table_name,
        KeySchema=[
            {"AttributeName": "h", "KeyType": "HASH"},
            {"AttributeName": "r", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "h", "AttributeType": "B"},
            {"AttributeName": "r", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=table_name, Item={"h": {"B": b"\x00\xff"}, "r": {"N": "1"}})
    got = ddb.get_item(TableName=table_name, Key={"h": {"B": b"\x00\xff"}, "r": {"N": "1.0"}})
    assert got["Item"] == {"h": {"B": b"\x00\xff"}, "r": {"N": "1"}}
    empty = lambda: ddb.get_item(TableName=table_name, Key={"h": {"B": b""}, "r": {"N": "1"}})  # noqa: E731
    assert error_of(empty) == validation(
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty binary value. Key: h"
    )


def test_get_item_validates_key_values_before_table(ddb: Any) -> None:
    # Key attribute values are validated before the table is looked up.
    call = lambda: ddb.get_item(TableName="no-such-table", Key={"id": {"SS": []}})  # noqa: E731
    assert error_of(call) == validation(
        "One or more parameter values were invalid: An string set  may not be empty"
    )
