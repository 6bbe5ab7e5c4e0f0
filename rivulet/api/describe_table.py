"""DescribeTable: the full TableDescription with live item counts."""

from __future__ import annotations

from typing import Any

from rivulet.api.context import ApiContext
from rivulet.api.describe import table_description
from rivulet.api.validate import validate_request
from rivulet.protocol.service import RequestContext


async def describe_table(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("DescribeTable", body)
    table = api.db.described_table(body["TableName"])
    reader = api.db.storage.reader()
    return {"Table": table_description(api.settings, ctx.region, table, reader=reader)}
