"""FilterCriteria: Lambda event filtering of stream records (spec/triggers.md section 10).

Each `Filters[*].Pattern` is compiled once into a tree of small closures; a record is delivered when
any filter matches it. Inside a pattern, keys are ANDed and a leaf's list of matchers is ORed.

How a pattern walks a record (EventBridge rules, kept where the spec does not say otherwise):
- An object in the pattern descends into the record. A missing key, a scalar or an empty list there
  has no members, so only `exists: false` leaves (or `$or` branches made of them) can match below it.
  When the record holds a list, the sub-pattern must match one element as a whole.
- A leaf (a list in the pattern) sees the record value, or each element when the value is a list
  (`SS`, `NS`, `L`): the leaf matches if any element matches any matcher.
- Plain values match exactly: strings to strings, `true`/`false` to booleans, `null` only to a present
  null, numbers to numbers by their JSON text (`300`, `300.0` and `3.0e2` differ; spec 10.1). An object
  value (an attribute such as `{"S": "PAID"}`) matches no value matcher; only `exists` sees it.
- `numeric` compares by value and only JSON numbers, so `{"N": "101"}` (a string) never matches.
- `exists` tests whether the key is present, whatever its value holds: spec 10.1 has `{"attr":
  [{"exists": false}]}` select items without `attr`, although EventBridge documents `exists` as
  working on leaves only (which would make that pattern match every item).

`strict=True` keeps the documented Lambda subset (spec 10.2) and rejects the EventBridge extras
(`suffix`, `equals-ignore-case`, `wildcard`, `anything-but` with an object, `$or`; Q-T7).
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

INVALID_PATTERN = "Invalid filter pattern definition."
MAX_FILTERS = 5
MAX_PATTERN_LENGTH = 4096

# Matches one object of the record (a dict); leaf predicates see one value of any JSON type.
NodeMatch = Callable[[dict[str, Any]], bool]
Predicate = Callable[[Any], bool]

_LOWER_BOUNDS = frozenset({">", ">="})
_UPPER_BOUNDS = frozenset({"<", "<="})
_NUMERIC_OPS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
# String matchers beyond the documented `prefix` (EventBridge; Q-T7).
_EXTRA_OPERATORS = frozenset({"suffix", "equals-ignore-case", "wildcard"})


class FilterPatternError(ValueError):
    """Message is always AWS's text: 'Invalid filter pattern definition.'"""

    def __init__(self) -> None:
        super().__init__(INVALID_PATTERN)


def _invalid() -> NoReturn:
    raise FilterPatternError


@dataclass(frozen=True, slots=True)
class _Number:
    """A number from a pattern: its JSON text for exact matches, its value for `numeric`."""

    text: str
    value: Decimal

    @classmethod
    def parse(cls, text: str) -> _Number:
        return cls(text, Decimal(text))


def _literal(value: Any) -> tuple[str, Any] | None:
    """The identity plain-value matching uses; None for objects and lists, which match no value.
    bool is tested before int because True == 1 in Python but not in JSON."""
    if value is None:
        return ("null", None)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, int):
        return ("num", str(value))
    if isinstance(value, float):
        return ("num", repr(value))
    if isinstance(value, _Number):
        return ("num", value.text)
    return None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    # repr() keeps a float's shortest text, so 0.1 compares as 0.1 and not its binary expansion.
    number = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    return number if number.is_finite() else None


class RecordFilter:
    """The compiled FilterCriteria of one mapping; `matches` runs on every record."""

    __slots__ = ("_patterns",)

    def __init__(self, patterns: tuple[NodeMatch, ...]) -> None:
        self._patterns = patterns

    def matches(self, record: dict[str, Any]) -> bool:
        return any(pattern(record) for pattern in self._patterns)


def compile_filters(criteria: Any, *, strict: bool = False) -> RecordFilter | None:
    """criteria is the FilterCriteria value: {"Filters": [{"Pattern": "<json string>"}, ...]}.
    None, {} or {"Filters": []} -> None (no filtering). Validates: Filters is a list of at most 5
    objects each with a string Pattern of <= 4096 chars holding a JSON object, every leaf a
    non-empty list of allowed matchers; anything else -> FilterPatternError. Filters are ORed."""
    if criteria is None:
        return None
    if not isinstance(criteria, dict):
        _invalid()
    filters = criteria.get("Filters")
    if filters is None or filters == []:
        return None
    if not isinstance(filters, list) or len(filters) > MAX_FILTERS:
        _invalid()
    return RecordFilter(tuple(_compile_pattern(entry, strict) for entry in filters))


