"""DynamoDB's legacy (pre-expression) parameters: validated as DynamoDB does, translated to expressions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rivulet.core.types import AttributeValue
from rivulet.core.values import normalize_value, parse_value
from rivulet.errors import ValidationException
from rivulet.expr.params import check_expression_params
from rivulet.expr.values import descending

_INVALID = "One or more parameter values were invalid: "

# Per operation: (expression parameters, non-expression parameters), in DynamoDB's report order.
_MIXING: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "PutItem": (("ConditionExpression",), ("Expected",)),
    "DeleteItem": (("ConditionExpression",), ("Expected",)),
    "UpdateItem": (("UpdateExpression", "ConditionExpression"), ("AttributeUpdates", "Expected")),
    "GetItem": (("ProjectionExpression",), ("AttributesToGet",)),
    "BatchGetItem": (("ProjectionExpression",), ("AttributesToGet",)),
    "Query": (
        ("ProjectionExpression", "FilterExpression", "KeyConditionExpression"),
        ("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"),
    ),
    "Scan": (
        ("ProjectionExpression", "FilterExpression"),
        ("AttributesToGet", "ScanFilter", "ConditionalOperator"),
    ),
}

# Legacy parameters that translate() reads for each operation.
_LEGACY: dict[str, tuple[str, ...]] = {
    "PutItem": ("Expected",),
    "DeleteItem": ("Expected",),
    "UpdateItem": ("Expected", "AttributeUpdates"),
    "GetItem": ("AttributesToGet",),
    "BatchGetItem": ("AttributesToGet",),
    "Query": ("KeyConditions", "QueryFilter", "AttributesToGet"),
    "Scan": ("ScanFilter", "AttributesToGet"),
}

# Allowed AttributeValueList lengths (min, max; None = unbounded).
_ARITY: dict[str, tuple[int, int | None]] = {
    "NULL": (0, 0),
    "NOT_NULL": (0, 0),
    "EQ": (1, 1),
    "NE": (1, 1),
    "LE": (1, 1),
    "LT": (1, 1),
    "GE": (1, 1),
    "GT": (1, 1),
    "CONTAINS": (1, 1),
    "NOT_CONTAINS": (1, 1),
    "BEGINS_WITH": (1, 1),
    "IN": (1, None),
    "BETWEEN": (2, 2),
}
_SCALARS = frozenset(("S", "N", "B"))
_SETS_AND_SCALARS = frozenset(("S", "N", "B", "SS", "NS", "BS"))
# Argument types each operator accepts (NULL/NOT_NULL take none).
_ARG_TYPES: dict[str, frozenset[str]] = {
    "EQ": _SETS_AND_SCALARS,
    "NE": _SETS_AND_SCALARS,
    "BEGINS_WITH": frozenset(("S", "B")),
    **{
        op: _SCALARS for op in ("LE", "LT", "GE", "GT", "CONTAINS", "NOT_CONTAINS", "IN", "BETWEEN")
    },
}
_OPERATOR_ENUM = (
    "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
)
_COMPARATORS = {"EQ": "=", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
# Only these can narrow a key range; the rest are rejected before the table schema is consulted.
_KEY_OPERATORS = frozenset(("EQ", "LE", "LT", "GE", "GT", "BEGINS_WITH", "BETWEEN"))


@dataclass(frozen=True)
class LegacyExpressions:
    """Expression texts equivalent to a request's legacy parameters, with generated placeholders."""

    condition: str | None = None
    filter: str | None = None
    update: str | None = None
    projection: str | None = None
    key_condition: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, AttributeValue] = field(default_factory=dict)


def check_mixing(body: Mapping[str, Any], operation: str | None = None) -> None:
    """Reject requests mixing expression and legacy parameters (DynamoDB checks this first).

    Pass `operation`; without it the operation is guessed from the parameters present.
    """
    check_expression_params(body, *_MIXING[operation or _infer_operation(body)])


