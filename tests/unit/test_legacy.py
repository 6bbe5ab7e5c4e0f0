"""Legacy parameters (Expected, AttributeUpdates, KeyConditions, ...): validation and translation."""

from __future__ import annotations

from typing import Any

import pytest

from rivulet.errors import ValidationException
from rivulet.expr import Expressions, apply_update, compile_expressions, evaluate, project
from rivulet.expr.legacy import LegacyExpressions, check_mixing, translate

INVALID = "One or more parameter values were invalid: "


def _error(fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ValidationException) as info:
        fn(*args, **kwargs)
    assert info.value.message is not None
    return info.value.message


def _cond(expected: dict[str, Any], **extra: Any) -> LegacyExpressions:
    out = translate({"Expected": expected, **extra}, operation="PutItem")
    assert out is not None
    return out


def _filter(conditions: dict[str, Any], **extra: Any) -> LegacyExpressions:
    out = translate({"ScanFilter": conditions, **extra}, operation="Scan")
    assert out is not None
    return out


# -- check_mixing ---------------------------------------------------------------------------------


# DynamoDB rejects a request that mixes legacy and expression parameters, listing both groups.
@pytest.mark.parametrize(
    ("operation", "body", "message"),
    [
        (
            "PutItem",
            {"Expected": {}, "ConditionExpression": "a = :a"},
            "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
        (
            "UpdateItem",
            {"AttributeUpdates": {}, "Expected": {}, "UpdateExpression": "SET a = :a"},
            "Non-expression parameters: {AttributeUpdates, Expected} "
            "Expression parameters: {UpdateExpression}",
        ),
        (
            "UpdateItem",
            {"Expected": {}, "UpdateExpression": "SET a = :a", "ConditionExpression": "b = :b"},
            "Non-expression parameters: {Expected} "
            "Expression parameters: {UpdateExpression, ConditionExpression}",
        ),
        (
            "Query",
            {
                "KeyConditions": {},
                "QueryFilter": {},
                "ConditionalOperator": "AND",
                "AttributesToGet": ["a"],
                "KeyConditionExpression": "a = :a",
                "FilterExpression": "b = :b",
            },
            "Non-expression parameters: {AttributesToGet, QueryFilter, ConditionalOperator, "
            "KeyConditions} Expression parameters: {FilterExpression, KeyConditionExpression}",
        ),
        (
            "Scan",
            {"ScanFilter": {}, "ProjectionExpression": "a"},
            "Non-expression parameters: {ScanFilter} Expression parameters: {ProjectionExpression}",
        ),
        (
            "GetItem",
            {"AttributesToGet": ["a"], "ProjectionExpression": "a"},
            "Non-expression parameters: {AttributesToGet} "
            "Expression parameters: {ProjectionExpression}",
        ),
    ],
)
def test_check_mixing_rejects_both_kinds(
    operation: str, body: dict[str, Any], message: str
) -> None:
    assert _error(check_mixing, body, operation) == (
        "Can not use both expression and non-expression parameters in the same request: " + message
    )


def test_check_mixing_allows_key_conditions_with_filter_expression() -> None:
    # DynamoDB lets KeyConditions accompany FilterExpression/ProjectionExpression (not KeyConditionExpression).
    check_mixing(
        {
            "KeyConditions": {"h": {}},
            "FilterExpression": "b = :b",
            "ExpressionAttributeValues": {":b": {"S": "x"}},
        },
        "Query",
    )


def test_check_mixing_rejects_names_without_expressions() -> None:
    body = {"Expected": {}, "ExpressionAttributeNames": {"#a": "a"}}
    assert _error(check_mixing, body, "PutItem") == (
        "ExpressionAttributeNames can only be specified when using expressions"
    )


@pytest.mark.parametrize(
    ("operation", "tail"),
    [
        ("PutItem", "ConditionExpression is null"),
        ("DeleteItem", "ConditionExpression is null"),
        ("UpdateItem", "UpdateExpression and ConditionExpression are null"),
        ("Query", "FilterExpression and KeyConditionExpression are null"),
        ("Scan", "FilterExpression is null"),
    ],
)
def test_check_mixing_rejects_values_without_expressions(operation: str, tail: str) -> None:
    body = {"ExpressionAttributeValues": {":a": {"S": "x"}}, "ProjectionExpression": "a"}
    assert _error(check_mixing, body, operation) == (
        "ExpressionAttributeValues can only be specified when using expressions: " + tail
    )


def test_check_mixing_accepts_plain_requests() -> None:
    check_mixing({"Expected": {"a": {"Exists": False}}}, "PutItem")
    check_mixing({"ConditionExpression": "a = :a", "ExpressionAttributeValues": {}}, "PutItem")
    check_mixing({"AttributesToGet": ["a"], "Key": {}}, "GetItem")


def test_check_mixing_infers_the_operation() -> None:
    body = {"AttributeUpdates": {}, "ExpressionAttributeValues": {":a": {"S": "x"}}}
    assert _error(check_mixing, body) == (
        "ExpressionAttributeValues can only be specified when using expressions: "
        "UpdateExpression and ConditionExpression are null"
    )


# -- translate: presence ---------------------------------------------------------------------------


def test_translate_returns_none_without_legacy_parameters() -> None:
    assert translate({"ConditionExpression": "a = :a"}, operation="PutItem") is None
    assert translate({"Expected": None}, operation="PutItem") is None
    # A parameter the operation does not have is ignored.
    assert translate({"AttributesToGet": ["a"]}, operation="PutItem") is None


# -- Expected -------------------------------------------------------------------------------------


def test_translate_kcl_lease_conditions_and_updates() -> None:
    # The Kinesis Client Library's lease table: create-if-absent, then conditional renew.
    created = _cond({"leaseKey": {"Exists": False}})
    assert created == LegacyExpressions(
        condition="attribute_not_exists(#l0)", names={"#l0": "leaseKey"}
    )
    renew = translate(
        {
            "Expected": {
                "leaseOwner": {"Value": {"S": "w1"}},
                "leaseCounter": {"Value": {"N": "5"}},
            },
            "AttributeUpdates": {"leaseCounter": {"Action": "ADD", "Value": {"N": "1"}}},
        },
        operation="UpdateItem",
    )
    assert renew == LegacyExpressions(
        condition="#l0 = :l0 AND #l1 = :l1",
        update="ADD #l1 :l2",
        names={"#l0": "leaseOwner", "#l1": "leaseCounter"},
        values={":l0": {"S": "w1"}, ":l1": {"N": "5"}, ":l2": {"N": "1"}},
    )


def test_translate_expected_exists_true_with_value_is_equality() -> None:
    out = _cond({"a": {"Exists": True, "Value": {"S": "x"}}})
    assert (out.condition, out.values) == ("#l0 = :l0", {":l0": {"S": "x"}})


@pytest.mark.parametrize(
    ("op", "args", "text"),
    [
        ("EQ", [{"S": "x"}], "#l0 = :l0"),
        ("NE", [{"S": "x"}], "(attribute_not_exists(#l0) OR #l0 <> :l0)"),
        ("LE", [{"N": "1"}], "#l0 <= :l0"),
        ("LT", [{"N": "1"}], "#l0 < :l0"),
        ("GE", [{"N": "1"}], "#l0 >= :l0"),
        ("GT", [{"N": "1"}], "#l0 > :l0"),
        ("NOT_NULL", [], "attribute_exists(#l0)"),
        ("NULL", [], "attribute_not_exists(#l0)"),
        ("CONTAINS", [{"S": "x"}], "contains(#l0, :l0)"),
        ("NOT_CONTAINS", [{"S": "x"}], "NOT contains(#l0, :l0)"),
        ("BEGINS_WITH", [{"S": "x"}], "begins_with(#l0, :l0)"),
        ("IN", [{"S": "x"}, {"S": "y"}, {"S": "z"}], "#l0 IN (:l0, :l1, :l2)"),
        ("BETWEEN", [{"N": "1"}, {"N": "2"}], "#l0 BETWEEN :l0 AND :l1"),
    ],
)
def test_translate_comparison_operators(op: str, args: list[Any], text: str) -> None:
    values = {f":l{i}": v for i, v in enumerate(args)}
    cond = (
        {"ComparisonOperator": op, "AttributeValueList": args}
        if args
        else {"ComparisonOperator": op}
    )
    assert _cond({"a": cond}) == LegacyExpressions(
        condition=text, names={"#l0": "a"}, values=values
    )
    assert _filter({"a": cond}) == LegacyExpressions(filter=text, names={"#l0": "a"}, values=values)


def test_translate_expected_comparison_with_value_instead_of_list() -> None:
    out = _cond({"a": {"ComparisonOperator": "GT", "Value": {"N": "3"}}})
    assert (out.condition, out.values) == ("#l0 > :l0", {":l0": {"N": "3"}})


def test_translate_conditional_operator_joins_clauses() -> None:
    expected = {"a": {"Exists": False}, "b": {"ComparisonOperator": "NE", "Value": {"N": "1"}}}
    assert _cond(expected).condition == (
        "attribute_not_exists(#l0) AND (attribute_not_exists(#l1) OR #l1 <> :l0)"
    )
    assert _cond(expected, ConditionalOperator="OR").condition == (
        "attribute_not_exists(#l0) OR (attribute_not_exists(#l1) OR #l1 <> :l0)"
    )
    assert (
        _filter(
            {"a": {"ComparisonOperator": "NULL"}, "b": {"ComparisonOperator": "NOT_NULL"}},
            ConditionalOperator="OR",
        ).filter
        == "attribute_not_exists(#l0) OR attribute_exists(#l1)"
    )


def test_translate_empty_expected_has_no_condition() -> None:
    assert _cond({}) == LegacyExpressions()


@pytest.mark.parametrize(
    ("cond", "message"),
    [
        (
            {"Value": {"S": "x"}, "AttributeValueList": [{"S": "x"}]},
            INVALID + "Value and AttributeValueList cannot be used together for Attribute: a",
        ),
        (
            {"ComparisonOperator": "EQ", "Exists": True},
            INVALID + "Exists and ComparisonOperator cannot be used together for Attribute: a",
        ),
        (
            {"ComparisonOperator": "GT"},
            INVALID
            + "Value or AttributeValueList must be used with ComparisonOperator: GT for Attribute: a",
        ),
        (
            {"ComparisonOperator": "NULL", "Value": {"S": "x"}},
            INVALID + "Invalid number of argument(s) for the NULL ComparisonOperator",
        ),
        (
            {"ComparisonOperator": "EQ", "AttributeValueList": []},
            INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator",
        ),
        (
            {"ComparisonOperator": "BETWEEN", "Value": {"N": "1"}},
            INVALID + "Invalid number of argument(s) for the BETWEEN ComparisonOperator",
        ),
        (
            {"ComparisonOperator": "IN", "AttributeValueList": [{"S": "x"}, {"N": "1"}]},
            INVALID + "AttributeValues inside AttributeValueList must be of same type",
        ),
        (
            {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "2"}, {"N": "1"}]},
            "The BETWEEN condition was provided a range where the lower bound is greater than "
            "the upper bound",
        ),
        (
            {"ComparisonOperator": "LT", "Value": {"SS": ["x"]}},
            INVALID + "ComparisonOperator LT is not valid for SS AttributeValue type",
        ),
        (
            {"AttributeValueList": [{"S": "x"}]},
            INVALID
            + "AttributeValueList can only be used with a ComparisonOperator for Attribute: a",
        ),
        ({}, INVALID + "Value must be provided when Exists is null for Attribute: a"),
        ({"Exists": True}, INVALID + "Value must be provided when Exists is true for Attribute: a"),
        (
            {"Exists": False, "Value": {"S": "x"}},
            INVALID + "Value cannot be used when Exists is false for Attribute: a",
        ),
        ({"Value": {"N": "abc"}}, "The parameter cannot be converted to a numeric value: abc"),
        (
            {"ComparisonOperator": "EQ", "Value": {"NULL": False}},
            INVALID + "Null attribute value types must have the value of true",
        ),
    ],
)
def test_translate_expected_validation(cond: dict[str, Any], message: str) -> None:
    assert _error(translate, {"Expected": {"a": cond}}, operation="DeleteItem") == message


