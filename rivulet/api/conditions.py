"""Turning a ConditionExpression into an engine `apply` step, and the failure DynamoDB reports."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rivulet.core.types import Item
from rivulet.engine.writes import ConditionFailed
from rivulet.errors import ConditionalCheckFailedException
from rivulet.expr import Condition, evaluate

Step = Callable[[Item | None], Item | None]


def condition_apply(condition: Condition | None, step: Step) -> Step:
    """`step` guarded by the condition, evaluated against the item as stored at write time."""
    if condition is None:
        return step

    def apply(old: Item | None) -> Item | None:
        if not evaluate(condition, old):
            raise ConditionFailed
        return step(old)

    return apply


def raise_condition_failed(body: Mapping[str, Any], old: Item | None) -> None:
    # With ReturnValuesOnConditionCheckFailure=ALL_OLD the error body carries the item as stored.
    if body.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old is not None:
        raise ConditionalCheckFailedException(Item=old)
    raise ConditionalCheckFailedException()
