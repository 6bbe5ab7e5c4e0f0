"""Request shape validation: JSON type errors, constraint errors, paths, value formatting, cleaning."""

from __future__ import annotations

import contextlib
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import botocore
import pytest

from rivulet.api.shapes import OPERATIONS
from rivulet.api.validate import PARAMETERIZED_CAST, validate_request
from rivulet.errors import SerializationException, ValidationException

ROOT = Path(__file__).resolve().parents[2]
ITEM = {"pk": {"S": "a"}}
AV_MAP = "java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>"


def type_error(operation: str, body: dict[str, Any]) -> str:
    with pytest.raises(SerializationException) as caught:
        validate_request(operation, body)
    return str(caught.value.message)


def constraint_error(operation: str, body: dict[str, Any]) -> str:
    with pytest.raises(ValidationException) as caught:
        validate_request(operation, body)
    return str(caught.value.message)


def one(value: str, path: str, constraint: str) -> str:
    return f"1 validation error detected: Value {value} at '{path}' failed to satisfy constraint: {constraint}"


# --- JSON types: SerializationException, checked before any constraint -----------------------


# DynamoDB (Jackson) rejects JSON of the wrong type for a member with these exact texts.
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "NUMBER_VALUE cannot be converted to String"),
        (5.0, "NUMBER_VALUE cannot be converted to String"),
        (5.5, "DECIMAL_VALUE cannot be converted to String"),
        (True, "TRUE_VALUE cannot be converted to String"),
        (False, "FALSE_VALUE cannot be converted to String"),
        (["a"], "Unrecognized collection type class java.lang.String"),
        ({"a": 1}, "Start of structure or map found where not expected"),
    ],
)
def test_validate_string_type_errors(value: Any, message: str) -> None:
    assert type_error("PutItem", {"TableName": value, "Item": ITEM}) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5", "STRING_VALUE cannot be converted to Integer"),
        (True, "TRUE_VALUE cannot be converted to Integer"),
        ([5], "Unrecognized collection type class java.lang.Integer"),
        ({}, "Start of structure or map found where not expected"),
    ],
)
def test_validate_integer_type_errors(value: Any, message: str) -> None:
    assert type_error("ListTables", {"Limit": value}) == message


def test_validate_long_type_error_names_long() -> None:
    body = {"TableName": "abc", "ProvisionedThroughput": {"ReadCapacityUnits": "1"}}
    assert type_error("UpdateTable", body) == "STRING_VALUE cannot be converted to Long"


def test_validate_integer_decimals_are_floored() -> None:
    # Integer and Long members accept decimals and drop the fraction (towards minus infinity).
    assert validate_request("ListTables", {"Limit": 1.9}) == {"Limit": 1}
    assert constraint_error("ListTables", {"Limit": 0.5}) == one(
        "'0'", "limit", "Member must have value greater than or equal to 1"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("true", True),
        ("YES", True),
        ("1", True),
        ("False", False),
        ("no", False),
        ("0", False),
    ],
)
def test_validate_boolean_accepts_boolean_strings(value: Any, expected: bool) -> None:
    body = {"TableName": "abc", "Key": ITEM, "ConsistentRead": value}
    assert validate_request("GetItem", body)["ConsistentRead"] is expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("maybe", "Unexpected token received from parser"),
        (1, "NUMBER_VALUE cannot be converted to Boolean"),
        (1.5, "DECIMAL_VALUE cannot be converted to Boolean"),
        ([True], "Unrecognized collection type class java.lang.Boolean"),
        ({}, "Start of structure or map found where not expected"),
    ],
)
def test_validate_boolean_type_errors(value: Any, message: str) -> None:
    assert (
        type_error("GetItem", {"TableName": "abc", "Key": ITEM, "ConsistentRead": value}) == message
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a", "Unexpected field type"),
        (1, "Unexpected field type"),
        ({"a": 1}, "Start of structure or map found where not expected"),
        ([5], "NUMBER_VALUE cannot be converted to String"),
    ],
)
def test_validate_list_type_errors(value: Any, message: str) -> None:
    assert (
        type_error("GetItem", {"TableName": "abc", "Key": ITEM, "AttributesToGet": value})
        == message
    )


@pytest.mark.parametrize(
    ("member", "value", "message"),
    [
        ("Item", "x", "Unexpected field type"),
        ("Item", True, "Unexpected field type"),
        ("Item", [], f"Unrecognized collection type {AV_MAP}"),
        (
            "ExpressionAttributeNames",
            [],
            "Unrecognized collection type java.util.Map<java.lang.String, java.lang.String>",
        ),
        (
            "Expected",
            [],
            "Unrecognized collection type java.util.Map<java.lang.String, "
            "com.amazonaws.dynamodb.v20120810.ExpectedAttributeValue>",
        ),
        ("ExpressionAttributeNames", {"#a": 1}, "NUMBER_VALUE cannot be converted to String"),
    ],
)
def test_validate_map_type_errors(member: str, value: Any, message: str) -> None:
    body = {"TableName": "abc", "Item": ITEM, member: value}
    assert type_error("PutItem", body) == message


