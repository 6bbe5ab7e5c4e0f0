"""Query: the items of one partition (table or index) in sort-key order."""

from __future__ import annotations

from typing import Any

from rivulet.api.common import request_expressions
from rivulet.api.context import ApiContext
from rivulet.api.reading import check_select, find_index, page_response
from rivulet.api.validate import validate_request
from rivulet.core.types import Item
from rivulet.core.values import normalize_item, validate_key
from rivulet.engine.catalog import IndexRuntime, TableRuntime
from rivulet.engine.reads import collect_page, query_rows, sort_range
from rivulet.errors import ValidationException
from rivulet.expr import key_condition_bounds
from rivulet.protocol.asgi import RequestContext


def start_key(body: dict[str, Any], table: TableRuntime, index: IndexRuntime | None) -> Item | None:
    """Validate ExclusiveStartKey: the table's key plus, for an index, the index's key attributes."""
    raw = body.get("ExclusiveStartKey")
    if raw is None:
        return None
    start = normalize_item(raw)
    names = set(table.key.names) | (set(index.schema.key.names) if index is not None else set())
    if set(start) != names:
        raise ValidationException("The provided starting key is invalid")
    try:
        validate_key({k: start[k] for k in table.key.names}, table.key)
    except ValidationException as exc:
        raise ValidationException(f"The provided starting key is invalid: {exc.message}") from None
    return start


async def query(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any] | bytes:
    body = validate_request("Query", body)
    if body.get("KeyConditions") is None and body.get("KeyConditionExpression") is None:
        raise ValidationException(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
        )
    exprs = request_expressions(body, "Query")
    table = api.db.table(body["TableName"])
    index = find_index(table, body)
    schema = index.schema.key if index is not None else table.key
    assert exprs.key_condition is not None
    bounds = key_condition_bounds(exprs.key_condition, schema.hash_name, schema.range_name)
    start = start_key(body, table, index)
    if start is not None and start[schema.hash_name] != bounds.hash_value:
        raise ValidationException(
            "The provided starting key is outside query boundaries based on provided conditions"
        )
    select = check_select(body, exprs, index)
    forward = body.get("ScanIndexForward", True)
    rows = query_rows(
        api.db.storage.reader(),
        table,
        index,
        bounds.hash_value,
        sort_range(bounds.range_op, bounds.range_values),
        forward,
        start,
    )
    page = collect_page(rows, table, index, body.get("Limit"), exprs.filter, decode=False)
    return page_response(body, table, index, exprs, select, page)
