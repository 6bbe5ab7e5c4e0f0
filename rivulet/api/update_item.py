"""UpdateItem: edit attributes in place (or create the item), optionally under a condition."""

from __future__ import annotations

from typing import Any

from rivulet.api.common import (
    consumed_capacity,
    index_write_units,
    item_collection_metrics,
    request_expressions,
    write_units,
)
from rivulet.api.conditions import Step, condition_apply, raise_condition_failed
from rivulet.api.context import ApiContext
from rivulet.api.validate import validate_request
from rivulet.core.sizes import item_size
from rivulet.core.types import Item
from rivulet.core.values import (
    ITEM_SIZE_LIMIT,
    NESTING_EXCEEDED,
    exceeds_nesting,
    items_equal,
    normalize_item,
    validate_key,
)
from rivulet.engine.catalog import TableRuntime
from rivulet.engine.writes import Mutation
from rivulet.errors import ValidationException
from rivulet.expr import Update, apply_update, project
from rivulet.expr.legacy import check_mixing
from rivulet.expr.projection import Projection, build_projection
from rivulet.expr.update import WRONG_TYPE
from rivulet.protocol.service import RequestContext

RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
LEGACY_WRONG_TYPE = "Type mismatch for attribute to update"
ITEM_TOO_LARGE = "Item size to update has exceeded the maximum allowed size"
UNSUPPORTED_INDEX_TYPE = (
    "The update expression attempted to update the secondary index key to unsupported type"
)
EMPTY_INDEX_KEY = (
    "One or more parameter values are not valid. The update expression attempted to update a "
    "secondary index key to a value that is not supported. The AttributeValue for a key "
    "attribute cannot contain an empty {kind} value."
)


def index_key_attributes(table: TableRuntime) -> list[tuple[str, str, str]]:
    """(attribute, type, index name) of every secondary index key, global indexes first; an
    LSI's partition key is the table's, so only its sort key counts."""
    out: list[tuple[str, str, str]] = []
    for is_global in (True, False):
        for idx in table.indexes:
            schema = idx.schema
            if schema.is_global != is_global:
                continue
            key = schema.key
            if is_global:
                out.append((key.hash_name, key.hash_type, schema.name))
            if key.range_name is not None and key.range_type is not None:
                out.append((key.range_name, key.range_type, schema.name))
    return out


def update_step(
    table: TableRuntime, key: Item, update: Update | None, *, legacy: bool = False
) -> Step:
    """The pure apply function of an UpdateItem (also used by TransactWriteItems).

    `legacy`: the update came from AttributeUpdates, whose type errors DynamoDB words differently.
    """
    index_keys = [
        k for k in index_key_attributes(table) if update and k[0] in update.top_level_names
    ]

    def step(old: Item | None) -> Item | None:
        base = old if old is not None else dict(key)
        if update is None:
            # An UpdateItem without updates still creates a key-only item (observed on AWS).
            return base
        try:
            new = apply_update(update, base)
        except ValidationException as error:
            if legacy and error.message == WRONG_TYPE:
                raise ValidationException(LEGACY_WRONG_TYPE) from None
            raise
        if old is None and items_equal(new, key):
            # REMOVE/DELETE on a missing item creates nothing.
            return None
        if item_size(new) > ITEM_SIZE_LIMIT:
            raise ValidationException(ITEM_TOO_LARGE)
        # SET a.b.c = :deep can nest an item past 32 levels, which no write may store.
        if exceeds_nesting(new):
            raise ValidationException(NESTING_EXCEEDED)
        # Only index keys the update wrote can have become invalid.
        for name, key_type, _ in index_keys:
            value = new.get(name)
            if value is None:
                continue
            if key_type not in value:
                raise ValidationException(UNSUPPORTED_INDEX_TYPE)
            if key_type != "N" and not value[key_type]:
                kind = "string" if key_type == "S" else "binary"
                raise ValidationException(EMPTY_INDEX_KEY.format(kind=kind))
        return new

    return step


def check_key_not_updated(table: TableRuntime, update: Update | None) -> frozenset[str]:
    """The update's static checks, before the item is read: key attributes can not be updated,
    index keys can only be written with their type and only as a whole."""
    if update is None:
        return frozenset()
    names = update.top_level_names
    for key_name in table.key.names:
        if key_name in names:
            raise ValidationException(
                f"One or more parameter values were invalid: Cannot update attribute {key_name}. "
                "This attribute is part of the key"
            )
    index_keys = index_key_attributes(table)
    written = dict(update.top_level_types)
    for name, key_type, index_name in index_keys:
        actual = written.get(name)
        if actual is not None and actual != key_type:
            raise ValidationException(
                f"One or more parameter values were invalid: Type mismatch for Index Key {name} "
                f"Expected: {key_type} Actual: {actual} IndexName: {index_name}"
            )
    for name, _, _ in index_keys:
        if name in update.nested_heads:
            raise ValidationException(
                "Key attributes must be scalars; list random access '[]' and map lookup '.' are "
                f"not allowed: IndexKey: {name}"
            )
    return names


async def update_item(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    body = validate_request("UpdateItem", body)
    # DynamoDB's order: parameter mixing, the key's values, then the expressions, then the table.
    check_mixing(body, "UpdateItem")
    key = normalize_item(body["Key"])
    exprs = request_expressions(body, "UpdateItem", mixing_checked=True)
    return_values = body.get("ReturnValues", "NONE")
    if return_values not in RETURN_VALUES:
        raise ValidationException(
            f"1 validation error detected: Value '{return_values}' at 'returnValues' failed to satisfy "
            "constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
        )
    table = api.db.table(body["TableName"])
    key = validate_key(key, table.key)
    check_key_not_updated(table, exprs.update)

    out = await api.db.write(
        Mutation(
            table,
            key,
            condition_apply(
                exprs.condition,
                update_step(
                    table, key, exprs.update, legacy=body.get("AttributeUpdates") is not None
                ),
            ),
        )
    )
    if out.failed:
        raise_condition_failed(body, out.old)
    result: dict[str, Any] = {}
    attributes = _returned(return_values, out.old, out.new, exprs.update)
    if attributes:
        result["Attributes"] = attributes
    size = max(item_size(out.old) if out.old else 0, item_size(out.new) if out.new else 0)
    cap = consumed_capacity(
        body,
        table,
        write_units(size),
        read=False,
        index_units=index_write_units(table, out.old, out.new),
    )
    if cap is not None:
        result["ConsumedCapacity"] = cap
    metrics = item_collection_metrics(body, table, out.new or key)
    if metrics is not None:
        result["ItemCollectionMetrics"] = metrics
    return result


def _returned(mode: str, old: Item | None, new: Item | None, update: Update | None) -> Item | None:
    if mode == "ALL_OLD":
        return old
    if mode == "ALL_NEW":
        return new
    if update is None or mode == "NONE":
        return None
    # UPDATED_* return just the updated paths (nested ones included), as a projection would.
    item = old if mode == "UPDATED_OLD" else new
    return None if item is None else project(_updated_paths(update), item)


def _updated_paths(update: Update) -> Projection:
    return build_projection(update.paths)