def test_translate_expected_value_any_type_equality() -> None:
    # A bare Value is plain equality and accepts every type, unlike ComparisonOperator EQ.
    assert _cond({"a": {"Value": {"BOOL": True}}}).condition == "#l0 = :l0"
    message = _error(
        translate,
        {"Expected": {"a": {"ComparisonOperator": "EQ", "Value": {"BOOL": True}}}},
        operation="PutItem",
    )
    assert message == INVALID + "ComparisonOperator EQ is not valid for BOOL AttributeValue type"


# -- QueryFilter / ScanFilter ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cond", "message"),
    [
        (
            {"ComparisonOperator": "EQ"},
            INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator",
        ),
        (
            {"ComparisonOperator": "NOT_NULL", "AttributeValueList": [{"S": "x"}]},
            INVALID + "Invalid number of argument(s) for the NOT_NULL ComparisonOperator",
        ),
        (
            {"ComparisonOperator": "IN", "AttributeValueList": []},
            INVALID + "Invalid number of argument(s) for the IN ComparisonOperator",
        ),
        (
            {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"S": "x"}]},
            INVALID + "AttributeValues inside AttributeValueList must be of same type",
        ),
        (
            {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"N": "1"}]},
            INVALID + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type",
        ),
        (
            {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"SS": ["x"]}]},
            INVALID + "ComparisonOperator CONTAINS is not valid for SS AttributeValue type",
        ),
        (
            {"ComparisonOperator": "EQ", "AttributeValueList": [{"L": []}]},
            INVALID + "ComparisonOperator EQ is not valid for L AttributeValue type",
        ),
        (
            {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"S": "b"}, {"S": "a"}]},
            "The BETWEEN condition was provided a range where the lower bound is greater than "
            "the upper bound",
        ),
        (
            {"ComparisonOperator": "EQ", "AttributeValueList": [{}]},
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            # Values are validated before the argument count.
            {"ComparisonOperator": "EQ", "AttributeValueList": [{"SS": []}, {"S": "x"}]},
            INVALID + "An string set  may not be empty",
        ),
    ],
)
def test_translate_filter_validation(cond: dict[str, Any], message: str) -> None:
    assert _error(translate, {"ScanFilter": {"a": cond}}, operation="Scan") == message
    assert (
        _error(translate, {"QueryFilter": {"a": cond}, "KeyConditions": {}}, operation="Query")
        == message
    )


