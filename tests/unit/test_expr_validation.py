"""compile_expressions: placeholder resolution and every validation message, in DynamoDB's order."""

from __future__ import annotations

from typing import Any

import pytest

from rivulet.errors import ValidationException
from rivulet.expr import check_expression_params, compile_expressions

S = {"S": "x"}
N1 = {"N": "1"}
N3 = {"N": "3"}


def error(**kwargs: Any) -> str:
    with pytest.raises(ValidationException) as info:
        compile_expressions(**kwargs)
    assert info.value.message is not None
    return info.value.message


def test_validation_prefixes_name_the_expression() -> None:
    assert error(condition="a x b") == (
        'Invalid ConditionExpression: Syntax error; token: "x", near: "a x b"'
    )
    assert error(filter="a x b") == (
        'Invalid FilterExpression: Syntax error; token: "x", near: "a x b"'
    )
    assert error(key_condition="a x b") == (
        'Invalid KeyConditionExpression: Syntax error; token: "x", near: "a x b"'
    )
    assert error(update="SET a x b") == (
        'Invalid UpdateExpression: Syntax error; token: "x", near: "a x b"'
    )
    assert error(projection="a b") == (
        'Invalid ProjectionExpression: Syntax error; token: "b", near: "a b"'
    )
    assert error(condition="") == "Invalid ConditionExpression: The expression can not be empty;"


def test_validation_placeholder_maps() -> None:
    assert error(condition="a = b", names={}) == "ExpressionAttributeNames must not be empty"
    assert error(condition="a = b", values={}) == "ExpressionAttributeValues must not be empty"
    assert error(condition="a = b", names={"a": "b"}) == (
        'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'
    )
    assert error(condition="a = b", values={":a-b": S}) == (
        'ExpressionAttributeValues contains invalid key: Syntax error; key: ":a-b"'
    )
    assert error(names={"#a": "a"}) == (
        "ExpressionAttributeNames can only be specified when using expressions"
    )


def test_validation_undefined_placeholders() -> None:
    assert error(condition="#a = :v", values={":v": S}) == (
        "Invalid ConditionExpression: An expression attribute name used in the document path is "
        "not defined; attribute name: #a"
    )
    assert error(condition="a = :v") == (
        "Invalid ConditionExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :v"
    )
    assert error(update="SET a = :v") == (
        "Invalid UpdateExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :v"
    )
    assert error(projection="a.#b") == (
        "Invalid ProjectionExpression: An expression attribute name used in the document path is "
        "not defined; attribute name: #b"
    )


def test_validation_unused_placeholders_across_expressions() -> None:
    # Names and values must each be used by at least one expression of the request.
    assert error(condition="a = :v", names={"#a": "a", "#b": "b"}, values={":v": S}) == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}"
    )
    assert error(condition="a = :v", values={":v": S, ":w": S}) == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"
    )
    compiled = compile_expressions(
        condition="#a = :v", projection="#b", names={"#a": "a", "#b": "b"}, values={":v": S}
    )
    assert compiled.condition is not None and compiled.projection is not None


def test_validation_expression_order() -> None:
    # Update is checked before Condition, KeyCondition, Filter and Projection.
    message = error(update="SET a = :v", condition="b = :w", filter="c x", projection="d e")
    assert message.startswith("Invalid UpdateExpression:")
    message = error(condition="b = :w", filter="c x", projection="d e")
    assert message.startswith("Invalid ConditionExpression:")
    assert error(filter="c x", key_condition="x y").startswith("Invalid KeyConditionExpression:")
    # Unused-name checks come only after every expression parsed.
    assert error(filter="c x", names={"#z": "z"}).startswith("Invalid FilterExpression:")


def test_validation_reserved_words() -> None:
    assert error(update="SET date = :v", values={":v": S}) == (
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: date"
    )
    assert error(condition="a.Status = :v", values={":v": S}) == (
        "Invalid ConditionExpression: Attribute name is a reserved keyword; "
        "reserved keyword: Status"
    )
    # A placeholder avoids the reserved-word rule.
    compile_expressions(update="SET #d = :v", names={"#d": "date"}, values={":v": S})


