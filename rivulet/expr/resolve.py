"""Substitution of #names and :values into parsed expressions, with DynamoDB's semantic checks."""

# Each check records the first error of its category; the reported error is picked by DynamoDB's
# category priority, so the order of the walks below mirrors the order DynamoDB checks things.

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rivulet.core.types import AttributeValue
from rivulet.expr.checks import CONDITION_FUNCTIONS
from rivulet.expr.nodes import (
    And,
    Arith,
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
    PathElement,
    Value,
    ValueRef,
    path_text,
)
from rivulet.expr.parser import (
    ExpressionError,
    ParsedCondition,
    ParsedProjection,
    ParsedUpdate,
)
from rivulet.expr.values import descending

_ATTRIBUTE_TYPES = ("S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M")
_OPERAND_TYPE_NAMES = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "NULL": "NULL",
    "BOOL": "BOOLEAN",
    "L": "LIST",
    "M": "MAP",
}
_UNRESOLVED = Value({})


def value_type(value: AttributeValue) -> str | None:
    for kind in value:
        return kind
    return None


def _render(value: AttributeValue) -> str:
    """How DynamoDB prints an operand in BETWEEN messages: AttributeValue: {N:3}."""
    kind = value_type(value)
    payload = value[kind] if kind else ""
    if isinstance(payload, bool):
        payload = "true" if payload else "false"
    elif isinstance(payload, list):
        payload = ",".join(map(str, payload))
    return f"AttributeValue: {{{kind}:{payload}}}"


@dataclass(frozen=True, slots=True)
class ResolvedAction:
    kind: str  # SET REMOVE ADD DELETE
    path: DocPath
    value: Operand | None
    value_type: str | None  # statically known type of the written value, if any


class _Resolver:
    """Placeholder lookup with DynamoDB's first-error-wins bookkeeping."""

    name_key = "attrNameVal"
    value_key = "attrNameVal"

    def __init__(
        self, names: Mapping[str, str] | None, values: Mapping[str, AttributeValue] | None
    ) -> None:
        self.names = names or {}
        self.values = values or {}
        self.errors: dict[str, str] = {}

    def error(self, key: str, message: str) -> None:
        if key not in self.errors:
            self.errors[key] = message

    def path(self, path: Path) -> DocPath:
        if not any(isinstance(e, str) and e[0] == "#" for e in path.elements):
            return path.elements
        elements: list[PathElement] = []
        for element in path.elements:
            if isinstance(element, str) and element[0] == "#":
                real = None if self.name_key in self.errors else self.names.get(element)
                if not real:
                    self.error(
                        self.name_key,
                        "An expression attribute name used in the document path is not defined; "
                        f"attribute name: {element}",
                    )
                    real = ""
                elements.append(real)
            else:
                elements.append(element)
        return tuple(elements)

    def value(self, ref: ValueRef) -> Value:
        if self.value_key in self.errors:
            return _UNRESOLVED
        value = self.values.get(ref.name)
        if not value:
            self.error(
                self.value_key,
                "An expression attribute value used in expression is not defined; "
                f"attribute value: {ref.name}",
            )
            return _UNRESOLVED
        return Value(value)

    def check_paths(self, paths: list[DocPath], path: DocPath) -> None:
        """Update targets and projected paths must neither overlap nor conflict."""
        if "pathOverlap" in self.errors:
            return
        for other in paths:
            for mine, theirs in zip(other, path, strict=False):
                if type(mine) is not type(theirs):
                    # DynamoDB keeps the last conflict it saw.
                    self.errors["pathConflict"] = (
                        "Two document paths conflict with each other; must remove or rewrite one "
                        f"of these paths; path one: {path_text(other)}, path two: {path_text(path)}"
                    )
                    break
                if mine != theirs:
                    break
            else:
                self.error(
                    "pathOverlap",
                    "Two document paths overlap with each other; must remove or rewrite one of "
                    f"these paths; path one: {path_text(other)}, path two: {path_text(path)}",
                )
                return
        paths.append(path)

    def first(self, *keys: str) -> str | None:
        for key in keys:
            if key in self.errors:
                return self.errors[key]
        return None


def _incorrect_operand(name: str, kind: str) -> str:
    return (
        "Incorrect operand type for operator or function; "
        f"operator or function: {name}, operand type: {kind}"
    )