def test_translate_between_orders_numbers_numerically_and_strings_by_bytes() -> None:
    assert _filter(
        {"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "9"}, {"N": "10"}]}}
    )
    assert _filter(
        {"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"S": "Z"}, {"S": "a"}]}}
    )
    assert _filter(
        {
            "a": {
                "ComparisonOperator": "BETWEEN",
                "AttributeValueList": [{"B": "AA=="}, {"B": "/w=="}],
            }
        }
    )


def test_translate_scan_checks_attributes_to_get_before_filter() -> None:
    body = {"AttributesToGet": ["a", "a"], "ScanFilter": {"a": {"ComparisonOperator": "EQ"}}}
    assert _error(translate, body, operation="Scan") == (
        INVALID + "Duplicate value in attribute name: a"
    )


def test_translate_query_checks_filter_before_attributes_to_get() -> None:
    body = {
        "AttributesToGet": ["a", "a"],
        "QueryFilter": {"a": {"ComparisonOperator": "EQ"}},
        "KeyConditions": {},
    }
    assert _error(translate, body, operation="Query") == (
        INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator"
    )


# -- KeyConditions --------------------------------------------------------------------------------


def test_translate_key_conditions_with_filter_and_projection() -> None:
    out = translate(
        {
            "KeyConditions": {
                "h": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]},
                "r": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "p"}]},
            },
            "QueryFilter": {"f": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "1"}]}},
            "AttributesToGet": ["f", "h", "x.y"],
        },
        operation="Query",
    )
    assert out == LegacyExpressions(
        key_condition="#l0 = :l0 AND begins_with(#l1, :l1)",
        filter="#l2 >= :l2",
        projection="#l2, #l0, #l3",
        names={"#l0": "h", "#l1": "r", "#l2": "f", "#l3": "x.y"},
        values={":l0": {"S": "x"}, ":l1": {"S": "p"}, ":l2": {"N": "1"}},
    )


