"""Scan: every item of a table or index, in partition-hash order, optionally one parallel segment."""

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
from rivulet.core.keys import encode_key_value, partition_hash, segment_range
from rivulet.core.types import Item
from rivulet.core.values import normalize_item, validate_key
from rivulet.engine.catalog import IndexRuntime, TableRuntime
from rivulet.engine.reads import collect_page, scan_rows
from rivulet.errors import ValidationException
from rivulet.protocol.service import RequestContext


def _start_key(
    body: dict[str, Any], table: TableRuntime, index: IndexRuntime | None
) -> Item | None:
    """ExclusiveStartKey: the table's key, plus the index's key attributes for an index scan."""
    raw = body.get("ExclusiveStartKey")
    if raw is None:
        return None
    start = normalize_item(raw)
    names = set(table.key.names)
    if index is not None:
        names |= set(index.schema.key.names)
    if len(start) != len(names):
        if index is not None:
            raise ValidationException("The provided starting key is invalid")
        raise ValidationException(
            "The provided starting key is invalid: The provided key element does not match the schema"
        )
    if index is not None:
        schema = index.schema.key
        if any(name not in start for name in schema.names):
            raise ValidationException("The provided starting key is invalid")
        validate_key({name: start[name] for name in schema.names}, schema)
    validate_start_key(start, table)
    return start


async def scan(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any] | bytes:
    body = validate_request("Scan", body)
    segment, total = body.get("Segment"), body.get("TotalSegments")
    # Both texts are DynamoDB's, including their different word order.
    if segment is not None and total is None:
        raise ValidationException(
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present"
        )
    if total is not None and segment is None:
        raise ValidationException(
            "The Segment parameter is required but was not present in the request when parameter "
            "TotalSegments is present"
        )
    if segment is not None and total is not None and segment >= total:
        raise ValidationException(
            f"The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            f"Segment: {segment} is not less than TotalSegments: {total}"
        )
    exprs = request_expressions(body, "Scan")
    table = api.db.table(body["TableName"])
    index = find_index(table, body)
    start = _start_key(body, table, index)
    select = check_select(body, exprs, index)
    lo, hi = (0, 1 << 32) if segment is None or total is None else segment_range(segment, total)
    if start is not None and segment is not None:
        hash_name = (index.schema.key if index is not None else table.key).hash_name
        if not lo <= partition_hash(encode_key_value(start[hash_name])) < hi:
            raise ValidationException(
                "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
                f"ExclusiveStartKey with correct Segment. TotalSegments: {total} Segment: {segment}"
            )
    check_key_paths(table, exprs)
    rows = scan_rows(api.db.storage.reader(), table, index, lo, hi, start)
    view = index_view(table, index)
    page = collect_page(rows, table, index, body.get("Limit"), exprs.filter, False, view)
    return page_response(body, table, index, exprs, select, page)