class _ConditionResolver(_Resolver):
    def __init__(
        self, names: Mapping[str, str] | None, values: Mapping[str, AttributeValue] | None
    ) -> None:
        super().__init__(names, values)
        self.condition_error: str | None = None

    def snapshot(self) -> None:
        # DynamoDB settles the condition-level error at the first leaf condition with any.
        if self.condition_error is None and self.errors:
            self.condition_error = self.first("attrNameVal", "operand", "distinct", "function")

    def distinct(self, name: str, args: tuple[Operand, ...]) -> None:
        if "distinct" in self.errors or len(args) != 2:
            return
        first, second = args
        if (
            isinstance(first, Path)
            and isinstance(second, Path)
            and first.elements == second.elements
        ):
            self.errors["distinct"] = (
                "The first operand must be distinct from the remaining operands for this "
                f"operator or function; operator: {name}, first operand: "
                f"{path_text(first.elements)}"
            )

    def operand(self, node: Operand) -> tuple[Operand, str | None]:
        if isinstance(node, Path):
            return Path(self.path(node)), None
        if isinstance(node, ValueRef):
            value = self.value(node)
            return value, value_type(value.value)
        assert isinstance(node, Func)
        resolved = [self.operand(arg) for arg in node.args]
        args = tuple(arg for arg, _ in resolved)
        return Func(node.name, args), self.function(node.name, args, [t for _, t in resolved])

    def function(self, name: str, args: tuple[Operand, ...], types: list[str | None]) -> str | None:
        """Returns the function's result type, as DynamoDB types operands for outer checks."""
        if "operand" in self.errors:
            return None
        if CONDITION_FUNCTIONS[name] != len(args):
            self.errors["operand"] = (
                "Incorrect number of operands for operator or function; "
                f"operator or function: {name}, number of operands: {len(args)}"
            )
            return None
        self.distinct(name, args)
        if "function" in self.errors:
            return None
        if name in ("attribute_exists", "attribute_not_exists"):
            if not isinstance(args[0], Path):
                self.errors["function"] = (
                    f"Operator or function requires a document path; operator or function: {name}"
                )
            return None
        if name == "begins_with":
            for kind in types:
                if kind and kind not in ("S", "B"):
                    self.errors["function"] = _incorrect_operand(name, kind)
                    return None
            return "BOOL"
        if name == "attribute_type":
            kind = types[1]
            if kind != "S":
                self.errors["function"] = _incorrect_operand(
                    name, kind or "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"
                )
                return None
            second = args[1]
            assert isinstance(second, Value)
            if second.value["S"] not in _ATTRIBUTE_TYPES:
                self.errors["function"] = (
                    f"Invalid attribute type name found; type: {second.value['S']}, "
                    "valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
                )
                return None
            return "BOOL"
        if name == "size":
            if types[0] in ("N", "BOOL", "NULL"):
                self.errors["function"] = _incorrect_operand(name, str(types[0]))
                return None
            return "N"
        return "BOOL"  # contains

    def between(self, low: Operand, high: Operand) -> None:
        if "function" in self.errors or not isinstance(low, Value) or not isinstance(high, Value):
            return
        low_type, high_type = value_type(low.value), value_type(high.value)
        if not low_type or not high_type:
            return
        bounds = (
            f"lower bound operand: {_render(low.value)}, upper bound operand: {_render(high.value)}"
        )
        if low_type != high_type:
            self.errors["function"] = (
                f"The BETWEEN operator requires same data type for lower and upper bounds; {bounds}"
            )
        elif descending(low.value, high.value):
            self.errors["function"] = (
                "The BETWEEN operator requires upper bound to be greater than or equal to lower "
                f"bound; {bounds}"
            )

    def condition(self, node: CondNode) -> CondNode:
        if isinstance(node, And):
            return And(tuple(self.condition(operand) for operand in node.operands))
        if isinstance(node, Or):
            return Or(tuple(self.condition(operand) for operand in node.operands))
        if isinstance(node, Not):
            return Not(self.condition(node.operand))
        result: CondNode
        if isinstance(node, Func):
            result = self.operand(node)[0]  # type: ignore[assignment]
        elif isinstance(node, Compare):
            left, right = self.operand(node.left)[0], self.operand(node.right)[0]
            self.distinct(node.op, (left, right))
            result = Compare(node.op, left, right)
        elif isinstance(node, Between):
            subject = self.operand(node.subject)[0]
            low, high = self.operand(node.low)[0], self.operand(node.high)[0]
            self.between(low, high)
            result = Between(subject, low, high)
        else:
            subject = self.operand(node.subject)[0]
            result = In(subject, tuple(self.operand(o)[0] for o in node.options))
        self.snapshot()
        return result