def test_validation_function_operands() -> None:
    prefix = "Invalid ConditionExpression: "
    assert error(condition="attribute_exists(a, b)") == prefix + (
        "Incorrect number of operands for operator or function; "
        "operator or function: attribute_exists, number of operands: 2"
    )
    assert error(condition="attribute_exists(:v)", values={":v": S}) == prefix + (
        "Operator or function requires a document path; operator or function: attribute_exists"
    )
    assert error(condition="begins_with(a, :v)", values={":v": N1}) == prefix + (
        "Incorrect operand type for operator or function; "
        "operator or function: begins_with, operand type: N"
    )
    assert error(condition="begins_with(size(a), :v)", values={":v": S}) == prefix + (
        "Incorrect operand type for operator or function; "
        "operator or function: begins_with, operand type: N"
    )
    assert error(condition="size(:v) > a", values={":v": N1}) == prefix + (
        "Incorrect operand type for operator or function; "
        "operator or function: size, operand type: N"
    )
    assert error(condition="attribute_type(a, :v)", values={":v": N1}) == prefix + (
        "Incorrect operand type for operator or function; "
        "operator or function: attribute_type, operand type: N"
    )
    assert error(condition="attribute_type(a, b)") == prefix + (
        "Incorrect operand type for operator or function; "
        "operator or function: attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}"
    )
    assert error(condition="attribute_type(a, :v)", values={":v": {"S": "STRING"}}) == prefix + (
        "Invalid attribute type name found; type: STRING, valid types: "
        "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
    )


def test_validation_distinct_operands() -> None:
    # The two operands of a comparison or function must not be the same path.
    assert error(condition="#a = a", names={"#a": "a"}) == (
        "Invalid ConditionExpression: The first operand must be distinct from the remaining "
        "operands for this operator or function; operator: =, first operand: [a]"
    )
    assert error(condition="contains(a.b[1], a.b[1])") == (
        "Invalid ConditionExpression: The first operand must be distinct from the remaining "
        "operands for this operator or function; operator: contains, first operand: [a, b, [1]]"
    )


def test_validation_between_bounds() -> None:
    assert error(condition="a BETWEEN :a AND :b", values={":a": N3, ":b": N1}) == (
        "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
        "than or equal to lower bound; lower bound operand: AttributeValue: {N:3}, upper bound "
        "operand: AttributeValue: {N:1}"
    )
    assert error(condition="a BETWEEN :a AND :b", values={":a": N3, ":b": S}) == (
        "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and "
        "upper bounds; lower bound operand: AttributeValue: {N:3}, upper bound operand: "
        "AttributeValue: {S:x}"
    )
    compile_expressions(condition="a BETWEEN :a AND :a", values={":a": N3})


def test_validation_condition_error_is_settled_by_first_failing_leaf() -> None:
    # The first leaf condition with a problem decides; within it, undefined placeholders win
    # over operand counts, distinct operands and operand types.
    assert error(condition="a = :nope AND size(b, c) > :v", values={":v": N1}) == (
        "Invalid ConditionExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :nope"
    )
    assert error(condition="size(b, c) > :v AND a = :nope", values={":v": N1}) == (
        "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
        "operator or function: size, number of operands: 2"
    )
    assert error(condition="a = a AND a = :nope") == (
        "Invalid ConditionExpression: The first operand must be distinct from the remaining "
        "operands for this operator or function; operator: =, first operand: [a]"
    )


def test_validation_update_paths_overlap_and_conflict() -> None:
    assert error(update="SET a = :v, a.b = :v", values={":v": S}) == (
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; path one: [a], path two: [a, b]"
    )
    assert error(update="SET #a = :v REMOVE a", names={"#a": "a"}, values={":v": S}) == (
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; path one: [a], path two: [a]"
    )
    assert error(update="SET a.b = :v REMOVE a[0]", values={":v": S}) == (
        "Invalid UpdateExpression: Two document paths conflict with each other; must remove or "
        "rewrite one of these paths; path one: [a, b], path two: [a, [0]]"
    )
    compile_expressions(update="SET a[1] = :v REMOVE a[0], a[2]", values={":v": S})


