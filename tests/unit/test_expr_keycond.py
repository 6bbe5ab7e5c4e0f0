"""KeyConditionExpression: reduction to key predicates, its messages, and key-schema checks."""

from __future__ import annotations

from typing import Any

import pytest

from rivulet.errors import ValidationException
from rivulet.expr import KeyBounds, KeyCondition, compile_expressions, key_condition_bounds

S = {"S": "x"}
T = {"S": "y"}


def key_condition(text: str, **values: Any) -> KeyCondition:
    compiled = compile_expressions(
        key_condition=text, values={f":{k}": v for k, v in values.items()} or None
    )
    assert compiled.key_condition is not None
    return compiled.key_condition


def error(text: str, **values: Any) -> str:
    with pytest.raises(ValidationException) as info:
        key_condition(text, **values)
    return str(info.value.message)


def test_keycond_operators() -> None:
    assert key_condition("id = :a AND sk <= :b", a=S, b=T).conditions == (
        ("id", "EQ", (S,)),
        ("sk", "LE", (T,)),
    )
    assert key_condition("sk BETWEEN :a AND :b AND id = :a", a=S, b=T).conditions == (
        ("sk", "BETWEEN", (S, T)),
        ("id", "EQ", (S,)),
    )
    assert key_condition("begins_with(sk, :a)", a=S).conditions == (("sk", "BEGINS_WITH", (S,)),)


def test_keycond_operand_order_is_normalised() -> None:
    # `:v < sk` means `sk > :v`.
    assert key_condition(":a = id AND :b < sk", a=S, b=T).conditions == (
        ("id", "EQ", (S,)),
        ("sk", "GT", (T,)),
    )
    assert key_condition(":b >= sk", b=T).conditions == (("sk", "LE", (T,)),)


def test_keycond_invalid_operators() -> None:
    assert error("id = :a OR sk = :a", a=S) == (
        "Invalid operator used in KeyConditionExpression: OR"
    )
    assert error("NOT id = :a", a=S) == "Invalid operator used in KeyConditionExpression: NOT"
    assert error("id IN (:a)", a=S) == "Invalid operator used in KeyConditionExpression: IN"
    assert error("id <> :a", a=S) == "Invalid operator used in KeyConditionExpression: <>"
    assert error("id = :a AND attribute_exists(sk)", a=S) == (
        "Invalid operator used in KeyConditionExpression: attribute_exists"
    )
    assert error("contains(id, :a)", a=S) == (
        "Invalid operator used in KeyConditionExpression: contains"
    )
    assert error("size(id) = :a", a={"N": "1"}) == (
        "KeyConditionExpressions cannot contain nested operations"
    )


def test_keycond_invalid_conditions() -> None:
    assert error("id = sk") == (
        "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
        "condition"
    )
    assert error(":a = :b", a=S, b=T) == (
        "Invalid condition in KeyConditionExpression: No key attribute specified"
    )
    assert error("id.x = :a", a=S) == (
        "KeyConditionExpressions cannot have conditions on nested attributes"
    )
    assert error("id = :a AND id = :b", a=S, b=T) == (
        "KeyConditionExpressions must only contain one condition per key"
    )
    assert error(":a BETWEEN sk AND :b", a=S, b=T) == (
        "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key "
        "attribute as its first operand"
    )
    assert error("begins_with(:a, sk)", a=S) == (
        "Invalid condition in KeyConditionExpression: begins_with operator must have the key "
        "attribute as its first operand"
    )
    assert error("a = :a AND b = :a AND c = :a", a=S) == "Conditions can be of length 1 or 2 only"


def test_keycond_value_types() -> None:
    assert error("id = :a", a={"BOOL": True}) == (
        "One or more parameter values were invalid: ComparisonOperator EQ is not valid for BOOL "
        "AttributeValue type"
    )
    assert error("sk < :a", a={"SS": ["x"]}) == (
        "One or more parameter values were invalid: ComparisonOperator LT is not valid for SS "
        "AttributeValue type"
    )
    assert error("begins_with(sk, :a)", a={"N": "1"}) == (
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
        "operator or function: begins_with, operand type: N"
    )


def test_keycond_bounds_for_hash_and_range() -> None:
    kc = key_condition("id = :a AND sk BETWEEN :a AND :b", a=S, b=T)
    assert key_condition_bounds(kc, "id", "sk") == KeyBounds(S, "BETWEEN", (S, T))
    assert key_condition_bounds(key_condition("id = :a", a=S), "id", "sk") == KeyBounds(S, None, ())
    assert key_condition_bounds(key_condition("id = :a", a=S), "id", None) == KeyBounds(S, None, ())


def test_keycond_bounds_schema_errors() -> None:
    def bounds_error(kc: KeyCondition, hash_name: str, range_name: str | None, **kw: Any) -> str:
        with pytest.raises(ValidationException) as info:
            key_condition_bounds(kc, hash_name, range_name, **kw)
        return str(info.value.message)

    both = key_condition("id = :a AND sk = :b", a=S, b=T)
    assert bounds_error(both, "id", None) == "Query key condition not supported"
    assert bounds_error(key_condition("sk = :a", a=S), "id", "sk") == (
        "Query condition missed key schema element: id"
    )
    assert bounds_error(key_condition("id = :a AND extra = :a", a=S), "id", "sk") == (
        "Query condition missed key schema element: sk"
    )
    assert bounds_error(key_condition("id > :a", a=S), "id", "sk") == (
        "Query key condition not supported"
    )
    assert bounds_error(both, "id", "sk", hash_type="N", range_type="S") == (
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type"
    )
    assert key_condition_bounds(both, "id", "sk", hash_type="S", range_type="S") == KeyBounds(
        S, "EQ", (T,)
    )