def _compile_pattern(entry: Any, strict: bool) -> NodeMatch:
    if not isinstance(entry, dict):
        _invalid()
    text = entry.get("Pattern")
    if not isinstance(text, str) or len(text) > MAX_PATTERN_LENGTH:
        _invalid()
    try:
        pattern = json.loads(
            text, parse_int=_Number.parse, parse_float=_Number.parse, parse_constant=_reject
        )
        if not isinstance(pattern, dict):
            _invalid()
        match, _ = _compile_object(pattern, strict)
    except (ValueError, RecursionError):  # json.JSONDecodeError is a ValueError
        raise FilterPatternError from None
    return match


def _reject(_: str) -> NoReturn:
    """NaN and Infinity are not JSON; Python's parser would accept them."""
    _invalid()


# --- objects -------------------------------------------------------------------------------------


def _compile_object(pattern: dict[str, Any], strict: bool) -> tuple[NodeMatch, bool]:
    """The matcher for a present object, and the constant result where the record has nothing
    (worked out here so matching never walks below what the record holds)."""
    if not pattern:  # EventBridge: "Empty objects are not allowed"
        _invalid()
    parts: list[tuple[NodeMatch, bool]] = []
    for key, sub in pattern.items():
        if key == "$or":
            if strict:
                _invalid()
            parts.append(_compile_or(sub, strict))
        elif isinstance(sub, dict):
            parts.append(_descend(key, *_compile_object(sub, strict)))
        elif isinstance(sub, list):
            parts.append(_leaf(key, *_compile_leaf(sub, strict)))
        else:
            _invalid()
    matchers = tuple(match for match, _ in parts)
    on_missing = all(missing for _, missing in parts)
    if len(matchers) == 1:
        return matchers[0], on_missing

    def match(node: dict[str, Any]) -> bool:
        return all(part(node) for part in matchers)

    return match, on_missing


def _compile_or(branches: Any, strict: bool) -> tuple[NodeMatch, bool]:
    # EventBridge requires at least two sub-patterns in an $or.
    if not isinstance(branches, list) or len(branches) < 2:
        _invalid()
    compiled = []
    for branch in branches:
        if not isinstance(branch, dict):
            _invalid()
        compiled.append(_compile_object(branch, strict))
    matchers = tuple(match for match, _ in compiled)

    def match(node: dict[str, Any]) -> bool:
        return any(branch(node) for branch in matchers)

    return match, any(missing for _, missing in compiled)


def _descend(key: str, sub: NodeMatch, sub_missing: bool) -> tuple[NodeMatch, bool]:
    def match(node: dict[str, Any]) -> bool:
        value = node.get(key)
        if isinstance(value, dict):
            return sub(value)
        if isinstance(value, list) and value:
            # One element must match the whole sub-pattern; non-objects have no members.
            return any(sub(item) if isinstance(item, dict) else sub_missing for item in value)
        return sub_missing

    return match, sub_missing


def _leaf(key: str, match_values: Callable[[Any], bool], absent_ok: bool) -> tuple[NodeMatch, bool]:
    def match(node: dict[str, Any]) -> bool:
        if key not in node:
            return absent_ok
        value = node[key]
        if isinstance(value, list):
            # An empty list holds no value: it counts as absent, as in EventBridge.
            return any(map(match_values, value)) if value else absent_ok
        return match_values(value)

    return match, absent_ok


# --- leaves --------------------------------------------------------------------------------------


def _compile_leaf(matchers: list[Any], strict: bool) -> tuple[Predicate, bool]:
    """A predicate for one present value (any matcher in the list), and whether the leaf matches
    an absent key (`exists: false` in the list)."""
    if not matchers:
        _invalid()
    literals: set[tuple[str, Any]] = set()
    predicates: list[Predicate] = []
    present_ok = absent_ok = False
    for matcher in matchers:
        if isinstance(matcher, dict):
            if len(matcher) != 1:
                _invalid()
            ((name, operand),) = matcher.items()
            if name == "exists":
                if not isinstance(operand, bool):
                    _invalid()
                present_ok |= operand
                absent_ok |= not operand
            else:
                predicates.append(_compile_operator(name, operand, strict))
            continue
        literal = _literal(matcher)
        if literal is None:  # a nested list
            _invalid()
        literals.add(literal)
    if present_ok:
        return _always, absent_ok
    if literals:
        frozen = frozenset(literals)
        predicates.insert(0, lambda value: _literal(value) in frozen)
    if len(predicates) == 1:
        return predicates[0], absent_ok
    every = tuple(predicates)
    return (lambda value: any(predicate(value) for predicate in every)), absent_ok


