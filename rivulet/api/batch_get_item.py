"""BatchGetItem: up to 100 keys across tables, read in one snapshot (nothing is left unprocessed)."""

from __future__ import annotations

from typing import Any

import orjson

from rivulet.api.common import consumed_capacity, read_units, request_expressions
from rivulet.api.context import ApiContext
from rivulet.api.validate import validate_request
from rivulet.core.sizes import item_size
from rivulet.core.types import Item
from rivulet.core.values import normalize_item, validate_key
from rivulet.errors import ValidationException
from rivulet.expr import Expressions, project
from rivulet.protocol.service import RequestContext

MAX_KEYS = 100


async def batch_get_item(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("BatchGetItem", body)
    # Everything that needs no table is checked first, table by table: expressions, key values,
    # duplicate keys, the 100-key limit. Then the tables and the keys' schemas.
    parsed: list[tuple[str, Expressions, list[Item], bool]] = []
    total = 0
    for table_name, request in body["RequestItems"].items():
        exprs = request_expressions(request, "BatchGetItem")
        seen: set[bytes] = set()
        keys: list[Item] = []
        for raw_key in request["Keys"]:
            key = normalize_item(raw_key)
            identity = orjson.dumps(key, option=orjson.OPT_SORT_KEYS)
            if identity in seen:
                raise ValidationException("Provided list of item keys contains duplicates")
            seen.add(identity)
            keys.append(key)
            total += 1
            if total > MAX_KEYS:
                raise ValidationException("Too many items requested for the BatchGetItem call")
        parsed.append((table_name, exprs, keys, bool(request.get("ConsistentRead"))))
    plans = []
    for table_name, exprs, keys, consistent in parsed:
        table = api.db.table(table_name)
        skeys = [table.storage_key(validate_key(key, table.key)) for key in keys]
        plans.append((table_name, table, exprs, skeys, consistent))

    reader = api.db.storage.reader()
    responses: dict[str, list[Any]] = {}
    capacity = []
    for table_name, table, exprs, storage_keys, consistent in plans:
        found = []
        units = 0.0
        for raw in reader.get_items([(table.table_id, *k) for k in storage_keys]):
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
