"""Request shape validation in DynamoDB's order: JSON types first, then member constraints."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from rivulet.api.shapes import OPERATIONS, Node
from rivulet.api.stream_shapes import STREAM_OPERATIONS
from rivulet.core.table_arns import table_of_arn
from rivulet.errors import SerializationException, ValidationException

# Cleans one JSON value of a known shape (drops nulls, coerces numbers) or raises
# SerializationException.
TypeCheck = Callable[[Any], Any]
# Appends the constraint failures of one (type-checked) value at `path` to `errors`.
ConstraintCheck = Callable[[Any, str, list[str]], None]

# DynamoDB lists at most this many constraint failures.
MAX_ERRORS = 10

JAVA_PACKAGE = "com.amazonaws.dynamodb.v20120810."
START_OF_STRUCTURE = "Start of structure or map found where not expected"
UNEXPECTED_FIELD = "Unexpected field type"
UNEXPECTED_VALUE = "Unexpected value type in payload"
# Jackson's text for a scalar where a list nested in a map (or a map nested in a list) belongs.
PARAMETERIZED_CAST = (
    "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to class "
    "java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and "
    "java.lang.Class are in module java.base of loader 'bootstrap')"
)
NOT_NULL = "Member must not be null"
_BOOLEAN_STRINGS = {"TRUE": True, "1": True, "YES": True, "FALSE": False, "0": False, "NO": False}


# --- step 1: JSON types ------------------------------------------------------------------------


def _number_word(value: int | float) -> str:
    return "NUMBER_VALUE" if value % 1 == 0 else "DECIMAL_VALUE"


def _scalar_error(value: Any, java: str) -> SerializationException:
    """The text Jackson gives when `value` is not a `java` (String, Integer, Long)."""
    if isinstance(value, bool):
        return SerializationException(
            f"{'TRUE' if value else 'FALSE'}_VALUE cannot be converted to {java}"
        )
    if isinstance(value, int | float):
        return SerializationException(f"{_number_word(value)} cannot be converted to {java}")
    if isinstance(value, str):
        return SerializationException(f"STRING_VALUE cannot be converted to {java}")
    if isinstance(value, list):
        return SerializationException(f"Unrecognized collection type class java.lang.{java}")
    return SerializationException(START_OF_STRUCTURE)


def _string(value: Any) -> Any:
    if type(value) is str:
        return value
    raise _scalar_error(value, "String")


def _boolean(value: Any) -> Any:
    if type(value) is bool:
        return value
    if isinstance(value, str):
        # DynamoDB accepts "true"/"1"/"yes" and "false"/"0"/"no" in any case.
        parsed = _BOOLEAN_STRINGS.get(value.upper())
        if parsed is None:
            raise SerializationException("Unexpected token received from parser")
        return parsed
    if isinstance(value, int | float):
        raise SerializationException(f"{_number_word(value)} cannot be converted to Boolean")
    if isinstance(value, list):
        raise SerializationException("Unrecognized collection type class java.lang.Boolean")
    raise SerializationException(START_OF_STRUCTURE)


def _integral(java: str) -> TypeCheck:
    def check(value: Any) -> Any:
        kind = type(value)
        if kind is int:
            return value
        if kind is float:
            # Integer and Long members truncate decimals towards minus infinity.
            return math.floor(value)
        raise _scalar_error(value, java)

    return check


def _timestamp(value: Any) -> Any:
    # botocore sends timestamps of the JSON protocol as epoch seconds (a number).
    if type(value) in (int, float):
        return value
    raise _scalar_error(value, "Date")


_SCALAR_CHECKS: dict[str, TypeCheck] = {
    "string": _string,
    "timestamp": _timestamp,
    "boolean": _boolean,
    "integer": _integral("Integer"),
    "long": _integral("Long"),
}


def _wrong_type(
    scalar: str, on_list: str = "", on_dict: str = START_OF_STRUCTURE
) -> Callable[[Any], SerializationException]:
    """The error for a value of the wrong JSON type (scalar, list or object)."""

    def error(value: Any) -> SerializationException:
        if isinstance(value, list):
            return SerializationException(on_list)
        return SerializationException(on_dict if isinstance(value, dict) else scalar)

    return error


def _compile_type(node: Node, position: str) -> TypeCheck:
    """`position` is "field" (structure member), "element" (list member) or "value" (map value)."""
    kind, java, _, children = node
    if kind in _SCALAR_CHECKS:
        return _SCALAR_CHECKS[kind]
    if kind in ("structure", "attribute_value"):
        scalar = UNEXPECTED_FIELD if position == "field" else UNEXPECTED_VALUE
        struct_error = _wrong_type(
            scalar, f"Unrecognized collection type class {JAVA_PACKAGE}{java}"
        )
        if kind == "attribute_value":
            return _opaque(dict, struct_error)
        return _structure(_compile_members(children), struct_error)
    if kind == "list":
        scalar = PARAMETERIZED_CAST if position == "value" else UNEXPECTED_FIELD
        list_error = _wrong_type(scalar)
        if children[0] == "attribute_value":
            return _opaque(list, list_error)
        element = _compile_type(children, "element")

        def check_list(value: Any) -> Any:
            if type(value) is list:
                return [None if item is None else element(item) for item in value]
            raise list_error(value)

        return check_list
    if kind == "map":
        scalar = PARAMETERIZED_CAST if position == "element" else UNEXPECTED_FIELD
        map_error = _wrong_type(
            scalar, f"Unrecognized collection type java.util.Map<java.lang.String, {java}>"
        )
        if children[0] == "attribute_value":
            # Attribute values are validated (types included) by the core layer.
            return _opaque(dict, map_error)
        entry = _compile_type(children, "value")

        def check_map(value: Any) -> Any:
            if type(value) is dict:
                return {k: None if v is None else entry(v) for k, v in value.items()}
            raise map_error(value)

        return check_map
    raise ValueError(f"unknown shape kind {kind!r}")


def _opaque(container: type, error: Callable[[Any], SerializationException]) -> TypeCheck:
    def check(value: Any) -> Any:
        if type(value) is container:
            return value
        raise error(value)

    return check


def _compile_members(members: tuple[tuple[str, Node], ...]) -> tuple[tuple[str, TypeCheck], ...]:
    return tuple((name, _compile_type(child, "field")) for name, child in members)


def _structure(
    members: tuple[tuple[str, TypeCheck], ...], error: Callable[[Any], SerializationException]
) -> TypeCheck:
    def check(value: Any) -> Any:
        if type(value) is not dict:
            raise error(value)
        # Rebuilt in member order: unknown members and nulls are dropped.
        out = {}
        for name, member in members:
            item = value.get(name)
            if item is not None:
                out[name] = member(item)
        return out

    return check


# --- step 2: constraints -----------------------------------------------------------------------


def _length(value: Any) -> int:
    """Length as DynamoDB (Java) counts it: UTF-16 code units for strings."""
    if type(value) is str and not value.isascii():
        return len(value.encode("utf-16-le", "surrogatepass")) // 2
    return len(value)


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _failure(value: Any, path: str, message: str) -> str:
    shown = "null" if value is None else f"'{_show(value)}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {message}"


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _predicate(kind: str, key: str, arg: Any) -> tuple[Callable[[Any], bool], str]:
    """One constraint as (passes(value), DynamoDB's text for a failure)."""
    sized = kind in ("string", "list", "map")
    if key == "pattern":
        fullmatch = re.compile(arg).fullmatch
        return (
            lambda v: fullmatch(v) is not None
        ), f"Member must satisfy regular expression pattern: {arg}"
    if key == "min" and sized:
        return (
            lambda v: _length(v) >= arg
        ), f"Member must have length greater than or equal to {arg}"
    if key == "max" and sized:
        return (lambda v: _length(v) <= arg), f"Member must have length less than or equal to {arg}"
    if key == "min":
        return (lambda v: v >= arg), f"Member must have value greater than or equal to {arg}"
    if key == "max":
        return (lambda v: v <= arg), f"Member must have value less than or equal to {arg}"
    if key == "enum":
        allowed = frozenset(arg)
        return (lambda v: v in allowed), f"Member must satisfy enum value set: [{', '.join(arg)}]"
    raise ValueError(f"unknown constraint {key!r}")


def _every(kind: str, spec: dict[str, Any]) -> tuple[Callable[[Any], bool], list[str]]:
    """Map key/value constraints: one combined test, and every constraint's text."""
    arn_ok = spec.get("table_arn", False)
    tests = [_predicate(kind, key, arg) for key, arg in spec.items() if key != "table_arn"]

    def passes(v: Any) -> bool:
        # A null map value fails its length constraints.
        if arn_ok and table_of_arn(v) is not None:
            return True
        return v is not None and all(test(v) for test, _ in tests)

    return passes, [message for _, message in tests]


def _compile_constraints(node: Node) -> ConstraintCheck | None:
    """None when neither the node nor anything below it has a constraint."""
    kind, _, constraints, children = node
    required = bool(constraints.get("required"))
    arn_ok = bool(constraints.get("table_arn"))
    # (per, passes, message): per is "" (the value), "keys" or "values" (one failure per entry).
    tests: list[tuple[str, Callable[[Any], bool], str]] = []
    for key, arg in constraints.items():
        if key in ("table_arn", "required", "required_param", "name_length"):
            continue
        if key in ("keys", "values"):
            passes, texts = _every("string" if key == "keys" else children[0], arg)
            label = "Map keys" if key == "keys" else "Map value"
            tests.append((key, passes, f"{label} must satisfy constraint: [{', '.join(texts)}]"))
        else:
            passes, text = _predicate(kind, key, arg)
            tests.append(("", passes, text))
    nested = _compile_children(node)
    if not required and not tests and nested is None:
        return None

    def check(value: Any, path: str, errors: list[str]) -> None:
        if value is None:
            if required and len(errors) < MAX_ERRORS:
                errors.append(_failure(None, path, NOT_NULL))
            return
        if arn_ok and table_of_arn(value) is not None:
            return
        for per, passes, message in tests:
            if len(errors) >= MAX_ERRORS:
                return
            if not per:
                if not passes(value):
                    errors.append(_failure(value, path, message))
                continue
            for entry in value if per == "keys" else value.values():
                if not passes(entry):
                    errors.append(_failure(value, path, message))
        if nested is not None and len(errors) < MAX_ERRORS:
            nested(value, path, errors)

    return check


def _compile_children(node: Node) -> ConstraintCheck | None:
    kind, _, _, children = node
    if kind == "structure":
        members = tuple(
            (name, _lower_first(name), check)
            for name, child in children
            if (check := _compile_constraints(child)) is not None
        )
        if not members:
            return None

        def check_members(value: Any, path: str, errors: list[str]) -> None:
            for name, lower, member in members:
                member(value.get(name), f"{path}.{lower}", errors)

        return check_members
    if kind in ("list", "map"):
        element = _compile_constraints(children)
        if element is None:
            return None
        if kind == "list":

            def check_elements(value: Any, path: str, errors: list[str]) -> None:
                for index, item in enumerate(value, 1):
                    if item is None:
                        # A list holds no nulls, whether or not its member type has constraints.
                        if len(errors) < MAX_ERRORS:
                            errors.append(_failure(None, f"{path}.{index}.member", NOT_NULL))
                        continue
                    element(item, f"{path}.{index}.member", errors)

            return check_elements

        def check_values(value: Any, path: str, errors: list[str]) -> None:
            for key, item in value.items():
                if item is None:
                    if len(errors) < MAX_ERRORS:
                        errors.append(_failure(None, f"{path}.{key}.member", NOT_NULL))
                    continue
                element(item, f"{path}.{key}.member", errors)

        return check_values
    return None


# --- operations --------------------------------------------------------------------------------


class _Operation:
    """One operation's input shape, compiled once at import."""

    __slots__ = ("by_name", "constrained", "early", "ordered")

    def __init__(self, node: Node) -> None:
        members: tuple[tuple[str, Node], ...] = node[3]
        self.ordered = _compile_members(members)
        self.by_name = dict(self.ordered)
        # (name, missing-parameter check, (min, max) name length) for control-plane table names.
        self.early = tuple(
            (name, bool(child[2].get("required_param")), child[2].get("name_length"))
            for name, child in members
            if "required_param" in child[2] or "name_length" in child[2]
        )
        self.constrained = tuple(
            (name, _lower_first(name), check, bool(child[2].get("required")))
            for name, child in members
            if (check := _compile_constraints(child)) is not None
        )


_OPERATIONS = {name: _Operation(node) for name, node in OPERATIONS.items()}
_OPERATIONS.update(
    (f"DynamoDBStreams.{name}", _Operation(node)) for name, node in STREAM_OPERATIONS.items()
)


def validate_request(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """Check `body` against the operation's input shape and return it without nulls and unknown
    members. Raises SerializationException (JSON types) or ValidationException (constraints).

    `operation` is a name of rivulet.api.shapes.OPERATIONS, or "DynamoDBStreams.<name>" for
    the Streams operations of rivulet.api.stream_shapes.
    """
    op = _OPERATIONS[operation]
    out: dict[str, Any] = {}
    by_name = op.by_name
    try:
        for name, value in body.items():
            if value is not None and name in by_name:
                out[name] = by_name[name](value)
    except SerializationException:
        _raise_first_type_error(op, body)
        raise
    for name, required, name_length in op.early:
        value = out.get(name)
        if value is None:
            if required:
                raise ValidationException(
                    f"The parameter '{name}' is required but was not present in the request"
                )
        elif (
            name_length is not None
            and not name_length[0] <= _length(value) <= name_length[1]
            and table_of_arn(value) is None
        ):
            low, high = name_length
            raise ValidationException(
                f"{name} must be at least {low} characters long and at most {high} characters long"
            )
    errors: list[str] = []
    for name, path, check, required in op.constrained:
        value = out.get(name)
        if value is not None or required:
            check(value, path, errors)
    if errors:
        count = len(errors)
        plural = "s" if count > 1 else ""
        raise ValidationException(f"{count} validation error{plural} detected: {'; '.join(errors)}")
    return out


def _raise_first_type_error(op: _Operation, body: dict[str, Any]) -> None:
    """DynamoDB reports the first type error in member order, not in request order."""
    for name, check in op.ordered:
        value = body.get(name)
        if value is not None:
            check(value)