@pytest.mark.parametrize(
    ("operation", "body", "message"),
    [
        # A structure as a member of a structure is a "field" ...
        ("UpdateTable", {"TableName": "abc", "ProvisionedThroughput": 1}, "Unexpected field type"),
        (
            "UpdateTable",
            {"TableName": "abc", "ProvisionedThroughput": []},
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.ProvisionedThroughput",
        ),
        # ... as a list member or a map value it is a "value".
        ("CreateTable", {"KeySchema": ["x"]}, "Unexpected value type in payload"),
        (
            "CreateTable",
            {"KeySchema": [[]]},
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.KeySchemaElement",
        ),
        ("PutItem", {"Expected": {"a": "x"}}, "Unexpected value type in payload"),
        # A single attribute value is only checked for being an object.
        ("UpdateItem", {"AttributeUpdates": {"a": {"Value": 5}}}, "Unexpected field type"),
        (
            "UpdateItem",
            {"AttributeUpdates": {"a": {"Value": []}}},
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue",
        ),
        (
            "PutItem",
            {"Expected": {"a": {"AttributeValueList": {}}}},
            "Start of structure or map found where not expected",
        ),
    ],
)
def test_validate_structure_type_errors(operation: str, body: dict[str, Any], message: str) -> None:
    assert type_error(operation, body) == message


@pytest.mark.parametrize(
    ("operation", "body", "message"),
    [
        # A list inside a map, and a map inside a list, fail with Jackson's generic-type texts.
        ("BatchWriteItem", {"RequestItems": {"abc": "x"}}, PARAMETERIZED_CAST),
        (
            "BatchWriteItem",
            {"RequestItems": {"abc": {}}},
            "Start of structure or map found where not expected",
        ),
        ("BatchGetItem", {"RequestItems": {"abc": {"Keys": [1]}}}, PARAMETERIZED_CAST),
        (
            "BatchGetItem",
            {"RequestItems": {"abc": {"Keys": [[]]}}},
            f"Unrecognized collection type {AV_MAP}",
        ),
        (
            "BatchWriteItem",
            {"RequestItems": []},
            "Unrecognized collection type java.util.Map<java.lang.String, "
            "java.util.List<com.amazonaws.dynamodb.v20120810.WriteRequest>>",
        ),
    ],
)
def test_validate_nested_generic_type_errors(
    operation: str, body: dict[str, Any], message: str
) -> None:
    assert type_error(operation, body) == message


def test_validate_reports_first_type_error_in_member_order() -> None:
    # DynamoDB walks members in its own order, not the request's.
    body = {"Item": "x", "ReturnConsumedCapacity": 5}
    assert type_error("PutItem", body) == "NUMBER_VALUE cannot be converted to String"


def test_validate_type_errors_come_before_constraints() -> None:
    assert (
        type_error("Query", {"TableName": "a;", "Limit": "x"})
        == "STRING_VALUE cannot be converted to Integer"
    )


def test_validate_serialization_body_uses_capital_message() -> None:
    with pytest.raises(SerializationException) as caught:
        validate_request("PutItem", {"TableName": 1})
    assert caught.value.body() == {
        "__type": "com.amazon.coral.service#SerializationException",
        "Message": "NUMBER_VALUE cannot be converted to String",
    }


# --- constraints: ValidationException ------------------------------------------------------


def test_validate_single_constraint_error() -> None:
    body = {"TableName": "ab;", "Item": ITEM}
    assert constraint_error("PutItem", body) == one(
        "'ab;'", "tableName", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    )


def test_validate_multiple_errors_joined_in_dynamodb_order() -> None:
    # DynamoDB's recorded answer for ListTables(Limit=2147483647, ExclusiveStartTableName=bad).
    name = "89hls;;f;d" + "x" * 250
    message = constraint_error("ListTables", {"ExclusiveStartTableName": name, "Limit": 2147483647})
    assert message == (
        "3 validation errors detected: "
        "Value '2147483647' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 100; "
        f"Value '{name}' at 'exclusiveStartTableName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
        f"Value '{name}' at 'exclusiveStartTableName' failed to satisfy constraint: "
        "Member must have length less than or equal to 255"
    )


def test_validate_missing_required_members() -> None:
    assert constraint_error("PutItem", {}) == (
        "2 validation errors detected: "
        "Value null at 'tableName' failed to satisfy constraint: Member must not be null; "
        "Value null at 'item' failed to satisfy constraint: Member must not be null"
    )