def translate(body: Mapping[str, Any], *, operation: str) -> LegacyExpressions | None:
    """Validate the legacy parameters of `body` and translate them; None when there are none.

    Call after check_mixing(). For BatchGetItem pass one table's KeysAndAttributes as `body`.
    """
    present = {p for p in _LEGACY[operation] if body.get(p) is not None}
    if not present:
        return None
    body = _null_entries_as_empty(body, present)
    _check_constraints(body, present)
    op_name = body.get("ConditionalOperator") or "AND"
    # Validation, in each operation's DynamoDB order, before anything is translated.
    if operation == "UpdateItem" and "AttributeUpdates" in present:
        _validate_updates(body["AttributeUpdates"])
    if "Expected" in present:
        _validate_expected(body["Expected"])
    if operation == "Query" and "QueryFilter" in present:
        _validate_conditions(body["QueryFilter"])
    if "AttributesToGet" in present:
        _validate_attributes_to_get(body["AttributesToGet"])
    if "ScanFilter" in present:
        _validate_conditions(body["ScanFilter"])
    if "KeyConditions" in present:
        _validate_key_conditions(body["KeyConditions"])

    ph = _Placeholders(body)
    key_condition = condition = filter_ = update = projection = None
    if "KeyConditions" in present:
        key_condition = _join([_clause(ph, a, c) for a, c in body["KeyConditions"].items()], "AND")
    if "Expected" in present:
        condition = _join(
            [_expected_clause(ph, a, c) for a, c in body["Expected"].items()], op_name
        )
    for name in ("QueryFilter", "ScanFilter"):
        if name in present:
            filter_ = _join([_clause(ph, a, c) for a, c in body[name].items()], op_name)
    if "AttributeUpdates" in present:
        update = _update(ph, body["AttributeUpdates"])
    if "AttributesToGet" in present:
        projection = ", ".join(ph.name(a) for a in body["AttributesToGet"])
    return LegacyExpressions(
        condition=condition,
        filter=filter_,
        update=update,
        projection=projection,
        key_condition=key_condition,
        names=ph.names,
        values=ph.values,
    )


# -- validation ---------------------------------------------------------------------------------


def _validate_updates(updates: Mapping[str, Any]) -> None:
    for update in updates.values():
        value = update.get("Value")
        action = update.get("Action")
        if value is not None:
            _check_value(value)
        if value is None and action != "DELETE":
            raise ValidationException(
                _INVALID + "Only DELETE action is allowed when no attribute value is specified"
            )
        if value is not None and action in ("DELETE", "ADD"):
            type_ = next(iter(value))
            if action == "DELETE" and type_ not in ("SS", "NS", "BS"):
                raise ValidationException(
                    _INVALID + f"DELETE action with value is not supported for the type {type_}"
                )
            if action == "ADD" and type_ not in ("L", "SS", "NS", "BS", "N"):
                raise ValidationException(
                    _INVALID + f"ADD action is not supported for the type {type_}"
                )


def _validate_expected(expected: Mapping[str, Any]) -> None:
    for attr, cond in expected.items():
        value, values = cond.get("Value"), cond.get("AttributeValueList")
        exists, op = cond.get("Exists"), cond.get("ComparisonOperator")
        if values is not None and value is not None:
            raise ValidationException(
                _INVALID
                + f"Value and AttributeValueList cannot be used together for Attribute: {attr}"
            )
        if op is not None:
            if exists is not None:
                raise ValidationException(
                    _INVALID
                    + f"Exists and ComparisonOperator cannot be used together for Attribute: {attr}"
                )
            if op not in ("NULL", "NOT_NULL") and values is None and value is None:
                raise ValidationException(
                    _INVALID + "Value or AttributeValueList must be used with ComparisonOperator: "
                    f"{op} for Attribute: {attr}"
                )
            args = values if values is not None else ([value] if value is not None else [])
            _check_arguments(op, args, validate_first=False)
        elif values is not None:
            raise ValidationException(
                _INVALID
                + f"AttributeValueList can only be used with a ComparisonOperator for Attribute: {attr}"
            )
        elif exists is None or exists:
            if value is None:
                shown = "null" if exists is None else "true"
                raise ValidationException(
                    _INVALID
                    + f"Value must be provided when Exists is {shown} for Attribute: {attr}"
                )
            _check_value(value)
        elif value is not None:
            raise ValidationException(
                _INVALID + f"Value cannot be used when Exists is false for Attribute: {attr}"
            )


def _validate_conditions(conditions: Mapping[str, Any]) -> None:
    for cond in conditions.values():
        _check_arguments(cond["ComparisonOperator"], cond.get("AttributeValueList") or [])


