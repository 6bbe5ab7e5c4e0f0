"""UpdateTable: billing, throughput, GSI create (with backfill) and delete, streams, SSE, class."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rivulet.api.context import ApiContext
from rivulet.api.describe import index_description, table_arn, table_description
from rivulet.api.table_specs import TableUpdate, parse_update_table
from rivulet.api.validate import validate_request
from rivulet.core.schema import IndexSchema
from rivulet.engine.catalog import TableRuntime, sync_definition_indexes
from rivulet.engine.database import Database
from rivulet.protocol.service import RequestContext
from rivulet.storage.base import WriteTxn


def _apply(db: Database, txn: WriteTxn, t: TableRuntime, u: TableUpdate, now: float) -> None:
    d = t.definition
    if u.billing_mode is not None and u.billing_mode != d.billing_mode:
        d = replace(d, billing_mode=u.billing_mode)
        if u.billing_mode == "PAY_PER_REQUEST":
            d = replace(d, read_capacity=None, write_capacity=None)
            t.billing_switched_at = now
    if u.read_capacity is not None or u.write_capacity is not None:
        old = (d.read_capacity or 0, d.write_capacity or 0)
        new = (u.read_capacity or old[0], u.write_capacity or old[1])
        if new[0] > old[0] or new[1] > old[1]:
            t.throughput_increased_at = now
        if new[0] < old[0] or new[1] < old[1]:
            t.throughput_decreased_at = now
            t.decreases_today += 1
        d = replace(d, read_capacity=new[0], write_capacity=new[1])
    if u.stream is not None:
        d = replace(d, stream=u.stream if u.stream.enabled else None)
        if u.stream.enabled:
            assert u.stream.view_type is not None
            db.streams.enable(txn, t, u.stream.view_type)  # always a new ARN and label
        else:
            db.streams.disable(txn, t)
    if u.sse is not None:
        d = replace(
            d,
            sse_enabled=u.sse.enabled,
            sse_type=u.sse.sse_type,
            kms_master_key_id=u.sse.kms_master_key_id,
        )
    if u.table_class is not None:
        d = replace(d, table_class=u.table_class)
    if u.deletion_protection is not None:
        d = replace(d, deletion_protection=u.deletion_protection)
    if u.new_attribute_definitions:
        d = replace(
            d, attribute_definitions=(*d.attribute_definitions, *u.new_attribute_definitions)
        )
    t.definition = d
    for name in u.delete_indexes:
        Database.drop_index(txn, t, name)
    for schema in u.create_indexes:
        Database.add_index(txn, t, schema)
    if u.update_indexes or d.billing_mode == "PAY_PER_REQUEST":
        caps = {name: (r, w) for name, r, w in u.update_indexes}
        for idx in t.indexes:
            if not idx.schema.is_global:
                continue
            r, w = caps.get(idx.name, (idx.schema.read_capacity, idx.schema.write_capacity))
            if d.billing_mode == "PAY_PER_REQUEST":
                r = w = None
            idx.schema = replace(idx.schema, read_capacity=r, write_capacity=w)
        sync_definition_indexes(t)
    _drop_unused_attributes(t)


def _drop_unused_attributes(t: TableRuntime) -> None:
    """DynamoDB keeps only the attribute definitions some key of the table or its indexes uses."""
    schemas: list[IndexSchema] = [i.schema for i in t.indexes]
    used = set(t.key.names).union(*(s.key.names for s in schemas)) if schemas else set(t.key.names)
    attrs = tuple(a for a in t.definition.attribute_definitions if a[0] in used)
    if attrs != t.definition.attribute_definitions:
        t.definition = replace(t.definition, attribute_definitions=attrs)


async def update_table(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("UpdateTable", body)
    table = api.db.described_table(body["TableName"])
    stream = table.definition.stream
    update = parse_update_table(
        body, table.definition, stream_enabled=bool(stream and stream.enabled)
    )
    now = api.db.clock.now()
    reader = api.db.storage.reader()
    # DynamoDB still lists a GSI being deleted in this response, as DELETING.
    arn = table_arn(api.settings, ctx.region, table.name)
    deleting = [
        index_description(table, idx, arn, reader, "DELETING")
        for name in update.delete_indexes
        if (idx := table.index(name)) is not None
    ]
    await api.db.save_table(
        table,
        lambda txn, t: _apply(api.db, txn, t, update, now),
        long=bool(update.create_indexes or update.delete_indexes),
    )
    statuses = {name: "UPDATING" for name, _, _ in update.update_indexes}
    if update.billing_mode is not None:
        statuses = {i.name: "UPDATING" for i in table.indexes if i.schema.is_global}
    statuses.update({schema.name: "CREATING" for schema in update.create_indexes})
    desc = table_description(
        api.settings,
        ctx.region,
        table,
        status="UPDATING",
        reader=reader,
        index_status=statuses,
        deleting_indexes=deleting,
    )
    return {"TableDescription": desc}
