"""UpdateTimeToLive and DescribeTimeToLive."""

from __future__ import annotations

from typing import Any

from rivulet.api.context import ApiContext
from rivulet.api.validate import validate_request
from rivulet.engine.catalog import TableRuntime
from rivulet.engine.database import Database
from rivulet.errors import ValidationException
from rivulet.protocol.service import RequestContext
from rivulet.storage.base import WriteTxn


async def update_time_to_live(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("UpdateTimeToLive", body)
    table = api.db.described_table(body["TableName"])
    spec = body["TimeToLiveSpecification"]
    enabled, attribute = spec["Enabled"], spec["AttributeName"]
    current = table.ttl_attribute
    if enabled and current is not None:
        raise ValidationException("TimeToLive is already enabled")
    if not enabled and current is None:
        raise ValidationException("TimeToLive is already disabled")
    if not enabled and current != attribute:
        raise ValidationException(
            f"TimeToLive is active on a different AttributeName: current AttributeName is {current}"
        )

    def change(txn: WriteTxn, t: TableRuntime) -> None:
        Database.set_ttl(txn, t, attribute if enabled else None)

    await api.db.save_table(table, change, long=True)  # every item's expiry is recomputed
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}


async def describe_time_to_live(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("DescribeTimeToLive", body)
    table = api.db.described_table(body["TableName"])
    if table.ttl_attribute is None:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    return {
        "TimeToLiveDescription": {
            "TimeToLiveStatus": "ENABLED",
            "AttributeName": table.ttl_attribute,
        }
    }
