"""DeleteItem against a live server: ReturnValues, conditions (expression and legacy), capacity."""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import body, error_of, validation
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

ITEM = {"id": {"S": "d"}, "v": {"N": "1"}, "tags": {"SS": ["x"]}}
KEY = {"id": {"S": "d"}}


@pytest.fixture
def stored(ddb: Any, hash_table: str) -> str:
    ddb.put_item(TableName=hash_table, Item=ITEM)
    return hash_table


def exists(ddb: Any, table: str, key: dict[str, Any] = KEY) -> bool:
    return "Item" in ddb.get_item(TableName=table, Key=key, ConsistentRead=True)


def test_delete_item_removes_item(ddb: Any, stored: str) -> None:
    # DeleteItem removes the item and returns nothing by default.
    assert body(ddb.delete_item(TableName=stored, Key=KEY)) == {}
    assert not exists(ddb, stored)


def test_delete_item_missing_item_is_not_an_error(ddb: Any, hash_table: str) -> None:
    # Deleting a key that matches nothing succeeds; ALL_OLD then returns no Attributes.
    out = ddb.delete_item(TableName=hash_table, Key={"id": {"S": "none"}}, ReturnValues="ALL_OLD")
    assert body(out) == {}


def test_delete_item_return_all_old(ddb: Any, stored: str) -> None:
    # ReturnValues=ALL_OLD returns the deleted item.
    out = ddb.delete_item(TableName=stored, Key=KEY, ReturnValues="ALL_OLD")
    assert body(out) == {"Attributes": ITEM}


@pytest.mark.parametrize("mode", ["ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"])
def test_delete_item_rejects_other_return_values(ddb: Any, stored: str, mode: str) -> None:
    # DeleteItem only supports ReturnValues NONE and ALL_OLD.
    call = lambda: ddb.delete_item(TableName=stored, Key=KEY, ReturnValues=mode)  # noqa: E731
    assert error_of(call) == validation("ReturnValues can only be ALL_OLD or NONE")
    assert exists(ddb, stored)


def test_delete_item_condition_expression(ddb: Any, stored: str) -> None:
    # A failed condition deletes nothing; ALL_OLD on failure returns the stored item.
    with pytest.raises(ClientError) as info:
        ddb.delete_item(
            TableName=stored,
            Key=KEY,
            ConditionExpression="v = :two",
            ExpressionAttributeValues={":two": {"N": "2"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert info.value.response["Error"] == {
        "Code": "ConditionalCheckFailedException",
        "Message": "The conditional request failed",
    }
    assert info.value.response["Item"] == ITEM
    assert exists(ddb, stored)
    ddb.delete_item(
        TableName=stored,
        Key=KEY,
        ConditionExpression="v = :one AND contains(tags, :x)",
        ExpressionAttributeValues={":one": {"N": "1"}, ":x": {"S": "x"}},
    )
    assert not exists(ddb, stored)


def test_delete_item_condition_on_missing_item(ddb: Any, hash_table: str) -> None:
    # Conditions on a missing item see no attributes: attribute_exists fails, NOT passes.
    key = {"id": {"S": "none"}}
    call = lambda: ddb.delete_item(  # noqa: E731
        TableName=hash_table, Key=key, ConditionExpression="attribute_exists(id)"
    )
    assert error_of(call) == ("ConditionalCheckFailedException", "The conditional request failed")
    ddb.delete_item(TableName=hash_table, Key=key, ConditionExpression="attribute_not_exists(id)")


def test_delete_item_expected_legacy(ddb: Any, stored: str) -> None:
    # Legacy Expected: a Value alone means equality (KCL lease deletion by owner).
    call = lambda: ddb.delete_item(  # noqa: E731
        TableName=stored, Key=KEY, Expected={"v": {"Value": {"N": "2"}}}
    )
    assert error_of(call) == ("ConditionalCheckFailedException", "The conditional request failed")
    out = ddb.delete_item(
        TableName=stored,
        Key=KEY,
        Expected={
            "v": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "1"}]},
            "missing": {"Exists": False},
        },
        ReturnValues="ALL_OLD",
    )
    assert body(out) == {"Attributes": ITEM}