@pytest.mark.parametrize(
    ("op", "args", "text"),
    [
        ("LE", [{"N": "1"}], "#l0 = :l0 AND #l1 <= :l1"),
        ("LT", [{"N": "1"}], "#l0 = :l0 AND #l1 < :l1"),
        ("GE", [{"N": "1"}], "#l0 = :l0 AND #l1 >= :l1"),
        ("GT", [{"N": "1"}], "#l0 = :l0 AND #l1 > :l1"),
        ("BETWEEN", [{"N": "1"}, {"N": "2"}], "#l0 = :l0 AND #l1 BETWEEN :l1 AND :l2"),
    ],
)
def test_translate_key_conditions_range_operators(op: str, args: list[Any], text: str) -> None:
    out = translate(
        {
            "KeyConditions": {
                "h": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]},
                "r": {"ComparisonOperator": op, "AttributeValueList": args},
            }
        },
        operation="Query",
    )
    assert out is not None
    assert out.key_condition == text


@pytest.mark.parametrize("op", ["NE", "NULL", "NOT_NULL", "CONTAINS", "NOT_CONTAINS", "IN"])
def test_translate_key_conditions_rejects_non_indexable_operators(op: str) -> None:
    # DynamoDB: key conditions only support EQ, LE, LT, GE, GT, BEGINS_WITH and BETWEEN.
    args = [] if op in ("NULL", "NOT_NULL") else [{"S": "x"}]
    body = {"KeyConditions": {"h": {"ComparisonOperator": op, "AttributeValueList": args}}}
    assert _error(translate, body, operation="Query") == (
        "Attempted conditional constraint is not an indexable operation"
    )


