"""Query: the items of one partition (table or index) in sort-key order."""

from __future__ import annotations

from typing import Any

from rivulet.api.common import request_expressions
from rivulet.api.context import ApiContext
from rivulet.api.reading import (
    check_key_paths,
    check_select,
    find_index,
    index_view,
    page_response,
    validate_start_key,
)
from rivulet.api.validate import validate_request
from rivulet.core.keys import encode_key_value
from rivulet.core.schema import KeySchema
from rivulet.core.types import Item
from rivulet.core.values import normalize_item, validate_key
from rivulet.engine.catalog import TableRuntime
from rivulet.engine.reads import collect_page, query_rows, sort_range
from rivulet.errors import ValidationException
from rivulet.expr import KeyBounds, key_condition_bounds
from rivulet.protocol.service import RequestContext

INVALID_START = "The provided starting key is invalid"


def _start_key(
    body: dict[str, Any], table: TableRuntime, schema: KeySchema, names: set[str]
) -> Item | None:
    """ExclusiveStartKey: exactly the table's key plus the queried index's key attributes."""
    raw = body.get("ExclusiveStartKey")
    if raw is None:
        return None
    start = normalize_item(raw)
    if len(start) != len(names) or any(name not in start for name in schema.names):
        raise ValidationException(INVALID_START)
    # The queried schema's pieces are checked without the "starting key is invalid" prefix.
    validate_key({name: start[name] for name in schema.names}, schema)
    validate_start_key(start, table)
    return start


def _check_start_in_bounds(start: Item, schema: KeySchema, bounds: KeyBounds) -> None:
    same_partition = start[schema.hash_name] == bounds.hash_value
    if bounds.range_op is None or schema.range_name is None:
        if not same_partition:
            raise ValidationException(
                "The provided starting key is outside query boundaries based on provided conditions"
            )
        return
    rng = sort_range(bounds.range_op, bounds.range_values)
    if not rng.contains(encode_key_value(start[schema.range_name])):
        raise ValidationException(
            "The provided starting key does not match the range key predicate"
        )
    if not same_partition:
        raise ValidationException("The query can return at most one row and cannot be restarted")


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
    names = set(table.key.names) | set(schema.names)
    start = _start_key(body, table, schema, names)
    assert exprs.key_condition is not None
    bounds = key_condition_bounds(
        exprs.key_condition,
        schema.hash_name,
        schema.range_name,
        hash_type=schema.hash_type,
        range_type=schema.range_type,
    )
    if start is not None:
        _check_start_in_bounds(start, schema, bounds)
    check_key_paths(table, exprs)
    if exprs.filter is not None:
        # A filter may not read the key attributes of the table or index being queried.
        heads = exprs.filter.path_heads
        label = "QueryFilter" if body.get("QueryFilter") is not None else "Filter Expression"
        for name in schema.names:
            if name in heads:
                raise ValidationException(
                    f"{label} can only contain non-primary key attributes: "
                    f"Primary key attribute: {name}"
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
    view = index_view(table, index)
    page = collect_page(rows, table, index, body.get("Limit"), exprs.filter, False, view)
    return page_response(body, table, index, exprs, select, page)
