"""BatchWriteItem: up to 25 puts/deletes across tables, committed together (nothing unprocessed)."""

from __future__ import annotations

from typing import Any

from rivulet.api.common import consumed_capacity, write_units
from rivulet.api.context import ApiContext
from rivulet.api.validate import validate_request
from rivulet.core.sizes import item_size
from rivulet.core.types import Item
from rivulet.core.values import (
    KEY_MISMATCH,
    check_item_size,
    key_of,
    normalize_item,
    validate_item_for_put,
    validate_key,
)
from rivulet.engine.catalog import TableRuntime
from rivulet.engine.writes import Apply, Mutation
from rivulet.errors import ValidationException
from rivulet.protocol.service import RequestContext

MAX_REQUESTS = 25

# (table name, [(is put, normalised item or key)]) after the table-independent checks.
Parsed = list[tuple[str, list[tuple[bool, Item]]]]


def _parse(body: dict[str, Any]) -> Parsed:
    """Checks that need no table, in DynamoDB's order: empty requests, attribute values, sizes."""
    parsed: Parsed = []
    total = 0
    for table_name, requests in body["RequestItems"].items():
        # A WriteRequest must hold exactly one of PutRequest and DeleteRequest.
        if any(len(request) != 1 for request in requests):
            raise ValidationException(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
                "of the supported datatypes"
            )
        entries: list[tuple[bool, Item]] = []
        for request in requests:
            put = request.get("PutRequest")
            if put is not None:
                item = normalize_item(put["Item"])
                check_item_size(item)
                entries.append((True, item))
            else:
                entries.append((False, normalize_item(request["DeleteRequest"]["Key"])))
        total += len(entries)
        parsed.append((table_name, entries))
    if total > MAX_REQUESTS:
        raise ValidationException("Too many items requested for the BatchWriteItem call")
    return parsed


def _mutations(api: ApiContext, parsed: Parsed) -> list[Mutation]:
    mutations: list[Mutation] = []
    # Across the whole request: a table may be named twice, by its name and by its ARN.
    seen: set[tuple[int, int, bytes, bytes]] = set()
    for table_name, entries in parsed:
        table = api.db.table(table_name)
        indexes = [i.schema for i in table.indexes]
        for is_put, value in entries:
            if is_put:
                try:
                    validate_item_for_put(value, table.key, indexes, check_size=False)
                except ValidationException as error:
                    # A put whose item lacks the key (or has it with the wrong type) is reported
                    # as a key mismatch, like a delete's.
                    message = error.message or ""
                    if "Missing the key" in message or "Type mismatch for key" in message:
                        raise ValidationException(KEY_MISMATCH) from None
                    raise
                key = key_of(value, table.key)
                mutation = Mutation(table, key, _put(value))
            else:
                key = validate_key(value, table.key)
                mutation = Mutation(table, key, _delete)
            identity = (table.table_id, *table.storage_key(key))
            if identity in seen:
                raise ValidationException("Provided list of item keys contains duplicates")
            seen.add(identity)
            mutations.append(mutation)
    return mutations


def _put(item: Item) -> Apply:
    return lambda old: item


def _delete(old: Item | None) -> None:
    return None


async def batch_write_item(
    api: ApiContext, body: dict[str, Any], ctx: RequestContext
) -> dict[str, Any]:
    body = validate_request("BatchWriteItem", body)
    mutations = _mutations(api, _parse(body))
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
