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
from rivulet.api.conditions import condition_apply, raise_condition_failed
from rivulet.api.context import ApiContext
from rivulet.api.validate import validate_request
from rivulet.core.sizes import item_size
from rivulet.core.types import Item
from rivulet.core.values import items_equal, validate_item_for_put, validate_key
from rivulet.engine.catalog import TableRuntime
from rivulet.engine.writes import Mutation
from rivulet.errors import ValidationException
from rivulet.expr import Update, apply_update, update_top_level_names
from rivulet.protocol.asgi import RequestContext

RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")


def update_step(table: TableRuntime, key: Item, update: Update | None):  # type: ignore[no-untyped-def]
    """The pure apply function of an UpdateItem (also used by TransactWriteItems)."""

    def step(old: Item | None) -> Item | None:
        base = old if old is not None else dict(key)
        if update is None:
            # An UpdateItem without updates still creates a key-only item (observed on AWS).
            return base
        new = apply_update(update, base)
        if old is None and items_equal(new, key):
            # REMOVE/DELETE on a missing item creates nothing.
            return None
        validate_item_for_put(new, table.key, [i.schema for i in table.indexes])
        return new

    return step


def check_key_not_updated(table: TableRuntime, update: Update | None) -> frozenset[str]:
    names = frozenset() if update is None else update_top_level_names(update)
    for key_name in table.key.names:
        if key_name in names:
            raise ValidationException(
                f"One or more parameter values were invalid: Cannot update attribute {key_name}. "
                "This attribute is part of the key"
            )
    return names


async def update_item(api: ApiContext, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    body = validate_request("UpdateItem", body)
    exprs = request_expressions(body, "UpdateItem")
    return_values = body.get("ReturnValues", "NONE")
    if return_values not in RETURN_VALUES:
        raise ValidationException(
            f"1 validation error detected: Value '{return_values}' at 'returnValues' failed to satisfy "
            "constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
        )
    table = api.db.table(body["TableName"])
    key = validate_key(body["Key"], table.key)
    touched = check_key_not_updated(table, exprs.update)

    out = await api.db.write(
        Mutation(
            table, key, condition_apply(exprs.condition, update_step(table, key, exprs.update))
        )
    )
    if out.failed:
        raise_condition_failed(body, out.old)
    result: dict[str, Any] = {}
    attributes = _returned(return_values, out.old, out.new, touched)
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


def _returned(
    mode: str, old: Item | None, new: Item | None, touched: frozenset[str]
) -> Item | None:
    if mode == "ALL_OLD":
        return old
    if mode == "ALL_NEW":
        return new
    if mode == "UPDATED_OLD" and old is not None:
        return {k: v for k, v in old.items() if k in touched}
    if mode == "UPDATED_NEW" and new is not None:
        return {k: v for k, v in new.items() if k in touched}
    return None
