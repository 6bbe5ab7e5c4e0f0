"""KeyConditionExpression: one predicate per key attribute, checked against the key schema."""

from __future__ import annotations

from dataclasses import dataclass

from rivulet.core.types import AttributeValue
from rivulet.errors import ValidationException
from rivulet.expr.nodes import (
    And,
    Between,
    Compare,
    CondNode,
    Func,
    In,
    Not,
    Operand,
    Or,
    Path,
    Value,
)
from rivulet.expr.resolve import value_type
from rivulet.expr.values import descending

_OPERATORS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
# `:v < sk` is `sk > :v`.
_MIRRORED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ALLOWED_TYPES = {
    "EQ": ("S", "N", "B", "SS", "NS", "BS"),
    "LE": ("S", "N", "B"),
    "LT": ("S", "N", "B"),
    "GE": ("S", "N", "B"),
    "GT": ("S", "N", "B"),
    "BETWEEN": ("S", "N", "B"),
    "BEGINS_WITH": ("S", "B"),
}


@dataclass(frozen=True, slots=True, eq=False)
class KeyCondition:
    # (attribute name, operator, operand values), in expression order.
    conditions: tuple[tuple[str, str, tuple[AttributeValue, ...]], ...]


@dataclass(frozen=True, slots=True)
class KeyBounds:
    hash_value: AttributeValue
    range_op: str | None  # "EQ" "LT" "LE" "GT" "GE" "BETWEEN" "BEGINS_WITH"
    range_values: tuple[AttributeValue, ...]


def _fail(message: str) -> ValidationException:
    return ValidationException(message)


def _collect(node: CondNode, found: dict[str, tuple[str, tuple[AttributeValue, ...]]]) -> None:
    if isinstance(node, (Or, Not, In)) or (isinstance(node, Compare) and node.op == "<>"):
        word = {Or: "OR", Not: "NOT", In: "IN"}.get(type(node), "<>")
        raise _fail(f"Invalid operator used in KeyConditionExpression: {word}")
    if isinstance(node, Func):
        if node.name == "size":
            raise _fail("KeyConditionExpressions cannot contain nested operations")
        if node.name != "begins_with":
            raise _fail(f"Invalid operator used in KeyConditionExpression: {node.name}")
    if isinstance(node, (Between, Func)):
        first = node.subject if isinstance(node, Between) else node.args[0]
        if not isinstance(first, Path):
            word = "BETWEEN" if isinstance(node, Between) else "begins_with"
            raise _fail(
                f"Invalid condition in KeyConditionExpression: {word} operator must have the key "
                "attribute as its first operand"
            )
    args: tuple[CondNode | Operand, ...]
    if isinstance(node, And):
        args = node.operands
    elif isinstance(node, Compare):
        args = (node.left, node.right)
    elif isinstance(node, Between):
        args = (node.subject, node.low, node.high)
    else:
        assert isinstance(node, Func)
        args = node.args
    name = ""
    position = 0
    for index, arg in enumerate(args):
        if isinstance(arg, Path):
            if name:
                raise _fail(
                    "Invalid condition in KeyConditionExpression: "
                    "Multiple attribute names used in one condition"
                )
            if len(arg.elements) > 1:
                raise _fail("KeyConditionExpressions cannot have conditions on nested attributes")
            name, position = str(arg.elements[0]), index
        elif not isinstance(arg, Value):
            _collect(arg, found)  # type: ignore[arg-type]
    if isinstance(node, And):
        return
    if not name:
        raise _fail("Invalid condition in KeyConditionExpression: No key attribute specified")
    if name in found:
        raise _fail("KeyConditionExpressions must only contain one condition per key")
    values = tuple(arg.value for arg in args if isinstance(arg, Value))
    if isinstance(node, Compare):
        found[name] = (_OPERATORS[_MIRRORED[node.op] if position else node.op], values)
    else:
        found[name] = ("BETWEEN" if isinstance(node, Between) else "BEGINS_WITH", values)


def build_key_condition(root: CondNode) -> KeyCondition:
    """Schema-independent checks, in DynamoDB's order (after the expression itself is valid)."""
    found: dict[str, tuple[str, tuple[AttributeValue, ...]]] = {}
    _collect(root, found)
    for op, values in found.values():
        kinds = [value_type(value) for value in values]
        if any(kind != kinds[0] for kind in kinds):
            raise _fail(
                "One or more parameter values were invalid: "
                "AttributeValues inside AttributeValueList must be of same type"
            )
        for kind in kinds:
            if kind not in _ALLOWED_TYPES[op]:
                raise _fail(
                    f"One or more parameter values were invalid: ComparisonOperator {op} "
                    f"is not valid for {kind} AttributeValue type"
                )
        if op == "BETWEEN" and descending(values[0], values[1]):
            raise _fail(
                "The BETWEEN condition was provided a range where the lower bound is greater "
                "than the upper bound"
            )
    if len(found) not in (1, 2):
        raise _fail("Conditions can be of length 1 or 2 only")
    return KeyCondition(tuple((name, op, values) for name, (op, values) in found.items()))


def key_condition_bounds(
    kc: KeyCondition,
    hash_name: str,
    range_name: str | None,
    *,
    hash_type: str | None = None,
    range_type: str | None = None,
) -> KeyBounds:
    """Check the key condition against the queried key schema (types are checked when given)."""
    conditions = {name: (op, values) for name, op, values in kc.conditions}
    schema = [(hash_name, hash_type, True)]
    if range_name is not None:
        schema.append((range_name, range_type, False))
    for name, kind, is_hash in schema:
        if is_hash and range_name is None and len(conditions) > 1:
            raise _fail("Query key condition not supported")
        if name not in conditions:
            if is_hash or len(conditions) > 1:
                raise _fail(f"Query condition missed key schema element: {name}")
            continue
        op, values = conditions[name]
        if kind is not None and any(kind not in value for value in values):
            raise _fail(
                "One or more parameter values were invalid: "
                "Condition parameter type does not match schema type"
            )
        if is_hash and op != "EQ":
            raise _fail("Query key condition not supported")
    hash_value = conditions[hash_name][1][0]
    if range_name is None or range_name not in conditions:
        return KeyBounds(hash_value, None, ())
    op, values = conditions[range_name]
    return KeyBounds(hash_value, op, values)
