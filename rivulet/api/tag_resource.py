"""TagResource: add or overwrite tags of a table."""

from __future__ import annotations

from typing import Any

from rivulet.api.context import ApiContext
from rivulet.api.tags import tagged_table
from rivulet.api.validate import validate_request
from rivulet.engine.catalog import TableRuntime
from rivulet.errors import ValidationException
from rivulet.protocol.service import RequestContext
from rivulet.storage.base import WriteTxn

MAX_TAGS = 50


async def tag_resource(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("TagResource", body)
    table = tagged_table(api, body, "TagResource")
    tags = body.get("Tags") or []
    if not tags:
        raise ValidationException("Atleast one Tag needs to be provided as Input.")
    new = {**table.tags, **{t["Key"]: t["Value"] for t in tags}}
    if len(new) > MAX_TAGS:
        raise ValidationException("The number of tags exceeds the limit of 50")

    def change(txn: WriteTxn, t: TableRuntime) -> None:
        t.tags = new

    await api.db.save_table(table, change)
    return {}
