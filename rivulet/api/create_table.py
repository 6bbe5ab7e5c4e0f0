"""CreateTable: tables are ACTIVE as soon as the call returns (no artificial delay)."""

from __future__ import annotations

from typing import Any

from rivulet.api.context import ApiContext
from rivulet.api.describe import table_description
from rivulet.api.table_specs import parse_create_table
from rivulet.api.validate import validate_request
from rivulet.protocol.service import RequestContext


async def create_table(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("CreateTable", body)
    definition = parse_create_table(body)
    table = await api.db.create_table(definition)
    # The response says CREATING as DynamoDB's does; DescribeTable says ACTIVE right after.
    desc = table_description(api.settings, ctx.region, table, status="CREATING")
    return {"TableDescription": desc}
