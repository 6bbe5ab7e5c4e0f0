"""UpdateExpression application: SET, REMOVE, ADD, DELETE on a copy of the item."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rivulet.core.numbers import NUMBER_CONTEXT, format_number
from rivulet.core.types import AttributeValue, Item
from rivulet.errors import ValidationException
from rivulet.expr.evaluate import get_path
from rivulet.expr.nodes import Arith, DocPath, Func, Operand, Path, Value
from rivulet.expr.projection import Projection, build_projection
from rivulet.expr.resolve import ResolvedAction
from rivulet.expr.values import set_key

MISSING_ATTRIBUTE = "The provided expression refers to an attribute that does not exist in the item"
WRONG_TYPE = "An operand in the update expression has an incorrect data type"
INVALID_PATH = "The document path provided in the update expression is invalid for update"

# List slots are never shifted while actions run, so every index in the expression refers to
# the list as it was before the update (REMOVE a[0], a[1] removes the first two elements; SET
# past the end appends). Removed and not-yet-filled slots are squeezed out at the end.
_REMOVED: Any = object()
_GAP: Any = object()


@dataclass(frozen=True, slots=True, eq=False)
class Update:
    """A resolved UpdateExpression."""

    actions: tuple[ResolvedAction, ...]
    paths: tuple[DocPath, ...]  # target paths, for ReturnValues UPDATED_OLD / UPDATED_NEW
    top_level_names: frozenset[str]
    nested_heads: frozenset[str]  # top-level attributes updated through `.` or `[]`
    # Statically known type written to each top-level attribute (index key type checks).
    top_level_types: tuple[tuple[str, str], ...]
    projection: Projection  # the target paths, for ReturnValues UPDATED_OLD / UPDATED_NEW


def build_update(actions: tuple[ResolvedAction, ...]) -> Update:
    names: set[str] = set()
    nested: set[str] = set()
    types: dict[str, str] = {}
    for action in actions:
        head = action.path[0]
        assert isinstance(head, str)
        names.add(head)
        if len(action.path) > 1:
            nested.add(head)
        elif action.value_type and head not in types:
            types[head] = action.value_type
    return Update(
        actions,
        tuple(action.path for action in actions),
        frozenset(names),
        frozenset(nested),
        tuple(types.items()),
        build_projection(action.path for action in actions),
    )


def _resolve(node: Operand, item: Item) -> AttributeValue:
    """A SET value, computed against the item as it was before the update."""
    if isinstance(node, Value):
        return node.value
    if isinstance(node, Path):
        value = get_path(item, node.elements)
        if value is None:
            raise ValidationException(MISSING_ATTRIBUTE)
        return value
    if isinstance(node, Arith):
        left = _resolve(node.left, item)
        if "N" not in left:
            raise ValidationException(WRONG_TYPE)
        right = _resolve(node.right, item)
        if "N" not in right:
            raise ValidationException(WRONG_TYPE)
        return {"N": _arithmetic(node.op, left["N"], right["N"])}
    assert isinstance(node, Func)
    if node.name == "if_not_exists":
        path = node.args[0]
        assert isinstance(path, Path)
        existing = get_path(item, path.elements)
        return existing if existing is not None else _resolve(node.args[1], item)
    first = _resolve(node.args[0], item)
    if "L" not in first:
        raise ValidationException(WRONG_TYPE)
    second = _resolve(node.args[1], item)
    if "L" not in second:
        raise ValidationException(WRONG_TYPE)
    return {"L": first["L"] + second["L"]}


def _arithmetic(op: str, left: str, right: str) -> str:
    a, b = Decimal(left), Decimal(right)
    result = NUMBER_CONTEXT.add(a, b) if op == "+" else NUMBER_CONTEXT.subtract(a, b)
    return format_number(result)


class _Writer:
    """Copy-on-write access to nested containers of the new item."""

    def __init__(self, item: Item) -> None:
        self.root: dict[str, AttributeValue] = dict(item)
        self.owned: dict[int, object] = {id(self.root): self.root}
        self.lists: dict[int, list[AttributeValue]] = {}
        # SET l[i] past the end appends; kept sparse (i may be astronomically large) and
        # appended in index order when the update finishes.
        self.appends: dict[int, tuple[list[AttributeValue], dict[int, AttributeValue]]] = {}

    def own(self, container: Any) -> Any:
        copy = dict(container) if isinstance(container, dict) else list(container)
        self.owned[id(copy)] = copy
        return copy

    def parent(self, path: DocPath) -> dict[str, AttributeValue] | list[AttributeValue]:
        """The (owned) map payload or list that holds the last element of `path`."""
        container: Any = self.root
        for depth, element in enumerate(path[:-1]):
            child = self.get(container, element)
            kind = "L" if isinstance(path[depth + 1], int) else "M"
            if child is None or kind not in child:
                raise ValidationException(INVALID_PATH)
            payload = child[kind]
            if id(payload) not in self.owned:
                payload = self.own(payload)
                self.put(container, element, {kind: payload})
            container = payload
        if isinstance(path[-1], int) and not isinstance(container, list):
            raise ValidationException(INVALID_PATH)
        if isinstance(path[-1], str) and not isinstance(container, dict):
            raise ValidationException(INVALID_PATH)
        return container  # type: ignore[no-any-return]

    @staticmethod
    def get(container: Any, element: str | int) -> AttributeValue | None:
        if isinstance(container, dict):
            return container.get(element)
        if not isinstance(element, int) or element >= len(container):
            return None
        value = container[element]
        return None if value is _REMOVED or value is _GAP else value

    def put(self, container: Any, element: str | int, value: AttributeValue) -> None:
        if isinstance(container, dict):
            container[element] = value
            return
        assert isinstance(element, int)
        if element >= len(container):
            self.appends.setdefault(id(container), (container, {}))[1][element] = value
            return
        container[element] = value

    def remove(self, container: Any, element: str | int) -> None:
        if isinstance(container, dict):
            container.pop(element, None)
        elif isinstance(element, int) and element < len(container):
            container[element] = _REMOVED
            self.lists[id(container)] = container

    def finish(self) -> Item:
        for elements, tail in self.appends.values():
            elements.extend(tail[i] for i in sorted(tail))
        for elements in self.lists.values():
            elements[:] = [e for e in elements if e is not _REMOVED and e is not _GAP]
        return self.root


def apply_update(update: Update, item: Item) -> Item:
    """The item after the update, as a new dict (unchanged sub-values are shared, never mutated).

    Raises ValidationException with DynamoDB's runtime texts (missing operand attribute, wrong
    operand type, invalid document path)."""
    values = [
        _resolve(action.value, item) if action.kind == "SET" and action.value is not None else None
        for action in update.actions
    ]
    writer = _Writer(item)
    for action, value in zip(update.actions, values, strict=True):
        path = action.path
        parent = writer.parent(path)
        element = path[-1]
        if action.kind == "SET":
            assert value is not None
            writer.put(parent, element, value)
        elif action.kind == "REMOVE":
            writer.remove(parent, element)
        else:
            operand = action.value
            assert isinstance(operand, Value)
            _add_or_delete(writer, parent, element, action.kind, operand.value)
    return writer.finish()


def _add_or_delete(
    writer: _Writer, parent: Any, element: str | int, kind: str, operand: AttributeValue
) -> None:
    existing = writer.get(parent, element)
    operand_type = next(iter(operand))
    if existing is not None and operand_type not in existing:
        raise ValidationException(WRONG_TYPE)
    if kind == "ADD":
        if existing is None:
            writer.put(parent, element, operand)
        elif operand_type == "N":
            writer.put(parent, element, {"N": _arithmetic("+", existing["N"], operand["N"])})
        else:
            members = existing[operand_type]
            seen = {set_key(operand_type, m) for m in members}
            added = [m for m in operand[operand_type] if set_key(operand_type, m) not in seen]
            if added:
                writer.put(parent, element, {operand_type: members + added})
    elif existing is not None:
        doomed = {set_key(operand_type, m) for m in operand[operand_type]}
        kept = [m for m in existing[operand_type] if set_key(operand_type, m) not in doomed]
        if not kept:
            # A set can not be empty: deleting its last members removes the attribute.
            writer.remove(parent, element)
        elif len(kept) != len(existing[operand_type]):
            writer.put(parent, element, {operand_type: kept})
