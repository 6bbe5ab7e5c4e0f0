"""ListTables: names in ascending order, paged by ExclusiveStartTableName."""

from __future__ import annotations

from typing import Any

from rivulet.api.context import ApiContext
from rivulet.api.validate import validate_request
from rivulet.protocol.service import RequestContext


async def list_tables(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    body = validate_request("ListTables", body)
    limit = body.get("Limit", 100)
    start = body.get("ExclusiveStartTableName")
    names = sorted(api.db.tables)
    if start is not None:
        names = [n for n in names if n > start]
    out: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        out["LastEvaluatedTableName"] = names[limit - 1]
    return out