def test_translate_key_conditions_counts() -> None:
    eq = {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]}
    for conditions in ({}, {"a": eq, "b": eq, "c": eq}):
        assert _error(translate, {"KeyConditions": conditions}, operation="Query") == (
            "Conditions can be of length 1 or 2 only"
        )
    # Argument checks come first.
    body = {"KeyConditions": {"a": {"ComparisonOperator": "EQ"}}}
    assert _error(translate, body, operation="Query") == (
        INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator"
    )


def test_translate_placeholders_never_clash_with_request_ones() -> None:
    # KeyConditions may travel with a FilterExpression that brings its own names and values.
    out = translate(
        {
            "KeyConditions": {
                "h": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]}
            },
            "FilterExpression": "#l0 = :l0",
            "ExpressionAttributeNames": {"#l0": "f", "#l1": "g"},
            "ExpressionAttributeValues": {":l0": {"S": "y"}},
        },
        operation="Query",
    )
    assert out == LegacyExpressions(
        key_condition="#l2 = :l1", names={"#l2": "h"}, values={":l1": {"S": "x"}}
    )


# -- AttributeUpdates -----------------------------------------------------------------------------


def test_translate_attribute_updates_actions() -> None:
    out = translate(
        {
            "AttributeUpdates": {
                "p": {"Action": "PUT", "Value": {"S": "x"}},
                "d": {"Value": {"M": {"k": {"S": "v"}}}},
                "r": {"Action": "DELETE"},
                "s": {"Action": "DELETE", "Value": {"SS": ["a"]}},
                "n": {"Action": "ADD", "Value": {"N": "1"}},
                "ns": {"Action": "ADD", "Value": {"NS": ["1", "2"]}},
                "l": {"Action": "ADD", "Value": {"L": [{"S": "e"}]}},
            }
        },
        operation="UpdateItem",
    )
    assert out == LegacyExpressions(
        update="SET #l0 = :l0, #l1 = :l1, #l6 = list_append(if_not_exists(#l6, :l5), :l6) "
        "REMOVE #l2 ADD #l4 :l3, #l5 :l4 DELETE #l3 :l2",
        names={
            "#l0": "p",
            "#l1": "d",
            "#l2": "r",
            "#l3": "s",
            "#l4": "n",
            "#l5": "ns",
            "#l6": "l",
        },
        values={
            ":l0": {"S": "x"},
            ":l1": {"M": {"k": {"S": "v"}}},
            ":l2": {"SS": ["a"]},
            ":l3": {"N": "1"},
            ":l4": {"NS": ["1", "2"]},
            ":l5": {"L": []},
            ":l6": {"L": [{"S": "e"}]},
        },
    )


def test_translate_empty_attribute_updates_has_no_update() -> None:
    assert translate({"AttributeUpdates": {}}, operation="UpdateItem") == LegacyExpressions()


