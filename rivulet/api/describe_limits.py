"""DescribeLimits: the account and table capacity quotas DynamoDB reports by default."""

from __future__ import annotations

from typing import Any

from rivulet.api.context import ApiContext
from rivulet.protocol.service import RequestContext


async def describe_limits(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    return {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }
