"""BatchWriteItem: up to 25 puts/deletes across tables, committed together (nothing unprocessed)."""

from __future__ import annotations

from typing import Any

from rivulet.api.common import consumed_capacity, write_units
from rivulet.api.context import ApiContext
from rivulet.api.validate import validate_request
from rivulet.core.sizes import item_size
from rivulet.core.values import key_of, normalize_item, validate_item_for_put, validate_key
from rivulet.engine.catalog import TableRuntime
from rivulet.engine.writes import Mutation
from rivulet.errors import ValidationException
from rivulet.protocol.asgi import RequestContext

MAX_REQUESTS = 25


def _mutations(api: ApiContext, body: dict[str, Any]) -> list[Mutation]:
    mutations: list[Mutation] = []
    for table_name, requests in body["RequestItems"].items():
        table = api.db.table(table_name)
        seen: set[tuple[int, bytes, bytes]] = set()
        for request in requests:
            put, delete = request.get("PutRequest"), request.get("DeleteRequest")
            if (put is None) == (delete is None):
                raise ValidationException(
                    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
                    "the supported datatypes"
                )
            if put is not None:
                item = normalize_item(put["Item"])
                validate_item_for_put(item, table.key, [i.schema for i in table.indexes])
                key = key_of(item, table.key)
                mutation = Mutation(table, key, _put(item))
            else:
                key = validate_key(delete["Key"], table.key)
                mutation = Mutation(table, key, _delete)
            skey = table.storage_key(key)
            if skey in seen:
                raise ValidationException("Provided list of item keys contains duplicates")
            seen.add(skey)
            mutations.append(mutation)
    if len(mutations) > MAX_REQUESTS:
        raise ValidationException(
            "1 validation error detected: Value '{...}' at 'requestItems' failed to satisfy constraint: "
            "Map value must satisfy constraint: [Member must have length less than or equal to 25, "
            "Member must have length greater than or equal to 1]"
        )
    return mutations


def _put(item: dict[str, Any]):  # type: ignore[no-untyped-def]
    return lambda old: item


def _delete(old: dict[str, Any] | None) -> None:
    return None


async def batch_write_item(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("BatchWriteItem", body)
    mutations = _mutations(api, body)
    outcomes = await api.db.write_batch(mutations)
    result: dict[str, Any] = {"UnprocessedItems": {}}
    if body.get("ReturnConsumedCapacity", "NONE") != "NONE":
        units: dict[str, tuple[TableRuntime, float]] = {}
        for m, out in zip(mutations, outcomes, strict=True):
            size = max(item_size(out.old) if out.old else 0, item_size(out.new) if out.new else 0)
            t, u = units.get(m.table.name, (m.table, 0.0))
            units[m.table.name] = (t, u + write_units(size))
        result["ConsumedCapacity"] = [
            consumed_capacity(body, t, u, read=False) for t, u in units.values()
        ]
    return result