def _always(_: Any) -> bool:
    return True


def _compile_operator(name: str, operand: Any, strict: bool) -> Predicate:
    if name == "numeric":
        return _compile_numeric(operand)
    if name == "anything-but":
        return _compile_anything_but(operand, strict)
    if name == "prefix" or (name in _EXTRA_OPERATORS and not strict):
        return _compile_string_operator(name, _string(operand))
    _invalid()


def _string(operand: Any) -> str:
    if not isinstance(operand, str):
        _invalid()
    return operand


def _compile_string_operator(name: str, operand: str) -> Predicate:
    """String matchers never match numbers, booleans or null."""
    if name == "prefix":
        return lambda value: isinstance(value, str) and value.startswith(operand)
    if name == "suffix":
        return lambda value: isinstance(value, str) and value.endswith(operand)
    if name == "equals-ignore-case":
        folded = operand.lower()
        return lambda value: isinstance(value, str) and value.lower() == folded
    if name == "wildcard":
        regex = _wildcard_regex(operand)
        return lambda value: isinstance(value, str) and regex.fullmatch(value) is not None
    _invalid()


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    """EventBridge wildcard: `*` is any run of characters, `\\*` and `\\\\` are literals, any other
    escape and two consecutive `*` are invalid."""
    parts: list[str] = []
    literal: list[str] = []
    chars = iter(pattern)
    previous_star = False
    for char in chars:
        if char == "*":
            if previous_star:
                _invalid()
            parts.append(re.escape("".join(literal)) + ".*")
            literal = []
            previous_star = True
            continue
        previous_star = False
        if char == "\\":
            char = next(chars, "")
            if char not in ("*", "\\"):
                _invalid()
        literal.append(char)
    parts.append(re.escape("".join(literal)))
    return re.compile("".join(parts), re.DOTALL)


def _compile_numeric(operand: Any) -> Predicate:
    """`["=", n]`, one bound, or a lower and an upper bound in either order (lower < upper)."""
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        _invalid()
    ops = operand[0::2]
    bounds = operand[1::2]
    if not all(isinstance(op, str) and op in _NUMERIC_OPS for op in ops):
        _invalid()
    if not all(isinstance(bound, _Number) for bound in bounds):
        _invalid()
    if len(ops) == 2:
        if ops[0] in _LOWER_BOUNDS and ops[1] in _UPPER_BOUNDS:
            lower, upper = bounds
        elif ops[0] in _UPPER_BOUNDS and ops[1] in _LOWER_BOUNDS:
            upper, lower = bounds
        else:
            _invalid()
        if lower.value >= upper.value:
            _invalid()
    tests = [(_NUMERIC_OPS[op], bound.value) for op, bound in zip(ops, bounds, strict=True)]

    def match(value: Any) -> bool:
        number = _number(value)
        return number is not None and all(test(number, bound) for test, bound in tests)

    return match


def _compile_anything_but(operand: Any, strict: bool) -> Predicate:
    """Matches any present plain value the operand would not match: one string or number, a
    non-empty list of strings or of numbers, or (EventBridge) an object with one string matcher.
    Objects never match; with a list value, one element that is not excluded is enough."""
    if isinstance(operand, dict):
        if strict or len(operand) != 1:
            _invalid()
        ((name, inner),) = operand.items()
        excluded = _compile_excluded_pattern(name, inner)
        return lambda value: _literal(value) is not None and not excluded(value)
    values = operand if isinstance(operand, list) else [operand]
    literals = [_literal(value) for value in values]
    kinds = {literal[0] for literal in literals if literal is not None}
    if not values or None in literals or len(kinds) != 1 or kinds - {"str", "num"}:
        _invalid()
    frozen = frozenset(literals)

    def match(value: Any) -> bool:
        literal = _literal(value)
        return literal is not None and literal not in frozen

    return match


def _compile_excluded_pattern(name: str, operand: Any) -> Predicate:
    # Inside anything-but, equals-ignore-case and wildcard also take a list of strings.
    if name in ("equals-ignore-case", "wildcard") and isinstance(operand, list) and operand:
        each = tuple(_compile_string_operator(name, _string(item)) for item in operand)
        return lambda value: any(predicate(value) for predicate in each)
    if name == "prefix" or name in _EXTRA_OPERATORS:
        return _compile_string_operator(name, _string(operand))
    _invalid()
