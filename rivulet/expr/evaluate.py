"""Condition and filter evaluation: resolved trees are compiled once into plain closures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rivulet.core.types import AttributeValue, Item
from rivulet.expr.nodes import (
    And,
    Between,
    Compare,
    CondNode,
    DocPath,
    Func,
    In,
    Not,
    Operand,
    Or,
    Path,
    Value,
)
from rivulet.expr.values import begins_with, contains, equal, ordered_pair, size

Getter = Callable[[Item], AttributeValue | None]
Test = Callable[[Item], bool]


@dataclass(frozen=True, slots=True, eq=False)
class Condition:
    """A resolved ConditionExpression / FilterExpression, ready to evaluate."""

    root: CondNode
    test: Test

    @property
    def path_heads(self) -> frozenset[str]:
        """Top-level attributes the expression reads (Query rejects filters on key attributes)."""
        heads: set[str] = set()
        _heads(self.root, heads, set())
        return frozenset(heads)

    @property
    def nested_heads(self) -> frozenset[str]:
        """Top-level attributes read through `.` or `[]` (not allowed on key attributes)."""
        nested: set[str] = set()
        _heads(self.root, set(), nested)
        return frozenset(nested)


def get_path(item: Item, path: DocPath) -> AttributeValue | None:
    """The value at a document path, or None when any step is missing or of the wrong type."""
    value = item.get(path[0])  # type: ignore[arg-type]
    for element in path[1:]:
        if value is None:
            return None
        if type(element) is int:
            elements = value.get("L")
            if elements is None or element >= len(elements):
                return None
            value = elements[element]
        else:
            entries = value.get("M")
            if entries is None:
                return None
            value = entries.get(element)
    return value


def getter(node: Operand) -> Getter:
    if isinstance(node, Path):
        path = node.elements
        if len(path) == 1:
            name = path[0]
            return lambda item: item.get(name)  # type: ignore[arg-type]
        return lambda item: get_path(item, path)
    if isinstance(node, Value):
        value = node.value
        return lambda item: value
    assert isinstance(node, Func) and node.name == "size"
    inner = getter(node.args[0])
    return lambda item: size(inner(item))


def _less(a: AttributeValue | None, b: AttributeValue | None) -> bool:
    pair = ordered_pair(a, b)
    return pair is not None and pair[0] < pair[1]  # type: ignore[operator]


def _less_equal(a: AttributeValue | None, b: AttributeValue | None) -> bool:
    pair = ordered_pair(a, b)
    return pair is not None and pair[0] <= pair[1]  # type: ignore[operator]


def _not_equal(a: AttributeValue | None, b: AttributeValue | None) -> bool:
    if a is None and b is None:
        return False
    return not equal(a, b)


def _compare(node: Compare) -> Test:
    left, right = getter(node.left), getter(node.right)
    op = node.op
    if op == "=":
        if isinstance(node.right, Value) and isinstance(node.left, Path):
            constant = node.right.value
            return lambda item: equal(left(item), constant)
        return lambda item: equal(left(item), right(item))
    if op == "<>":
        return lambda item: _not_equal(left(item), right(item))
    if op == "<":
        return lambda item: _less(left(item), right(item))
    if op == "<=":
        return lambda item: _less_equal(left(item), right(item))
    if op == ">":
        return lambda item: _less(right(item), left(item))
    return lambda item: _less_equal(right(item), left(item))


def _between(node: Between) -> Test:
    subject, low, high = getter(node.subject), getter(node.low), getter(node.high)

    def test(item: Item) -> bool:
        value = subject(item)
        lower = ordered_pair(low(item), value)
        upper = ordered_pair(value, high(item))
        return (
            lower is not None
            and upper is not None
            and lower[0] <= lower[1]  # type: ignore[operator]
            and upper[0] <= upper[1]  # type: ignore[operator]
        )

    return test


def _function(node: Func) -> Test:
    name, args = node.name, node.args
    if name in ("attribute_exists", "attribute_not_exists"):
        path = args[0]
        assert isinstance(path, Path)
        elements = path.elements
        wanted = name == "attribute_exists"
        if len(elements) == 1:
            key = elements[0]
            if wanted:
                return lambda item: key in item
            return lambda item: key not in item
        return lambda item: (get_path(item, elements) is not None) is wanted
    if name == "attribute_type":
        target = getter(args[0])
        kind_value = args[1]
        assert isinstance(kind_value, Value)
        kind = kind_value.value["S"]

        def has_type(item: Item) -> bool:
            value = target(item)
            return value is not None and kind in value

        return has_type
    first, second = getter(args[0]), getter(args[1])
    if name == "begins_with":
        return lambda item: begins_with(first(item), second(item))
    assert name == "contains"
    return lambda item: contains(first(item), second(item))


def compile_condition(node: CondNode) -> Test:
    if isinstance(node, And):
        tests = [compile_condition(operand) for operand in node.operands]
        if len(tests) == 2:
            first, second = tests
            return lambda item: first(item) and second(item)
        return lambda item: all(test(item) for test in tests)
    if isinstance(node, Or):
        tests = [compile_condition(operand) for operand in node.operands]
        if len(tests) == 2:
            first, second = tests
            return lambda item: first(item) or second(item)
        return lambda item: any(test(item) for test in tests)
    if isinstance(node, Not):
        inner = compile_condition(node.operand)
        return lambda item: not inner(item)
    if isinstance(node, Compare):
        return _compare(node)
    if isinstance(node, Between):
        return _between(node)
    if isinstance(node, In):
        subject = getter(node.subject)
        options = [getter(option) for option in node.options]

        def is_in(item: Item) -> bool:
            value = subject(item)
            return value is not None and any(equal(value, option(item)) for option in options)

        return is_in
    return _function(node)


def _heads(node: CondNode | Operand, heads: set[str], nested: set[str]) -> None:
    if isinstance(node, Path):
        head = node.elements[0]
        assert isinstance(head, str)
        heads.add(head)
        if len(node.elements) > 1:
            nested.add(head)
    elif isinstance(node, (And, Or)):
        for part in node.operands:
            _heads(part, heads, nested)
    elif isinstance(node, Not):
        _heads(node.operand, heads, nested)
    elif isinstance(node, Compare):
        _heads(node.left, heads, nested)
        _heads(node.right, heads, nested)
    elif isinstance(node, Between):
        for operand in (node.subject, node.low, node.high):
            _heads(operand, heads, nested)
    elif isinstance(node, In):
        for operand in (node.subject, *node.options):
            _heads(operand, heads, nested)
    elif isinstance(node, Func):
        for operand in node.args:
            _heads(operand, heads, nested)


def build_condition(root: CondNode) -> Condition:
    return Condition(root, compile_condition(root))
