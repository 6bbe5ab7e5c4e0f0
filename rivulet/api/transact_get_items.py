"""TransactGetItems: up to 100 items read in one snapshot."""

from __future__ import annotations

from typing import Any

import orjson

from rivulet.api.common import consumed_capacity, read_units, request_expressions
from rivulet.api.context import ApiContext
from rivulet.api.validate import validate_request
from rivulet.core.sizes import item_size
from rivulet.core.values import normalize_item, validate_key
from rivulet.engine.catalog import TableRuntime
from rivulet.errors import ValidationException
from rivulet.expr import project
from rivulet.protocol.service import RequestContext


async def transact_get_items(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("TransactGetItems", body)
    plans = []
    seen = set()
    for index, action in enumerate(body["TransactItems"], 1):
        spec = action.get("Get") if action is not None else None
        if spec is None:
            raise ValidationException(
                f"1 validation error detected: Value null at 'transactItems.{index}.member.get' "
                "failed to satisfy constraint: Member must not be null"
            )
        table = api.db.table(spec["TableName"])
        exprs = request_expressions(spec, "GetItem")
        skey = table.storage_key(validate_key(normalize_item(spec["Key"]), table.key))
        if (table.table_id, skey) in seen:
            raise ValidationException(
                "Transaction request cannot include multiple operations on one item"
            )
        seen.add((table.table_id, skey))
        plans.append((table, skey, exprs))
    raws = api.db.storage.reader().get_items([(t.table_id, *k) for t, k, _ in plans])
    responses: list[dict[str, Any]] = []
    units: dict[str, tuple[TableRuntime, float]] = {}
    for (table, _, exprs), raw in zip(plans, raws, strict=True):
        item = None if raw is None else orjson.loads(raw)
        # Two units per started 4 KB, and a missing item costs the minimum, as in GetItem.
        t, u = units.get(table.name, (table, 0.0))
        units[table.name] = (t, u + 2 * read_units(0 if item is None else item_size(item), True))
        if item is None:
            responses.append({})
            continue
        responses.append(
            {"Item": item if exprs.projection is None else project(exprs.projection, item)}
        )
    result: dict[str, Any] = {"Responses": responses}
    if body.get("ReturnConsumedCapacity", "NONE") != "NONE":
        result["ConsumedCapacity"] = [
            consumed_capacity(body, t, u, read=True) for t, u in units.values()
        ]
    return result