def _check_arguments(op: str, args: Sequence[AttributeValue], validate_first: bool = True) -> None:
    """DynamoDB's checks of a ComparisonOperator's AttributeValueList, in its order."""
    if validate_first:
        for arg in args:
            _check_value(arg)
    low, high = _ARITY[op]
    if len(args) < low or (high is not None and len(args) > high):
        raise ValidationException(
            _INVALID + f"Invalid number of argument(s) for the {op} ComparisonOperator"
        )
    if not args:
        return
    first = next(iter(args[0]), None)
    if any(next(iter(arg), None) != first for arg in args):
        raise ValidationException(
            _INVALID + "AttributeValues inside AttributeValueList must be of same type"
        )
    if not validate_first:
        # Expected validates its AttributeValueList after the shape checks above.
        for arg in args:
            _check_value(arg)
    allowed = _ARG_TYPES[op]
    for arg in args:
        type_ = next(iter(arg))
        if type_ not in allowed:
            raise ValidationException(
                _INVALID + f"ComparisonOperator {op} is not valid for {type_} AttributeValue type"
            )
    if op == "BETWEEN" and descending(args[0], args[1]):
        raise ValidationException(
            "The BETWEEN condition was provided a range where the lower bound is greater than "
            "the upper bound"
        )


def _validate_attributes_to_get(names: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValidationException(_INVALID + f"Duplicate value in attribute name: {name}")
        seen.add(name)


def _validate_key_conditions(conditions: Mapping[str, Any]) -> None:
    _validate_conditions(conditions)
    if len(conditions) not in (1, 2):
        raise ValidationException("Conditions can be of length 1 or 2 only")
    if any(c["ComparisonOperator"] not in _KEY_OPERATORS for c in conditions.values()):
        raise ValidationException("Attempted conditional constraint is not an indexable operation")


def _null_entries_as_empty(body: Mapping[str, Any], present: set[str]) -> Mapping[str, Any]:
    """A null entry in a legacy condition/update map is validated as an empty one (not a crash)."""
    patched: dict[str, Any] | None = None
    for param in present:
        entries = body[param]
        if isinstance(entries, dict) and any(v is None for v in entries.values()):
            patched = patched if patched is not None else dict(body)
            patched[param] = {k: {} if v is None else v for k, v in entries.items()}
    return body if patched is None else patched


def _check_constraints(body: Mapping[str, Any], present: set[str]) -> None:
    """Enum/not-null constraints, normally caught by the API layer's shape validation."""
    errors: list[str] = []
    conditional = body.get("ConditionalOperator")
    if conditional is not None and conditional not in ("AND", "OR"):
        errors.append(_constraint("conditionalOperator", conditional, "enum value set: [OR, AND]"))
    for param in ("Expected", "KeyConditions", "QueryFilter", "ScanFilter"):
        for attr, cond in (body[param] if param in present else {}).items():
            op = cond.get("ComparisonOperator")
            path = f"{param[0].lower()}{param[1:]}.{attr}.member.comparisonOperator"
            if op is None and param != "Expected":
                errors.append(
                    f"Value null at '{path}' failed to satisfy constraint: Member must not be null"
                )
            elif op is not None and op not in _ARITY:
                errors.append(_constraint(path, op, f"enum value set: {_OPERATOR_ENUM}"))
    for attr, update in (body["AttributeUpdates"] if "AttributeUpdates" in present else {}).items():
        action = update.get("Action")
        if action is not None and action not in ("ADD", "PUT", "DELETE"):
            path = f"attributeUpdates.{attr}.member.action"
            errors.append(_constraint(path, action, "enum value set: [ADD, PUT, DELETE]"))
    if "AttributesToGet" in present and not body["AttributesToGet"]:
        errors.append(_constraint("attributesToGet", "[]", "length greater than or equal to 1"))
    if errors:
        errors = errors[:10]
        plural = "s" if len(errors) > 1 else ""
        raise ValidationException(
            f"{len(errors)} validation error{plural} detected: {'; '.join(errors)}"
        )


def _constraint(path: str, value: str, rule: str) -> str:
    kind = "satisfy" if rule.startswith("enum") else "have"
    return f"Value '{value}' at '{path}' failed to satisfy constraint: Member must {kind} {rule}"


def _check_value(value: AttributeValue) -> None:
    message = parse_value(value)[1]
    if message is not None:
        raise ValidationException(message)


# -- translation --------------------------------------------------------------------------------


class _Placeholders:
    """Allocates #lN / :lN placeholders that never clash with the request's own ones."""

    __slots__ = ("_by_name", "_taken_names", "_taken_values", "names", "values")

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValue] = {}
        self._by_name: dict[str, str] = {}
        self._taken_names = body.get("ExpressionAttributeNames") or {}
        self._taken_values = body.get("ExpressionAttributeValues") or {}

    def name(self, attr: str) -> str:
        placeholder = self._by_name.get(attr)
        if placeholder is None:
            placeholder = _fresh("#l", len(self.names), self._taken_names)
            self.names[placeholder] = attr
            self._by_name[attr] = placeholder
        return placeholder

    def value(self, value: AttributeValue) -> str:
        placeholder = _fresh(":l", len(self.values), self._taken_values)
        # Already validated; the expression engine expects canonical numbers.
        self.values[placeholder] = normalize_value(value)
        return placeholder


