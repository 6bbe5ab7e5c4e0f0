"""GetItem: one item by primary key."""

from __future__ import annotations

from typing import Any

import orjson

from rivulet.api.common import consumed_capacity, read_units, request_expressions
from rivulet.api.context import ApiContext
from rivulet.api.validate import validate_request
from rivulet.core.sizes import item_size
from rivulet.core.values import normalize_item, validate_key
from rivulet.expr import project
from rivulet.expr.legacy import check_mixing
from rivulet.protocol.service import RequestContext


async def get_item(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any] | bytes:
    body = validate_request("GetItem", body)
    # DynamoDB's order: parameter mixing, the key's values, then the expressions, then the table.
    check_mixing(body, "GetItem")
    key = normalize_item(body["Key"])
    exprs = request_expressions(body, "GetItem", mixing_checked=True)
    table = api.db.table(body["TableName"])
    key = validate_key(key, table.key)
    raw = api.db.get_item(table, key)
    wants_capacity = body.get("ReturnConsumedCapacity", "NONE") != "NONE"
    if exprs.projection is None and not wants_capacity:
        # Hot path: splice the stored JSON into the response without decoding it.
        return b"{}" if raw is None else b'{"Item":' + raw + b"}"
    result: dict[str, Any] = {}
    size = 0
    if raw is not None:
        item = orjson.loads(raw)
        size = item_size(item)
        result["Item"] = item if exprs.projection is None else project(exprs.projection, item)
    cap = consumed_capacity(
        body, table, read_units(size, bool(body.get("ConsistentRead"))), read=True
    )
    if cap is not None:
        result["ConsumedCapacity"] = cap
    return result
