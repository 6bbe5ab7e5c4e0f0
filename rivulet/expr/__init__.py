"""DynamoDB expression language: parse, resolve, validate and evaluate (pure, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from rivulet.core.types import AttributeValue, Item
from rivulet.errors import ValidationException
from rivulet.expr.evaluate import Condition, build_condition
from rivulet.expr.keycond import KeyBounds, KeyCondition, build_key_condition, key_condition_bounds
from rivulet.expr.params import check_expression_params
from rivulet.expr.parser import ExpressionError, parse_condition, parse_projection, parse_update
from rivulet.expr.projection import Projection, build_projection, project
from rivulet.expr.resolve import resolve_condition, resolve_projection, resolve_update
from rivulet.expr.update import Update, apply_update, build_update

__all__ = [
    "Condition",
    "Expressions",
    "KeyBounds",
    "KeyCondition",
    "Projection",
    "Update",
    "apply_update",
    "check_expression_params",
    "compile_expressions",
    "evaluate",
    "key_condition_bounds",
    "project",
    "update_top_level_names",
]

_NAME_KEY = re.compile(r"#[0-9a-zA-Z_]+")
_VALUE_KEY = re.compile(r":[0-9a-zA-Z_]+")
_NO_ITEM: Item = {}


@dataclass(frozen=True, slots=True)
class Expressions:
    condition: Condition | None
    filter: Condition | None
    update: Update | None
    projection: Projection | None
    key_condition: KeyCondition | None


# Expressions without :values resolve the same way for the same names, so the whole compiled
# result is cached (PutItem's `attribute_not_exists(#k)`, GetItem's projections).
@lru_cache(maxsize=4096)
def _static_condition(text: str, bound: tuple[str | None, ...]) -> Condition:
    parsed = parse_condition(text)
    names = {k: v for k, v in zip(parsed.names, bound, strict=True) if v is not None}
    return build_condition(resolve_condition(parsed, names, None))


@lru_cache(maxsize=4096)
def _static_update(text: str, bound: tuple[str | None, ...]) -> Update:
    parsed = parse_update(text)
    names = {k: v for k, v in zip(parsed.names, bound, strict=True) if v is not None}
    return build_update(resolve_update(parsed, names, None))


@lru_cache(maxsize=4096)
def _static_projection(text: str, bound: tuple[str | None, ...]) -> Projection:
    parsed = parse_projection(text)
    names = {k: v for k, v in zip(parsed.names, bound, strict=True) if v is not None}
    return build_projection(resolve_projection(parsed, names))


def _condition(
    label: str,
    text: str,
    names: Mapping[str, str] | None,
    values: Mapping[str, AttributeValue] | None,
    used_names: set[str],
    used_values: set[str],
) -> Condition:
    try:
        parsed = parse_condition(text)
        used_names.update(parsed.names)
        used_values.update(parsed.values)
        if not parsed.values:
            bound = (
                tuple(names.get(n) for n in parsed.names) if names else (None,) * len(parsed.names)
            )
            return _static_condition(text, bound)
        return build_condition(resolve_condition(parsed, names, values))
    except ExpressionError as error:
        raise ValidationException(f"Invalid {label}: {error}") from None


def _update(
    text: str,
    names: Mapping[str, str] | None,
    values: Mapping[str, AttributeValue] | None,
    used_names: set[str],
    used_values: set[str],
) -> Update:
    try:
        parsed = parse_update(text)
        used_names.update(parsed.names)
        used_values.update(parsed.values)
        if not parsed.values:
            bound = (
                tuple(names.get(n) for n in parsed.names) if names else (None,) * len(parsed.names)
            )
            return _static_update(text, bound)
        return build_update(resolve_update(parsed, names, values))
    except ExpressionError as error:
        raise ValidationException(f"Invalid UpdateExpression: {error}") from None


def _projection(text: str, names: Mapping[str, str] | None, used_names: set[str]) -> Projection:
    try:
        parsed = parse_projection(text)
        used_names.update(parsed.names)
        bound = tuple(names.get(n) for n in parsed.names) if names else (None,) * len(parsed.names)
        return _static_projection(text, bound)
    except ExpressionError as error:
        raise ValidationException(f"Invalid ProjectionExpression: {error}") from None


def _check_placeholders(
    names: Mapping[str, str] | None, values: Mapping[str, AttributeValue] | None
) -> None:
    if names is not None:
        if not names:
            raise ValidationException("ExpressionAttributeNames must not be empty")
        for key in names:
            if not _NAME_KEY.fullmatch(key):
                raise ValidationException(
                    f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
                )
    if values is not None:
        if not values:
            raise ValidationException("ExpressionAttributeValues must not be empty")
        for key in values:
            if not _VALUE_KEY.fullmatch(key):
                raise ValidationException(
                    f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
                )


def compile_expressions(
    *,
    condition: str | None = None,
    filter: str | None = None,
    update: str | None = None,
    projection: str | None = None,
    key_condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, AttributeValue] | None = None,
) -> Expressions:
    """Parse, resolve and validate a request's expressions, with DynamoDB's checks and order:
    placeholder maps, then Update, Condition, KeyCondition, Filter, Projection expressions, then
    unused names, unused values, then the key-condition shape.

    `values` must already be validated and normalised by the caller."""
    if (
        names is not None
        and condition is None
        and filter is None
        and update is None
        and projection is None
        and key_condition is None
    ):
        raise ValidationException(
            "ExpressionAttributeNames can only be specified when using expressions"
        )
    if names is not None or values is not None:
        _check_placeholders(names, values)
    used_names: set[str] = set()
    used_values: set[str] = set()
    compiled_update = (
        _update(update, names, values, used_names, used_values) if update is not None else None
    )
    compiled_condition = (
        _condition("ConditionExpression", condition, names, values, used_names, used_values)
        if condition is not None
        else None
    )
    compiled_key = (
        _condition("KeyConditionExpression", key_condition, names, values, used_names, used_values)
        if key_condition is not None
        else None
    )
    compiled_filter = (
        _condition("FilterExpression", filter, names, values, used_names, used_values)
        if filter is not None
        else None
    )
    compiled_projection = (
        _projection(projection, names, used_names) if projection is not None else None
    )
    if names:
        unused = [key for key in names if key not in used_names]
        if unused:
            raise ValidationException(
                "Value provided in ExpressionAttributeNames unused in expressions: "
                f"keys: {{{', '.join(unused)}}}"
            )
    if values:
        unused = [key for key in values if key not in used_values]
        if unused:
            raise ValidationException(
                "Value provided in ExpressionAttributeValues unused in expressions: "
                f"keys: {{{', '.join(unused)}}}"
            )
    return Expressions(
        compiled_condition,
        compiled_filter,
        compiled_update,
        compiled_projection,
        build_key_condition(compiled_key.root) if compiled_key is not None else None,
    )


def evaluate(condition: Condition, item: Item | None) -> bool:
    """Whether the item satisfies the condition; None means there is no such item."""
    return condition.test(item if item is not None else _NO_ITEM)


def update_top_level_names(update: Update) -> frozenset[str]:
    """Top-level attributes an update touches (the API rejects updates of key attributes)."""
    return update.top_level_names
