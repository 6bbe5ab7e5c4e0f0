"""Scan: every item of a table or index, in partition-hash order, optionally one parallel segment."""

from __future__ import annotations

from typing import Any

from rivulet.api.common import request_expressions
from rivulet.api.context import ApiContext
from rivulet.api.query import start_key
from rivulet.api.reading import check_select, find_index, page_response
from rivulet.api.validate import validate_request
from rivulet.core.keys import segment_range
from rivulet.engine.reads import collect_page, scan_rows
from rivulet.errors import ValidationException
from rivulet.protocol.asgi import RequestContext


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
    start = start_key(body, table, index)
    select = check_select(body, exprs, index)
    lo, hi = (0, 1 << 32) if segment is None or total is None else segment_range(segment, total)
    rows = scan_rows(api.db.storage.reader(), table, index, lo, hi, start)
    page = collect_page(rows, table, index, body.get("Limit"), exprs.filter, decode=False)
    return page_response(body, table, index, exprs, select, page)
