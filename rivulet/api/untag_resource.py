"""UntagResource: remove tags by key (absent keys are ignored)."""

from __future__ import annotations

from typing import Any

from rivulet.api.context import ApiContext
from rivulet.api.tags import tagged_table
from rivulet.api.validate import validate_request
from rivulet.engine.catalog import TableRuntime
from rivulet.errors import ValidationException
from rivulet.protocol.service import RequestContext
from rivulet.storage.base import WriteTxn


async def untag_resource(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("UntagResource", body)
    table = tagged_table(api, body, "UntagResource")
    keys = body.get("TagKeys") or []
    if not keys:
        raise ValidationException("Atleast one Tag Key needs to be provided as Input.")
    remaining = {k: v for k, v in table.tags.items() if k not in set(keys)}

    def change(txn: WriteTxn, t: TableRuntime) -> None:
        t.tags = remaining

    await api.db.save_table(table, change)
    return {}