def resolve_condition(
    parsed: ParsedCondition,
    names: Mapping[str, str] | None,
    values: Mapping[str, AttributeValue] | None,
) -> CondNode:
    if parsed.error:
        raise ExpressionError(parsed.error)
    resolver = _ConditionResolver(names, values)
    root = resolver.condition(parsed.root)
    if resolver.condition_error:
        raise ExpressionError(resolver.condition_error)
    return root


class _UpdateResolver(_Resolver):
    name_key = "attrName"
    value_key = "attrVal"

    def operand(self, node: Operand) -> tuple[Operand, str | None]:
        if isinstance(node, Path):
            return Path(self.path(node)), None
        if isinstance(node, ValueRef):
            value = self.value(node)
            return value, value_type(value.value)
        if isinstance(node, Arith):
            left = self.operand(node.left)[0]
            right = self.operand(node.right)[0]
            return Arith(node.op, left, right), self.function(node.op, (left, right), [])
        assert isinstance(node, Func)
        resolved = [self.operand(arg) for arg in node.args]
        args = tuple(arg for arg, _ in resolved)
        return Func(node.name, args), self.function(node.name, args, [t for _, t in resolved])

    def function(self, name: str, args: tuple[Operand, ...], types: list[str | None]) -> str | None:
        if "function" in self.errors:
            return None
        if len(args) != 2:
            self.errors["function"] = (
                "Incorrect number of operands for operator or function; "
                f"operator or function: {name}, number of operands: {len(args)}"
            )
            return None
        if name == "if_not_exists":
            if not isinstance(args[0], Path):
                self.errors["function"] = (
                    f"Operator or function requires a document path; operator or function: {name}"
                )
                return None
            return types[1]
        wanted = "L" if name == "list_append" else "N"
        for arg in args:
            kind = value_type(arg.value) if isinstance(arg, Value) else None
            if kind and kind != wanted:
                self.errors["function"] = _incorrect_operand(name, kind)
                return None
        return wanted

    def operator(self, operator: str, value: Value) -> str | None:
        if "operand" in self.errors or not value.value:
            return None
        kind = value_type(value.value)
        assert kind is not None
        if kind in _OPERAND_TYPE_NAMES and not (operator == "ADD" and kind == "N"):
            self.errors["operand"] = (
                "Incorrect operand type for operator or function; "
                f"operator: {operator}, operand type: {_OPERAND_TYPE_NAMES[kind]}"
            )
        return kind


def resolve_update(
    parsed: ParsedUpdate,
    names: Mapping[str, str] | None,
    values: Mapping[str, AttributeValue] | None,
) -> tuple[ResolvedAction, ...]:
    if parsed.error:
        raise ExpressionError(parsed.error)
    resolver = _UpdateResolver(names, values)
    paths: list[DocPath] = []
    actions: list[ResolvedAction] = []
    for action in parsed.actions:
        path = resolver.path(action.path)
        value: Operand | None = None
        kind: str | None = None
        if action.value is not None:
            value, kind = resolver.operand(action.value)
        resolver.check_paths(paths, path)
        if action.kind in ("ADD", "DELETE"):
            assert isinstance(value, Value)
            kind = resolver.operator(action.kind, value)
        actions.append(ResolvedAction(action.kind, path, value, kind))
    error = resolver.first(
        "attrName", "attrVal", "pathOverlap", "pathConflict", "operand", "function"
    )
    if error:
        raise ExpressionError(error)
    return tuple(actions)


def resolve_projection(
    parsed: ParsedProjection, names: Mapping[str, str] | None
) -> tuple[DocPath, ...]:
    if parsed.error:
        raise ExpressionError(parsed.error)
    resolver = _Resolver(names, None)
    resolved = [resolver.path(path) for path in parsed.paths]
    paths: list[DocPath] = []
    for path in resolved:
        resolver.check_paths(paths, path)
    error = resolver.first("attrNameVal", "pathOverlap", "pathConflict")
    if error:
        raise ExpressionError(error)
    return tuple(resolved)
