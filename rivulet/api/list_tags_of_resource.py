"""ListTagsOfResource: a table's tags, sorted by key."""

from __future__ import annotations

from typing import Any

from rivulet.api.context import ApiContext
from rivulet.api.tags import tagged_table
from rivulet.api.validate import validate_request
from rivulet.protocol.service import RequestContext


async def list_tags_of_resource(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("ListTagsOfResource", body)
    table = tagged_table(api, body, "ListTagsOfResource")
    return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(table.tags.items())]}
