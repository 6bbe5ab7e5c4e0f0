"""PutItem: replace a whole item, optionally under a condition."""

from __future__ import annotations

from typing import Any

from rivulet.api.common import (
    consumed_capacity,
    index_write_units,
    item_collection_metrics,
    request_expressions,
    write_units,
)
from rivulet.api.conditions import condition_apply, raise_condition_failed
from rivulet.api.context import ApiContext
from rivulet.api.validate import validate_request
from rivulet.core.sizes import item_size
from rivulet.core.values import check_item_size, key_of, normalize_item, validate_item_for_put
from rivulet.engine.writes import Mutation
from rivulet.errors import ValidationException
from rivulet.expr.legacy import check_mixing
from rivulet.protocol.service import RequestContext


async def put_item(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    body = validate_request("PutItem", body)
    # DynamoDB's order: parameter mixing, the item's values, ReturnValues, the item's size, the
    # expressions; only then the table and the item's key attributes.
    check_mixing(body, "PutItem")
    item = normalize_item(body["Item"])
    return_values = body.get("ReturnValues", "NONE")
    if return_values not in ("NONE", "ALL_OLD"):
        raise ValidationException("ReturnValues can only be ALL_OLD or NONE")
    new_size = check_item_size(item)
    exprs = request_expressions(body, "PutItem", mixing_checked=True)
    table = api.db.table(body["TableName"])
    validate_item_for_put(item, table.key, [i.schema for i in table.indexes], check_size=False)

    new_item = item
    out = await api.db.write(
        Mutation(
            table,
            key_of(item, table.key),
            condition_apply(exprs.condition, lambda old: new_item),
            new_size=new_size,
        )
    )
    if out.failed:
        raise_condition_failed(body, out.old)
    result: dict[str, Any] = {}
    if return_values == "ALL_OLD" and out.old is not None:
        result["Attributes"] = out.old
    size = max(new_size, item_size(out.old) if out.old else 0)
    cap = consumed_capacity(
        body,
        table,
        write_units(size),
        read=False,
        index_units=index_write_units(table, out.old, item),
    )
    if cap is not None:
        result["ConsumedCapacity"] = cap
    metrics = item_collection_metrics(body, table, item)
    if metrics is not None:
        result["ItemCollectionMetrics"] = metrics
    return result