@pytest.mark.parametrize(
    ("update", "message"),
    [
        (
            {"Action": "PUT"},
            INVALID + "Only DELETE action is allowed when no attribute value is specified",
        ),
        ({}, INVALID + "Only DELETE action is allowed when no attribute value is specified"),
        (
            {"Action": "DELETE", "Value": {"S": "x"}},
            INVALID + "DELETE action with value is not supported for the type S",
        ),
        (
            {"Action": "DELETE", "Value": {"L": []}},
            INVALID + "DELETE action with value is not supported for the type L",
        ),
        (
            {"Action": "ADD", "Value": {"S": "x"}},
            INVALID + "ADD action is not supported for the type S",
        ),
        (
            {"Action": "ADD", "Value": {"BOOL": True}},
            INVALID + "ADD action is not supported for the type BOOL",
        ),
        ({"Action": "ADD", "Value": {"NS": ["1", "1.0"]}}, "Input collection contains duplicates"),
        (
            {"Action": "PUT", "Value": {"SS": ["a", "a"]}},
            INVALID + "Input collection [a, a] contains duplicates.",
        ),
    ],
)
def test_translate_attribute_updates_validation(update: dict[str, Any], message: str) -> None:
    assert _error(translate, {"AttributeUpdates": {"a": update}}, operation="UpdateItem") == message


def test_translate_update_item_checks_updates_before_expected() -> None:
    body = {"AttributeUpdates": {"a": {"Action": "PUT"}}, "Expected": {"b": {}}}
    assert _error(translate, body, operation="UpdateItem") == (
        INVALID + "Only DELETE action is allowed when no attribute value is specified"
    )


# -- AttributesToGet ------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["GetItem", "BatchGetItem", "Query", "Scan"])
def test_translate_attributes_to_get(operation: str) -> None:
    body: dict[str, Any] = {"AttributesToGet": ["a", "b.c", "size"]}
    if operation == "Query":
        body["KeyConditions"] = {
            "h": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]}
        }
    out = translate(body, operation=operation)
    assert out is not None
    assert out.projection is not None
    placeholders = out.projection.split(", ")
    assert [out.names[p] for p in placeholders] == ["a", "b.c", "size"]
    if operation != "Query":
        assert out.projection == "#l0, #l1, #l2"
    assert _error(translate, {"AttributesToGet": ["a", "b", "a"]}, operation=operation) == (
        INVALID + "Duplicate value in attribute name: a"
    )


# -- values and constraints -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"N": ""}, "The parameter cannot be converted to a numeric value"),
        ({"N": "+1"}, "The parameter cannot be converted to a numeric value: +1"),
        (
            {"N": "1e126"},
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            {"N": "1e-131"},
            "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        ),
        ({"N": "1" * 39}, "Attempting to store more than 38 significant digits in a Number"),
        ({"NS": []}, INVALID + "An number set  may not be empty"),
        ({"BS": []}, INVALID + "Binary sets should not be empty"),
        (
            {"BS": ["AA==", "AA=="]},
            INVALID + "Input collection [AA==, AA==]of type BS contains duplicates.",
        ),
        ({"L": [{"N": "x"}]}, "The parameter cannot be converted to a numeric value: x"),
        (
            {"M": {"k": {}}},
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            {"S": "x", "N": "1"},
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
            "supported datatypes",
        ),
    ],
)
def test_translate_validates_attribute_values(value: dict[str, Any], message: str) -> None:
    assert _error(translate, {"Expected": {"a": {"Value": value}}}, operation="PutItem") == message


def test_translate_accepts_number_limits() -> None:
    for n in (
        "9.9999999999999999999999999999999999999e125",
        "1e-130",
        "0.000",
        "-1" + "0" * 100,
        "1.",
    ):
        assert _cond({"a": {"Value": {"N": n}}}).condition == "#l0 = :l0"


def test_translate_reports_constraint_violations() -> None:
    # Normally the API layer's shape validation reports these; translate() stays safe without it.
    body = {
        "ScanFilter": {"a": {"ComparisonOperator": "FOO"}, "b": {}},
        "ConditionalOperator": "XOR",
    }
    assert _error(translate, body, operation="Scan") == (
        "3 validation errors detected: "
        "Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: "
        "Member must satisfy enum value set: [OR, AND]; "
        "Value 'FOO' at 'scanFilter.a.member.comparisonOperator' failed to satisfy constraint: "
        "Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, "
        "NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]; "
        "Value null at 'scanFilter.b.member.comparisonOperator' failed to satisfy constraint: "
        "Member must not be null"
    )
    body = {"AttributeUpdates": {"a": {"Action": "SET", "Value": {"S": "x"}}}}
    assert _error(translate, body, operation="UpdateItem") == (
        "1 validation error detected: Value 'SET' at 'attributeUpdates.a.member.action' failed "
        "to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
    )
    assert _error(translate, {"AttributesToGet": []}, operation="GetItem") == (
        "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1"
    )


