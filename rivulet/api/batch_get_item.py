"""BatchGetItem: up to 100 keys across tables, read in one snapshot (nothing is left unprocessed)."""

from __future__ import annotations

from typing import Any

import orjson

from rivulet.api.common import consumed_capacity, read_units, request_expressions
from rivulet.api.context import ApiContext
from rivulet.api.validate import validate_request
from rivulet.core.sizes import item_size
from rivulet.core.values import validate_key
from rivulet.errors import ValidationException
from rivulet.expr import project
from rivulet.protocol.asgi import RequestContext

MAX_KEYS = 100


async def batch_get_item(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("BatchGetItem", body)
    plans = []
    total = 0
    for table_name, request in body["RequestItems"].items():
        exprs = request_expressions(request, "BatchGetItem")
        seen: set[tuple[int, bytes, bytes]] = set()
        table = api.db.table(table_name)
        keys = []
        for raw_key in request["Keys"]:
            key = validate_key(raw_key, table.key)
            skey = table.storage_key(key)
            if skey in seen:
                raise ValidationException("Provided list of item keys contains duplicates")
            seen.add(skey)
            keys.append(skey)
            total += 1
            if total > MAX_KEYS:
                raise ValidationException("Too many items requested for the BatchGetItem call")
        plans.append((table_name, table, exprs, keys, bool(request.get("ConsistentRead"))))

    reader = api.db.storage.reader()
    responses: dict[str, list[Any]] = {}
    capacity = []
    for table_name, table, exprs, keys, consistent in plans:
        found = []
        units = 0.0
        for raw in reader.get_items([(table.table_id, *k) for k in keys]):
            if raw is None:
                continue
            item = orjson.loads(raw)
            units += read_units(item_size(item), consistent)
            found.append(item if exprs.projection is None else project(exprs.projection, item))
        responses[table_name] = found
        cap = consumed_capacity(body, table, units, read=True)
        if cap is not None:
            capacity.append(cap)
    result: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": {}}
    if body.get("ReturnConsumedCapacity", "NONE") != "NONE":
        result["ConsumedCapacity"] = capacity
    return result
