"""What Query and Scan share: index lookup, Select rules, index projections, response pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from rivulet.api.common import consumed_capacity, read_units
from rivulet.core.types import Item
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
    size = sum(r.size for r in page.rows)
    cap = consumed_capacity(body, table, read_units(size, consistent), read=True)
    tail: dict[str, Any] = {"Count": len(page.rows), "ScannedCount": page.scanned}
    if page.last_key is not None:
        tail["LastEvaluatedKey"] = page.last_key
    if cap is not None:
        tail["ConsumedCapacity"] = cap
    if select == "COUNT":
        return tail
    needs_index_projection = (
        index is not None
        and select == "ALL_PROJECTED_ATTRIBUTES"
        and index.schema.projection.type != "ALL"
    )
    if exprs.projection is None and not needs_index_projection:
        # Hot path: stored item bytes go out as they are.
        items = b",".join(r.item for r in page.rows)
        return b'{"Items":[' + items + b"]," + orjson.dumps(tail)[1:]
    out: list[Item] = []
    for row, item in zip(page.rows, page.items, strict=True):
        full: Item = item if item is not None else orjson.loads(row.item)
        if index is not None and select == "ALL_PROJECTED_ATTRIBUTES":
            full = index_projection(table, index, full)
        out.append(full if exprs.projection is None else project(exprs.projection, full))
    return {"Items": out, **tail}