# -- end to end: translate -> compile_expressions -> the one evaluator ----------------------------


def _compiled(body: dict[str, Any], operation: str) -> Expressions:
    out = translate(body, operation=operation)
    assert out is not None
    return compile_expressions(
        condition=out.condition,
        filter=out.filter,
        update=out.update,
        projection=out.projection,
        key_condition=out.key_condition,
        names=out.names or None,
        values=out.values or None,
    )


def _holds(expected: dict[str, Any], item: dict[str, Any] | None, **extra: Any) -> bool:
    condition = _compiled({"Expected": expected, **extra}, "PutItem").condition
    assert condition is not None
    return evaluate(condition, item)


def test_legacy_kcl_lease_lifecycle() -> None:
    # KCL creates a lease only if absent, then renews it conditionally on owner and counter.
    create = {"leaseKey": {"Exists": False}}
    assert _holds(create, None)
    lease = {"leaseKey": {"S": "shard-0"}, "leaseOwner": {"S": "w1"}, "leaseCounter": {"N": "5"}}
    assert not _holds(create, lease)
    renew = _compiled(
        {
            "Expected": {
                "leaseOwner": {"Value": {"S": "w1"}},
                "leaseCounter": {"Value": {"N": "5"}},
            },
            "AttributeUpdates": {"leaseCounter": {"Action": "ADD", "Value": {"N": "1"}}},
        },
        "UpdateItem",
    )
    assert renew.condition is not None and renew.update is not None
    assert evaluate(renew.condition, lease)
    assert not evaluate(renew.condition, {**lease, "leaseOwner": {"S": "w2"}})
    assert apply_update(renew.update, lease)["leaseCounter"] == {"N": "6"}
    evict = _compiled({"AttributeUpdates": {"leaseOwner": {"Action": "DELETE"}}}, "UpdateItem")
    assert evict.update is not None
    assert apply_update(evict.update, lease) == {
        k: v for k, v in lease.items() if k != "leaseOwner"
    }


def test_legacy_ne_and_not_contains_hold_for_missing_attributes() -> None:
    # Legacy NE and NOT_CONTAINS are true when the attribute does not exist.
    ne = {"a": {"ComparisonOperator": "NE", "Value": {"N": "1"}}}
    assert _holds(ne, None)
    assert _holds(ne, {"a": {"S": "1"}})
    assert _holds(ne, {"a": {"N": "2"}})
    assert not _holds(ne, {"a": {"N": "1.0"}})
    not_contains = {"a": {"ComparisonOperator": "NOT_CONTAINS", "Value": {"S": "x"}}}
    assert _holds(not_contains, {})
    assert _holds(not_contains, {"a": {"SS": ["y"]}})
    assert not _holds(not_contains, {"a": {"S": "axb"}})


@pytest.mark.parametrize(
    ("op", "args", "matching", "other"),
    [
        ("EQ", [{"NS": ["1", "2"]}], {"NS": ["2", "1"]}, {"NS": ["1"]}),
        ("LE", [{"N": "10"}], {"N": "9"}, {"N": "11"}),
        ("LT", [{"S": "b"}], {"S": "a"}, {"S": "b"}),
        ("GE", [{"N": "-1"}], {"N": "-1"}, {"N": "-2"}),
        ("GT", [{"B": "AQ=="}], {"B": "Ag=="}, {"B": "AQ=="}),
        ("NOT_NULL", [], {"NULL": True}, None),
        ("CONTAINS", [{"N": "2"}], {"NS": ["1", "2"]}, {"N": "2"}),
        ("BEGINS_WITH", [{"S": "ab"}], {"S": "abc"}, {"S": "ba"}),
        ("IN", [{"S": "x"}, {"S": "y"}], {"S": "y"}, {"S": "z"}),
        ("BETWEEN", [{"N": "1"}, {"N": "3"}], {"N": "3"}, {"N": "4"}),
    ],
)
def test_legacy_filter_operators_evaluate(
    op: str, args: list[Any], matching: dict[str, Any], other: dict[str, Any] | None
) -> None:
    cond = (
        {"ComparisonOperator": op, "AttributeValueList": args}
        if args
        else {"ComparisonOperator": op}
    )
    compiled = _compiled({"ScanFilter": {"a": cond}}, "Scan").filter
    assert compiled is not None
    assert evaluate(compiled, {"a": matching})
    assert not evaluate(compiled, {} if other is None else {"a": other})


