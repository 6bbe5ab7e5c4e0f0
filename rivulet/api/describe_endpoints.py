"""DescribeEndpoints: this server itself, cached by clients for a day (endpoint discovery)."""

from __future__ import annotations

from typing import Any

from rivulet.api.context import ApiContext
from rivulet.protocol.service import RequestContext


async def describe_endpoints(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    address = f"{api.settings.host}:{api.settings.port}"
    return {"Endpoints": [{"Address": address, "CachePeriodInMinutes": 1440}]}
