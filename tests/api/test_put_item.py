"""PutItem against a live server: attribute types, validation order and texts, conditions, ReturnValues."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from api_helpers import error_of, validation
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError


def get(ddb: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    item: dict[str, Any] | None = ddb.get_item(TableName=table, Key=key).get("Item")
    return item


ALL_TYPES = {
    "id": {"S": "all"},
    "s": {"S": "text ✓"},
    "n": {"N": "-12.5"},
    "b": {"B": b"\x00\x01\xff"},
    "t": {"BOOL": True},
    "f": {"BOOL": False},
    "z": {"NULL": True},
    "l": {"L": [{"S": "x"}, {"N": "1"}, {"L": []}, {"M": {}}]},
    "m": {"M": {"inner": {"M": {"deep": {"SS": ["a"]}}}, "empty": {"S": ""}}},
    "ss": {"SS": ["b", "a"]},
    "ns": {"NS": ["3", "1", "2"]},
    "bs": {"BS": [b"\x01", b"\x02"]},
    "es": {"S": ""},
    "eb": {"B": b""},
}


def test_put_item_round_trips_every_attribute_type(ddb: Any, hash_table: str) -> None:
    # Every AttributeValue type is stored and returned unchanged; sets keep their members.
    out = ddb.put_item(TableName=hash_table, Item=ALL_TYPES)
    out.pop("ResponseMetadata")
    assert out == {}
    item = get(ddb, hash_table, {"id": {"S": "all"}})
    assert item is not None
    for name in ("ss", "ns", "bs"):
        kind = next(iter(ALL_TYPES[name]))
        assert sorted(item[name][kind]) == sorted(ALL_TYPES[name][kind])
        del item[name]
    assert item == {k: v for k, v in ALL_TYPES.items() if k not in ("ss", "ns", "bs")}


def test_put_item_resource_api_round_trips_python_types(ddb_resource: Any, hash_table: str) -> None:
    # The resource API's Python types survive a round trip (numbers come back as Decimal).
    table = ddb_resource.Table(hash_table)
    item = {
        "id": "py",
        "n": Decimal("3.14"),
        "big": Decimal("12345678901234567890123456789012345678"),
        "flag": True,
        "nothing": None,
        "tags": {"a", "b"},
        "nums": {Decimal(1), Decimal(2)},
        "doc": {"list": ["x", Decimal(2), {"k": "v"}], "empty": ""},
        "raw": b"bytes",
    }
    table.put_item(Item=item)
    got = table.get_item(Key={"id": "py"})["Item"]
    got["raw"] = bytes(got["raw"].value)
    assert got == item


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1.50", "1.5"),
        ("-0", "0"),
        ("0.000", "0"),
        ("1e3", "1000"),
        ("1.2E-3", "0.0012"),
        ("00012.3400", "12.34"),
        ("-000.1", "-0.1"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("9.9999999999999999999999999999999999999E+125", "9" * 38 + "0" * 88),
        ("1E-130", "0." + "0" * 129 + "1"),
    ],
)
def test_put_item_canonicalises_numbers(ddb: Any, hash_table: str, given: str, stored: str) -> None:
    # Numbers are stored in canonical form: no exponent, no leading/trailing zeros, no plus sign.
    ddb.put_item(TableName=hash_table, Item={"id": {"S": "n"}, "n": {"N": given}})
    assert get(ddb, hash_table, {"id": {"S": "n"}}) == {"id": {"S": "n"}, "n": {"N": stored}}


def test_put_item_canonicalises_number_sets(ddb: Any, hash_table: str) -> None:
    # Number set members are canonicalised too.
    ddb.put_item(TableName=hash_table, Item={"id": {"S": "ns"}, "ns": {"NS": ["1.50", "2e1"]}})
    item = get(ddb, hash_table, {"id": {"S": "ns"}})
    assert item is not None
    assert sorted(item["ns"]["NS"]) == ["1.5", "20"]


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (
            "123456789012345678901234567890123456789",
            "Attempting to store more than 38 significant digits in a Number",
        ),
        (
            "1E126",
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            "1E-131",
            "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        ),
        ("abc", "The parameter cannot be converted to a numeric value: abc"),
        ("", "The parameter cannot be converted to a numeric value"),
    ],
)
def test_put_item_rejects_invalid_numbers(
    ddb: Any, hash_table: str, number: str, message: str
) -> None:
    # Numbers have at most 38 significant digits and a magnitude within 1E-130 .. 9.99..E+125.
    call = lambda: ddb.put_item(TableName=hash_table, Item={"id": {"S": "a"}, "n": {"N": number}})  # noqa: E731
    assert error_of(call) == validation(message)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"SS": []}, "One or more parameter values were invalid: An string set  may not be empty"),
        ({"NS": []}, "One or more parameter values were invalid: An number set  may not be empty"),
        ({"BS": []}, "One or more parameter values were invalid: Binary sets should not be empty"),
        (
            {"SS": ["a", "a"]},
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates.",
        ),
        ({"NS": ["1", "1.0"]}, "Input collection contains duplicates"),
        (
            {"NULL": False},
            "One or more parameter values were invalid: Null attribute value types must have the value of true",
        ),
        (
            {},
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            {"S": "a", "N": "1"},
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
            "the supported datatypes",
        ),
        (
            {"L": [{"S": "ok"}, {"NS": []}]},
            "One or more parameter values were invalid: An number set  may not be empty",
        ),
        (
            {"M": {"deep": {"N": "x1"}}},
            "The parameter cannot be converted to a numeric value: x1",
        ),
    ],
)
def test_put_item_rejects_invalid_attribute_values(
    ddb: Any, hash_table: str, value: dict[str, Any], message: str
) -> None:
    # Attribute values are validated anywhere they nest, with DynamoDB's texts.
    call = lambda: ddb.put_item(TableName=hash_table, Item={"id": {"S": "a"}, "v": value})  # noqa: E731
    assert error_of(call) == validation(message)


def test_put_item_validates_values_before_looking_up_the_table(ddb: Any) -> None:
    # Request validation (attribute values) happens before the table is resolved.
    call = lambda: ddb.put_item(TableName="no-such-table", Item={"id": {"SS": []}})  # noqa: E731
    assert error_of(call) == validation(
        "One or more parameter values were invalid: An string set  may not be empty"
    )


def test_put_item_unknown_table(ddb: Any) -> None:
    # A missing table is ResourceNotFoundException with the data-plane text.
    call = lambda: ddb.put_item(TableName="no-such-table", Item={"id": {"S": "a"}})  # noqa: E731
    assert error_of(call) == ("ResourceNotFoundException", "Requested resource not found")


def test_put_item_table_name_constraints(ddb: Any) -> None:
    # TableName must be 3..255 characters of [a-zA-Z0-9_.-].
    call = lambda: ddb.put_item(TableName="a!", Item={"id": {"S": "a"}})  # noqa: E731
    assert error_of(call) == validation(
        "2 validation errors detected: "
        "Value 'a!' at 'tableName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
        "Value 'a!' at 'tableName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3"
    )


def test_put_item_enum_constraints(ddb: Any, hash_table: str) -> None:
    # Enum members list every failure in one message, in member order.
    call = lambda: ddb.put_item(  # noqa: E731
        TableName=hash_table,
        Item={"id": {"S": "a"}},
        ReturnConsumedCapacity="SOME",
        ReturnValues="SOME",
    )
    assert error_of(call) == validation(
        "2 validation errors detected: "
        "Value 'SOME' at 'returnConsumedCapacity' failed to satisfy constraint: "
        "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; "
        "Value 'SOME' at 'returnValues' failed to satisfy constraint: "
        "Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
    )


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"other": {"S": "a"}},
            "One or more parameter values were invalid: Missing the key id in the item",
        ),
        (
            {"id": {"N": "1"}},
            "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N",
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
def test_put_item_key_rules(ddb: Any, hash_table: str, item: dict[str, Any], message: str) -> None:
    # The item must hold the key attributes with the schema's types, non-empty, within size limits.
    assert error_of(lambda: ddb.put_item(TableName=hash_table, Item=item)) == validation(message)


def test_put_item_key_size_limits(ddb: Any, range_table: str) -> None:
    # Hash keys may be 2048 bytes and range keys 1024 bytes (UTF-8), but no more.
    ddb.put_item(TableName=range_table, Item={"pk": {"S": "é" * 1024}, "sk": {"S": "r" * 1024}})
    assert get(ddb, range_table, {"pk": {"S": "é" * 1024}, "sk": {"S": "r" * 1024}}) is not None
    call = lambda: ddb.put_item(  # noqa: E731
        TableName=range_table, Item={"pk": {"S": "p"}, "sk": {"S": "é" * 512 + "r"}}
    )
    assert error_of(call) == validation(
        "One or more parameter values were invalid: Aggregated size of all range keys has "
        "exceeded the size limit of 1024 bytes"
    )


def test_put_item_empty_range_key(ddb: Any, range_table: str) -> None:
    # Key attributes can not be empty strings; other attributes can (since 2020).
    call = lambda: ddb.put_item(  # noqa: E731
        TableName=range_table, Item={"pk": {"S": "p"}, "sk": {"S": ""}, "e": {"S": ""}}
    )
    assert error_of(call) == validation(
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: sk"
    )


def test_put_item_size_limit_is_400_kb(ddb: Any, hash_table: str) -> None:
    # An item may be 400 KB (names + values, UTF-8); one byte more is rejected.
    # "id" + "a" = 3 bytes, "x" = 1 byte, so the value may be 409600 - 4 bytes.
    ddb.put_item(TableName=hash_table, Item={"id": {"S": "a"}, "x": {"S": "v" * 409596}})
    call = lambda: ddb.put_item(  # noqa: E731
        TableName=hash_table, Item={"id": {"S": "a"}, "x": {"S": "v" * 409597}}
    )
    assert error_of(call) == validation("Item size has exceeded the maximum allowed size")


def test_put_item_return_values(ddb: Any, hash_table: str) -> None:
    # PutItem returns the replaced item with ALL_OLD, nothing with NONE or for a new item.
    key = {"id": {"S": "rv"}}
    first = ddb.put_item(
        TableName=hash_table, Item={**key, "v": {"N": "1"}}, ReturnValues="ALL_OLD"
    )
    assert "Attributes" not in first
    second = ddb.put_item(
        TableName=hash_table, Item={**key, "v": {"N": "2"}}, ReturnValues="ALL_OLD"
    )
    assert second["Attributes"] == {**key, "v": {"N": "1"}}
    third = ddb.put_item(TableName=hash_table, Item={**key, "v": {"N": "3"}}, ReturnValues="NONE")
    assert "Attributes" not in third


@pytest.mark.parametrize("mode", ["ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"])
def test_put_item_rejects_other_return_values(ddb: Any, hash_table: str, mode: str) -> None:
    # PutItem only supports ReturnValues NONE and ALL_OLD.
    call = lambda: ddb.put_item(TableName=hash_table, Item={"id": {"S": "a"}}, ReturnValues=mode)  # noqa: E731
    assert error_of(call) == validation("ReturnValues can only be ALL_OLD or NONE")


def test_put_item_condition_expression(ddb: Any, hash_table: str) -> None:
    # attribute_not_exists on the key makes PutItem a create-only write.
    item = {"id": {"S": "c"}, "v": {"N": "1"}}
    ddb.put_item(TableName=hash_table, Item=item, ConditionExpression="attribute_not_exists(id)")
    with pytest.raises(ClientError) as info:
        ddb.put_item(
            TableName=hash_table,
            Item={"id": {"S": "c"}, "v": {"N": "2"}},
            ConditionExpression="attribute_not_exists(id)",
        )
    assert info.value.response["Error"] == {
        "Code": "ConditionalCheckFailedException",
        "Message": "The conditional request failed",
    }
    assert "Item" not in info.value.response
    assert get(ddb, hash_table, {"id": {"S": "c"}}) == item


def test_put_item_condition_failure_returns_old_item(ddb: Any, hash_table: str) -> None:
    # ReturnValuesOnConditionCheckFailure=ALL_OLD puts the stored item in the error.
    item = {"id": {"S": "c"}, "v": {"N": "1"}, "l": {"L": [{"S": "x"}]}}
    ddb.put_item(TableName=hash_table, Item=item)
    with pytest.raises(ClientError) as info:
        ddb.put_item(
            TableName=hash_table,
            Item={"id": {"S": "c"}},
            ConditionExpression="v > :v",
            ExpressionAttributeValues={":v": {"N": "5"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert info.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert info.value.response["Item"] == item


def test_put_item_condition_failure_on_missing_item_has_no_item(ddb: Any, hash_table: str) -> None:
    # With no stored item, the failure carries no Item even when ALL_OLD is asked for.
    with pytest.raises(ClientError) as info:
        ddb.put_item(
            TableName=hash_table,
            Item={"id": {"S": "none"}},
            ConditionExpression="attribute_exists(id)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert info.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert "Item" not in info.value.response


def test_put_item_resource_condition(ddb_resource: Any, hash_table: str) -> None:
    # boto3's condition builder produces expressions the server evaluates.
    table = ddb_resource.Table(hash_table)
    table.put_item(Item={"id": "r", "n": 1, "tags": {"a"}})
    table.put_item(
        Item={"id": "r", "n": 2},
        ConditionExpression=Attr("n").eq(1) & Attr("tags").contains("a") & Attr("x").not_exists(),
    )
    with pytest.raises(ClientError) as info:
        table.put_item(Item={"id": "r", "n": 3}, ConditionExpression=Attr("n").between(5, 9))
    assert info.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert table.get_item(Key={"id": "r"})["Item"] == {"id": "r", "n": 2}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"ExpressionAttributeValues": {":a": {"S": "x"}}},
            "ExpressionAttributeValues can only be specified when using expressions: "
            "ConditionExpression is null",
        ),
        (
            {"ExpressionAttributeNames": {"#a": "x"}},
            "ExpressionAttributeNames can only be specified when using expressions",
        ),
        (
            {"ConditionExpression": "a = :a", "Expected": {"a": {"Exists": False}}},
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
        (
            {
                "ConditionExpression": "attribute_exists(#a)",
                "ExpressionAttributeNames": {"#a": "x", "#b": "y"},
            },
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}",
        ),
        (
            {
                "ConditionExpression": "a = :a",
                "ExpressionAttributeValues": {":a": {"S": "x"}, ":b": {"S": "y"}},
            },
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}",
        ),
        (
            {"ConditionExpression": "attribute_exists(#a)"},
            "Invalid ConditionExpression: An expression attribute name used in the document path "
            "is not defined; attribute name: #a",
        ),
        (
            {"ConditionExpression": "a = :a"},
            "Invalid ConditionExpression: An expression attribute value used in expression is not "
            "defined; attribute value: :a",
        ),
        (
            {"ConditionExpression": "size = :a", "ExpressionAttributeValues": {":a": {"S": "x"}}},
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: size",
        ),
        (
            {"ConditionExpression": ""},
            "Invalid ConditionExpression: The expression can not be empty;",
        ),
        (
            {"ConditionExpression": "a = "},
            'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "="',
        ),
        (
            {"ConditionExpression": "attribute_exists(x)", "ExpressionAttributeNames": {}},
            "ExpressionAttributeNames must not be empty",
        ),
        (
            {"ConditionExpression": "attribute_exists(x)", "ExpressionAttributeNames": {"a": "x"}},
            'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"',
        ),
        (
            {"ConditionExpression": "a = :a", "ExpressionAttributeValues": {}},
            "ExpressionAttributeValues must not be empty",
        ),
        (
            {"ConditionExpression": "a = :a", "ExpressionAttributeValues": {"a": {"S": "x"}}},
            'ExpressionAttributeValues contains invalid key: Syntax error; key: "a"',
        ),
        (
            {"ConditionExpression": "a = :a", "ExpressionAttributeValues": {":a": {"SS": []}}},
            "ExpressionAttributeValues contains invalid value: One or more parameter values were "
            "invalid: An string set  may not be empty for key :a",
        ),
        (
            {"ConditionExpression": "foo(a)"},
            "Invalid ConditionExpression: Invalid function name; function: foo",
        ),
        (
            {
                "ConditionExpression": "a BETWEEN :hi AND :lo",
                "ExpressionAttributeValues": {":lo": {"N": "1"}, ":hi": {"N": "2"}},
            },
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
            "than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, upper bound "
            "operand: AttributeValue: {N:1}",
        ),
    ],
)
def test_put_item_expression_parameter_errors(
    ddb: Any, hash_table: str, kwargs: dict[str, Any], message: str
) -> None:
    # Expression parameters are checked before the write, with DynamoDB's texts.
    call = lambda: ddb.put_item(TableName=hash_table, Item={"id": {"S": "a"}}, **kwargs)  # noqa: E731
    assert error_of(call) == validation(message)


def test_put_item_expected_legacy(ddb: Any, hash_table: str) -> None:
    # Expected {Exists: false} is the legacy create-only condition (KCL lease creation).
    item = {"id": {"S": "lease"}, "leaseCounter": {"N": "0"}}
    ddb.put_item(TableName=hash_table, Item=item, Expected={"id": {"Exists": False}})
    call = lambda: ddb.put_item(  # noqa: E731
        TableName=hash_table, Item=item, Expected={"id": {"Exists": False}}
    )
    assert error_of(call) == ("ConditionalCheckFailedException", "The conditional request failed")
    # A Value alone means "equals"; ConditionalOperator OR joins several conditions.
    ddb.put_item(
        TableName=hash_table,
        Item={**item, "leaseCounter": {"N": "1"}},
        Expected={"leaseCounter": {"Value": {"N": "0"}}},
    )
    ddb.put_item(
        TableName=hash_table,
        Item={**item, "leaseCounter": {"N": "2"}},
        Expected={
            "leaseCounter": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "7"}]},
            "owner": {"ComparisonOperator": "NULL"},
        },
        ConditionalOperator="OR",
    )
    assert get(ddb, hash_table, {"id": {"S": "lease"}}) == {**item, "leaseCounter": {"N": "2"}}


@pytest.mark.parametrize(
    ("expected", "message"),
    [
        (
            {"a": {"Exists": True}},
            "One or more parameter values were invalid: Value must be provided when Exists is true "
            "for Attribute: a",
        ),
        (
            {"a": {"Exists": False, "Value": {"S": "x"}}},
            "One or more parameter values were invalid: Value cannot be used when Exists is false "
            "for Attribute: a",
        ),
        (
            {"a": {"ComparisonOperator": "EQ"}},
            "One or more parameter values were invalid: Value or AttributeValueList must be used "
            "with ComparisonOperator: EQ for Attribute: a",
        ),
        (
            {"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}]}},
            "One or more parameter values were invalid: Invalid number of argument(s) for the "
            "BETWEEN ComparisonOperator",
        ),
        (
            {"a": {"Value": {"S": "x"}, "AttributeValueList": [{"S": "x"}]}},
            "One or more parameter values were invalid: Value and AttributeValueList cannot be "
            "used together for Attribute: a",
        ),
        (
            {"a": {"Exists": True, "ComparisonOperator": "NULL"}},
            "One or more parameter values were invalid: Exists and ComparisonOperator cannot be "
            "used together for Attribute: a",
        ),
        (
            {"a": {"AttributeValueList": [{"S": "x"}]}},
            "One or more parameter values were invalid: AttributeValueList can only be used with "
            "a ComparisonOperator for Attribute: a",
        ),
    ],
)
def test_put_item_expected_validation(
    ddb: Any, hash_table: str, expected: dict[str, Any], message: str
) -> None:
    # Legacy Expected entries are validated with DynamoDB's texts.
    call = lambda: ddb.put_item(TableName=hash_table, Item={"id": {"S": "a"}}, Expected=expected)  # noqa: E731
    assert error_of(call) == validation(message)


def test_put_item_consumed_capacity(ddb: Any, hash_table: str) -> None:
    # One write unit per started KB of the larger of the old and new item.
    small = ddb.put_item(
        TableName=hash_table, Item={"id": {"S": "cap"}}, ReturnConsumedCapacity="TOTAL"
    )
    assert small["ConsumedCapacity"] == {
        "TableName": hash_table,
        "CapacityUnits": 1.0,
        "WriteCapacityUnits": 1.0,
    }
    big = ddb.put_item(
        TableName=hash_table,
        Item={"id": {"S": "cap"}, "x": {"S": "v" * 2100}},
        ReturnConsumedCapacity="INDEXES",
    )
    assert big["ConsumedCapacity"] == {
        "TableName": hash_table,
        "CapacityUnits": 3.0,
        "WriteCapacityUnits": 3.0,
        "Table": {"CapacityUnits": 3.0, "WriteCapacityUnits": 3.0},
    }
    none = ddb.put_item(
        TableName=hash_table, Item={"id": {"S": "cap"}}, ReturnConsumedCapacity="NONE"
    )
    assert "ConsumedCapacity" not in none


def test_put_item_consumed_capacity_with_indexes(ddb: Any, table_name: str) -> None:
    # INDEXES adds one entry per touched index, and the total includes them.
    ddb.create_table(
        TableName=table_name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "l", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-l",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {"pk": {"S": "p"}, "sk": {"S": "s"}, "g": {"S": "G"}, "l": {"N": "1"}}
    out = ddb.put_item(
        TableName=table_name,
        Item=item,
        ReturnConsumedCapacity="INDEXES",
        ReturnItemCollectionMetrics="SIZE",
    )
    assert out["ConsumedCapacity"] == {
        "TableName": table_name,
        "CapacityUnits": 3.0,
        "WriteCapacityUnits": 3.0,
        "Table": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0},
        "LocalSecondaryIndexes": {"by-l": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0}},
        "GlobalSecondaryIndexes": {"by-g": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0}},
    }
    assert out["ItemCollectionMetrics"] == {
        "ItemCollectionKey": {"pk": {"S": "p"}},
        "SizeEstimateRangeGB": [0.0, 1.0],
    }
    # Index key attributes must have the index's type, and can not be empty.
    bad_type = lambda: ddb.put_item(TableName=table_name, Item={**item, "g": {"N": "1"}})  # noqa: E731
    assert error_of(bad_type) == validation(
        "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S "
        "Actual: N IndexName: by-g"
    )
    empty = lambda: ddb.put_item(TableName=table_name, Item={**item, "g": {"S": ""}})  # noqa: E731
    assert error_of(empty) == validation(
        "One or more parameter values are not valid. A value specified for a secondary index key "
        "is not supported. The AttributeValue for a key attribute cannot contain an empty string "
        "value. IndexName: by-g, IndexKey: g"
    )


CONDITION_ITEM = {
    "id": {"S": "cond"},
    "a": {"S": "x"},
    "n": {"N": "5"},
    "l": {"L": [{"S": "x"}, {"N": "1"}]},
    "m": {"M": {"k": {"S": "v"}}},
    "b": {"B": b"ab"},
    "ss": {"SS": ["p", "q"]},
}


@pytest.mark.parametrize(
    ("condition", "values", "holds"),
    [
        ("a = :v", {":v": {"S": "x"}}, True),
        ("a <> :v", {":v": {"N": "1"}}, True),
        ("a < :v", {":v": {"N": "1"}}, False),
        ("n BETWEEN :lo AND :hi", {":lo": {"N": "5"}, ":hi": {"N": "5.0"}}, True),
        ("a IN (:v, :w)", {":v": {"S": "y"}, ":w": {"S": "x"}}, True),
        ("contains(l, :v)", {":v": {"N": "1"}}, True),
        ("contains(ss, :v)", {":v": {"S": "r"}}, False),
        ("contains(a, :v)", {":v": {"S": "x"}}, True),
        ("l[0] = :v AND m.k = :w", {":v": {"S": "x"}, ":w": {"S": "v"}}, True),
        ("size(n) = :v", {":v": {"N": "1"}}, False),
        ("size(b) = :v", {":v": {"N": "2"}}, True),
        ("size(m) = :v AND size(ss) = :w", {":v": {"N": "1"}, ":w": {"N": "2"}}, True),
        ("attribute_type(m, :t)", {":t": {"S": "M"}}, True),
        ("begins_with(b, :v)", {":v": {"B": b"a"}}, True),
        ("NOT attribute_exists(l[5])", None, True),
        ("attribute_not_exists(m.k) OR n > :v", {":v": {"N": "4"}}, True),
    ],
)
def test_put_item_condition_evaluation(
    ddb: Any, hash_table: str, condition: str, values: dict[str, Any] | None, holds: bool
) -> None:
    # Conditions compare typed values: different types are never equal or ordered, size() of a
    # number does not exist, contains() works on strings, sets and lists.
    ddb.put_item(TableName=hash_table, Item=CONDITION_ITEM)
    kwargs: dict[str, Any] = {"ConditionExpression": condition}
    if values is not None:
        kwargs["ExpressionAttributeValues"] = values
    call = lambda: ddb.put_item(TableName=hash_table, Item=CONDITION_ITEM, **kwargs)  # noqa: E731
    if holds:
        call()
    else:
        assert error_of(call) == (
            "ConditionalCheckFailedException",
            "The conditional request failed",
        )


@pytest.mark.parametrize(
    ("condition", "values", "message"),
    [
        (
            "attribute_type(a, :t)",
            {":t": {"S": "XX"}},
            "Invalid attribute type name found; type: XX, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
        ),
        (
            "a BETWEEN :x AND :y",
            {":x": {"N": "1"}, ":y": {"S": "a"}},
            "The BETWEEN operator requires same data type for lower and upper bounds; lower bound "
            "operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}",
        ),
        (
            "a = a",
            None,
            "The first operand must be distinct from the remaining operands for this operator or "
            "function; operator: =, first operand: [a]",
        ),
        ("((a = :v))", {":v": {"S": "x"}}, "The expression has redundant parentheses;"),
        (
            "attribute_exists(:v)",
            {":v": {"S": "x"}},
            "Operator or function requires a document path; operator or function: attribute_exists",
        ),
        (
            "begins_with(a, :v)",
            {":v": {"N": "1"}},
            "Incorrect operand type for operator or function; operator or function: begins_with, "
            "operand type: N",
        ),
        (
            "size(a)",
            None,
            "The function is not allowed to be used this way in an expression; function: size",
        ),
    ],
)
def test_put_item_condition_errors(
    ddb: Any, hash_table: str, condition: str, values: dict[str, Any] | None, message: str
) -> None:
    # Conditions that can never be evaluated are rejected before the write.
    kwargs: dict[str, Any] = {"ConditionExpression": condition}
    if values is not None:
        kwargs["ExpressionAttributeValues"] = values
    call = lambda: ddb.put_item(TableName=hash_table, Item=CONDITION_ITEM, **kwargs)  # noqa: E731
    assert error_of(call) == validation("Invalid ConditionExpression: " + message)
