"""TableDescription: the shape CreateTable, DescribeTable, UpdateTable and DeleteTable return."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rivulet.config import Settings
from rivulet.core.schema import IndexSchema, KeySchema
from rivulet.engine.catalog import IndexRuntime, TableRuntime
from rivulet.storage.base import Reader


def table_arn(settings: Settings, region: str, name: str) -> str:
    return f"arn:aws:dynamodb:{region}:{settings.account_id}:table/{name}"


def key_schema(key: KeySchema) -> list[dict[str, str]]:
    out = [{"AttributeName": key.hash_name, "KeyType": "HASH"}]
    if key.range_name is not None:
        out.append({"AttributeName": key.range_name, "KeyType": "RANGE"})
    return out


def _projection(schema: IndexSchema) -> dict[str, Any]:
    out: dict[str, Any] = {"ProjectionType": schema.projection.type}
    if schema.projection.non_key_attributes:
        out["NonKeyAttributes"] = list(schema.projection.non_key_attributes)
    return out


def _throughput(rcu: int | None, wcu: int | None, t: TableRuntime | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "NumberOfDecreasesToday": t.decreases_today if t else 0,
        "ReadCapacityUnits": rcu or 0,
        "WriteCapacityUnits": wcu or 0,
    }
    if t is not None and t.throughput_increased_at is not None:
        out["LastIncreaseDateTime"] = t.throughput_increased_at
    if t is not None and t.throughput_decreased_at is not None:
        out["LastDecreaseDateTime"] = t.throughput_decreased_at
    return out


def index_description(
    t: TableRuntime, idx: IndexRuntime, arn: str, reader: Reader | None, status: str
) -> dict[str, Any]:
    """One LocalSecondaryIndexes/GlobalSecondaryIndexes entry; `status` is the GSI's IndexStatus."""
    s = idx.schema
    count, size = reader.index_stats(t.table_id, idx.index_id) if reader is not None else (0, 0)
    out: dict[str, Any] = {
        "IndexName": s.name,
        "KeySchema": key_schema(s.key),
        "Projection": _projection(s),
        "IndexSizeBytes": size,
        "ItemCount": count,
        "IndexArn": f"{arn}/index/{s.name}",
    }
    if s.is_global:
        out["IndexStatus"] = status
        if t.definition.billing_mode == "PROVISIONED":
            out["ProvisionedThroughput"] = _throughput(s.read_capacity, s.write_capacity)
        else:
            out["ProvisionedThroughput"] = _throughput(0, 0)
            out["OnDemandThroughput"] = {"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": -1}
    return out


def table_description(
    settings: Settings,
    region: str,
    t: TableRuntime,
    *,
    status: str = "ACTIVE",
    reader: Reader | None = None,
    index_status: Mapping[str, str] | None = None,
    deleting_indexes: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The full TableDescription; item counts come from `reader` (zero without one, as on create).

    GSIs share the table's status while it is CREATING or DELETING; otherwise their own, or the
    one UpdateTable gives them in `index_status`. `deleting_indexes` are GSIs UpdateTable just
    dropped, which DynamoDB still lists (as DELETING) in its response.
    """
    d = t.definition
    arn = table_arn(settings, region, d.name)
    count, size = reader.table_stats(t.table_id) if reader is not None else (0, 0)
    out: dict[str, Any] = {
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": ty} for n, ty in d.attribute_definitions
        ],
        "TableName": d.name,
        "KeySchema": key_schema(d.key),
        "TableStatus": status,
        "CreationDateTime": t.created_at,
        "ProvisionedThroughput": _throughput(
            d.read_capacity if d.billing_mode == "PROVISIONED" else 0,
            d.write_capacity if d.billing_mode == "PROVISIONED" else 0,
            t,
        ),
        "TableSizeBytes": size,
        "ItemCount": count,
        "TableArn": arn,
        "TableId": t.table_uuid,
    }
    if d.billing_mode == "PAY_PER_REQUEST" or t.billing_switched_at is not None:
        summary: dict[str, Any] = {"BillingMode": d.billing_mode}
        # A table created on demand reports its creation as the switch, once it is ACTIVE.
        switched = t.billing_switched_at
        if switched is None and status != "CREATING":
            switched = t.created_at
        if switched is not None:
            summary["LastUpdateToPayPerRequestDateTime"] = switched
        out["BillingModeSummary"] = summary
    if d.billing_mode == "PAY_PER_REQUEST":
        out["OnDemandThroughput"] = {"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": -1}

    def gsi_status(i: IndexRuntime) -> str:
        if status in ("CREATING", "DELETING"):
            return status
        return (index_status or {}).get(i.name, i.status)

    local = [
        index_description(t, i, arn, reader, status) for i in t.indexes if not i.schema.is_global
    ]
    glob = [
        index_description(t, i, arn, reader, gsi_status(i)) for i in t.indexes if i.schema.is_global
    ]
    for entry in glob:
        if (index_status or {}).get(entry["IndexName"]) == "CREATING":
            entry["Backfilling"] = False  # an UpdateTable-added GSI; its backfill already ran
    glob.extend(deleting_indexes)
    if local:
        out["LocalSecondaryIndexes"] = local
    if glob:
        out["GlobalSecondaryIndexes"] = glob
    if d.stream is not None and d.stream.enabled:
        out["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": d.stream.view_type}
    latest = t.extra.get("latest_stream")
    if latest:
        out["LatestStreamLabel"] = latest["label"]
        out["LatestStreamArn"] = f"{arn}/stream/{latest['label']}"
    if d.sse_enabled:
        out["SSEDescription"] = {
            "Status": "ENABLED",
            "SSEType": d.sse_type or "KMS",
            "KMSMasterKeyArn": d.kms_master_key_id
            or f"arn:aws:kms:{region}:{settings.account_id}:key/{t.table_uuid}",
        }
    if d.table_class is not None:
        out["TableClassSummary"] = {"TableClass": d.table_class}
    out["DeletionProtectionEnabled"] = d.deletion_protection
    return out