def test_validate_enum_lists_values_in_dynamodb_order() -> None:
    body = {"TableName": "abc", "Item": ITEM, "ReturnValues": "SOME"}
    assert constraint_error("PutItem", body) == one(
        "'SOME'",
        "returnValues",
        "Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]",
    )


def test_validate_reports_at_most_ten_errors() -> None:
    # 12 definitions without name or type: 24 failures, DynamoDB lists the first 10.
    message = constraint_error(
        "CreateTable", {"TableName": "abc", "AttributeDefinitions": [{}] * 12}
    )
    assert message.startswith("10 validation errors detected: ")
    parts = message.removeprefix("10 validation errors detected: ").split("; ")
    assert len(parts) == 10
    assert parts[0] == (
        "Value null at 'attributeDefinitions.1.member.attributeName' "
        "failed to satisfy constraint: Member must not be null"
    )
    assert parts[9] == (
        "Value null at 'attributeDefinitions.5.member.attributeType' "
        "failed to satisfy constraint: Member must not be null"
    )


def test_validate_nested_paths_and_value_formatting() -> None:
    body = {
        "TableName": "abc",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 1},
        # Printed with members in DynamoDB's order, whatever the request's order.
        "KeySchema": [
            {"KeyType": "HASH", "AttributeName": "pk"},
            {"KeyType": "RANGE", "AttributeName": "sk"},
            {"KeyType": "X", "AttributeName": "ok"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "i;",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "Projection": {},
            },
        ],
    }
    key_schema = (
        '[{"AttributeName":"pk","KeyType":"HASH"}, {"AttributeName":"sk","KeyType":"RANGE"}, '
        '{"AttributeName":"ok","KeyType":"X"}]'
    )
    assert constraint_error("CreateTable", body) == (
        "5 validation errors detected: "
        "Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1; "
        f"Value '{key_schema}' at 'keySchema' failed to satisfy constraint: "
        "Member must have length less than or equal to 2; "
        "Value 'X' at 'keySchema.3.member.keyType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [HASH, RANGE]; "
        "Value 'i;' at 'globalSecondaryIndexes.1.member.indexName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
        "Value 'i;' at 'globalSecondaryIndexes.1.member.indexName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3"
    )


def test_validate_list_of_strings_formatting() -> None:
    names = ["a"] * 256
    body = {"TableName": "abc", "Key": ITEM, "AttributesToGet": names}
    assert constraint_error("GetItem", body) == one(
        "'[" + ", ".join(names) + "]'",
        "attributesToGet",
        "Member must have length less than or equal to 255",
    )


