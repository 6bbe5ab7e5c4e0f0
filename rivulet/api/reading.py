"""What Query and Scan share: index lookup, Select rules, index projections, response pages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from rivulet.api.common import consumed_capacity, read_units
from rivulet.core.types import Item
from rivulet.core.values import validate_key
from rivulet.engine.catalog import IndexRuntime, TableRuntime
from rivulet.engine.reads import Page
from rivulet.errors import ValidationException
from rivulet.expr import Expressions, project


def find_index(table: TableRuntime, body: Mapping[str, Any]) -> IndexRuntime | None:
    name = body.get("IndexName")
    if name is None:
        return None
    index = table.index(name)
    if index is None:
        raise ValidationException(f"The table does not have the specified index: {name}")
    if index.schema.is_global and body.get("ConsistentRead"):
        raise ValidationException("Consistent reads are not supported on global secondary indexes")
    return index


def validate_start_key(start: Item, table: TableRuntime) -> None:
    """The table-key part of an ExclusiveStartKey must be a valid primary key."""
    try:
        validate_key({k: start[k] for k in table.key.names if k in start}, table.key)
    except ValidationException as exc:
        raise ValidationException(f"The provided starting key is invalid: {exc.message}") from None


def check_key_paths(table: TableRuntime, exprs: Expressions) -> None:
    """Projection and filter paths may not go inside a key attribute of the table or an index."""
    nested: set[str] = set()
    if exprs.projection is not None:
        nested |= exprs.projection.nested_heads
    if exprs.filter is not None:
        nested |= exprs.filter.nested_heads
    if not nested:
        return
    scalars = (
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed"
    )
    for name in table.key.names:
        if name in nested:
            raise ValidationException(f"{scalars}: Key: {name}")
    for index in table.indexes:
        for name in index.schema.key.names:
            if name in nested:
                raise ValidationException(f"{scalars}: IndexKey: {name}")


def index_view(table: TableRuntime, index: IndexRuntime | None) -> Callable[[Item], Item] | None:
    """What a read of a GSI sees of an item: only projected attributes (a GSI cannot fetch from
    the table). An LSI can, so its reads see the whole item."""
    if index is None or not index.schema.is_global or index.schema.projection.type == "ALL":
        return None
    return lambda item: index_projection(table, index, item)


def check_select(body: Mapping[str, Any], exprs: Expressions, index: IndexRuntime | None) -> str:
    """The effective Select, after DynamoDB's combination rules."""
    select = body.get("Select")
    has_projection = exprs.projection is not None
    if select is None:
        select = (
            "SPECIFIC_ATTRIBUTES"
            if has_projection
            else ("ALL_PROJECTED_ATTRIBUTES" if index is not None else "ALL_ATTRIBUTES")
        )
    elif select == "SPECIFIC_ATTRIBUTES" and not has_projection:
        # DynamoDB names the legacy parameter in this message even for expression users.
        raise ValidationException(
            "One or more parameter values were invalid: Select type SPECIFIC_ATTRIBUTES requires "
            "AttributesToGet or ProjectionExpression"
        )
    elif select != "SPECIFIC_ATTRIBUTES" and has_projection:
        which = "AttributesToGet" if "AttributesToGet" in body else "ProjectionExpression"
        raise ValidationException(f"Cannot specify the {which} when choosing to get {select}")
    if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
        raise ValidationException(
            "One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is not "
            "supported for table scans"  # refined per operation by the caller if needed
        )
    if (
        select == "ALL_ATTRIBUTES"
        and index is not None
        and index.schema.is_global
        and index.schema.projection.type != "ALL"
    ):
        raise ValidationException(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported "
            f"for global secondary index {index.name} because its projection type is not ALL"
        )
    return select


def index_projection(table: TableRuntime, index: IndexRuntime, item: Item) -> Item:
    """The attributes an index stores for an item: keys, plus INCLUDE's list, or everything for ALL."""
    proj = index.schema.projection
    if proj.type == "ALL":
        return item
    keep = set(table.key.names) | set(index.schema.key.names)
    if proj.type == "INCLUDE":
        keep.update(proj.non_key_attributes)
    return {k: v for k, v in item.items() if k in keep}


def page_response(
    body: Mapping[str, Any],
    table: TableRuntime,
    index: IndexRuntime | None,
    exprs: Expressions,
    select: str,
    page: Page,
) -> dict[str, Any] | bytes:
    """Items (projected), Count, ScannedCount, LastEvaluatedKey and ConsumedCapacity."""
    consistent = bool(body.get("ConsistentRead"))
    # Capacity is charged for everything read, before the filter, and to the index read.
    units = read_units(page.read_bytes, consistent)
    if index is None:
        cap = consumed_capacity(body, table, units, read=True)
    else:
        by_index = {index.name: (index.schema.is_global, units)}
        cap = consumed_capacity(body, table, 0.0, read=True, index_units=by_index)
    tail: dict[str, Any] = {"Count": len(page.rows), "ScannedCount": page.scanned}
    if page.last_key is not None:
        tail["LastEvaluatedKey"] = page.last_key
    if cap is not None:
        tail["ConsumedCapacity"] = cap
    if select == "COUNT":
        return tail
    # ALL_PROJECTED_ATTRIBUTES shows the index's attributes; a ProjectionExpression on a GSI
    # can only pick among them too (an LSI fetches the rest from the table).
    needs_index_projection = (
        index is not None
        and index.schema.projection.type != "ALL"
        and (select == "ALL_PROJECTED_ATTRIBUTES" or index.schema.is_global)
    )
    if exprs.projection is None and not needs_index_projection:
        # Hot path: stored item bytes go out as they are.
        items = b",".join(r.item for r in page.rows)
        return b'{"Items":[' + items + b"]," + orjson.dumps(tail)[1:]
    out: list[Item] = []
    for row, item in zip(page.rows, page.items, strict=True):
        full: Item = item if item is not None else orjson.loads(row.item)
        if needs_index_projection:
            assert index is not None
            full = index_projection(table, index, full)
        out.append(full if exprs.projection is None else project(exprs.projection, full))
    return {"Items": out, **tail}