def test_validation_update_operand_types() -> None:
    prefix = "Invalid UpdateExpression: "
    assert error(update="ADD a :v", values={":v": S}) == prefix + (
        "Incorrect operand type for operator or function; operator: ADD, operand type: STRING"
    )
    assert error(update="DELETE a :v", values={":v": N1}) == prefix + (
        "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"
    )
    assert error(update="ADD a :v", values={":v": {"L": []}}) == prefix + (
        "Incorrect operand type for operator or function; operator: ADD, operand type: LIST"
    )
    assert error(update="SET a = b + :v", values={":v": S}) == prefix + (
        "Incorrect operand type for operator or function; operator or function: +, operand type: S"
    )
    assert error(update="SET a = list_append(:v, b)", values={":v": S}) == prefix + (
        "Incorrect operand type for operator or function; operator or function: list_append, "
        "operand type: S"
    )
    assert error(update="SET a = if_not_exists(:v, b)", values={":v": S}) == prefix + (
        "Operator or function requires a document path; operator or function: if_not_exists"
    )
    assert error(update="SET a = list_append(b)") == prefix + (
        "Incorrect number of operands for operator or function; operator or function: "
        "list_append, number of operands: 1"
    )
    compile_expressions(update="ADD a :n, b :s DELETE c :s", values={":n": N1, ":s": {"SS": ["x"]}})


def test_validation_update_error_priority() -> None:
    # Undefined names, then undefined values, then overlaps, then operand types.
    assert error(update="SET a = :nope, #b = :v", values={":v": S}) == (
        "Invalid UpdateExpression: An expression attribute name used in the document path is "
        "not defined; attribute name: #b"
    )
    assert error(update="ADD a :v, a :nope", values={":v": S}) == (
        "Invalid UpdateExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :nope"
    )
    assert error(update="ADD a :v, a :v", values={":v": S}) == (
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; path one: [a], path two: [a]"
    )


def test_validation_projection_paths() -> None:
    assert error(projection="a.b, a") == (
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
        "or rewrite one of these paths; path one: [a, b], path two: [a]"
    )
    assert error(projection="a[0], a.b") == (
        "Invalid ProjectionExpression: Two document paths conflict with each other; must remove "
        "or rewrite one of these paths; path one: [a, [0]], path two: [a, b]"
    )


def test_validation_resolved_results_expose_heads() -> None:
    compiled = compile_expressions(
        update="SET a.b = :v, c = :v REMOVE d[1]",
        filter="e.f = :v OR g = :v",
        projection="h, i.j",
        values={":v": S},
    )
    assert compiled.update is not None and compiled.filter is not None
    assert compiled.projection is not None
    assert compiled.update.top_level_names == {"a", "c", "d"}
    assert compiled.update.nested_heads == {"a", "d"}
    assert compiled.update.top_level_types == (("c", "S"),)
    assert compiled.update.paths == (("a", "b"), ("c",), ("d", 1))
    assert compiled.filter.path_heads == {"e", "g"}
    assert compiled.filter.nested_heads == {"e"}
    assert compiled.projection.nested_heads == {"i"}


def test_validation_expression_params_mixing() -> None:
    def params_error(
        request: dict[str, Any], expressions: tuple[str, ...], legacy: tuple[str, ...]
    ) -> str:
        with pytest.raises(ValidationException) as info:
            check_expression_params(request, expressions, legacy)
        return str(info.value.message)

    update_exprs = ("UpdateExpression", "ConditionExpression")
    update_legacy = ("AttributeUpdates", "Expected")
    assert params_error(
        {"UpdateExpression": "SET a = :v", "Expected": {}}, update_exprs, update_legacy
    ) == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {UpdateExpression}"
    )
    assert params_error({"ExpressionAttributeNames": {}}, update_exprs, update_legacy) == (
        "ExpressionAttributeNames can only be specified when using expressions"
    )
    assert params_error({"ExpressionAttributeValues": {}}, update_exprs, update_legacy) == (
        "ExpressionAttributeValues can only be specified when using expressions: "
        "UpdateExpression and ConditionExpression are null"
    )
    assert params_error(
        {"ExpressionAttributeValues": {}, "ProjectionExpression": "a"},
        ("ProjectionExpression", "FilterExpression"),
        ("AttributesToGet", "ScanFilter"),
    ) == (
        "ExpressionAttributeValues can only be specified when using expressions: "
        "FilterExpression is null"
    )
    query = ("ProjectionExpression", "FilterExpression", "KeyConditionExpression")
    query_legacy = ("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions")
    check_expression_params({"KeyConditions": {}, "FilterExpression": "a = b"}, query, query_legacy)
