"""Pieces every item operation shares: expression plumbing, ReturnValues, ConsumedCapacity."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rivulet.core.sizes import item_size
from rivulet.core.types import Item
from rivulet.core.values import normalize_expression_values
from rivulet.engine.catalog import TableRuntime
from rivulet.expr import Expressions, compile_expressions
from rivulet.expr.legacy import check_mixing, translate

NO_EXPRESSIONS = Expressions(None, None, None, None, None)


def request_expressions(
    body: Mapping[str, Any], operation: str, *, mixing_checked: bool = False
) -> Expressions:
    """Compile the request's expressions, or its legacy parameters translated into expressions.

    DynamoDB first rejects requests mixing expression and legacy parameters; callers that must
    validate something in between (attribute values) call check_mixing themselves first.
    """
    if not mixing_checked:
        check_mixing(body, operation)
    legacy = translate(body, operation=operation)
    if legacy is not None:
        return compile_expressions(
            condition=legacy.condition,
            filter=legacy.filter,
            update=legacy.update,
            projection=legacy.projection,
            key_condition=legacy.key_condition,
            names=legacy.names or None,
            values=legacy.values or None,
        )
    names = body.get("ExpressionAttributeNames")
    raw_values = body.get("ExpressionAttributeValues")
    condition = body.get("ConditionExpression")
    filter_ = body.get("FilterExpression")
    update = body.get("UpdateExpression")
    projection = body.get("ProjectionExpression")
    key_condition = body.get("KeyConditionExpression")
    if (
        names is None
        and raw_values is None
        and condition is None
        and filter_ is None
        and update is None
        and projection is None
        and key_condition is None
    ):
        return NO_EXPRESSIONS
    values = None if raw_values is None else normalize_expression_values(raw_values)
    return compile_expressions(
        condition=condition,
        filter=filter_,
        update=update,
        projection=projection,
        key_condition=key_condition,
        names=names,
        values=values,
    )


def write_units(size: int) -> float:
    """Write capacity units: one per started KB of the larger of the old and new item."""
    return float(max(1, math.ceil(size / 1024)))


def read_units(size: int, consistent: bool) -> float:
    """Read capacity units: one per started 4 KB, half for eventually consistent reads."""
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


def consumed_capacity(
    body: Mapping[str, Any],
    table: TableRuntime,
    units: float,
    *,
    read: bool,
    index_units: Mapping[str, tuple[bool, float]] | None = None,
) -> dict[str, Any] | None:
    """The ConsumedCapacity member for ReturnConsumedCapacity TOTAL or INDEXES, else None."""
    mode = body.get("ReturnConsumedCapacity", "NONE")
    if mode == "NONE":
        return None
    total = units + sum(u for _, u in (index_units or {}).values())
    out: dict[str, Any] = {"TableName": table.name, "CapacityUnits": total}
    kind = "ReadCapacityUnits" if read else "WriteCapacityUnits"
    out[kind] = total
    if mode == "INDEXES":
        out["Table"] = {"CapacityUnits": units, kind: units}
        local = {
            n: {"CapacityUnits": u, kind: u} for n, (g, u) in (index_units or {}).items() if not g
        }
        glob = {n: {"CapacityUnits": u, kind: u} for n, (g, u) in (index_units or {}).items() if g}
        if local:
            out["LocalSecondaryIndexes"] = local
        if glob:
            out["GlobalSecondaryIndexes"] = glob
    return out


def index_write_units(
    table: TableRuntime, old: Item | None, new: Item | None
) -> dict[str, tuple[bool, float]]:
    """Extra write units for every index whose entry the change touched."""
    out: dict[str, tuple[bool, float]] = {}
    for idx in table.indexes:
        before = None if old is None else idx.entry_key(old)
        after = None if new is None else idx.entry_key(new)
        if before is None and after is None:
            continue
        size = max(item_size(old) if old else 0, item_size(new) if new else 0)
        out[idx.name] = (
            idx.schema.is_global,
            write_units(size) * (2 if before and after and before != after else 1),
        )
    return out


def item_collection_metrics(
    body: Mapping[str, Any], table: TableRuntime, item: Item | None
) -> dict[str, Any] | None:
    """ReturnItemCollectionMetrics SIZE: only tables with local secondary indexes have item collections."""
    if body.get("ReturnItemCollectionMetrics", "NONE") != "SIZE" or item is None:
        return None
    if not any(not i.schema.is_global for i in table.indexes):
        return None
    hash_name = table.key.hash_name
    return {"ItemCollectionKey": {hash_name: item[hash_name]}, "SizeEstimateRangeGB": [0.0, 1.0]}