def test_legacy_conditional_operator_or() -> None:
    expected = {"a": {"Value": {"N": "1"}}, "b": {"Value": {"N": "2"}}}
    assert not _holds(expected, {"a": {"N": "1"}})
    assert _holds(expected, {"a": {"N": "1"}}, ConditionalOperator="OR")
    assert not _holds(expected, {"a": {"N": "3"}}, ConditionalOperator="OR")


def test_legacy_attribute_updates_apply() -> None:
    compiled = _compiled(
        {
            "AttributeUpdates": {
                "p": {"Value": {"S": "new"}},
                "r": {"Action": "DELETE"},
                "s": {"Action": "DELETE", "Value": {"SS": ["a", "zz"]}},
                "t": {"Action": "ADD", "Value": {"SS": ["b"]}},
                "l": {"Action": "ADD", "Value": {"L": [{"N": "2"}]}},
                "m": {"Action": "ADD", "Value": {"L": [{"N": "1"}]}},
                "n": {"Action": "ADD", "Value": {"N": "-1.50"}},
            }
        },
        "UpdateItem",
    )
    assert compiled.update is not None
    old: dict[str, Any] = {
        "p": {"S": "old"},
        "r": {"N": "1"},
        "s": {"SS": ["a", "b"]},
        "t": {"SS": ["a"]},
        "l": {"L": [{"N": "1"}]},
    }
    new = apply_update(compiled.update, old)
    assert new == {
        "p": {"S": "new"},
        "s": {"SS": ["b"]},
        "t": {"SS": ["a", "b"]},
        "l": {"L": [{"N": "1"}, {"N": "2"}]},
        "m": {"L": [{"N": "1"}]},
        "n": {"N": "-1.5"},
    }


def test_legacy_add_type_mismatch_is_a_runtime_error() -> None:
    # The legacy API words it "Type mismatch for attribute to update" (the API layer rewrites it).
    compiled = _compiled(
        {"AttributeUpdates": {"a": {"Action": "ADD", "Value": {"N": "1"}}}}, "UpdateItem"
    )
    assert compiled.update is not None
    assert _error(apply_update, compiled.update, {"a": {"S": "x"}}) == (
        "An operand in the update expression has an incorrect data type"
    )


def test_legacy_attributes_to_get_projects_literal_names() -> None:
    # AttributesToGet names are whole top-level names: "a.b" is not a path.
    projection = _compiled({"AttributesToGet": ["a.b", "c"]}, "GetItem").projection
    assert projection is not None
    item: dict[str, Any] = {
        "a.b": {"S": "x"},
        "a": {"M": {"b": {"S": "y"}}},
        "c": {"N": "1"},
        "d": {"N": "2"},
    }
    assert project(projection, item) == {"a.b": {"S": "x"}, "c": {"N": "1"}}


def test_legacy_key_conditions_compile_to_key_condition() -> None:
    compiled = _compiled(
        {
            "KeyConditions": {
                "h": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]},
                "r": {
                    "ComparisonOperator": "BETWEEN",
                    "AttributeValueList": [{"N": "1"}, {"N": "2"}],
                },
            }
        },
        "Query",
    )
    assert compiled.key_condition is not None
    assert compiled.key_condition.conditions == (
        ("h", "EQ", ({"S": "x"},)),
        ("r", "BETWEEN", ({"N": "1"}, {"N": "2"})),
    )


def test_legacy_key_conditions_merge_with_user_filter_expression() -> None:
    body: dict[str, Any] = {
        "KeyConditions": {"h": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]}},
        "FilterExpression": "#l0 = :l0",
        "ExpressionAttributeNames": {"#l0": "f"},
        "ExpressionAttributeValues": {":l0": {"S": "y"}},
    }
    check_mixing(body, "Query")
    out = translate(body, operation="Query")
    assert out is not None
    compiled = compile_expressions(
        key_condition=out.key_condition,
        filter=body["FilterExpression"],
        names={**body["ExpressionAttributeNames"], **out.names},
        values={**body["ExpressionAttributeValues"], **out.values},
    )
    assert compiled.key_condition is not None and compiled.filter is not None
    assert compiled.key_condition.conditions == (("h", "EQ", ({"S": "x"},)),)
    assert evaluate(compiled.filter, {"f": {"S": "y"}})
