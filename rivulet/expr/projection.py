"""ProjectionExpression (and ReturnValues UPDATED_*) application: copy the selected paths."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rivulet.core.types import AttributeValue, Item
from rivulet.expr.evaluate import get_path
from rivulet.expr.nodes import DocPath


@dataclass(frozen=True, slots=True, eq=False)
class Projection:
    paths: tuple[DocPath, ...]
    top_level: tuple[str, ...] | None  # the names, when no path goes below the top level
    path_heads: frozenset[str]
    nested_heads: frozenset[str]  # top-level attributes projected through `.` or `[]`


def build_projection(paths: Iterable[DocPath]) -> Projection:
    paths = tuple(paths)
    heads = frozenset(str(path[0]) for path in paths)
    nested = frozenset(str(path[0]) for path in paths if len(path) > 1)
    top_level = None if nested else tuple(str(path[0]) for path in paths)
    return Projection(paths, top_level, heads, nested)


def project(projection: Projection, item: Item) -> Item:
    """The projected item: missing paths are skipped, maps keep only the selected keys and
    selected list elements keep their relative order (a[3], a[1] -> [a[1], a[3]])."""
    if projection.top_level is not None:
        out: Item = {}
        for name in projection.top_level:
            value = item.get(name)
            if value is not None:
                out[name] = value
        return out
    result: dict[Any, Any] = {}
    lists: list[AttributeValue] = []
    for path in projection.paths:
        value = get_path(item, path)
        if value is None:
            continue
        container = result
        for depth, element in enumerate(path[:-1]):
            kind = "L" if isinstance(path[depth + 1], int) else "M"
            child = container.get(element)
            if child is None:
                # Lists are built sparse (index -> value) and squeezed at the end.
                child = {kind: {}}
                container[element] = child
                if kind == "L":
                    lists.append(child)
            container = child[kind]
        container[path[-1]] = value
    for holder in lists:
        sparse = holder["L"]
        holder["L"] = [sparse[index] for index in sorted(sparse)]
    return result