def _fresh(prefix: str, start: int, taken: Mapping[str, Any]) -> str:
    n = start
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def _join(clauses: list[str], joiner: str) -> str | None:
    return f" {joiner} ".join(clauses) if clauses else None


def _expected_clause(ph: _Placeholders, attr: str, cond: Mapping[str, Any]) -> str:
    if cond.get("ComparisonOperator") is not None:
        value = cond.get("Value")
        args = cond.get("AttributeValueList") or ([value] if value is not None else [])
        return _comparison(ph, attr, cond["ComparisonOperator"], args)
    if cond.get("Exists") is False:
        return f"attribute_not_exists({ph.name(attr)})"
    return f"{ph.name(attr)} = {ph.value(cond['Value'])}"


def _clause(ph: _Placeholders, attr: str, cond: Mapping[str, Any]) -> str:
    return _comparison(ph, attr, cond["ComparisonOperator"], cond.get("AttributeValueList") or [])


def _comparison(ph: _Placeholders, attr: str, op: str, args: Sequence[AttributeValue]) -> str:
    a = ph.name(attr)
    if op == "NULL":
        return f"attribute_not_exists({a})"
    if op == "NOT_NULL":
        return f"attribute_exists({a})"
    v = [ph.value(arg) for arg in args]
    if op in _COMPARATORS:
        return f"{a} {_COMPARATORS[op]} {v[0]}"
    if op == "NE":
        # Legacy NE holds when the attribute is missing: said explicitly, not left to `<>`.
        return f"(attribute_not_exists({a}) OR {a} <> {v[0]})"
    if op == "CONTAINS":
        return f"contains({a}, {v[0]})"
    if op == "NOT_CONTAINS":
        return f"NOT contains({a}, {v[0]})"
    if op == "BEGINS_WITH":
        return f"begins_with({a}, {v[0]})"
    if op == "IN":
        return f"{a} IN ({', '.join(v)})"
    return f"{a} BETWEEN {v[0]} AND {v[1]}"


def _update(ph: _Placeholders, updates: Mapping[str, Any]) -> str | None:
    sections: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
    for attr, update in updates.items():
        a, action, value = ph.name(attr), update.get("Action") or "PUT", update.get("Value")
        if action == "PUT":
            sections["SET"].append(f"{a} = {ph.value(value)}")
        elif action == "DELETE" and value is None:
            sections["REMOVE"].append(a)
        elif action == "DELETE":
            sections["DELETE"].append(f"{a} {ph.value(value)}")
        elif "L" in value:
            # Legacy ADD of a list appends to the existing list (or starts one).
            empty = ph.value({"L": []})
            sections["SET"].append(
                f"{a} = list_append(if_not_exists({a}, {empty}), {ph.value(value)})"
            )
        else:
            sections["ADD"].append(f"{a} {ph.value(value)}")
    text = " ".join(f"{kw} {', '.join(items)}" for kw, items in sections.items() if items)
    return text or None


def _infer_operation(body: Mapping[str, Any]) -> str:
    """Best guess of the operation from the parameters present (callers should pass it)."""
    keys = {k for k, v in body.items() if v is not None}
    if keys & {"UpdateExpression", "AttributeUpdates"}:
        return "UpdateItem"
    if keys & {"KeyConditions", "KeyConditionExpression", "QueryFilter"}:
        return "Query"
    if keys & {"ScanFilter", "FilterExpression", "Segment", "TotalSegments"}:
        return "Scan"
    if keys & {"Item", "Expected", "ConditionExpression"}:
        return "PutItem"
    return "GetItem"
