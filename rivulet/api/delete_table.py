"""DeleteTable: drops the table and all its items in one transaction."""

from __future__ import annotations

from typing import Any

from rivulet.api.context import ApiContext
from rivulet.api.describe import table_description
from rivulet.api.validate import validate_request
from rivulet.errors import ValidationException
from rivulet.protocol.service import RequestContext


async def delete_table(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("DeleteTable", body)
    table = api.db.described_table(body["TableName"])
    if table.definition.deletion_protection:
        raise ValidationException(
            "Resource cannot be deleted as it is currently protected against deletion. "
            "Disable deletion protection first."
        )
    stats = api.db.storage.reader().table_stats(table.table_id)
    await api.db.delete_table(table.name)
    desc = table_description(api.settings, ctx.region, table, status="DELETING")
    desc["ItemCount"], desc["TableSizeBytes"] = stats
    return {"TableDescription": desc}
