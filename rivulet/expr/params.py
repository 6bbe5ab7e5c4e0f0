"""Request-level rules on mixing expression and legacy parameters (checked early, per operation)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rivulet.errors import ValidationException


def check_expression_params(
    request: Mapping[str, Any], expressions: Sequence[str], non_expressions: Sequence[str]
) -> None:
    """`expressions` / `non_expressions`: the operation's expression parameters and their legacy
    counterparts, in DynamoDB's order, e.g. for Query ("ProjectionExpression", "FilterExpression",
    "KeyConditionExpression") and ("AttributesToGet", "QueryFilter", "ConditionalOperator",
    "KeyConditions")."""
    used = [name for name in expressions if request.get(name) is not None]
    if used:
        legacy = list(non_expressions)
        # Query may combine legacy KeyConditions with the other expressions.
        if (
            request.get("KeyConditions") is not None
            and request.get("KeyConditionExpression") is None
            and "KeyConditions" in legacy
        ):
            legacy.remove("KeyConditions")
        mixed = [name for name in legacy if request.get(name) is not None]
        if mixed:
            raise ValidationException(
                "Can not use both expression and non-expression parameters in the same request: "
                f"Non-expression parameters: {{{', '.join(mixed)}}} "
                f"Expression parameters: {{{', '.join(used)}}}"
            )
    if request.get("ExpressionAttributeNames") is not None and not used:
        raise ValidationException(
            "ExpressionAttributeNames can only be specified when using expressions"
        )
    with_values = [name for name in expressions if name != "ProjectionExpression"]
    if (
        with_values
        and request.get("ExpressionAttributeValues") is not None
        and all(request.get(name) is None for name in with_values)
    ):
        verb = "are" if len(with_values) > 1 else "is"
        raise ValidationException(
            "ExpressionAttributeValues can only be specified when using expressions: "
            f"{' and '.join(with_values)} {verb} null"
        )