def test_validate_map_value_paths() -> None:
    body = {"TableName": "abc", "KeyConditions": {"pk": {"ComparisonOperator": "XX"}, "sk": {}}}
    assert constraint_error("Query", body) == (
        "2 validation errors detected: "
        "Value 'XX' at 'keyConditions.pk.member.comparisonOperator' failed to satisfy constraint: "
        "Member must satisfy enum value set: "
        "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]; "
        "Value null at 'keyConditions.sk.member.comparisonOperator' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_validate_batch_write_map_keys_and_values() -> None:
    # Table names in RequestItems are map keys: one failure per bad key, the whole map printed.
    body = {
        "RequestItems": {
            "ab": [{"PutRequest": {"Item": ITEM}}],
            "abc": [],
            "xyz": [{"PutRequest": {}}],
        }
    }
    shown = '{"ab":[{"PutRequest":{"Item":{"pk":{"S":"a"}}}}],"abc":[],"xyz":[{"PutRequest":{}}]}'
    assert constraint_error("BatchWriteItem", body) == (
        "3 validation errors detected: "
        f"Value '{shown}' at 'requestItems' failed to satisfy constraint: Map keys must satisfy "
        "constraint: [Member must have length less than or equal to 255, "
        "Member must have length greater than or equal to 3, "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]; "
        f"Value '{shown}' at 'requestItems' failed to satisfy constraint: Map value must satisfy "
        "constraint: [Member must have length less than or equal to 25, "
        "Member must have length greater than or equal to 1]; "
        "Value null at 'requestItems.xyz.member.1.member.putRequest.item' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_validate_batch_get_empty_request_items() -> None:
    assert constraint_error("BatchGetItem", {"RequestItems": {}}) == one(
        "'{}'", "requestItems", "Member must have length greater than or equal to 1"
    )


def test_validate_string_length_counts_utf16_units() -> None:
    # 19 astral characters are 38 UTF-16 code units: over ClientRequestToken's 36.
    token = "\U0001f600" * 19
    body = {
        "TransactItems": [{"Put": {"TableName": "abc", "Item": ITEM}}],
        "ClientRequestToken": token,
    }
    assert constraint_error("TransactWriteItems", body) == one(
        f"'{token}'", "clientRequestToken", "Member must have length less than or equal to 36"
    )
    body["ClientRequestToken"] = "\U0001f600" * 18
    assert (
        validate_request("TransactWriteItems", body)["ClientRequestToken"]
        == body["ClientRequestToken"]
    )


def test_validate_scan_total_segments_upper_bound() -> None:
    body = {"TableName": "abc", "TotalSegments": 1000001, "Segment": 0}
    assert constraint_error("Scan", body) == one(
        "'1000001'", "totalSegments", "Member must have value less than or equal to 1000000"
    )


# Control-plane operations check a missing or mis-sized TableName first, with their own texts.
@pytest.mark.parametrize(
    "operation",
    ["CreateTable", "DeleteTable", "DescribeTable", "UpdateTable", "DescribeTimeToLive"],
)
def test_validate_control_plane_table_name(operation: str) -> None:
    assert constraint_error(operation, {"BillingMode": "X"}) == (
        "The parameter 'TableName' is required but was not present in the request"
    )
    length = "TableName must be at least 3 characters long and at most 255 characters long"
    assert constraint_error(operation, {"TableName": "ab", "BillingMode": "X"}) == length
    assert constraint_error(operation, {"TableName": "a" * 256}) == length
    bad_name = (
        "Value 'ab;' at 'tableName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    )
    assert bad_name in constraint_error(operation, {"TableName": "ab;"})


def test_validate_tagging_leaves_missing_arn_to_the_operation() -> None:
    # TagResource reports a missing ARN as "Invalid TableArn", after its own ARN checks.
    assert validate_request("TagResource", {}) == {}
    assert validate_request("UntagResource", {}) == {}
    assert validate_request("ListTagsOfResource", {"ResourceArn": ""}) == {"ResourceArn": ""}


def test_validate_index_key_type_left_to_the_operation() -> None:
    # "Invalid KeySchema: The first KeySchemaElement is not a HASH key type" comes later.
    index = {
        "IndexName": "idx",
        "KeySchema": [{"AttributeName": "a", "KeyType": "X"}],
        "Projection": {},
    }
    body = {
        "TableName": "abc",
        "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
        "LocalSecondaryIndexes": [index],
    }
    assert validate_request("CreateTable", body)["LocalSecondaryIndexes"] == [index]


# --- cleaning --------------------------------------------------------------------------------


def test_validate_drops_nulls_and_unknown_members() -> None:
    body = {
        "TableName": "abc",
        "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S", "Extra": 1}],
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH", "Other": None}],
        "BillingMode": "PAY_PER_REQUEST",
        "ProvisionedThroughput": None,
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": None},
        "Unknown": {"anything": [1, 2]},
    }
    assert validate_request("CreateTable", body) == {
        "TableName": "abc",
        "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True},
    }


def test_validate_unknown_members_are_not_type_checked() -> None:
    assert validate_request("DescribeLimits", {"Whatever": [1, {"a": None}]}) == {}


def test_validate_null_required_member_counts_as_missing() -> None:
    assert constraint_error("PutItem", {"TableName": "abc", "Item": None}) == one(
        "null", "item", "Member must not be null"
    )


def test_validate_attribute_values_are_not_walked() -> None:
    # The core layer validates attribute values; here only the outer object is checked.
    item = {"a": "not an attribute value", "b": None, "c": {"S": 1}}
    assert validate_request("PutItem", {"TableName": "abc", "Item": item}) == {
        "TableName": "abc",
        "Item": item,
    }


def test_validate_every_operation_accepts_an_empty_body_or_reports_constraints() -> None:
    for operation in OPERATIONS:
        with contextlib.suppress(ValidationException):
            assert isinstance(validate_request(operation, {}), dict)


def test_validate_generated_shapes_are_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("gen_shapes", ROOT / "tools" / "gen_shapes.py")
    assert spec is not None and spec.loader is not None
    gen_shapes = importlib.util.module_from_spec(spec)
    sys.modules["gen_shapes"] = gen_shapes
    try:
        spec.loader.exec_module(gen_shapes)
        generated = gen_shapes.generate()
    finally:
        del sys.modules["gen_shapes"]
    current = (ROOT / "rivulet" / "api" / "shapes.py").read_text()
    # shapes.py is a snapshot of the botocore model named in its header. Against that same model
    # the generator must reproduce it byte for byte; against another (newer) model it must still
    # run and cover every operation, and the snapshot stays authoritative until regenerated.
    recorded = re.search(r"botocore (\S+)\)", current)
    assert recorded is not None
    if recorded.group(1) == botocore.__version__:
        assert generated == current, (
            "rivulet/api/shapes.py is stale: run python tools/gen_shapes.py"
        )
    else:
        for operation in OPERATIONS:
            assert f'"{operation}"' in generated
