"""DeleteItem: remove one item, optionally under a condition."""

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
from rivulet.core.values import normalize_item, validate_key
from rivulet.engine.writes import Mutation
from rivulet.errors import ValidationException
from rivulet.expr.legacy import check_mixing
from rivulet.protocol.service import RequestContext


async def delete_item(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    body = validate_request("DeleteItem", body)
    # DynamoDB's order: parameter mixing, the key's values, then the expressions, then the table.
    check_mixing(body, "DeleteItem")
    key = normalize_item(body["Key"])
    exprs = request_expressions(body, "DeleteItem", mixing_checked=True)
    return_values = body.get("ReturnValues", "NONE")
    if return_values not in ("NONE", "ALL_OLD"):
        raise ValidationException("ReturnValues can only be ALL_OLD or NONE")
    table = api.db.table(body["TableName"])
    key = validate_key(key, table.key)
    out = await api.db.write(
        Mutation(table, key, condition_apply(exprs.condition, lambda old: None))
    )
    if out.failed:
        raise_condition_failed(body, out.old)
    result: dict[str, Any] = {}
    if return_values == "ALL_OLD" and out.old is not None:
        result["Attributes"] = out.old
    size = item_size(out.old) if out.old else 0
    cap = consumed_capacity(
        body,
        table,
        write_units(size),
        read=False,
        index_units=index_write_units(table, out.old, None),
    )
    if cap is not None:
        result["ConsumedCapacity"] = cap
    metrics = item_collection_metrics(body, table, out.old or key)
    if metrics is not None:
        result["ItemCollectionMetrics"] = metrics
    return result