def test_delete_item_resource_api(ddb_resource: Any, hash_table: str) -> None:
    # The resource API's delete_item with a condition builder.
    table = ddb_resource.Table(hash_table)
    table.put_item(Item={"id": "r", "owner": "me"})
    with pytest.raises(ClientError) as info:
        table.delete_item(Key={"id": "r"}, ConditionExpression=Attr("owner").eq("you"))
    assert info.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    out = table.delete_item(
        Key={"id": "r"}, ConditionExpression=Attr("owner").eq("me"), ReturnValues="ALL_OLD"
    )
    assert out["Attributes"] == {"id": "r", "owner": "me"}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ({"id": {"N": "1"}}, "The provided key element does not match the schema"),
        ({"id": {"S": "d"}, "v": {"N": "1"}}, "The provided key element does not match the schema"),
        (
            {"id": {"S": ""}},
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            "cannot contain an empty string value. Key: id",
        ),
    ],
)
def test_delete_item_key_errors(ddb: Any, stored: str, key: dict[str, Any], message: str) -> None:
    # The Key must be exactly the table's key.
    assert error_of(lambda: ddb.delete_item(TableName=stored, Key=key)) == validation(message)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"ExpressionAttributeValues": {":a": {"S": "x"}}},
            "ExpressionAttributeValues can only be specified when using expressions: "
            "ConditionExpression is null",
        ),
        (
            {
                "ConditionExpression": "attribute_exists(id)",
                "Expected": {"id": {"Exists": True, "Value": {"S": "d"}}},
            },
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
        (
            {
                "ConditionExpression": "v = :v",
                "ExpressionAttributeValues": {":v": {"N": "1"}, ":w": {"N": "2"}},
            },
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}",
        ),
        (
            {"ConditionExpression": "begins_with(v)"},
            "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
            "operator or function: begins_with, number of operands: 1",
        ),
    ],
)
def test_delete_item_expression_errors(
    ddb: Any, stored: str, kwargs: dict[str, Any], message: str
) -> None:
    # Expression parameters are validated before anything is deleted.
    assert error_of(lambda: ddb.delete_item(TableName=stored, Key=KEY, **kwargs)) == validation(
        message
    )
    assert exists(ddb, stored)


def test_delete_item_unknown_table(ddb: Any) -> None:
    # A missing table is ResourceNotFoundException.
    call = lambda: ddb.delete_item(TableName="no-such-table", Key={"id": {"S": "a"}})  # noqa: E731
    assert error_of(call) == ("ResourceNotFoundException", "Requested resource not found")


def test_delete_item_consumed_capacity(ddb: Any, stored: str) -> None:
    # A delete costs the deleted item's size in write units, at least one.
    out = ddb.delete_item(TableName=stored, Key=KEY, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == {
        "TableName": stored,
        "CapacityUnits": 1.0,
        "WriteCapacityUnits": 1.0,
    }
    ddb.put_item(TableName=stored, Item={**KEY, "x": {"S": "v" * 3000}})
    out = ddb.delete_item(TableName=stored, Key=KEY, ReturnConsumedCapacity="INDEXES")
    assert out["ConsumedCapacity"] == {
        "TableName": stored,
        "CapacityUnits": 3.0,
        "WriteCapacityUnits": 3.0,
        "Table": {"CapacityUnits": 3.0, "WriteCapacityUnits": 3.0},
    }


def test_delete_item_validates_key_values_before_table(ddb: Any) -> None:
    # Key attribute values are validated before the table is looked up.
    call = lambda: ddb.delete_item(TableName="no-such-table", Key={"id": {"N": "1e999"}})  # noqa: E731
    assert error_of(call) == validation(
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    )
